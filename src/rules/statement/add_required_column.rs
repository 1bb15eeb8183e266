use crate::rules::Sink;
use crate::parse::ir::{AlterOp};
use crate::rules::{StatementRule, StmtCtx};

pub struct AddRequiredColumn;

impl StatementRule for AddRequiredColumn {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            let AlterOp::AddColumn { column, .. } = &op.op else { continue };
            let required = column.not_null || column.primary_key;
            let has_default = crate::rules::util::default_gives_value(column.default.as_deref());
            if !required || has_default || column.generated.is_some() || column.ty.is_serial() {
                continue;
            }
            sink.report(op.span.clone(), format!("adding `NOT NULL` column `{}` without a default fails on `{}` as soon as it has rows", column.name, at.name));
        }
    }
}
