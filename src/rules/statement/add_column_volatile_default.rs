use crate::rules::Sink;
use crate::parse::ir::{AlterOp};
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
            if ctx.settings.pg_version < 11 {
                sink.report(op.span.clone(), format!("adding column `{}` with a default rewrites `{}` before PostgreSQL 11, blocking reads and writes", column.name, at.name))
                    .help("add the column without a default, set the default in a second statement, and backfill in batches");
            } else if let Some(f) = volatile_call(default) {
                sink.report(op.span.clone(), format!("adding column `{}` with volatile default `{f}()` rewrites the whole of `{}` under an exclusive lock", column.name, at.name));
            }
        }
    }
}
