use sqlparser::ast::{Expr, LimitClause, OrderByKind, Query, SetExpr, Statement};

use crate::rules::ast_walk::{self, PredKind, TableRef};
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct UnindexedPredicate;

/// One query block: its tables, the conjuncts that restrict them, and (for a SELECT) the query
/// whose ORDER BY / LIMIT applies.
struct Block<'a> {
    scope: Vec<TableRef<'a>>,
    conjuncts: Vec<&'a Expr>,
    order: Option<&'a Query>,
}

fn blocks<'a>(stmt: &'a Statement, ctx: &'a QueryCtx<'a>) -> Vec<Block<'a>> {
    let c = ast_walk::collect(stmt);
    let mut out = Vec::new();
    for q in &c.queries {
        if let SetExpr::Select(s) = q.body.as_ref() {
            out.push(block(ast_walk::scope(&s.from, ctx.schema), s.selection.as_ref(), Some(q)));
        }
    }
    // Selects that are not the direct body of a query (UNION branches): no ORDER BY of their own.
    for s in &c.selects {
        if !c.queries.iter().any(|q| matches!(q.body.as_ref(), SetExpr::Select(b) if std::ptr::eq(b.as_ref(), *s))) {
            out.push(block(ast_walk::scope(&s.from, ctx.schema), s.selection.as_ref(), None));
        }
    }
    let selection = match stmt {
        Statement::Update(u) => u.selection.as_ref(),
        Statement::Delete(d) => d.selection.as_ref(),
        _ => None,
    };
    if matches!(stmt, Statement::Update(_) | Statement::Delete(_)) {
        out.push(block(ast_walk::statement_scope(stmt, ctx.schema), selection, None));
    }
    out
}

fn block<'a>(scope: Vec<TableRef<'a>>, selection: Option<&'a Expr>, order: Option<&'a Query>) -> Block<'a> {
    let mut conjuncts: Vec<&Expr> = selection.map(ast_walk::conjuncts).unwrap_or_default();
    for t in &scope {
        if let Some(on) = t.on {
            conjuncts.extend(ast_walk::conjuncts(on));
        }
    }
    Block { scope, conjuncts, order }
}

fn list(cols: &[String]) -> String {
    cols.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

impl QueryRule for UnindexedPredicate {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt) = ctx.stmt else { return };
        for b in blocks(stmt, ctx) {
            // Per table of the block: predicate columns, equality columns, join key columns.
            let n = b.scope.len();
            let mut preds: Vec<Vec<String>> = vec![Vec::new(); n];
            let mut eq: Vec<Vec<String>> = vec![Vec::new(); n];
            let mut keys: Vec<Vec<String>> = vec![Vec::new(); n];
            let mut unserved_joins = Vec::new();
            for c in &b.conjuncts {
                if let Some((i, col, kind)) = ast_walk::column_predicate(c, &b.scope) {
                    if kind == PredKind::Equality {
                        eq[i].push(col.clone());
                    }
                    preds[i].push(col);
                } else if let Some(((i, a), (j, bcol))) = ast_walk::join_key(c, &b.scope) {
                    keys[i].push(a.clone());
                    keys[j].push(bcol.clone());
                    unserved_joins.push(((i, a), (j, bcol)));
                }
            }
            // A predicate or join key: B-tree (leading column or after equalities), or another
            // index type with the column as a key. An order: B-tree only.
            let serves = |i: usize, col: &str| {
                b.scope[i].table.is_some_and(|t| {
                    ast_walk::index_serves(ctx.schema, t, &eq[i], col)
                        || ast_walk::other_index_serves(ctx.schema, t, col)
                })
            };
            let orders = |i: usize, col: &str| {
                b.scope[i].table.is_some_and(|t| ast_walk::index_serves(ctx.schema, t, &eq[i], col))
            };
            for (i, t) in b.scope.iter().enumerate() {
                let Some(table) = t.table else { continue };
                if preds[i].is_empty() || preds[i].iter().chain(&keys[i]).any(|c| serves(i, c)) {
                    continue;
                }
                let mut cols = preds[i].clone();
                cols.dedup();
                sink.report(
                    None,
                    format!(
                        "no index on `{}` can serve the predicate on {}: every execution scans the table",
                        table.name,
                        list(&cols)
                    ),
                )
                .help(format!("add an index on `{}` ({}), or a predicate on an indexed column", table.name, cols[0]));
            }
            for ((i, a), (j, c)) in unserved_joins {
                let (Some(ta), Some(tb)) = (b.scope[i].table, b.scope[j].table) else { continue };
                if serves(i, &a) || serves(j, &c) {
                    continue;
                }
                sink.report(
                    None,
                    format!(
                        "no index serves the join key `{}`.`{a}` = `{}`.`{c}`: the join reads a whole table",
                        ta.name, tb.name
                    ),
                );
            }
            // ORDER BY ... LIMIT: an index in that order returns the first rows without a sort.
            let Some(q) = b.order else { continue };
            let has_limit =
                matches!(&q.limit_clause, Some(LimitClause::LimitOffset { limit: Some(_), .. })) || q.fetch.is_some();
            let Some(ob) = &q.order_by else { continue };
            let OrderByKind::Expressions(es) = &ob.kind else { continue };
            if !has_limit || es.is_empty() {
                continue;
            }
            let Some((i, col)) = ast_walk::resolve_column(&es[0].expr, &b.scope) else { continue };
            let Some(table) = b.scope[i].table else { continue };
            // With an indexed predicate the planner fetches the matching rows by index and sorts
            // those: judged by the predicate, not here.
            if preds[i].iter().any(|c| serves(i, c)) {
                continue;
            }
            if !orders(i, &col) {
                sink.report(
                    None,
                    format!(
                        "no index on `{}` returns rows in `ORDER BY {col}` order: every execution sorts all matching rows to return the first few",
                        table.name
                    ),
                )
                .help(format!(
                    "add an index on `{}` ({}{col})",
                    table.name,
                    eq[i].iter().map(|c| format!("{c}, ")).collect::<String>()
                ));
            }
        }
    }
}
