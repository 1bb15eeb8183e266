//! Triggers the user created (not constraint triggers, not partitions' clones).

use super::{Col, DbError, Oids, Reader, SCHEMA_FILTER, obj_name};
use crate::parse::ir::{TriggerEvents, TriggerSpec, TriggerTiming};
use crate::schema::{Schema, Trigger};

/// `server_version_num` decides how clones are told apart (`tgparentid` is PostgreSQL 13+).
pub(super) fn load(
    reader: &mut Reader,
    schema: &mut Schema,
    oids: &Oids,
    server_version_num: i32,
) -> Result<(), DbError> {
    let clones = if server_version_num >= 130_000 { "t.tgparentid = 0" } else { "true" };
    let sql = format!(
        "SELECT t.tgrelid AS relid, t.tgname::text AS tgname, fnn.nspname::text AS function_nspname, \
                f.proname::text AS function_name, t.tgtype::int AS tgtype, t.tgqual IS NOT NULL AS conditional, \
                t.tgenabled::text IN ('D', 'R') AS disabled FROM pg_trigger t \
         JOIN pg_proc f ON f.oid = t.tgfoid JOIN pg_namespace fnn ON fnn.oid = f.pronamespace \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND {clones} AND {SCHEMA_FILTER} ORDER BY relid, tgname"
    );
    for row in reader.rows(&sql)? {
        let Some((_, _, t)) = oids.table(&mut schema.tables, &row)? else { continue };
        let origin = t.created.clone();
        // tgtype bits: ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32, INSTEAD 64.
        let ty: i32 = row.col("tgtype")?;
        let timing = if ty & 64 != 0 {
            TriggerTiming::InsteadOf
        } else if ty & 2 != 0 {
            TriggerTiming::Before
        } else {
            TriggerTiming::After
        };
        let spec = TriggerSpec {
            timing,
            events: TriggerEvents {
                insert: ty & 4 != 0,
                delete: ty & 8 != 0,
                update: ty & 16 != 0,
                truncate: ty & 32 != 0,
            },
            for_each_row: ty & 1 != 0,
            conditional: row.col("conditional")?,
        };
        t.triggers.push(Trigger {
            name: row.col("tgname")?,
            function: Some(obj_name(row.col("function_nspname")?, row.col("function_name")?)),
            spec,
            disabled: row.col("disabled")?,
            origin,
        });
    }
    Ok(())
}
