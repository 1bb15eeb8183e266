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
            let report = sink.report(op.span.clone(), format!("adding {what} `{}` rewrites the whole of `{}` under an exclusive lock", column.name, at.name));
            if column.generated == Some(Generated::Stored) {
                // No version turns a plain column into a generated one (`SET EXPRESSION`, 17+,
                // only changes a generated column's expression): a trigger is the path that runs.
                let virtual_18 = if ctx.settings.pg_version >= 18 {
                    "; or, if it need not be stored, add it `VIRTUAL` (computed when read, no rewrite)"
                } else {
                    ""
                };
                report.help(format!(
                    "add a plain nullable column, keep it up to date with a `BEFORE INSERT OR UPDATE` trigger that computes the expression, and backfill the existing rows in batches (a plain column cannot be made generated afterwards){virtual_18}"
                ));
            }
        }
    }
}
