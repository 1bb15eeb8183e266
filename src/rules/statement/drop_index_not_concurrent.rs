use crate::rules::Sink;
use crate::parse::ir::{Action, DropKind, ObjName};
use crate::diagnostic::Applicability;
use crate::rules::util::{insert_after_keyword, outside_transaction};
use crate::rules::{StatementRule, StmtCtx};
use crate::rules::locks::Lock;
use crate::schema::QualName;

pub struct DropIndexNotConcurrent;

impl StatementRule for DropIndexNotConcurrent {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::Drop { kind: DropKind::Index, names, concurrently: false, cascade, if_exists } = &ctx.stmt.action
        else {
            return;
        };
        // `IF EXISTS` of indexes the history shows absent drops nothing and takes no lock.
        if *if_exists && names.iter().all(|n| ctx.is_absent(n)) {
            return;
        }
        // The table of each index, when the model knows the index.
        let tables: Vec<Option<&QualName>> = names.iter().map(|n| ctx.schema.index(n).map(|i| &i.table)).collect();
        // Not reported: indexes on tables created in this file (new and empty; for an index the
        // model does not know, a new table its name starts with), indexes on partitioned
        // tables, which PostgreSQL cannot drop `CONCURRENTLY`, and indexes on a table an earlier
        // statement of the same transaction has already locked ACCESS EXCLUSIVE (the drop is
        // instant and blocks no one who is not blocked already).
        let exempt = |(n, t): (&ObjName, &Option<&QualName>)| {
            let table = t.map(|t| ObjName { schema: Some(t.schema.clone()), name: t.name.clone() });
            ctx.index_on_new_table(n)
                || table.as_ref().is_some_and(|t| {
                    ctx.table(t).is_some_and(|t| t.partitioned) || ctx.already_holds(t, Lock::AccessExclusive)
                })
        };
        if names.iter().zip(&tables).all(exempt) {
            return;
        }
        let list = names.iter().map(ToString::to_string).collect::<Vec<_>>().join("`, `");
        let on = match tables.first() {
            Some(Some(t)) if tables.iter().all(|x| x == &Some(*t)) => format!("`{t}`"),
            _ if names.len() > 1 => format!("the tables of `{list}`"),
            _ => format!("the table of `{list}`"),
        };
        let message = format!(
            "`DROP INDEX` without `CONCURRENTLY` takes an ACCESS EXCLUSIVE lock on {on}, blocking reads and writes until it is done"
        );
        let help = if !ctx.runs_in.concurrently_ok {
            // `CONCURRENTLY` is refused inside a transaction block: the statement must move.
            let one = if names.len() > 1 { ", one statement per index" } else { "" };
            Some(format!(
                "`CONCURRENTLY` cannot run inside the transaction this statement runs in: move it {}, as `DROP INDEX CONCURRENTLY IF EXISTS`{one}",
                outside_transaction(ctx)
            ))
        } else if names.len() > 1 {
            Some("use `DROP INDEX CONCURRENTLY`, one statement per index, outside a transaction block".to_owned())
        } else if *cascade {
            Some("drop the objects that depend on the index first, then use `DROP INDEX CONCURRENTLY` (it does not support `CASCADE`), outside a transaction block".to_owned())
        } else {
            None
        };
        let mut report = sink.report(None, message);
        if let Some(help) = help {
            report = report.help(help);
        }
        if names.len() == 1
            && !*cascade
            && ctx.runs_in.concurrently_ok
            && let Some(edit) = insert_after_keyword(ctx, "index", "CONCURRENTLY")
        {
            report.fix("drop the index `CONCURRENTLY`", Applicability::Safe, vec![edit]);
        }
    }
}
