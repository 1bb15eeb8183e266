use crate::diagnostic::Sink;
use crate::parse::ir::Action;
use crate::rules::{StatementRule, StmtCtx};

pub struct BlockingMaintenance;

impl StatementRule for BlockingMaintenance {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let names =
            |v: &[crate::parse::ir::ObjName]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join("`, `");
        let (message, help) = match &ctx.stmt.action {
            Action::Vacuum { full: true, tables } => (
                format!(
                    "`VACUUM FULL` rewrites {} under an ACCESS EXCLUSIVE lock",
                    if tables.is_empty() { "every table".to_owned() } else { format!("`{}`", names(tables)) }
                ),
                "use plain `VACUUM`, or rebuild online with pg_repack / pg_squeeze",
            ),
            Action::Cluster { table } => (
                format!(
                    "`CLUSTER` rewrites {} under an ACCESS EXCLUSIVE lock",
                    table.as_ref().map_or_else(|| "every clustered table".to_owned(), |t| format!("`{t}`"))
                ),
                "reorder online with pg_repack, or schedule it in a maintenance window",
            ),
            Action::Lock { tables, mode } => {
                if tables.iter().all(|t| ctx.is_new_table(t)) {
                    return;
                }
                (
                    format!(
                        "`LOCK TABLE` `{}` in {mode} mode blocks other sessions until the transaction ends",
                        names(tables)
                    ),
                    "avoid explicit table locks in migrations; if one is needed, set a short `lock_timeout` first and keep the transaction brief",
                )
            }
            Action::RefreshMatView { name, concurrently: false } => (
                format!(
                    "`REFRESH MATERIALIZED VIEW` `{name}` without `CONCURRENTLY` blocks reads of the view while it refreshes"
                ),
                "use `REFRESH MATERIALIZED VIEW CONCURRENTLY` (needs a unique index on the view)",
            ),
            Action::Truncate { tables } => {
                if tables.iter().all(|t| ctx.is_new_table(t)) {
                    return;
                }
                (
                    format!("`TRUNCATE` `{}` takes an ACCESS EXCLUSIVE lock and removes every row", names(tables)),
                    "delete in batches, or make sure no application traffic uses the table",
                )
            }
            _ => return,
        };
        sink.report(None, message).help(help);
    }
}
