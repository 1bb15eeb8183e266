use sqlparser::ast::{BinaryOperator, Expr, Value};

use crate::rules::ast_walk;
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;
use crate::parse::ir::IndexKey;

pub(crate) struct LeadingWildcardLike;

/// The pattern begins with a wildcard: a literal starting with `%` or `_`, or a concatenation
/// whose first part is one (`'%' || $1`).
fn leading_wildcard(p: &Expr) -> bool {
    match p {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => s.starts_with(['%', '_']),
            _ => false,
        },
        Expr::BinaryOp { left, op: BinaryOperator::StringConcat, .. } => leading_wildcard(left),
        Expr::Nested(x) | Expr::Cast { expr: x, .. } => leading_wildcard(x),
        Expr::Function(f) if ast_walk::function_name(f) == "concat" => {
            ast_walk::function_args(f).first().is_some_and(|a| leading_wildcard(a))
        }
        _ => false,
    }
}

impl QueryRule for LeadingWildcardLike {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt) = ctx.stmt else { return };
        let c = ast_walk::collect(stmt);
        let scope = ast_walk::all_scope(stmt, &c, ctx.schema);
        for e in &c.exprs {
            let (Expr::Like { negated: false, expr, pattern, .. } | Expr::ILike { negated: false, expr, pattern, .. }) =
                e
            else {
                continue;
            };
            if !leading_wildcard(pattern) {
                continue;
            }
            let op = if matches!(e, Expr::ILike { .. }) { "ILIKE" } else { "LIKE" };
            let target = ast_walk::resolve_column(expr, &scope).and_then(|(i, col)| scope[i].table.map(|t| (t, col)));
            // A trigram index (GIN or GiST) serves patterns with leading wildcards.
            if let Some((t, col)) = &target
                && ctx.schema.indexes_on(&t.name).any(|i| {
                    !i.method.eq_ignore_ascii_case("btree")
                        && i.keys.iter().any(|k| match k {
                            IndexKey::Column(c) => c == col,
                            IndexKey::Expr(x) => x.contains(col.as_str()),
                        })
                })
            {
                continue;
            }
            let on = target.map_or_else(String::new, |(t, col)| format!(" on `{}`.`{col}`", t.name));
            sink.report(
                None,
                format!(
                    "`{op}` with a pattern that starts with a wildcard{on} cannot use a B-tree index: every row is read"
                ),
            );
            return;
        }
    }
}
