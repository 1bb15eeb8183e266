use crate::rules::Sink;
use crate::parse::ir::Action;
use crate::rules::util::{applicability_outside_transaction, insert_after_keyword};
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
        if ctx.stmt.inner {
            sink.report(None, format!("`{what}` without `CONCURRENTLY` blocks writes to `{}` until the index is built", ci.table))
                .help("a `DO` block always runs in a transaction, where `CONCURRENTLY` is refused: move the statement out of the block and use `CREATE INDEX CONCURRENTLY IF NOT EXISTS`");
            return;
        }
        let report = sink
            .report(
                None,
                format!("`{what}` without `CONCURRENTLY` blocks writes to `{}` until the index is built", ci.table),
            );
        if let Some(edit) = insert_after_keyword(ctx, "index", "CONCURRENTLY") {
            // `CONCURRENTLY` is refused inside a transaction block: there the fix must move.
            report.fix("build the index `CONCURRENTLY`", applicability_outside_transaction(ctx), vec![edit]);
        }
    }
}
