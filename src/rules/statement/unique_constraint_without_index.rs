use crate::diagnostic::Sink;
use crate::parse::ir::{Action, AlterOp, ConstraintKind, quote_ident};
use crate::rules::{StatementRule, StmtCtx};

pub struct UniqueConstraintWithoutIndex;

impl StatementRule for UniqueConstraintWithoutIndex {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::AlterTable(at) = &ctx.stmt.action else { return };
        if ctx.is_new_table(&at.name) {
            return;
        }
        for op in &at.ops {
            let (kind, columns, name) = match &op.op {
                AlterOp::AddConstraint(c) => match &c.kind {
                    ConstraintKind::PrimaryKey { columns, using_index: None } => {
                        ("PRIMARY KEY", columns.clone(), c.name.clone())
                    }
                    ConstraintKind::Unique { columns, using_index: None } => {
                        ("UNIQUE", columns.clone(), c.name.clone())
                    }
                    _ => continue,
                },
                AlterOp::AddColumn { column, .. } if column.primary_key => {
                    ("PRIMARY KEY", vec![column.name.clone()], None)
                }
                AlterOp::AddColumn { column, .. } if column.unique => ("UNIQUE", vec![column.name.clone()], None),
                _ => continue,
            };
            let t = &at.name;
            let cols = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
            let report = sink
                .report(op.span.clone(), format!("adding `{kind}` to `{t}` builds its unique index while blocking reads and writes"))
                .help(format!("build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY` first, then `ADD CONSTRAINT ... {kind} USING INDEX`"));
            if matches!(op.op, AlterOp::AddConstraint(_)) && !columns.is_empty() {
                let cname = name.unwrap_or_else(|| {
                    if kind == "PRIMARY KEY" {
                        format!("{}_pkey", t.name)
                    } else {
                        format!("{}_{}_key", t.name, columns.join("_"))
                    }
                });
                let cname = quote_ident(&cname);
                report.fix(format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY {cname} ON {t} ({cols});\nALTER TABLE {t} ADD CONSTRAINT {cname} {kind} USING INDEX {cname};"
                ));
            }
        }
    }
}
