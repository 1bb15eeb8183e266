use crate::rules::util::offer_not_valid_fix;
use crate::rules::Sink;
use crate::parse::ir::{AlterOp, AlterTable, ColumnDef, ConstraintKind, ForeignKey, Generated};
use crate::rules::{StatementRule, StmtCtx};
use crate::schema::QualName;

pub struct ForeignKeyWithoutNotValid;

impl StatementRule for ForeignKeyWithoutNotValid {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        let partitioned = ctx.table(&at.name).is_some_and(|t| t.partitioned);
        for op in &at.ops {
            match &op.op {
                // A `NOT ENFORCED` foreign key (PostgreSQL 18) checks no row and has no triggers.
                AlterOp::AddConstraint(c) if !c.not_valid && c.enforced => {
                    let ConstraintKind::ForeignKey(fk) = &c.kind else { continue };
                    if partitioned && partitions_have_validated(ctx, at, fk) {
                        continue;
                    }
                    let message = format!(
                        "adding a foreign key to `{}` without `NOT VALID` blocks writes to `{}` and `{}` while every row is checked",
                        at.name, at.name, fk.ref_table
                    );
                    // Before PostgreSQL 18 a foreign key on a partitioned table cannot be `NOT VALID`.
                    if partitioned && ctx.settings.pg_version < 18 {
                        sink.report(op.span.clone(), message)
                            .help("before PostgreSQL 18 `NOT VALID` is refused on a partitioned table: add the foreign key `NOT VALID` to each partition and `VALIDATE` it, then add it to the parent, which adopts the validated constraints without a scan");
                        continue;
                    }
                    let report = sink.report(op.span.clone(), message);
                    offer_not_valid_fix(report, ctx, at, op, c.name.as_deref());
                }
                AlterOp::AddColumn { column, .. } => {
                    let Some(fk) = column.references.as_ref().filter(|_| !column.references_not_enforced) else {
                        continue;
                    };
                    let why = if fills_existing_rows(column) {
                        "and a value for the existing rows"
                    } else if ctx.settings.pg_version < 13 && statement_validates_inline_keys(at) {
                        "in a statement that also adds a default or a foreign key (before PostgreSQL 13)"
                    } else {
                        continue;
                    };
                    sink.report(
                        op.span.clone(),
                        format!(
                            "adding column `{}` with `REFERENCES {}` {why} checks every row of `{}` against `{}` while holding an `ACCESS EXCLUSIVE` lock",
                            column.name, fk.ref_table, at.name, fk.ref_table
                        ),
                    )
                    .help(if ctx.in_transaction {
                        "add the column without `REFERENCES` (and without the default), then `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID`, and `VALIDATE CONSTRAINT` in a later migration: this statement runs in a transaction, which holds the `ADD`'s lock until it commits, so a `VALIDATE` in the same transaction scans under that lock"
                    } else {
                        "add the column without `REFERENCES` (and without the default), then `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID` and `VALIDATE CONSTRAINT` in separate statements"
                    });
                }
                _ => {}
            }
        }
    }
}

/// A column added by `ALTER TABLE ... ADD COLUMN` with `REFERENCES` is checked against the
/// referenced table only when existing rows get a value: a `DEFAULT` (even `NULL`), a serial type or
/// a stored generation expression. Without one it is `NULL` in every row, and PostgreSQL marks the
/// constraint valid without checking (parse_utilcmd.c, `transformFKConstraints`).
fn fills_existing_rows(c: &ColumnDef) -> bool {
    crate::rules::util::default_gives_value(c.default.as_deref())
        || c.ty.is_serial()
        || c.generated == Some(Generated::Stored)
}

/// Before PostgreSQL 13 the sub-commands of one `ALTER TABLE` were transformed together: a default
/// on any added column, or any foreign key added by the statement, made every inline `REFERENCES`
/// of the statement be checked.
fn statement_validates_inline_keys(at: &AlterTable) -> bool {
    at.ops.iter().any(|o| match &o.op {
        AlterOp::AddColumn { column, .. } => fills_existing_rows(column),
        AlterOp::AddConstraint(c) => matches!(c.kind, ConstraintKind::ForeignKey(_)),
        _ => false,
    })
}

/// Every known partition of the partitioned table `at` has a validated foreign key on the same
/// columns to the same table: adding it to the parent attaches those and checks no rows.
fn partitions_have_validated(ctx: &StmtCtx<'_>, at: &AlterTable, fk: &ForeignKey) -> bool {
    let parent = QualName::resolve(&at.name);
    let target = QualName::resolve(&fk.ref_table);
    let mut partitions = ctx.schema.tables.values().filter(|t| t.partition_of.as_ref() == Some(&parent)).peekable();
    partitions.peek().is_some()
        && partitions.all(|p| {
            p.constraints.iter().any(|c| {
                c.validated
                    && matches!(&c.kind, ConstraintKind::ForeignKey(f)
                        if f.columns == fk.columns && QualName::resolve(&f.ref_table) == target)
            })
        })
}
