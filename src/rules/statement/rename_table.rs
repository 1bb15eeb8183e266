use crate::rules::Sink;
use crate::parse::ir::{AlterOp, ObjName};
use crate::rules::{StatementRule, StmtCtx};

pub struct RenameTable;

impl StatementRule for RenameTable {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        // Built at run time, of a table the history does not know (its name comes from a
        // variable, e.g. a loop over partitions): which table is renamed is not known.
        if ctx.stmt.dynamic.is_some() && ctx.table(&at.name).is_none() {
            return;
        }
        for op in &at.ops {
            match &op.op {
                // A table swap: the renamed table takes the place of one this file dropped,
                // so the application keeps a table of that name (`drop-table` is silent on the
                // drop for the same reason).
                AlterOp::RenameTable { to }
                    if ctx.was_dropped_earlier(&ObjName { schema: at.name.schema.clone(), name: to.clone() }) => {}
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
