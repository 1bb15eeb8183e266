use crate::diagnostic::Sink;
use crate::parse::ir::{Action, AlterOp, ConstraintKind, quote_ident};
use crate::rules::util::normalise_expr;
use crate::rules::{StatementRule, StmtCtx};

pub struct SetNotNull;

impl StatementRule for SetNotNull {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::AlterTable(at) = &ctx.stmt.action else { return };
        if ctx.is_new_table(&at.name) {
            return;
        }
        for op in &at.ops {
            let AlterOp::SetNotNull { column } = &op.op else { continue };
            let wanted = format!("{} is not null", column.to_lowercase());
            // PostgreSQL 12+ skips the scan when a validated CHECK (col IS NOT NULL) proves it.
            let proven = ctx.settings.pg_version >= 12
                && ctx.table(&at.name).is_some_and(|t| {
                    t.constraints.iter().any(|c| {
                        c.validated
                            && matches!(&c.kind, ConstraintKind::Check { expr } if normalise_expr(expr) == wanted)
                    })
                });
            if proven {
                continue;
            }
            let col = quote_ident(column);
            let check = quote_ident(&format!("{}_{}_not_null", at.name.name, column));
            let help = if ctx.settings.pg_version >= 12 {
                "first add `CHECK (col IS NOT NULL) NOT VALID` and `VALIDATE` it; then `SET NOT NULL` skips the scan, and the check can be dropped"
            } else {
                "before PostgreSQL 12 `SET NOT NULL` always scans the table; keep a validated `CHECK (col IS NOT NULL)` instead"
            };
            let report = sink
                .report(
                    op.span.clone(),
                    format!(
                        "`SET NOT NULL` on `{}`.`{column}` blocks reads and writes while the whole table is scanned",
                        at.name
                    ),
                )
                .help(help);
            if ctx.settings.pg_version >= 12 {
                let t = &at.name;
                report.fix(format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID;\nALTER TABLE {t} VALIDATE CONSTRAINT {check};\nALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL;\nALTER TABLE {t} DROP CONSTRAINT {check};"
                ));
            }
        }
    }
}
