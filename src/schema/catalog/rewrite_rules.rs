//! Rewrite rules on tables (`CREATE RULE`; not views' `_RETURN`).

use super::{Col, DbError, Oids, Reader, SCHEMA_FILTER};
use crate::parse::ir::RuleEvent;
use crate::schema::{RewriteRule, Schema};

pub(super) fn load(reader: &mut Reader, schema: &mut Schema, oids: &Oids) -> Result<(), DbError> {
    let sql = format!(
        "SELECT r.ev_class AS relid, r.rulename::text AS rulename, r.ev_type::text AS ev_type, r.is_instead, \
                r.ev_action::text = '<>' AS nothing, r.ev_qual::text <> '<>' AS conditional, \
                r.ev_enabled::text = 'D' AS disabled \
         FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p') AND {SCHEMA_FILTER} ORDER BY relid, rulename"
    );
    for row in reader.rows(&sql)? {
        let Some((_, _, t)) = oids.table(&mut schema.tables, &row)? else { continue };
        let event = match row.col::<String>("ev_type")?.as_str() {
            "2" => RuleEvent::Update,
            "3" => RuleEvent::Insert,
            "4" => RuleEvent::Delete,
            _ => RuleEvent::Select,
        };
        let origin = t.created.clone();
        t.rewrite_rules.push(RewriteRule {
            name: row.col("rulename")?,
            event,
            instead: row.col("is_instead")?,
            nothing: row.col("nothing")?,
            conditional: row.col("conditional")?,
            disabled: row.col("disabled")?,
            origin,
        });
    }
    Ok(())
}
