use sqlparser::ast::Statement;

use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct UpdateWithoutWhere;

impl QueryRule for UpdateWithoutWhere {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(Statement::Update(u)) = ctx.stmt else { return };
        if u.selection.is_some() {
            return;
        }
        let table = crate::rules::ast_walk::target_name(std::slice::from_ref(&u.table), ctx.schema);
        sink.report(None, format!("`UPDATE` without `WHERE` changes every row of {table}"));
    }
}
