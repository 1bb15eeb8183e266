use crate::rules::util::offer_not_valid_fix;
use crate::rules::Sink;
use crate::parse::ir::{AlterOp, ConstraintKind};
use crate::rules::{StatementRule, StmtCtx};

pub struct CheckWithoutNotValid;

impl StatementRule for CheckWithoutNotValid {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            match &op.op {
                // A `NOT ENFORCED` check (PostgreSQL 18) is never checked against any row.
                AlterOp::AddConstraint(c)
                    if !c.not_valid && c.enforced && matches!(c.kind, ConstraintKind::Check { .. }) =>
                {
                    let report = sink.report(
                        op.span.clone(),
                        format!("adding a `CHECK` constraint to `{}` without `NOT VALID` blocks reads and writes while every row is checked", at.name),
                    );
                    offer_not_valid_fix(report, ctx, at, op, c.name.as_deref());
                }
                // A column constraint cannot be `NOT VALID`: PostgreSQL checks it against every row,
                // even when the new column is `NULL` everywhere.
                AlterOp::AddColumn { column, .. }
                    if (0..column.checks.len()).any(|i| !column.checks_not_enforced.get(i).copied().unwrap_or(false)) =>
                {
                    sink.report(
                        op.span.clone(),
                        format!(
                            "adding column `{}` with a `CHECK` constraint blocks reads and writes on `{}` while every row is checked",
                            column.name, at.name
                        ),
                    )
                    .help(if ctx.in_transaction {
                        "add the column without the `CHECK`, then `ADD CONSTRAINT ... CHECK (...) NOT VALID`, and `VALIDATE CONSTRAINT` in a later migration: this statement runs in a transaction, which holds the `ADD`'s lock until it commits, so a `VALIDATE` in the same transaction scans under that lock"
                    } else {
                        "add the column without the `CHECK`, then `ADD CONSTRAINT ... CHECK (...) NOT VALID` and `VALIDATE CONSTRAINT` in separate statements"
                    });
                }
                _ => {}
            }
        }
    }
}
