use std::collections::BTreeSet;

use crate::diagnostic::Sink;
use crate::parse::ir::{ConstraintKind, quote_ident};
use crate::rules::util::normalise_expr;
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::{Index, Schema, Table};

pub struct UnindexedForeignKey;

/// The predicate is absent, or only says the foreign key columns are NOT NULL: the lookup
/// PostgreSQL runs when a referenced row is deleted (`WHERE fk = $1`) can use such an index.
fn predicate_ok(predicate: Option<&str>, columns: &BTreeSet<&str>) -> bool {
    let Some(p) = predicate else { return true };
    let norm = normalise_expr(p);
    norm.split(" and ").all(|part| part.strip_suffix(" is not null").is_some_and(|c| columns.contains(c.trim())))
}

/// A valid btree index whose leading key columns are exactly the foreign key's columns.
pub fn covers(index: &Index, columns: &[String]) -> bool {
    if !index.valid || index.method != "btree" || index.keys.len() < columns.len() {
        return false;
    }
    let wanted: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
    let leading: Option<BTreeSet<&str>> = index.key_columns().take(columns.len()).collect();
    leading.is_some_and(|l| l == wanted) && predicate_ok(index.predicate.as_deref(), &wanted)
}

pub fn is_covered(schema: &Schema, table: &Table, columns: &[String]) -> bool {
    schema.indexes_on(&table.name).any(|i| covers(i, columns))
}

impl SchemaRule for UnindexedForeignKey {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            for c in &table.constraints {
                let ConstraintKind::ForeignKey(fk) = &c.kind else { continue };
                if fk.columns.is_empty() || is_covered(ctx.schema, table, &fk.columns) {
                    continue;
                }
                let cols = fk.columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
                let idx = quote_ident(&format!("{}_{}_idx", table.name.name, fk.columns.join("_")));
                sink.report_in(
                    c.origin.file,
                    Some(c.origin.span.clone()),
                    format!(
                        "foreign key `{}` on `{}` ({cols}) has no index: deletes and key updates on `{}` scan `{}`",
                        c.name, table.name, fk.ref_table, table.name
                    ),
                )
                .help("create an index whose leading columns are the foreign key columns, `CONCURRENTLY`")
                .fix(format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {idx} ON {} ({cols});", table.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::predicate_ok;
    use std::collections::BTreeSet;

    #[test]
    fn partial_predicates() {
        let cols: BTreeSet<&str> = ["org_id", "user_id"].into_iter().collect();
        assert!(predicate_ok(None, &cols));
        assert!(predicate_ok(Some("org_id IS NOT NULL"), &cols));
        assert!(predicate_ok(Some("(org_id IS NOT NULL) AND (user_id IS NOT NULL)"), &cols));
        assert!(!predicate_ok(Some("deleted_at IS NULL"), &cols));
        assert!(!predicate_ok(Some("org_id IS NOT NULL AND deleted_at IS NULL"), &cols));
    }
}
