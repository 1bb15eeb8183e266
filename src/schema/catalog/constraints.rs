//! Constraints: primary keys, unique, foreign keys, checks and exclusions (not the copies a
//! partition inherits from its parent's).

use super::{Col, DbError, Oids, Reader, SCHEMA_FILTER, obj_name, object};
use crate::parse::ir::{ConstraintKind, ForeignKey, RefAction};
use crate::schema::{Constraint, Origin, Schema};

/// `server_version_num` decides whether `conenforced` is read (PostgreSQL 18+).
pub(super) fn load(
    reader: &mut Reader,
    schema: &mut Schema,
    oids: &Oids,
    server_version_num: i32,
) -> Result<(), DbError> {
    let enforced = if server_version_num >= 180_000 { "co.conenforced" } else { "true" };
    let sql = format!(
        "SELECT co.conrelid AS relid, co.conname::text AS conname, co.contype::text AS contype, co.convalidated, {enforced} AS enforced, \
                coalesce(co.conkey, '{{}}') AS conkey, fn.nspname::text AS ref_nspname, fc.relname::text AS ref_relname, \
                ARRAY(SELECT fa.attname::text FROM unnest(co.confkey) WITH ORDINALITY k(num, ord) \
                      JOIN pg_attribute fa ON fa.attrelid = co.confrelid AND fa.attnum = k.num ORDER BY k.ord) \
                    AS ref_columns, \
                co.confdeltype::text AS confdeltype, co.confupdtype::text AS confupdtype, \
                CASE WHEN co.contype = 'c' THEN pg_get_constraintdef(co.oid, true) END AS check_def \
         FROM pg_constraint co \
         JOIN pg_class c ON c.oid = co.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = co.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND co.conparentid = 0 AND {SCHEMA_FILTER} \
         ORDER BY co.conrelid, co.conname"
    );
    for row in reader.rows(&sql)? {
        let Some((oid, tname, t)) = oids.table(&mut schema.tables, &row)? else { continue };
        let name: String = row.col("conname")?;
        let contype: String = row.col("contype")?;
        let keys: Vec<i16> = row.col("conkey")?;
        let columns: Vec<String> = keys.iter().filter_map(|k| oids.column(oid, *k)).map(|a| a.name.clone()).collect();
        let kind = match contype.as_str() {
            "p" => ConstraintKind::PrimaryKey { columns, using_index: None },
            "u" => ConstraintKind::Unique { columns, using_index: None },
            "x" => ConstraintKind::Exclude,
            "c" => {
                let def: String = row.col::<Option<String>>("check_def")?.unwrap_or_default();
                let expr = def.strip_prefix("CHECK ").unwrap_or(&def);
                let expr = expr.strip_suffix(" NOT VALID").unwrap_or(expr);
                let expr = expr.strip_suffix(" NO INHERIT").unwrap_or(expr);
                ConstraintKind::Check { expr: expr.to_owned() }
            }
            _ => {
                let (Some(rs), Some(rn)) = (row.col("ref_nspname")?, row.col("ref_relname")?) else {
                    continue;
                };
                ConstraintKind::ForeignKey(ForeignKey {
                    columns,
                    ref_table: obj_name(rs, rn),
                    ref_columns: row.col("ref_columns")?,
                    on_delete: ref_action(&row.col::<String>("confdeltype")?),
                    on_update: ref_action(&row.col::<String>("confupdtype")?),
                })
            }
        };
        let origin = Origin::Catalog { object: format!("{}.{name}", object(tname)) };
        t.constraints.push(Constraint {
            name,
            kind,
            validated: row.col("convalidated")?,
            enforced: row.col("enforced")?,
            origin,
        });
    }
    Ok(())
}

/// `confdeltype` / `confupdtype`.
fn ref_action(c: &str) -> RefAction {
    match c {
        "r" => RefAction::Restrict,
        "c" => RefAction::Cascade,
        "n" => RefAction::SetNull,
        "d" => RefAction::SetDefault,
        _ => RefAction::NoAction,
    }
}
