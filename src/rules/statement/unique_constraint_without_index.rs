use crate::diagnostic::Applicability;
use crate::rules::util::outside_transaction;
use crate::rules::Sink;
use crate::parse::ir::{AlterOp, ConstraintKind, ObjName, quote_ident};
use crate::schema::{choose_name, index_name_addition};
use crate::parse::tokens;
use crate::rules::{StatementRule, StmtCtx};

pub struct UniqueConstraintWithoutIndex;

/// The constraint text uses options the proposed fix would drop (`INCLUDE`, `NULLS NOT
/// DISTINCT`, `DEFERRABLE`, `WITH (...)`, `USING INDEX TABLESPACE`, ...).
fn has_options(text: &str) -> bool {
    let Ok(toks) = tokens::tokenize(text) else { return true };
    tokens::significant(text, &toks, 0).iter().any(|t| {
        ["include", "nulls", "deferrable", "initially", "with", "using", "tablespace"].iter().any(|k| t.is_kw(k))
    })
}

impl StatementRule for UniqueConstraintWithoutIndex {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        let table = ctx.table(&at.name);
        let partitioned = table.is_some_and(|t| t.partitioned);
        for op in &at.ops {
            let (kind, columns, name, add_column) = match &op.op {
                AlterOp::AddConstraint(c) => match &c.kind {
                    ConstraintKind::PrimaryKey { columns, using_index: None } => {
                        ("PRIMARY KEY", columns.clone(), c.name.clone(), false)
                    }
                    ConstraintKind::Unique { columns, using_index: None } => {
                        ("UNIQUE", columns.clone(), c.name.clone(), false)
                    }
                    _ => continue,
                },
                AlterOp::AddColumn { column, .. } if column.primary_key => {
                    ("PRIMARY KEY", vec![column.name.clone()], None, true)
                }
                AlterOp::AddColumn { column, .. } if column.unique => ("UNIQUE", vec![column.name.clone()], None, true),
                _ => continue,
            };
            let t = &at.name;
            // A primary key also sets NOT NULL, which scans the table under the same lock unless
            // the columns are already NOT NULL.
            let nullable = kind == "PRIMARY KEY"
                && !add_column
                && table.is_some_and(|tb| columns.iter().any(|c| tb.column(c).is_some_and(|col| !col.not_null)));
            let moved = if ctx.runs_in.mixed_ok() {
                String::new()
            } else {
                format!(" (moved {})", outside_transaction(ctx))
            };
            let help = if partitioned {
                format!(
                    "`USING INDEX` is not supported on partitioned tables: on each partition build the unique index `CONCURRENTLY` and add its `{kind}` with `USING INDEX`, then add the `{kind}` to `{t}`, which attaches them"
                )
            } else if add_column {
                format!(
                    "add the column without `{kind}`, build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY`{moved}, then `ADD CONSTRAINT ... {kind} USING INDEX`"
                )
            } else if nullable {
                format!("make the key columns `NOT NULL` first (`CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT`, `SET NOT NULL`), build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY`{moved}, then `ADD CONSTRAINT ... PRIMARY KEY USING INDEX`")
            } else if !ctx.runs_in.mixed_ok() {
                // `CONCURRENTLY` is refused inside a transaction block: the build must move.
                format!(
                    "build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY` first, moved {}; then, in a later migration, `ADD CONSTRAINT ... {kind} USING INDEX`",
                    outside_transaction(ctx)
                )
            } else {
                format!(
                    "build the unique index with `CREATE UNIQUE INDEX CONCURRENTLY` first, then `ADD CONSTRAINT ... {kind} USING INDEX`"
                )
            };
            let report = sink
                .report(
                    op.span.clone(),
                    format!("adding `{kind}` to `{t}` builds its unique index while blocking reads and writes"),
                )
                .help(help);
            let op_text = op.span.as_ref().map_or_else(|| ctx.sql(), |s| &ctx.text[s.clone()]);
            // The fix replaces the whole statement: only when it is this one sub-command.
            if add_column
                || partitioned
                || nullable
                || !ctx.runs_in.mixed_ok()
                || at.ops.len() != 1
                || columns.is_empty()
                || has_options(op_text)
            {
                continue;
            }
            // The name `ADD CONSTRAINT` would give it (`ChooseConstraintName`), so the `DROP`
            // of a retry finds the invalid index a failed build left.
            let namespace = t.schema.as_deref().unwrap_or("public");
            let cname = name.unwrap_or_else(|| {
                let taken = |n: &str| ctx.schema.relation_exists(namespace, n);
                if kind == "PRIMARY KEY" {
                    choose_name(&t.name, None, "pkey", taken)
                } else {
                    choose_name(&t.name, Some(&index_name_addition(&columns)), "key", taken)
                }
            });
            let index = ObjName { schema: t.schema.clone(), name: cname.clone() };
            let cname = quote_ident(&cname);
            let cols = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
            report.fix_statement(
                "drop any invalid index a failed build left, build the unique index `CONCURRENTLY`, then attach it",
                Applicability::Safe,
                format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {index};\nCREATE UNIQUE INDEX CONCURRENTLY {cname} ON {t} ({cols});\nALTER TABLE {t} ADD CONSTRAINT {cname} {kind} USING INDEX {cname};"
                ),
            );
        }
    }
}
