use crate::rules::Sink;
use crate::parse::ir::{Action, DropKind};
use crate::rules::{StatementRule, StmtCtx};

pub struct DropTable;

impl StatementRule for DropTable {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::Drop { kind: DropKind::Table, names, if_exists, .. } = &ctx.stmt.action else { return };
        // Not reported: tables new in this file, tables `IF EXISTS` finds absent (a no-op), and
        // a table swap (`DROP TABLE t; ALTER TABLE t_new RENAME TO t`): the application keeps a
        // table of that name, whose data was copied on purpose.
        let existing: Vec<String> = names
            .iter()
            .filter(|n| !(ctx.is_new_table(n) || ctx.is_swapped_in_later(n) || (*if_exists && ctx.is_absent(n))))
            .map(ToString::to_string)
            .collect();
        if existing.is_empty() {
            return;
        }
        sink.report(
            None,
            format!(
                "dropping table `{}` breaks the application version still using it, and its data is gone",
                existing.join("`, `")
            ),
        )
        .help("deploy code that no longer uses the table first; keep a backup (or rename it aside) before dropping");
    }
}
