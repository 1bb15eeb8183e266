use sqlparser::ast::{Expr, Statement};

use crate::rules::ast_walk::{self, TableRef};
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct MissingSoftDeleteFilter;

/// Whether `e` mentions the soft-delete column of `scope[i]`.
fn mentions(e: &Expr, scope: &[TableRef<'_>], i: usize, column: &str) -> bool {
    let mut c = ast_walk::Collected::default();
    c.push_expr(e);
    c.exprs.iter().any(|x| match x {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            ast_walk::resolve_column(x, scope).is_some_and(|(j, col)| j == i && col == column)
        }
        _ => false,
    })
}

impl QueryRule for MissingSoftDeleteFilter {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt @ Statement::Query(_)) = ctx.stmt else { return };
        let column = ctx.settings.soft_delete_column.as_str();
        let c = ast_walk::collect(stmt);
        let mut reported = Vec::new();
        for s in &c.selects {
            let scope = ast_walk::scope(&s.from, ctx.schema);
            for (i, t) in scope.iter().enumerate() {
                let Some(table) = t.table else { continue };
                if table.column(column).is_none() || reported.contains(&table.name) {
                    continue;
                }
                // Restricted in the WHERE clause or in the table's own JOIN ... ON.
                let restricted = s.selection.as_ref().is_some_and(|w| mentions(w, &scope, i, column))
                    || t.on.is_some_and(|on| mentions(on, &scope, i, column));
                if !restricted {
                    reported.push(table.name.clone());
                    sink.report(
                        None,
                        format!(
                            "`{}` is soft-deleted with `{column}`, but this query does not filter on it: deleted rows are returned",
                            table.name
                        ),
                    )
                    .help(format!("add `{}.{column} IS NULL` to the WHERE clause (or the join condition)", t.qualifier));
                }
            }
        }
    }
}
