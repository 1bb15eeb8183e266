use sqlparser::ast::{BinaryOperator as B, Expr};

use crate::rules::ast_walk::{self, TableRef};
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;
use crate::parse::ir::IndexKey;
use crate::rules::util::{TypeShape, type_shape};

pub(crate) struct NonSargablePredicate;

/// The column inside a function call or cast on one column: `lower(email)`, `created_at::date`,
/// `date_trunc('day', created_at)`, `EXTRACT(year FROM born)`.
fn wrapped_column(e: &Expr, scope: &[TableRef<'_>]) -> Option<(usize, String, bool)> {
    match e {
        Expr::Nested(x) => wrapped_column(x, scope),
        Expr::Cast { expr, data_type, .. } => {
            let (i, col) = ast_walk::resolve_column(expr, scope)?;
            // A cast between string types is a relabelling the planner sees through.
            let target = crate::parse::ir::TypeName::new(&data_type.to_string());
            let col_ty = scope[i].table?.column(&col)?.ty.clone();
            if is_string(&type_shape(&col_ty)) && is_string(&type_shape(&target)) {
                return None;
            }
            Some((i, col, true))
        }
        Expr::Function(f) => {
            let cols: Vec<(usize, String)> =
                ast_walk::function_args(f).iter().filter_map(|a| ast_walk::resolve_column(a, scope)).collect();
            let others_constant = ast_walk::function_args(f)
                .iter()
                .all(|a| ast_walk::resolve_column(a, scope).is_some() || ast_walk::is_constant(a));
            (cols.len() == 1 && others_constant).then(|| (cols[0].0, cols[0].1.clone(), false))
        }
        Expr::Extract { expr, .. } => ast_walk::resolve_column(expr, scope).map(|(i, c)| (i, c, false)),
        _ => None,
    }
}

fn is_string(s: &TypeShape) -> bool {
    matches!(
        s.base.as_str(),
        "text" | "varchar" | "character varying" | "char" | "character" | "bpchar" | "citext" | "name"
    )
}

/// Expression text compared loosely: lower case, no whitespace, parentheses, quotes or
/// table qualifiers.
fn loose(expr: &str, qualifiers: &[&str]) -> String {
    let mut s = expr.to_lowercase();
    for q in qualifiers {
        s = s.replace(&format!("{q}."), "");
    }
    s.chars().filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"')).collect()
}

impl QueryRule for NonSargablePredicate {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt) = ctx.stmt else { return };
        let c = ast_walk::collect(stmt);
        let scope = ast_walk::all_scope(stmt, &c, ctx.schema);
        let qualifiers: Vec<&str> = scope.iter().map(|t| t.qualifier.as_str()).collect();
        for e in &c.exprs {
            let side = match e {
                Expr::BinaryOp { left, op: B::Eq | B::Lt | B::LtEq | B::Gt | B::GtEq, right } => {
                    if ast_walk::is_constant(right) {
                        left.as_ref()
                    } else if ast_walk::is_constant(left) {
                        right.as_ref()
                    } else {
                        continue;
                    }
                }
                Expr::InList { expr, list, negated: false } if list.iter().all(ast_walk::is_constant) => expr.as_ref(),
                Expr::Between { expr, negated: false, low, high }
                    if ast_walk::is_constant(low) && ast_walk::is_constant(high) =>
                {
                    expr.as_ref()
                }
                Expr::Like { negated: false, expr, pattern, .. } if ast_walk::is_constant(pattern) => expr.as_ref(),
                _ => continue,
            };
            let Some((i, col, cast)) = wrapped_column(side, &scope) else { continue };
            let Some(table) = scope[i].table else { continue };
            if !ast_walk::leading_indexed(ctx.schema, table, &col) {
                continue;
            }
            let wanted = loose(&side.to_string(), &qualifiers);
            let has_expr_index = ctx
                .schema
                .indexes_on(&table.name)
                .any(|ix| matches!(ix.keys.first(), Some(IndexKey::Expr(x)) if loose(x, &qualifiers) == wanted));
            if has_expr_index {
                continue;
            }
            let what = if cast { "a cast" } else { "a function" };
            // The expression holds only identifiers and constants of the query's own text; for
            // log queries the normalised form keeps literals out.
            let shown =
                if ctx.values_visible() { side.to_string() } else { crate::queries::normalise(&side.to_string()) };
            sink.report(
                None,
                format!(
                    "`{shown}` applies {what} to the indexed column `{}`.`{col}`: the index on the column cannot serve this predicate",
                    table.name
                ),
            )
            .help({
                let expr = shown.replace(&format!("{}.", scope[i].qualifier), "");
                // Named as `CREATE INDEX ON t ((expr))` would name it.
                let names = crate::schema::index_column_names(&[IndexKey::Expr(expr.clone())], &[]);
                let addition = crate::schema::index_name_addition(&names);
                let name = crate::schema::choose_name(&table.name.name, Some(&addition), "idx", |n| {
                    ctx.schema.relation_exists(&table.name.schema, n)
                });
                let schema = (table.name.schema != "public").then(|| table.name.schema.clone());
                let target = crate::parse::ir::ObjName { schema, name: table.name.name.clone() };
                let [drop, create] = crate::rules::util::index_build(&target, &name, false, &format!("(({expr}))"));
                format!(
                    "compare the bare column with a transformed constant, or add an expression index: `{drop}` then `{create}`, each on its own"
                )
            });
            return;
        }
    }
}
