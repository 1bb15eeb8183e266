use crate::diagnostic::Sink;
use crate::parse::ir::{Action, AlterOp, ConstraintKind, quote_ident};
use crate::rules::{StatementRule, StmtCtx};

pub struct CheckWithoutNotValid;

impl StatementRule for CheckWithoutNotValid {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::AlterTable(at) = &ctx.stmt.action else { return };
        if ctx.is_new_table(&at.name) {
            return;
        }
        for op in &at.ops {
            let AlterOp::AddConstraint(c) = &op.op else { continue };
            if c.not_valid || !matches!(c.kind, ConstraintKind::Check { .. }) {
                continue;
            }
            let op_sql = ctx.text.get(op.span.clone().unwrap_or(0..0)).unwrap_or("");
            let report = sink
                .report(
                    op.span.clone(),
                    format!("adding a `CHECK` constraint to `{}` without `NOT VALID` blocks reads and writes while every row is checked", at.name),
                )
                .help("add the constraint `NOT VALID`, then `VALIDATE CONSTRAINT` in a separate statement (it takes a weaker lock)");
            if let Some(name) = &c.name
                && !op_sql.is_empty()
            {
                report.fix(format!(
                    "ALTER TABLE {} {} NOT VALID;\nALTER TABLE {} VALIDATE CONSTRAINT {};",
                    at.name,
                    op_sql,
                    at.name,
                    quote_ident(name)
                ));
            }
        }
    }
}
