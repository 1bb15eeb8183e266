use crate::parse::ir::{Action, AlterOp};
use crate::rules::Sink;
use crate::rules::{StatementRule, StmtCtx};

pub struct DropColumn;

impl StatementRule for DropColumn {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        // The columns of the table when the history knows all of them.
        let known = ctx.table(&at.name).filter(|t| !t.columns_unknown);
        for op in &at.ops {
            let AlterOp::DropColumn { name, if_exists } = &op.op else { continue };
            // `DROP COLUMN IF EXISTS` of a column the table does not have drops nothing.
            if *if_exists && known.is_some_and(|t| t.column(name).is_none()) {
                continue;
            }
            // Added again under the same name, in this statement or a later one of the file.
            let adds = |ops: &[crate::parse::ir::AlterTableOp]| {
                ops.iter().any(|o| matches!(&o.op, AlterOp::AddColumn { column, .. } if column.name == *name))
            };
            let readded = adds(&at.ops)
                || ctx.later.iter().any(|s| match &s.action {
                    Action::AlterTable(later) => later.name == at.name && adds(&later.ops),
                    _ => false,
                });
            if readded {
                sink.report(
                    op.span.clone(),
                    format!(
                        "column `{}`.`{name}` is dropped and added again: every row loses its value (the new column holds only its default)",
                        at.name
                    ),
                )
                .help("to change the column's type keep its data with `ALTER COLUMN ... TYPE ... USING`, or add a column under a new name, backfill it, and switch the application over");
                continue;
            }
            sink.report(op.span.clone(), format!("dropping column `{}`.`{name}` breaks the application version still reading it, and its data is gone", at.name))
                .help("first deploy code that no longer uses the column (e.g. Rails `ignored_columns`), then drop it in a later migration");
        }
    }
}
