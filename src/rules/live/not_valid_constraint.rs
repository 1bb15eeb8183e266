use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::parse::ir::{ConstraintKind, quote_ident};
use crate::rules::{SchemaCtx, SchemaRule};

pub struct NotValidConstraint;

impl SchemaRule for NotValidConstraint {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        // Live only: in migrations, `NOT VALID` then `VALIDATE` in a later deploy is the safe pattern.
        if ctx.schema.live.is_none() {
            return;
        }
        for table in ctx.schema.tables.values() {
            // A `NOT ENFORCED` constraint (PostgreSQL 18) is never valid, and cannot be validated.
            for c in table.constraints.iter().filter(|c| !c.validated && c.enforced) {
                let what = match c.kind {
                    ConstraintKind::ForeignKey(_) => "foreign key",
                    ConstraintKind::Check { .. } => "check constraint",
                    _ => "constraint",
                };
                sink.report_at(
                    &c.origin,
                    format!(
                        "{what} `{}` on `{}` was added `NOT VALID` and never validated: existing rows may violate it",
                        c.name, table.name
                    ),
                )
                .fix_new("validate the constraint", Applicability::Safe, format!(
                    "ALTER TABLE {} VALIDATE CONSTRAINT {};",
                    table.name,
                    quote_ident(&c.name)
                ));
            }
        }
    }
}
