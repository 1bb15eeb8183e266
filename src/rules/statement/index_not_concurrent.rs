use crate::diagnostic::Edit;
use crate::parse::ir::{Action, ObjName, quote_ident};
use crate::schema::default_index_name;
use crate::rules::Sink;
use crate::rules::util::{applicability_outside_transaction, insert_after_keyword, one_statement_per_file, outside_transaction};
use crate::rules::{StatementRule, StmtCtx};

pub struct IndexNotConcurrent;

impl StatementRule for IndexNotConcurrent {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::CreateIndex(ci) = &ctx.stmt.action else { return };
        if ci.concurrently || ci.only || ctx.is_new_table(&ci.table) {
            return;
        }
        let what = if ci.unique { "CREATE UNIQUE INDEX" } else { "CREATE INDEX" };
        if ctx.table(&ci.table).is_some_and(|t| t.partitioned) {
            sink.report(None, format!("`{what}` on partitioned table `{}` locks every partition against writes while it builds", ci.table))
                .help("create the index `ON ONLY` the parent, build it on each partition `CONCURRENTLY`, then `ALTER INDEX parent_idx ATTACH PARTITION partition_idx`");
            return;
        }
        let message = format!("`{what}` without `CONCURRENTLY` blocks writes to `{}` until the index is built", ci.table);
        // The retry-safe build: a concurrent build that fails leaves an invalid index behind,
        // which `IF NOT EXISTS` would then accept as done, and which a retried build without a
        // name would keep beside a second index. An index without a name gets the one
        // PostgreSQL would give it, so the `DROP` can find it.
        let name = ci.name.clone().unwrap_or_else(|| default_index_name(ctx.schema, ci));
        let index = ObjName { schema: ci.table.schema.clone(), name: name.clone() };
        let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {index};");
        if !ctx.runs_in.concurrently_ok {
            // `CONCURRENTLY` is refused inside a transaction block: the statement must move.
            let split = if one_statement_per_file(ctx) {
                " (the `DROP INDEX` in a migration of its own before the build's)"
            } else {
                ""
            };
            sink.report(None, message).help(format!(
                "`CONCURRENTLY` cannot run inside the transaction this statement runs in: move the build {}, as `{drop}` then `{what} CONCURRENTLY {} ...`{split}",
                outside_transaction(ctx),
                quote_ident(&name)
            ));
            return;
        }
        let word = if ci.name.is_some() { "CONCURRENTLY".to_owned() } else { format!("CONCURRENTLY {}", quote_ident(&name)) };
        let Some(concurrently) = insert_after_keyword(ctx, "index", &word) else {
            sink.report(None, message);
            return;
        };
        if ctx.runs_in.one_query {
            // A second statement would put a file sent as one query string into a transaction.
            sink.report(None, message)
                .help(format!(
                    "use `{what} CONCURRENTLY`, and run `{drop}` in a migration of its own before it: a failed concurrent build leaves an invalid index behind"
                ))
                .fix("build the index `CONCURRENTLY`", applicability_outside_transaction(ctx), vec![concurrently]);
            return;
        }
        let edits = vec![Edit::insert(ctx.stmt.range.start, format!("{drop}\n")), concurrently];
        sink.report(None, message).fix(
            "drop any invalid index a failed build left, then build the index `CONCURRENTLY`",
            applicability_outside_transaction(ctx),
            edits,
        );
    }
}
