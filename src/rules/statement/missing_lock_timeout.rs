use crate::diagnostic::{Applicability, Edit};
use crate::parse::ir::{Action, DropKind, ObjName};
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
        // `DROP ... IF EXISTS` of a relation the history shows absent takes no lock; an index
        // the model does not know is named for its table, and is exempt when that table is new.
        let dropped_indexes = match &ctx.stmt.action {
            Action::Drop { kind: DropKind::Index, names, .. } => names.as_slice(),
            _ => &[],
        };
        let unknown_index = |t: &ObjName| dropped_indexes.contains(t) && ctx.schema.index(t).is_none();
        let no_op = |t: &ObjName| {
            (matches!(ctx.stmt.action, Action::Drop { if_exists: true, .. }) && ctx.is_absent(t))
                || (unknown_index(t) && ctx.index_on_new_table(t))
        };
        // The strongest lock taken on a table that existed before this file.
        let Some((table, lock)) = table_locks(&ctx.stmt.action, ctx.schema)
            .into_iter()
            .filter(|(t, l)| {
                *l >= Lock::ShareRowExclusive
                    && !ctx.is_new_table(t)
                    && !ctx.is_new_matview(t)
                    && !no_op(t)
                    // Held since an earlier statement of this transaction: nothing to wait for.
                    && !ctx.already_holds(t, *l)
            })
            .max_by_key(|(_, l)| *l)
        else {
            return;
        };
        let mode = lock.as_sql();
        // `table_locks` names an index the model does not know by itself.
        let on = if unknown_index(&table) {
            format!("the table of index `{table}`")
        } else {
            format!("`{table}`")
        };
        let queued = if lock == Lock::AccessExclusive { "query on" } else { "write to" };
        let article = if mode.starts_with(['A', 'E']) { "an" } else { "a" };
        let report = sink
            .report(
                None,
                format!(
                    "this statement takes {article} {mode} lock on {on} without a `lock_timeout`: while it waits for the lock, every later {queued} the table queues behind it"
                ),
            );
        // Inside a `DO` block the setting belongs before the block, not in its body.
        if !ctx.stmt.inner {
            // A file sent as one query string runs outside a transaction only while it holds
            // one statement: a `SET` before an index build or drop (which wants, or whose own
            // fix adds, `CONCURRENTLY`) would put it in an implicit transaction, where
            // `CONCURRENTLY` fails.
            let index_op = matches!(
                ctx.stmt.action,
                Action::CreateIndex(_) | Action::Drop { kind: DropKind::Index, .. } | Action::Reindex { .. }
            );
            let (title, applicability) = if ctx.runs_in.one_query && !ctx.in_transaction && index_op {
                (
                    "set `lock_timeout` first (this makes the file two statements, one implicit transaction: set it for the migration's connection instead, e.g. `PGOPTIONS='-c lock_timeout=5s'`, to run the index statement `CONCURRENTLY`)",
                    Applicability::Unsafe,
                )
            } else {
                ("set `lock_timeout` first", Applicability::Safe)
            };
            report.fix(title, applicability, vec![Edit::insert(ctx.stmt.range.start, "SET lock_timeout = '5s';\n")]);
        }
    }
}
