use crate::rules::Sink;
use crate::parse::ir::{AlterOp, Generated};
use crate::rules::{StatementRule, StmtCtx};

pub struct AddColumnRewrite;

impl StatementRule for AddColumnRewrite {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            let AlterOp::AddColumn { column, .. } = &op.op else { continue };
            let what = if column.ty.is_serial() {
                format!("a `{}` column", column.ty.text)
            } else {
                match column.generated {
                    Some(Generated::Identity) => "an identity column".to_owned(),
                    Some(Generated::Stored) => "a `GENERATED ... STORED` column".to_owned(),
                    _ => continue,
                }
            };
            sink.report(op.span.clone(), format!("adding {what} `{}` rewrites the whole of `{}` under an exclusive lock", column.name, at.name));
        }
    }
}
