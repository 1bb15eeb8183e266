use crate::rules::Sink;
use crate::parse::ir::{AlterOp};
use crate::rules::{StatementRule, StmtCtx};

pub struct DropColumn;

impl StatementRule for DropColumn {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            let AlterOp::DropColumn { name, .. } = &op.op else { continue };
            sink.report(op.span.clone(), format!("dropping column `{}`.`{name}` breaks the application version still reading it, and its data is gone", at.name))
                .help("first deploy code that no longer uses the column (e.g. Rails `ignored_columns`), then drop it in a later migration");
        }
    }
}
