use crate::rules::Sink;
use crate::parse::ir::{AlterOp, quote_ident};
use crate::rules::util::volatile_call;
use crate::rules::{StatementRule, StmtCtx};

pub struct AddColumnVolatileDefault;

impl StatementRule for AddColumnVolatileDefault {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            let AlterOp::AddColumn { column, .. } = &op.op else { continue };
            let Some(default) = &column.default else { continue };
            if default.trim().eq_ignore_ascii_case("null") {
                continue;
            }
            let report = if ctx.settings.pg_version < 11 {
                sink.report(op.span.clone(), format!("adding column `{}` with a default rewrites `{}` before PostgreSQL 11, blocking reads and writes", column.name, at.name))
            } else if let Some(f) = volatile_call(default) {
                sink.report(op.span.clone(), format!("adding column `{}` with volatile default `{f}()` rewrites the whole of `{}` under an exclusive lock", column.name, at.name))
            } else {
                continue;
            };
            let c = quote_ident(&column.name);
            let set_default = format!("`ALTER COLUMN {c} SET DEFAULT {}` for new rows", default.trim());
            if column.not_null || column.primary_key {
                // `SET NOT NULL` skips its scan when a validated check proves it, from PostgreSQL 12.
                let prove = if ctx.settings.pg_version >= 12 {
                    "then `SET NOT NULL`, which skips its scan, and drop the check"
                } else {
                    "and keep the check: before PostgreSQL 12 `SET NOT NULL` scans the table again"
                };
                report.help(format!(
                    "add `{c}` nullable and without the default, {set_default}, backfill the existing rows in batches, then prove it `NOT NULL` with `ADD CONSTRAINT ... CHECK ({c} IS NOT NULL) NOT VALID` and `VALIDATE CONSTRAINT` (a weaker lock), {prove}"
                ));
            } else if ctx.settings.pg_version < 11 {
                report.help(format!("add `{c}` without the default, {set_default}, and backfill the existing rows in batches"));
            }
        }
    }
}
