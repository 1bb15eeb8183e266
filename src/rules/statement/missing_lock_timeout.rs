use crate::diagnostic::Sink;
use crate::parse::ir::Action;
use crate::rules::util::{Lock, lock_targets, table_lock};
use crate::rules::{StatementRule, StmtCtx};

pub struct MissingLockTimeout;

impl StatementRule for MissingLockTimeout {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        if ctx.lock_timeout_set {
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
        let mode = match &ctx.stmt.action {
            // `table_lock` ranks EXCLUSIVE with ACCESS EXCLUSIVE; name the mode as written.
            Action::Lock { mode, .. } => mode.to_ascii_uppercase(),
            _ if lock == Lock::AccessExclusive => "ACCESS EXCLUSIVE".to_owned(),
            _ => "SHARE ROW EXCLUSIVE".to_owned(),
        };
        let queued = if mode == "ACCESS EXCLUSIVE" { "query on" } else { "write to" };
        let article = if mode.starts_with(['A', 'E']) { "an" } else { "a" };
        let on = targets.iter().find(|t| !ctx.is_new_table(t)).map_or_else(String::new, |t| format!(" on `{t}`"));
        let report = sink
            .report(
                None,
                format!(
                    "this statement takes {article} {mode} lock{on} without a `lock_timeout`: while it waits for the lock, every later {queued} the table queues behind it"
                ),
            )
            .help("start the migration with `SET lock_timeout = '5s';` (`SET LOCAL` inside a transaction block) and retry the migration when it times out");
        // Inside a `DO` block the setting belongs before the block, not in its body.
        if !ctx.stmt.inner {
            report.fix(format!("SET lock_timeout = '5s';\n{}", ctx.sql()));
        }
    }
}
