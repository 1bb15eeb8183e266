use crate::diagnostic::Sink;
use crate::parse::ir::{Action, AlterOp, ConstraintKind};
use crate::rules::{StatementRule, StmtCtx};

pub struct ForeignKeyWithoutNotValid;

impl StatementRule for ForeignKeyWithoutNotValid {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::AlterTable(at) = &ctx.stmt.action else { return };
        if ctx.is_new_table(&at.name) {
            return;
        }
        for op in &at.ops {
            match &op.op {
                AlterOp::AddConstraint(c) if !c.not_valid => {
                    let ConstraintKind::ForeignKey(fk) = &c.kind else { continue };
                    let name =
                        c.name.clone().unwrap_or_else(|| format!("{}_{}_fkey", at.name.name, fk.columns.join("_")));
                    let op_sql = ctx.text.get(op.span.clone().unwrap_or(0..0)).unwrap_or("");
                    let mut report = sink
                        .report(
                            op.span.clone(),
                            format!(
                                "adding a foreign key to `{}` without `NOT VALID` blocks writes to `{}` and `{}` while every row is checked",
                                at.name, at.name, fk.ref_table
                            ),
                        )
                        .help("add the constraint `NOT VALID`, then `VALIDATE CONSTRAINT` in a separate statement (it takes a weaker lock)");
                    if c.name.is_some() && !op_sql.is_empty() {
                        report = report.fix(format!(
                            "ALTER TABLE {} {} NOT VALID;\nALTER TABLE {} VALIDATE CONSTRAINT {};",
                            at.name,
                            op_sql,
                            at.name,
                            crate::parse::ir::quote_ident(&name)
                        ));
                    }
                    let _ = report;
                }
                AlterOp::AddColumn { column, .. } if column.references.is_some() => {
                    let Some(fk) = &column.references else { continue };
                    sink.report(
                        op.span.clone(),
                        format!(
                            "adding column `{}` with `REFERENCES {}` validates the foreign key while blocking writes to `{}` and `{}`",
                            column.name, fk.ref_table, at.name, fk.ref_table
                        ),
                    )
                    .help("add the column without `REFERENCES`, then `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID` and `VALIDATE CONSTRAINT` separately");
                }
                _ => {}
            }
        }
    }
}
