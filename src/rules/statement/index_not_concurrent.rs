use crate::diagnostic::Edit;
use crate::parse::ir::{Action, ObjName};
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
        // which `IF NOT EXISTS` would then accept as done.
        let drop = ci.name.as_ref().map(|n| {
            let index = ObjName { schema: ci.table.schema.clone(), name: n.clone() };
            format!("DROP INDEX CONCURRENTLY IF EXISTS {index};")
        });
        let build = match &drop {
            Some(drop) => format!("`{drop}` then `{what} CONCURRENTLY ...`"),
            None => format!("`{what} CONCURRENTLY ...`"),
        };
        if !ctx.runs_in.concurrently_ok {
            // `CONCURRENTLY` is refused inside a transaction block: the statement must move.
            let split = if drop.is_some() && one_statement_per_file(ctx) {
                " (the `DROP INDEX` in a migration of its own before the build's)"
            } else {
                ""
            };
            sink.report(None, message).help(format!(
                "`CONCURRENTLY` cannot run inside the transaction this statement runs in: move the build {}, as {build}{split}",
                outside_transaction(ctx)
            ));
            return;
        }
        let Some(concurrently) = insert_after_keyword(ctx, "index", "CONCURRENTLY") else {
            sink.report(None, message);
            return;
        };
        let mut edits = vec![concurrently];
        let mut title = "build the index `CONCURRENTLY`";
        let report = match drop {
            // A second statement would put a file sent as one query string into a transaction.
            Some(drop) if ctx.runs_in.one_query => sink.report(None, message).help(format!(
                "use `{what} CONCURRENTLY`, and run `{drop}` in a migration of its own before it: a failed concurrent build leaves an invalid index behind"
            )),
            Some(drop) => {
                edits.insert(0, Edit::insert(ctx.stmt.range.start, format!("{drop}\n")));
                title = "drop any invalid index a failed build left, then build the index `CONCURRENTLY`";
                sink.report(None, message)
            }
            None => sink.report(None, message),
        };
        report.fix(title, applicability_outside_transaction(ctx), edits);
    }
}
