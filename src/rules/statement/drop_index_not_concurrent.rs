use crate::diagnostic::Sink;
use crate::parse::ir::{Action, DropKind, ObjName};
use crate::rules::util::insert_after_keyword;
use crate::rules::{StatementRule, StmtCtx};
use crate::schema::QualName;

pub struct DropIndexNotConcurrent;

impl StatementRule for DropIndexNotConcurrent {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::Drop { kind: DropKind::Index, names, concurrently: false, .. } = &ctx.stmt.action else { return };
        // Indexes on tables created in this file are harmless to drop.
        let all_new = names.iter().all(|n| {
            ctx.schema.indexes.get(&QualName::resolve(n)).is_some_and(|i| {
                ctx.is_new_table(&ObjName { schema: Some(i.table.schema.clone()), name: i.table.name.clone() })
            })
        });
        if all_new {
            return;
        }
        let list = names.iter().map(ToString::to_string).collect::<Vec<_>>().join("`, `");
        let report = sink
            .report(
                None,
                format!("`DROP INDEX` without `CONCURRENTLY` locks the table of `{list}` against reads and writes"),
            )
            .help("use `DROP INDEX CONCURRENTLY` (one index per statement, outside a transaction block)");
        if names.len() == 1
            && let Some(fix) = insert_after_keyword(ctx.sql(), "index", "CONCURRENTLY")
        {
            report.fix(fix);
        }
    }
}
