//! Row-level security policies.

use super::{Col, DbError, Oids, Reader, SCHEMA_FILTER};
use crate::schema::{Policy, Schema};

pub(super) fn load(reader: &mut Reader, schema: &mut Schema, oids: &Oids) -> Result<(), DbError> {
    let sql = format!(
        "SELECT p.polrelid AS relid, p.polname::text AS polname, NOT p.polpermissive AS restrictive FROM pg_policy p \
         JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {SCHEMA_FILTER} ORDER BY relid, polname"
    );
    for row in reader.rows(&sql)? {
        let Some((_, _, t)) = oids.table(&mut schema.tables, &row)? else { continue };
        let origin = t.created.clone();
        t.policies.push(Policy { name: row.col("polname")?, restrictive: row.col("restrictive")?, origin });
    }
    Ok(())
}
