use sqlparser::ast::{SelectItem, SetExpr, Statement};

use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct SelectStar;

/// The outermost select lists (every branch of a UNION); `EXISTS (SELECT * ...)` and other
/// subqueries are not result sets the application reads.
fn outer_has_star(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(s) => {
            s.projection.iter().any(|p| matches!(p, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)))
        }
        SetExpr::Query(q) => outer_has_star(&q.body),
        SetExpr::SetOperation { left, right, .. } => outer_has_star(left) || outer_has_star(right),
        _ => false,
    }
}

impl QueryRule for SelectStar {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(Statement::Query(q)) = ctx.stmt else { return };
        if outer_has_star(&q.body) {
            sink.report(None, "`SELECT *` reads every column, including ones the application does not use");
        }
    }
}
