//! Tables (ordinary and partitioned), with their partition parent, comment, owner and
//! statistics, and their columns.

use super::{Attribute, Col, DbError, NOT_EXTENSION, Oids, Reader, SCHEMA_FILTER, object};
use crate::parse::ir::{Generated, TypeName};
use crate::schema::{Column, Origin, QualName, Schema, Table, TableStats};

/// Reads the tables and their columns; returns them by oid for the later steps.
pub(super) fn load(reader: &mut Reader, schema: &mut Schema) -> Result<Oids, DbError> {
    let mut oids = load_tables(reader, schema)?;
    load_columns(reader, schema, &mut oids)?;
    Ok(oids)
}

fn load_tables(reader: &mut Reader, schema: &mut Schema) -> Result<Oids, DbError> {
    let sql = format!(
        "SELECT c.oid AS relid, n.nspname::text AS nspname, c.relname::text AS relname, \
                c.relkind = 'p' AS partitioned, c.relrowsecurity, c.relforcerowsecurity, \
                CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END AS reltuples, \
                (c.relpages::bigint + coalesce(tc.relpages, 0)) * current_setting('block_size')::bigint AS total_bytes, \
                d.description, pn.nspname::text AS parent_nspname, pc.relname::text AS parent_relname, \
                pg_stat_get_live_tuples(c.oid) AS live_rows, pg_stat_get_mod_since_analyze(c.oid) AS mod_since_analyze, \
                pg_stat_get_last_analyze_time(c.oid)::text AS last_analyze, \
                pg_stat_get_last_autoanalyze_time(c.oid)::text AS last_autoanalyze, \
                pg_stat_get_numscans(c.oid) AS seq_scan, pg_get_userbyid(c.relowner)::text AS owner \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid \
         LEFT JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0 \
         LEFT JOIN pg_inherits ih ON c.relispartition AND ih.inhrelid = c.oid \
         LEFT JOIN pg_class pc ON pc.oid = ih.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} AND {NOT_EXTENSION}"
    );
    let mut oids = Oids::default();
    for row in reader.rows(&sql)? {
        let name = QualName { schema: row.col("nspname")?, name: row.col("relname")? };
        let origin = Origin::Catalog { object: object(&name) };
        let mut t = Table::new(name.clone(), origin);
        t.partitioned = row.col("partitioned")?;
        t.rls_enabled = row.col("relrowsecurity")?;
        t.rls_forced = row.col("relforcerowsecurity")?;
        t.comment = row.col("description")?;
        let parent: (Option<String>, Option<String>) = (row.col("parent_nspname")?, row.col("parent_relname")?);
        if let (Some(s), Some(n)) = parent {
            t.partition_of = Some(QualName { schema: s, name: n });
        }
        t.stats = Some(TableStats {
            rows: row.col("reltuples")?,
            total_bytes: row.col("total_bytes")?,
            live_rows: row.col("live_rows")?,
            mod_since_analyze: row.col("mod_since_analyze")?,
            last_analyze: row.col("last_analyze")?,
            last_autoanalyze: row.col("last_autoanalyze")?,
            seq_scan: row.col("seq_scan")?,
        });
        t.owner = row.col("owner")?;
        oids.tables.insert(row.col("relid")?, name.clone());
        schema.tables.insert(name, t);
    }
    Ok(oids)
}

/// Columns, in attribute number order, kept by number too (constraints and indexes name their
/// columns by number).
fn load_columns(reader: &mut Reader, schema: &mut Schema, oids: &mut Oids) -> Result<(), DbError> {
    let sql = format!(
        "SELECT a.attrelid AS relid, a.attnum, a.attname::text AS attname, \
                format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull, \
                pg_get_expr(ad.adbin, ad.adrelid) AS default_expr, a.attidentity::text AS attidentity, \
                a.attgenerated::text AS attgenerated, a.attcollation \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} \
         ORDER BY a.attrelid, a.attnum"
    );
    for row in reader.rows(&sql)? {
        let Some((oid, _, t)) = oids.table(&mut schema.tables, &row)? else { continue };
        let name: String = row.col("attname")?;
        let identity: String = row.col("attidentity")?;
        let generated: String = row.col("attgenerated")?;
        let generated = match (identity.as_str(), generated.as_str()) {
            ("a" | "d", _) => Some(Generated::Identity),
            (_, "s") => Some(Generated::Stored),
            (_, "v") => Some(Generated::Virtual),
            _ => None,
        };
        let default: Option<String> = row.col("default_expr")?;
        t.columns.push(Column {
            name: name.clone(),
            ty: TypeName::new(&row.col::<String>("type_name")?),
            not_null: row.col("attnotnull")?,
            default: if generated.is_some() { None } else { default },
            generated,
            origin: t.created.clone(),
        });
        let attribute = Attribute { name, collation: row.col("attcollation")? };
        oids.columns.insert((oid, row.col("attnum")?), attribute);
    }
    Ok(())
}
