use crate::diagnostic::Applicability;
use crate::rules::util::not_valid_then_validate;
use crate::rules::Sink;
use crate::parse::ir::{Action, AlterOp, ConstraintKind};
use crate::rules::{StatementRule, StmtCtx};

pub struct CheckWithoutNotValid;

impl StatementRule for CheckWithoutNotValid {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::AlterTable(at) = &ctx.stmt.action else { return };
        if ctx.is_new_table(&at.name) {
            return;
        }
        for op in &at.ops {
            match &op.op {
                AlterOp::AddConstraint(c) if !c.not_valid && matches!(c.kind, ConstraintKind::Check { .. }) => {
                    let op_sql = ctx.text.get(op.span.clone().unwrap_or(0..0)).unwrap_or("");
                    let report = sink.report(
                        op.span.clone(),
                        format!("adding a `CHECK` constraint to `{}` without `NOT VALID` blocks reads and writes while every row is checked", at.name),
                    );
                    // The fix replaces the statement: only offered when the constraint is all it does.
                    if let Some(name) = &c.name
                        && at.ops.len() == 1
                        && !op_sql.is_empty()
                    {
                        report.fix_statement(
                            "add the constraint `NOT VALID`, then validate it",
                            Applicability::Safe,
                            not_valid_then_validate(&at.name, op_sql, name),
                        );
                    }
                }
                // A column constraint cannot be `NOT VALID`: PostgreSQL checks it against every row,
                // even when the new column is `NULL` everywhere.
                AlterOp::AddColumn { column, .. } if !column.checks.is_empty() => {
                    sink.report(
                        op.span.clone(),
                        format!(
                            "adding column `{}` with a `CHECK` constraint blocks reads and writes on `{}` while every row is checked",
                            column.name, at.name
                        ),
                    )
                    .help("add the column without the `CHECK`, then `ADD CONSTRAINT ... CHECK (...) NOT VALID` and `VALIDATE CONSTRAINT` in separate statements");
                }
                _ => {}
            }
        }
    }
}
