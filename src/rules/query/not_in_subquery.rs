use sqlparser::ast::Expr;

use crate::rules::ast_walk;
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct NotInSubquery;

impl QueryRule for NotInSubquery {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt) = ctx.stmt else { return };
        if ast_walk::collect(stmt).exprs.iter().any(|e| matches!(e, Expr::InSubquery { negated: true, .. })) {
            sink.report(
                None,
                "`NOT IN (SELECT ...)` returns no rows when the subquery yields a NULL, and cannot be planned as an anti-join",
            );
        }
    }
}
