use crate::rules::Sink;
use crate::parse::ir::{Action, AlterOp};
use crate::rules::util::outside_transaction;
use crate::rules::{StatementRule, StmtCtx};

pub struct ConcurrentInTransaction;

/// The CONCURRENTLY operations PostgreSQL refuses inside a transaction block.
fn concurrent_op(action: &Action) -> Option<&'static str> {
    match action {
        Action::CreateIndex(ci) if ci.concurrently => Some("CREATE INDEX CONCURRENTLY"),
        Action::Drop { concurrently: true, .. } => Some("DROP INDEX CONCURRENTLY"),
        Action::Reindex { concurrently: true, .. } => Some("REINDEX CONCURRENTLY"),
        Action::AlterTable(at)
            if at.ops.iter().any(|o| matches!(o.op, AlterOp::DetachPartition { concurrently: true, .. })) =>
        {
            Some("DETACH PARTITION CONCURRENTLY")
        }
        _ => None,
    }
}

impl StatementRule for ConcurrentInTransaction {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(op) = concurrent_op(&ctx.stmt.action) else { return };
        if !ctx.in_transaction {
            return;
        }
        if ctx.stmt.inner {
            sink.report(
                None,
                format!("`{op}` cannot run inside a `DO` block, which always runs in a transaction; PostgreSQL rejects it"),
            )
            .help(format!("move the statement {}", outside_transaction(ctx)));
            return;
        }
        let why = if ctx.settings.assume_in_transaction {
            "inside a transaction block, explicit or the one the migration tool wraps each file in (`assume_in_transaction = true`)"
        } else {
            "inside a transaction block"
        };
        sink.report(None, format!("`{op}` cannot run {why}; PostgreSQL rejects it"))
            .help(format!("move the statement {}", outside_transaction(ctx)));
    }
}
