use crate::rules::Sink;
use crate::parse::ir::{Action, ObjName};
use crate::rules::{StatementRule, StmtCtx};

pub struct BlockingMaintenance;

fn names(v: &[ObjName]) -> String {
    v.iter().map(ToString::to_string).collect::<Vec<_>>().join("`, `")
}

/// What an explicit `LOCK TABLE` mode blocks of ordinary application traffic (`SELECT` takes
/// ACCESS SHARE; `INSERT`/`UPDATE`/`DELETE` take ROW EXCLUSIVE), or `None` when it blocks
/// neither (ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE).
fn lock_blocks(mode: &str) -> Option<&'static str> {
    let mode = mode.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
    match mode.as_str() {
        "ACCESS EXCLUSIVE" => Some("reads and writes"),
        "SHARE" | "SHARE ROW EXCLUSIVE" | "EXCLUSIVE" => Some("writes"),
        _ => None,
    }
}

impl StatementRule for BlockingMaintenance {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        // Tables created in this file are new and empty: nobody else uses them yet.
        let all_new = |v: &[ObjName]| !v.is_empty() && v.iter().all(|t| ctx.is_new_table(t));
        let (message, help) = match &ctx.stmt.action {
            Action::Vacuum { full: true, tables } => {
                if all_new(tables) {
                    return;
                }
                (
                    format!(
                        "`VACUUM FULL` rewrites {} under an ACCESS EXCLUSIVE lock, blocking reads and writes until it finishes",
                        if tables.is_empty() { "every table".to_owned() } else { format!("`{}`", names(tables)) }
                    ),
                    "use plain `VACUUM` (it does not block reads or writes), or rebuild the table online with pg_repack or pg_squeeze",
                )
            }
            Action::Cluster { table } => {
                if table.as_ref().is_some_and(|t| ctx.is_new_table(t)) {
                    return;
                }
                (
                    format!(
                        "`CLUSTER` rewrites {} under an ACCESS EXCLUSIVE lock, blocking reads and writes until it finishes",
                        table
                            .as_ref()
                            .map_or_else(|| "every previously clustered table".to_owned(), |t| format!("`{t}`"))
                    ),
                    "reorder the table online with pg_repack, or run `CLUSTER` in a maintenance window, not in a migration",
                )
            }
            Action::Lock { tables, mode } => {
                let Some(blocks) = lock_blocks(mode) else { return };
                if all_new(tables) {
                    return;
                }
                (
                    format!(
                        "`LOCK TABLE` `{}` in {} mode blocks {blocks} until the transaction ends",
                        names(tables),
                        mode.to_ascii_uppercase()
                    ),
                    "avoid explicit table locks in migrations; if one is needed, set a short `lock_timeout` first and keep the transaction brief",
                )
            }
            // A view created in this file is not read by anyone yet (and `CONCURRENTLY` is refused
            // on a view that was never populated).
            Action::RefreshMatView { name, .. } if ctx.is_new_matview(name) => return,
            Action::RefreshMatView { name, concurrently: false } => (
                format!(
                    "`REFRESH MATERIALIZED VIEW` `{name}` without `CONCURRENTLY` blocks reads of the view until the refresh finishes"
                ),
                "use `REFRESH MATERIALIZED VIEW CONCURRENTLY` (the view needs a unique index on plain columns, without `WHERE`)",
            ),
            Action::Truncate { tables } => {
                if all_new(tables) {
                    return;
                }
                (
                    format!(
                        "`TRUNCATE` `{}` takes an ACCESS EXCLUSIVE lock, blocking reads and writes, and removes every row",
                        names(tables)
                    ),
                    "delete in batches, or make sure no application traffic uses the table",
                )
            }
            _ => return,
        };
        sink.report(None, message).help(help);
    }
}
