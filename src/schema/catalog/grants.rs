//! Table privileges granted to roles other than the owner (`PUBLIC` is grantee 0).

use super::{Col, DbError, Oids, Reader, SCHEMA_FILTER};
use crate::parse::ir::Privileges;
use crate::schema::{Grant, Schema};

pub(super) fn load(reader: &mut Reader, schema: &mut Schema, oids: &Oids) -> Result<(), DbError> {
    let sql = format!(
        "SELECT c.oid AS relid, \
                CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee)::text END AS grantee_name, \
                a.privilege_type \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a \
         WHERE c.relkind IN ('r', 'p') AND a.grantee <> c.relowner AND {SCHEMA_FILTER} ORDER BY relid, grantee_name"
    );
    for row in reader.rows(&sql)? {
        let Some((_, _, t)) = oids.table(&mut schema.tables, &row)? else { continue };
        let grantee: String = row.col("grantee_name")?;
        let mut p = Privileges::default();
        match row.col::<String>("privilege_type")?.as_str() {
            "SELECT" => p.select = true,
            "INSERT" => p.insert = true,
            "UPDATE" => p.update = true,
            "DELETE" => p.delete = true,
            "TRUNCATE" => p.truncate = true,
            "REFERENCES" => p.references = true,
            "TRIGGER" => p.trigger = true,
            _ => {}
        }
        match t.grants.iter_mut().find(|g| g.grantee == grantee) {
            Some(g) => g.privileges = g.privileges.union(p),
            None => t.grants.push(Grant { grantee, privileges: p }),
        }
    }
    Ok(())
}
