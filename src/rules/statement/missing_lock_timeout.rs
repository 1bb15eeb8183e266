use crate::diagnostic::Sink;
use crate::rules::util::{Lock, lock_targets, table_lock};
use crate::rules::{StatementRule, StmtCtx};

pub struct MissingLockTimeout;

impl StatementRule for MissingLockTimeout {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        if ctx.lock_timeout_set || ctx.stmt.inner {
            return;
        }
        let lock = table_lock(&ctx.stmt.action);
        if lock < Lock::ShareRowExclusive {
            return;
        }
        let targets = lock_targets(&ctx.stmt.action, ctx.schema);
        if !targets.is_empty() && targets.iter().all(|t| ctx.is_new_table(t)) {
            return;
        }
        let mode = if lock == Lock::AccessExclusive { "ACCESS EXCLUSIVE" } else { "SHARE ROW EXCLUSIVE" };
        let on = targets.first().map_or_else(String::new, |t| format!(" on `{t}`"));
        sink.report(None, format!("this statement takes an {mode} lock{on} without a `lock_timeout`: while it waits, every query on the table queues behind it"))
            .help("start the migration with `SET lock_timeout = '5s';` (or `SET LOCAL` inside a transaction) and retry on timeout")
            .fix(format!("SET lock_timeout = '5s';\n{}", ctx.sql()));
    }
}
