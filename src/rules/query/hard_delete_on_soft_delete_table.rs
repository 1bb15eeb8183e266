use sqlparser::ast::Statement;

use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct HardDeleteOnSoftDeleteTable;

impl QueryRule for HardDeleteOnSoftDeleteTable {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(Statement::Delete(d)) = ctx.stmt else { return };
        let column = &ctx.settings.soft_delete_column;
        // The deleted table is the first of FROM (`DELETE FROM t [USING ...]`).
        let scope = crate::rules::ast_walk::scope(crate::rules::ast_walk::from_tables(&d.from), ctx.schema);
        let Some(t) = scope.first().and_then(|r| r.table) else { return };
        if t.column(column).is_some() {
            sink.report(
                None,
                format!("`DELETE` on `{}`, which is soft-deleted with `{column}`: the rows are gone for good", t.name),
            )
            .help(format!("set `{column} = now()` instead of deleting"));
        }
    }
}
