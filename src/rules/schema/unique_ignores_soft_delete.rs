use crate::diagnostic::Sink;
use crate::parse::ir::IndexKey;
use crate::rules::util::normalise_expr;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct UniqueIgnoresSoftDelete;

impl SchemaRule for UniqueIgnoresSoftDelete {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let col = &ctx.settings.soft_delete_column;
        let live = format!("{} is null", col.to_lowercase());
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
                table
                    .constraints
                    .iter()
                    .any(|k| &k.name == c && matches!(k.kind, crate::parse::ir::ConstraintKind::PrimaryKey { .. }))
            });
            let keyed_on_col = index.keys.iter().any(|k| matches!(k, IndexKey::Column(c) if c == col));
            let partial_on_live = index
                .predicate
                .as_deref()
                .is_some_and(|p| normalise_expr(p).split(" and ").any(|part| part.trim() == live));
            if is_pk || keyed_on_col || partial_on_live {
                continue;
            }
            let what = if index.constraint.is_some() { "unique constraint" } else { "unique index" };
            sink.report_in(
                index.origin.file,
                Some(index.origin.span.clone()),
                format!("{what} `{}` on soft-delete table `{}` also counts deleted rows: re-creating a soft-deleted row fails", index.name.name, table.name),
            )
            .help(format!("make it a partial unique index: `CREATE UNIQUE INDEX CONCURRENTLY ... WHERE {col} IS NULL`"));
        }
    }
}
