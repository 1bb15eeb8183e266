use crate::diagnostic::{Applicability, Edit};
use crate::diagnostic::Impact;
use std::collections::BTreeSet;

use crate::rules::Sink;
use crate::parse::ir::{ConstraintKind, IndexKey, ObjName, RefAction, quote_ident};
use crate::rules::util::{index_build, new_index_advice, normalise_expr};
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::{Index, Schema, Table, index_name_addition};

pub struct UnindexedForeignKey;

/// The predicate is absent, or only says the foreign key columns are NOT NULL: the lookup
/// PostgreSQL runs when a referenced row is deleted (`WHERE fk = $1`) can use such an index.
/// `normalise_expr` lower-cases quoted names too, so the columns are compared lower-cased.
fn predicate_ok(predicate: Option<&str>, columns: &BTreeSet<&str>) -> bool {
    let Some(p) = predicate else { return true };
    let lower: BTreeSet<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    let norm = normalise_expr(p);
    norm.split(" and ").all(|part| part.strip_suffix(" is not null").is_some_and(|c| lower.contains(c.trim())))
}

/// The column a key indexes. PostgreSQL treats a parenthesised bare column, `((org_id))`, as a
/// plain column key, not an expression.
fn key_column(key: &IndexKey) -> Option<String> {
    let expr = match key {
        IndexKey::Column(c) => return Some(c.clone()),
        IndexKey::Expr(e) => e.trim(),
    };
    let mut inner = expr;
    while let Some(s) = inner.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        inner = s.trim();
    }
    if inner.len() == expr.len() {
        return None;
    }
    if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"'))
        && !q.is_empty()
        && !q.replace("\"\"", "").contains('"')
    {
        return Some(q.replace("\"\"", "\""));
    }
    let plain = inner.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && inner.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    plain.then(|| crate::parse::lex::fold_ident(inner, false))
}

/// A valid btree index whose leading key columns are exactly the foreign key's columns.
pub fn covers(index: &Index, columns: &[String]) -> bool {
    if !index.valid || !index.method.eq_ignore_ascii_case("btree") || index.keys.len() < columns.len() {
        return false;
    }
    let wanted: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
    let leading: Option<BTreeSet<String>> = index.keys.iter().take(columns.len()).map(key_column).collect();
    leading.is_some_and(|l| l.iter().map(String::as_str).eq(wanted.iter().copied()))
        && predicate_ok(index.predicate.as_deref(), &wanted)
}

pub fn is_covered(schema: &Schema, table: &Table, columns: &[String]) -> bool {
    schema.indexes_on(&table.name).any(|i| covers(i, columns))
}

impl SchemaRule for UnindexedForeignKey {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            for c in &table.constraints {
                let ConstraintKind::ForeignKey(fk) = &c.kind else { continue };
                // A `NOT ENFORCED` foreign key (PostgreSQL 18) has no triggers: deletes and key
                // updates on the referenced table do not look at this one.
                if !c.enforced || fk.columns.is_empty() || is_covered(ctx.schema, table, &fk.columns) {
                    continue;
                }
                let cols = fk.columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
                // The name `CREATE INDEX ON t (cols)` would get, free in the schema.
                let addition = index_name_addition(&fk.columns);
                let idx = ctx.fix_relation_name(&table.name.schema, &table.name.name, Some(&addition), "idx");
                let schema = (table.name.schema != "public").then(|| table.name.schema.clone());
                let target = ObjName { schema, name: table.name.name.clone() };
                let build = index_build(&target, &idx, false, &format!("({cols})"));
                let (help, offer) =
                    new_index_advice(ctx.runs_in(&c.origin).as_ref(), ctx.settings.assume_in_transaction, &build);
                let mut report = sink
                    .report_at(
                        &c.origin,
                        format!(
                            "foreign key `{}` on `{}` ({cols}) has no index: deletes and key updates on `{}` scan `{}`",
                            c.name, table.name, fk.ref_table, table.name
                        ),
                    )
                    .help({
                        let concurrently = format!("create an index whose leading columns are the foreign key columns, `CONCURRENTLY`{help}");
                        // The table and its key come from the same migration: while that migration
                        // is not deployed, the table is new there and a plain build locks nobody.
                        match table.created.file().is_some_and(|f| c.origin.file() == Some(f)) {
                            true => format!(
                                "if the migration that creates `{}` is not deployed yet, index the key there, right after the table: `CREATE INDEX {} ON {target} ({cols});` (the table is new and empty, a plain build locks nobody); otherwise {concurrently}",
                                table.name,
                                quote_ident(&idx)
                            ),
                            false => concurrently,
                        }
                    });
                if offer {
                    let [drop, create] = build;
                    report = report.fix(
                        "drop any invalid index a failed build left, then index the foreign key columns `CONCURRENTLY`",
                        Applicability::Safe,
                        vec![Edit::New { text: drop }, Edit::New { text: create }],
                    );
                }
                // On a live database, severity follows the referencing table's size: a scan of a
                // small table is cheap; an action that writes (CASCADE, SET NULL/DEFAULT) keeps a
                // medium table at the configured severity.
                if let Some(stats) = &table.stats {
                    let rows = stats.estimated_rows();
                    let audit = &ctx.settings.audit;
                    let (small, large) = (audit.small_table_rows as f64, audit.large_table_rows as f64);
                    let writes = !matches!(fk.on_delete, RefAction::NoAction | RefAction::Restrict);
                    if rows < small {
                        report.impact(Impact::Negligible);
                    } else if rows < large && !writes {
                        report.impact(Impact::Lower);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{key_column, predicate_ok};
    use crate::parse::ir::IndexKey;
    use std::collections::BTreeSet;

    #[test]
    fn partial_predicates() {
        let cols: BTreeSet<&str> = ["org_id", "user_id"].into_iter().collect();
        assert!(predicate_ok(None, &cols));
        assert!(predicate_ok(Some("org_id IS NOT NULL"), &cols));
        assert!(predicate_ok(Some("(org_id IS NOT NULL) AND (user_id IS NOT NULL)"), &cols));
        assert!(!predicate_ok(Some("deleted_at IS NULL"), &cols));
        assert!(!predicate_ok(Some("org_id IS NOT NULL AND deleted_at IS NULL"), &cols));
        assert!(!predicate_ok(Some("org_id IS NOT NULL OR user_id IS NOT NULL"), &cols));
        let quoted: BTreeSet<&str> = ["OrgId"].into_iter().collect();
        assert!(predicate_ok(Some("\"OrgId\" IS NOT NULL"), &quoted));
    }

    #[test]
    fn parenthesised_columns_are_columns() {
        let e = |s: &str| key_column(&IndexKey::Expr(s.into()));
        assert_eq!(e("(org_id)").as_deref(), Some("org_id"));
        assert_eq!(e("((\"OrgId\"))").as_deref(), Some("OrgId"));
        assert_eq!(e("lower(email)"), None);
        assert_eq!(e("(a + b)"), None);
        assert_eq!(e("(a) + (b)"), None);
        assert_eq!(e("(\"a\" || \"b\")"), None);
    }
}
