use crate::diagnostic::{Applicability, Edit};
use crate::rules::Sink;
use crate::rules::locks::{Lock, table_locks};
use crate::rules::{StatementRule, StmtCtx};

pub struct MissingLockTimeout;

impl StatementRule for MissingLockTimeout {
    /// One `SET lock_timeout` at the top of the file fixes every statement of it.
    fn once_per_file(&self) -> bool {
        true
    }

    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        if ctx.lock_timeout_set {
            return;
        }
        // The strongest lock taken on a table that existed before this file.
        let Some((table, lock)) = table_locks(&ctx.stmt.action, ctx.schema)
            .into_iter()
            .filter(|(t, l)| *l >= Lock::ShareRowExclusive && !ctx.is_new_table(t) && !ctx.is_new_matview(t))
            .max_by_key(|(_, l)| *l)
        else {
            return;
        };
        let mode = lock.as_sql();
        let queued = if lock == Lock::AccessExclusive { "query on" } else { "write to" };
        let article = if mode.starts_with(['A', 'E']) { "an" } else { "a" };
        let report = sink
            .report(
                None,
                format!(
                    "this statement takes {article} {mode} lock on `{table}` without a `lock_timeout`: while it waits for the lock, every later {queued} the table queues behind it"
                ),
            );
        // Inside a `DO` block the setting belongs before the block, not in its body.
        if !ctx.stmt.inner {
            report.fix(
                "set `lock_timeout` first",
                Applicability::Safe,
                vec![Edit::insert(ctx.stmt.range.start, "SET lock_timeout = '5s';\n")],
            );
        }
    }
}
