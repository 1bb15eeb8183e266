use crate::diagnostic::Sink;
use crate::parse::ir::{Action, AlterOp};
use crate::rules::util::{type_change_is_safe, type_shape};
use crate::rules::{StatementRule, StmtCtx};

pub struct AlterColumnType;

impl StatementRule for AlterColumnType {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::AlterTable(at) = &ctx.stmt.action else { return };
        if ctx.is_new_table(&at.name) {
            return;
        }
        for op in &at.ops {
            let AlterOp::AlterType { column, ty, using } = &op.op else { continue };
            let old = ctx.table(&at.name).and_then(|t| t.column(column)).map(|c| &c.ty);
            let message = match old {
                Some(old) if type_change_is_safe(old, ty, using.is_some()) => continue,
                Some(old) => format!(
                    "changing `{}`.`{column}` from `{}` to `{}` rewrites the table and its indexes under an exclusive lock",
                    at.name, old.text, ty.text
                ),
                None => {
                    // Unknown old type: only a change to an unbounded type could be free.
                    let shape = type_shape(ty);
                    let maybe_free = using.is_none()
                        && shape.mods.is_empty()
                        && matches!(shape.base.as_str(), "text" | "varchar" | "numeric");
                    if maybe_free {
                        continue;
                    }
                    format!(
                        "changing the type of `{}`.`{column}` to `{}` rewrites the table and its indexes under an exclusive lock",
                        at.name, ty.text
                    )
                }
            };
            sink.report(op.span.clone(), message)
                .help("add a new column of the new type, backfill it in batches, switch the application over, then drop the old column");
        }
    }
}
