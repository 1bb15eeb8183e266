use sqlparser::ast::{Expr, OrderByKind};

use crate::rules::ast_walk;
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct OrderByRandom;

impl QueryRule for OrderByRandom {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt) = ctx.stmt else { return };
        let c = ast_walk::collect(stmt);
        let random = c.queries.iter().any(|q| {
            q.order_by.as_ref().is_some_and(|ob| match &ob.kind {
                OrderByKind::Expressions(es) => {
                    es.iter().any(|e| matches!(&e.expr, Expr::Function(f) if ast_walk::function_name(f) == "random"))
                }
                OrderByKind::All(_) => false,
            })
        });
        if random {
            sink.report(None, "`ORDER BY random()` reads and sorts every row to return a few");
        }
    }
}
