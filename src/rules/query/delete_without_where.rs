use sqlparser::ast::Statement;

use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct DeleteWithoutWhere;

impl QueryRule for DeleteWithoutWhere {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(Statement::Delete(d)) = ctx.stmt else { return };
        if d.selection.is_some() {
            return;
        }
        let table = crate::rules::ast_walk::target_name(crate::rules::ast_walk::from_tables(&d.from), ctx.schema);
        sink.report(None, format!("`DELETE` without `WHERE` deletes every row of {table}"));
    }
}
