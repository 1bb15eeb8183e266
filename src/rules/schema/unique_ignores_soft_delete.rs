use crate::rules::Sink;
use crate::parse::ir::{ConstraintKind, Generated, IndexKey, ObjName, quote_ident};
use crate::rules::util::{index_build, normalise_expr, volatile_call};
use crate::rules::{SchemaCtx, SchemaRule};

pub struct UniqueIgnoresSoftDelete;

/// The normalised predicate keeps only live rows: one of its `AND` terms is `col IS NULL` (or,
/// for a boolean soft-delete column, `NOT col`, `col = false`, `col IS FALSE`, `col IS NOT TRUE`).
fn only_live_rows(predicate: &str, col: &str) -> bool {
    let col = col.to_lowercase();
    let live = [
        format!("{col} is null"),
        format!("not {col}"),
        format!("{col} = false"),
        format!("{col} is false"),
        format!("{col} is not true"),
    ];
    normalise_expr(predicate).split(" and ").any(|part| live.iter().any(|l| part.trim() == l))
}

/// The key expression uses the column (e.g. `COALESCE(deleted_at, 'infinity')`), so a deleted
/// row and its live re-creation have different keys.
fn mentions(expr: &str, col: &str) -> bool {
    // Unquoted words fold ASCII only, as PostgreSQL folds them.
    let col = col.to_ascii_lowercase();
    expr.to_ascii_lowercase().split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).any(|w| w == col)
}

impl SchemaRule for UniqueIgnoresSoftDelete {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let col = &ctx.settings.soft_delete_column;
        for index in ctx.schema.indexes.values() {
            if !index.unique {
                continue;
            }
            let Some(table) = ctx.schema.tables.get(&index.table) else { continue };
            if table.column(col).is_none() {
                continue;
            }
            // The primary key identifies rows, live or deleted.
            let is_pk = index.constraint.as_ref().is_some_and(|c| {
                table.constraints.iter().any(|k| &k.name == c && matches!(k.kind, ConstraintKind::PrimaryKey { .. }))
            });
            let keyed_on_col = index.keys.iter().any(|k| match k {
                IndexKey::Column(c) => c == col,
                IndexKey::Expr(e) => mentions(e, col),
            });
            let partial_on_live = index.predicate.as_deref().is_some_and(|p| only_live_rows(p, col));
            // Generated surrogate keys (identity, serial, a volatile default such as
            // `gen_random_uuid()`): a re-created row gets a new value, so nothing conflicts.
            let surrogate = index.keys.iter().all(|k| match k {
                IndexKey::Column(c) => table.column(c).is_some_and(|c| {
                    c.ty.is_serial()
                        || c.generated == Some(Generated::Identity)
                        || c.default.as_deref().is_some_and(|d| volatile_call(d).is_some())
                }),
                IndexKey::Expr(_) => false,
            });
            if is_pk || keyed_on_col || partial_on_live || surrogate {
                continue;
            }
            let what = if index.constraint.is_some() { "unique constraint" } else { "unique index" };
            // The partial index, named as `CREATE UNIQUE INDEX ON t (keys)` would name it.
            let names = crate::schema::index_column_names(&index.keys, &index.include);
            let addition = crate::schema::index_name_addition(&names);
            let name = ctx.fix_relation_name(&table.name.schema, &table.name.name, Some(&addition), "idx");
            let keys = index
                .keys
                .iter()
                .map(|k| match k {
                    IndexKey::Column(c) => quote_ident(c),
                    IndexKey::Expr(e) => e.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let schema = (table.name.schema != "public").then(|| table.name.schema.clone());
            let target = ObjName { schema, name: table.name.name.clone() };
            let build = index_build(&target, &name, true, &format!("({keys}) WHERE {} IS NULL", quote_ident(col)));
            sink.report_at(&index.origin,
                format!("{what} `{}` on soft-delete table `{}` also counts deleted rows: re-creating a soft-deleted row fails", index.name.name, table.name),
            )
            .help({
                // Where the pair can run, for the tool of the file that made the index (nowhere
                // in a Drizzle migration: drizzle runs all pending migrations in one transaction).
                let (at, runs_as_written) = crate::rules::util::new_index_advice(
                    ctx.runs_in(&index.origin).as_ref(),
                    ctx.settings.assume_in_transaction,
                    &build,
                );
                match runs_as_written {
                    true => format!(
                        "make it a partial unique index: build one beside it with `{drop}` then `{create}`{at}; then drop the old one",
                        drop = build[0],
                        create = build[1].trim_end_matches(';')
                    ),
                    // The advice names the statements itself.
                    false => format!("make it a partial unique index and drop the old one: build the new one beside it{at}"),
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{mentions, only_live_rows};

    #[test]
    fn live_row_predicates() {
        assert!(only_live_rows("deleted_at IS NULL", "deleted_at"));
        assert!(only_live_rows("((\"deleted_at\" IS NULL)) AND (tenant_id IS NOT NULL)", "deleted_at"));
        assert!(!only_live_rows("deleted_at IS NULL OR active", "deleted_at"));
        assert!(!only_live_rows("deleted_at IS NOT NULL", "deleted_at"));
        assert!(!only_live_rows("archived_at IS NULL", "deleted_at"));
        assert!(only_live_rows("NOT is_deleted", "is_deleted"));
        assert!(only_live_rows("is_deleted = false", "is_deleted"));
    }

    #[test]
    fn key_expressions() {
        assert!(mentions("COALESCE(deleted_at, 'infinity')", "deleted_at"));
        assert!(!mentions("lower(email)", "deleted_at"));
        assert!(!mentions("deleted_at_backup", "deleted_at"));
    }
}
