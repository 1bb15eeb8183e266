use crate::rules::Sink;
use crate::parse::ir::{AlterOp};
use crate::rules::{StatementRule, StmtCtx};

pub struct RenameTable;

impl StatementRule for RenameTable {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            match &op.op {
                AlterOp::RenameTable { to } => {
                    sink.report(op.span.clone(), format!("renaming table `{}` to `{to}` breaks the application version still running against the old name", at.name))
                        .help("rename the table and create a view with the old name (`CREATE VIEW old AS SELECT * FROM new`) until no deployed code uses it");
                }
                // Moving the table to another schema changes its qualified name just the same.
                AlterOp::SetSchema { schema } => {
                    sink.report(op.span.clone(), format!("moving table `{}` to schema `{schema}` breaks the application version still running against the old name", at.name))
                        .help("keep the old name working (a view in the old schema) until no deployed code uses it");
                }
                _ => {}
            }
        }
    }
}
