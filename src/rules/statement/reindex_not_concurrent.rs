use crate::diagnostic::Sink;
use crate::parse::ir::Action;
use crate::rules::{StatementRule, StmtCtx};

pub struct ReindexNotConcurrent;

impl StatementRule for ReindexNotConcurrent {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::Reindex { concurrently: false, kind, name } = &ctx.stmt.action else { return };
        let target = name.as_ref().map_or_else(String::new, |n| format!(" `{n}`"));
        let help = if ctx.settings.pg_version >= 12 {
            "use `REINDEX ... CONCURRENTLY` (PostgreSQL 12+, outside a transaction block)"
        } else {
            "build a replacement with `CREATE INDEX CONCURRENTLY`, then drop the old index `CONCURRENTLY` and rename"
        };
        sink.report(
            None,
            format!("`REINDEX {}`{target} without `CONCURRENTLY` blocks writes while it rebuilds", kind.to_uppercase()),
        )
        .help(help);
    }
}
