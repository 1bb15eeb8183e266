use crate::rules::Sink;
use crate::parse::ir::{AlterOp};
use crate::rules::{StatementRule, StmtCtx};

pub struct RenameColumn;

impl StatementRule for RenameColumn {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            let AlterOp::RenameColumn { from, to } = &op.op else { continue };
            sink.report(op.span.clone(), format!("renaming column `{}`.`{from}` to `{to}` breaks the application version still running against the old name", at.name))
                .help("add the new column and write to both (or keep the old name), deploy code that reads the new one, then drop the old column in a later release");
        }
    }
}
