//! Walking sqlparser's AST (0.63) for query rules: every SELECT, every expression, the tables in
//! scope of a SELECT / UPDATE / DELETE and the resolution of column references to them.

use sqlparser::ast::{
    self, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, JoinConstraint, JoinOperator,
    LimitClause, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};

use crate::parse::ir::ObjName;
use crate::schema::{Schema, Table};

/// An identifier as PostgreSQL folds it: unquoted ones lower-cased.
pub(crate) fn ident(i: &ast::Ident) -> String {
    crate::parse::lex::fold_ident(&i.value, i.quote_style.is_some())
}

/// A possibly qualified name: the last two parts (schema, name).
pub(crate) fn obj_name(n: &ast::ObjectName) -> ObjName {
    let parts: Vec<String> = n.0.iter().filter_map(|p| p.as_ident()).map(ident).collect();
    match parts.len() {
        0 => ObjName::new(None, ""),
        1 => ObjName { schema: None, name: parts[0].clone() },
        k => ObjName { schema: Some(parts[k - 2].clone()), name: parts[k - 1].clone() },
    }
}

/// Everything of a statement the rules look at, in pre-order.
#[derive(Default)]
pub(crate) struct Collected<'a> {
    pub queries: Vec<&'a Query>,
    pub selects: Vec<&'a Select>,
    /// Every expression node, nested ones included (subqueries' too).
    pub exprs: Vec<&'a Expr>,
}

pub(crate) fn collect(stmt: &Statement) -> Collected<'_> {
    let mut c = Collected::default();
    match stmt {
        Statement::Query(q) => c.query(q),
        Statement::Insert(i) => {
            if let Some(src) = &i.source {
                c.query(src);
            }
            for a in &i.assignments {
                c.expr(&a.value);
            }
            if let Some(ast::OnInsert::OnConflict(oc)) = &i.on
                && let ast::OnConflictAction::DoUpdate(du) = &oc.action
            {
                for a in &du.assignments {
                    c.expr(&a.value);
                }
                if let Some(e) = &du.selection {
                    c.expr(e);
                }
            }
            c.items(i.returning.as_deref().unwrap_or(&[]));
        }
        Statement::Update(u) => {
            c.twj(&u.table);
            for a in &u.assignments {
                c.expr(&a.value);
            }
            if let Some(ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f)) = &u.from {
                for t in f {
                    c.twj(t);
                }
            }
            if let Some(e) = &u.selection {
                c.expr(e);
            }
            c.items(u.returning.as_deref().unwrap_or(&[]));
        }
        Statement::Delete(d) => {
            for t in from_tables(&d.from) {
                c.twj(t);
            }
            for t in d.using.as_deref().unwrap_or(&[]) {
                c.twj(t);
            }
            if let Some(e) = &d.selection {
                c.expr(e);
            }
            c.items(d.returning.as_deref().unwrap_or(&[]));
        }
        _ => {}
    }
    c
}

pub(crate) fn from_tables(f: &ast::FromTable) -> &[TableWithJoins] {
    match f {
        ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
    }
}

impl<'a> Collected<'a> {
    fn query(&mut self, q: &'a Query) {
        self.queries.push(q);
        if let Some(w) = &q.with {
            for cte in &w.cte_tables {
                self.query(&cte.query);
            }
        }
        self.set_expr(&q.body);
        if let Some(ob) = &q.order_by
            && let OrderByKind::Expressions(es) = &ob.kind
        {
            for e in es {
                self.expr(&e.expr);
            }
        }
        match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                if let Some(l) = limit {
                    self.expr(l);
                }
                if let Some(o) = offset {
                    self.expr(&o.value);
                }
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.expr(offset);
                self.expr(limit);
            }
            None => {}
        }
    }

    fn set_expr(&mut self, s: &'a SetExpr) {
        match s {
            SetExpr::Select(sel) => self.select(sel),
            SetExpr::Query(q) => self.query(q),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            SetExpr::Values(v) => {
                for row in &v.rows {
                    for e in row.iter() {
                        self.expr(e);
                    }
                }
            }
            SetExpr::Insert(st) | SetExpr::Update(st) | SetExpr::Delete(st) | SetExpr::Merge(st) => {
                let inner = collect(st);
                self.queries.extend(inner.queries);
                self.selects.extend(inner.selects);
                self.exprs.extend(inner.exprs);
            }
            SetExpr::Table(_) => {}
        }
    }

    fn select(&mut self, s: &'a Select) {
        self.selects.push(s);
        self.items(&s.projection);
        for t in &s.from {
            self.twj(t);
        }
        if let Some(e) = &s.selection {
            self.expr(e);
        }
        if let GroupByExpr::Expressions(es, _) = &s.group_by {
            for e in es {
                self.expr(e);
            }
        }
        if let Some(e) = &s.having {
            self.expr(e);
        }
    }

    fn items(&mut self, items: &'a [SelectItem]) {
        for it in items {
            match it {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => self.expr(e),
                _ => {}
            }
        }
    }

    fn twj(&mut self, t: &'a TableWithJoins) {
        self.factor(&t.relation);
        for j in &t.joins {
            self.factor(&j.relation);
            if let Some(JoinConstraint::On(e)) = join_constraint(&j.join_operator) {
                self.expr(e);
            }
        }
    }

    fn factor(&mut self, f: &'a TableFactor) {
        match f {
            TableFactor::Derived { subquery, .. } => self.query(subquery),
            TableFactor::NestedJoin { table_with_joins, .. } => self.twj(table_with_joins),
            TableFactor::Function { args, .. } => self.args(args),
            TableFactor::UNNEST { array_exprs, .. } => {
                for e in array_exprs {
                    self.expr(e);
                }
            }
            _ => {}
        }
    }

    fn args(&mut self, args: &'a [FunctionArg]) {
        for a in args {
            let (FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } | FunctionArg::Unnamed(arg)) = a;
            if let FunctionArgExpr::Expr(e) = arg {
                self.expr(e);
            }
        }
    }

    /// Adds `e` and everything in it.
    pub(crate) fn push_expr(&mut self, e: &'a Expr) {
        self.expr(e);
    }

    fn expr(&mut self, e: &'a Expr) {
        self.exprs.push(e);
        match e {
            Expr::CompoundFieldAccess { root, .. } => self.expr(root),
            Expr::JsonAccess { value, .. } => self.expr(value),
            Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::Nested(x)
            | Expr::OuterJoin(x)
            | Expr::Prior(x) => self.expr(x),
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            Expr::IsJson { expr, .. } | Expr::IsNormalized { expr, .. } => self.expr(expr),
            Expr::InList { expr, list, .. } => {
                self.expr(expr);
                for x in list {
                    self.expr(x);
                }
            }
            Expr::InSubquery { expr, subquery, .. } => {
                self.expr(expr);
                self.query(subquery);
            }
            Expr::InUnnest { expr, array_expr, .. } => {
                self.expr(expr);
                self.expr(array_expr);
            }
            Expr::Between { expr, low, high, .. } => {
                self.expr(expr);
                self.expr(low);
                self.expr(high);
            }
            Expr::BinaryOp { left, right, .. } | Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            Expr::Like { expr, pattern, .. }
            | Expr::ILike { expr, pattern, .. }
            | Expr::SimilarTo { expr, pattern, .. }
            | Expr::RLike { expr, pattern, .. } => {
                self.expr(expr);
                self.expr(pattern);
            }
            Expr::UnaryOp { expr, .. }
            | Expr::Convert { expr, .. }
            | Expr::Cast { expr, .. }
            | Expr::Extract { expr, .. }
            | Expr::Ceil { expr, .. }
            | Expr::Floor { expr, .. }
            | Expr::Position { expr, .. }
            | Expr::Collate { expr, .. }
            | Expr::Named { expr, .. } => self.expr(expr),
            Expr::AtTimeZone { timestamp, time_zone } => {
                self.expr(timestamp);
                self.expr(time_zone);
            }
            Expr::Substring { expr, substring_from, substring_for, .. } => {
                self.expr(expr);
                for x in [substring_from, substring_for].into_iter().flatten() {
                    self.expr(x);
                }
            }
            Expr::Trim { expr, trim_what, trim_characters, .. } => {
                self.expr(expr);
                if let Some(w) = trim_what {
                    self.expr(w);
                }
                for x in trim_characters.iter().flatten() {
                    self.expr(x);
                }
            }
            Expr::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
                self.expr(expr);
                self.expr(overlay_what);
                self.expr(overlay_from);
                if let Some(x) = overlay_for {
                    self.expr(x);
                }
            }
            Expr::Prefixed { value, .. } => self.expr(value),
            Expr::Function(f) => {
                match &f.args {
                    FunctionArguments::List(l) => self.args(&l.args),
                    FunctionArguments::Subquery(q) => self.query(q),
                    FunctionArguments::None => {}
                }
                if let Some(x) = &f.filter {
                    self.expr(x);
                }
            }
            Expr::Case { operand, conditions, else_result, .. } => {
                if let Some(o) = operand {
                    self.expr(o);
                }
                for w in conditions {
                    self.expr(&w.condition);
                    self.expr(&w.result);
                }
                if let Some(x) = else_result {
                    self.expr(x);
                }
            }
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => self.query(subquery),
            Expr::GroupingSets(v) | Expr::Cube(v) | Expr::Rollup(v) => {
                for x in v.iter().flatten() {
                    self.expr(x);
                }
            }
            Expr::Tuple(v) | Expr::Struct { values: v, .. } => {
                for x in v {
                    self.expr(x);
                }
            }
            Expr::Array(a) => {
                for x in &a.elem {
                    self.expr(x);
                }
            }
            _ => {}
        }
    }
}

pub(crate) fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    match op {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c) => Some(c),
        _ => None,
    }
}

/// A table in the scope of a SELECT / UPDATE / DELETE.
#[derive(Debug, Clone)]
pub(crate) struct TableRef<'s> {
    pub name: ObjName,
    /// The name columns are qualified with: the alias, else the table name.
    pub qualifier: String,
    pub table: Option<&'s Table>,
    /// The conditions of its `JOIN ... ON` (none for the first table of a FROM item).
    pub on: Option<&'s Expr>,
}

fn table_ref<'s>(f: &'s TableFactor, schema: &'s Schema, on: Option<&'s Expr>) -> Option<TableRef<'s>> {
    let TableFactor::Table { name, alias, args: None, .. } = f else { return None };
    let n = obj_name(name);
    let qualifier = alias.as_ref().map_or_else(|| n.name.clone(), |a| ident(&a.name));
    let table = if n.schema.is_none() && n.name.is_empty() { None } else { schema.table(&n) };
    Some(TableRef { name: n, qualifier, table, on })
}

/// How messages name the table a statement writes: `` `name` ``, or "the table".
pub(crate) fn target_name(from: &[TableWithJoins], schema: &Schema) -> String {
    scope(from, schema).first().map_or_else(|| "the table".to_owned(), |t| format!("`{}`", t.name))
}

/// The tables of FROM items (joined ones included, derived tables excluded).
pub(crate) fn scope<'s>(from: &'s [TableWithJoins], schema: &'s Schema) -> Vec<TableRef<'s>> {
    let mut out = Vec::new();
    for t in from {
        scope_twj(t, schema, &mut out);
    }
    out
}

fn scope_twj<'s>(t: &'s TableWithJoins, schema: &'s Schema, out: &mut Vec<TableRef<'s>>) {
    if let TableFactor::NestedJoin { table_with_joins, .. } = &t.relation {
        scope_twj(table_with_joins, schema, out);
    } else if let Some(r) = table_ref(&t.relation, schema, None) {
        out.push(r);
    }
    for j in &t.joins {
        let on = match join_constraint(&j.join_operator) {
            Some(JoinConstraint::On(e)) => Some(e),
            _ => None,
        };
        if let TableFactor::NestedJoin { table_with_joins, .. } = &j.relation {
            scope_twj(table_with_joins, schema, out);
        } else if let Some(r) = table_ref(&j.relation, schema, on) {
            out.push(r);
        }
    }
}

/// The scope of a statement's target (UPDATE / DELETE) plus its FROM / USING tables.
pub(crate) fn statement_scope<'s>(stmt: &'s Statement, schema: &'s Schema) -> Vec<TableRef<'s>> {
    match stmt {
        Statement::Update(u) => {
            let mut s = scope(std::slice::from_ref(&u.table), schema);
            if let Some(ast::UpdateTableFromKind::BeforeSet(f) | ast::UpdateTableFromKind::AfterSet(f)) = &u.from {
                s.extend(scope(f, schema));
            }
            s
        }
        Statement::Delete(d) => {
            let mut s = scope(from_tables(&d.from), schema);
            s.extend(scope(d.using.as_deref().unwrap_or(&[]), schema));
            s
        }
        _ => Vec::new(),
    }
}

/// A column reference resolved to a table of the scope: (index into the scope, column name).
pub(crate) fn resolve_column(e: &Expr, scope: &[TableRef<'_>]) -> Option<(usize, String)> {
    match e {
        Expr::Identifier(id) => {
            let col = ident(id);
            let mut hits = scope.iter().enumerate().filter(|(_, t)| t.table.is_some_and(|t| t.column(&col).is_some()));
            let (i, _) = hits.next()?;
            hits.next().is_none().then_some((i, col))
        }
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let col = ident(&parts[parts.len() - 1]);
            let q = ident(&parts[parts.len() - 2]);
            let schema_q = (parts.len() >= 3).then(|| ident(&parts[parts.len() - 3]));
            let i = scope.iter().position(|t| {
                t.qualifier == q && schema_q.as_ref().is_none_or(|s| t.name.schema.as_deref().unwrap_or("public") == s)
            })?;
            Some((i, col))
        }
        Expr::Nested(x) => resolve_column(x, scope),
        _ => None,
    }
}

/// Splits a condition into its top-level `AND`ed parts.
pub(crate) fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    fn go<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::BinaryOp { left, op: ast::BinaryOperator::And, right } => {
                go(left, out);
                go(right, out);
            }
            Expr::Nested(x) => go(x, out),
            _ => out.push(e),
        }
    }
    go(e, &mut out);
    out
}

/// Whether `e` is a constant for one execution: a literal, a parameter, or an expression of
/// those (casts, arithmetic, `now()`-like calls without column references).
pub(crate) fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) | Expr::TypedString(_) | Expr::Interval(_) => true,
        Expr::Cast { expr, .. } | Expr::Nested(expr) | Expr::UnaryOp { expr, .. } => is_constant(expr),
        Expr::BinaryOp { left, right, .. } => is_constant(left) && is_constant(right),
        Expr::Function(f) => match &f.args {
            FunctionArguments::None => true,
            FunctionArguments::List(l) => l.args.iter().all(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => is_constant(x),
                _ => false,
            }),
            FunctionArguments::Subquery(_) => false,
        },
        Expr::Array(a) => a.elem.iter().all(is_constant),
        _ => false,
    }
}

/// The literal integer value of `e`, when it is one.
pub(crate) fn integer(e: &Expr) -> Option<u64> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse().ok(),
            ast::Value::SingleQuotedString(s) => s.trim().parse().ok(),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => integer(expr),
        _ => None,
    }
}

/// The name of a called function, lower-cased, without schema.
pub(crate) fn function_name(f: &ast::Function) -> String {
    obj_name(&f.name).name
}

/// The unnamed argument expressions of a function call.
pub(crate) fn function_args(f: &ast::Function) -> Vec<&Expr> {
    match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a B-tree index has `column` as its leading key column.
pub(crate) fn leading_indexed(schema: &Schema, table: &Table, column: &str) -> bool {
    index_serves(schema, table, &[], column)
}

/// Whether some B-tree index has `column` as a key column at a position all of whose preceding
/// key columns are in `eq` (equality-constrained): it can serve a predicate on, or an order by,
/// the column.
pub(crate) fn index_serves(schema: &Schema, table: &Table, eq: &[String], column: &str) -> bool {
    schema.indexes_on(&table.name).any(|i| {
        if !i.method.eq_ignore_ascii_case("btree") {
            return false;
        }
        for k in &i.keys {
            match k {
                crate::parse::ir::IndexKey::Column(c) if c == column => return true,
                crate::parse::ir::IndexKey::Column(c) if eq.contains(c) => {}
                _ => return false,
            }
        }
        false
    })
}

/// Whether a hash, BRIN, GiST or SP-GiST index has `column` as a key: it can serve some
/// comparisons on it (hash: equality; BRIN: ranges and equality), but not an order.
pub(crate) fn other_index_serves(schema: &Schema, table: &Table, column: &str) -> bool {
    schema.indexes_on(&table.name).any(|i| {
        matches!(i.method.to_ascii_lowercase().as_str(), "hash" | "brin" | "gist" | "spgist")
            && i.keys.iter().any(|k| matches!(k, crate::parse::ir::IndexKey::Column(c) if c == column))
    })
}

/// The comparison shape of a predicate conjunct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PredKind {
    /// `=`, `IN (...)`, `= ANY(...)`
    Equality,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`
    Range,
}

/// A predicate `column OP constant` of a conjunct, resolved to the scope.
pub(crate) fn column_predicate(e: &Expr, scope: &[TableRef<'_>]) -> Option<(usize, String, PredKind)> {
    use ast::BinaryOperator as B;
    match e {
        Expr::BinaryOp { left, op, right } => {
            let kind = match op {
                B::Eq => PredKind::Equality,
                B::Lt | B::LtEq | B::Gt | B::GtEq => PredKind::Range,
                _ => return None,
            };
            if is_constant(right)
                && let Some((i, c)) = resolve_column(left, scope)
            {
                return Some((i, c, kind));
            }
            if is_constant(left)
                && let Some((i, c)) = resolve_column(right, scope)
            {
                return Some((i, c, kind));
            }
            None
        }
        Expr::InList { expr, list, negated: false } if list.iter().all(is_constant) => {
            resolve_column(expr, scope).map(|(i, c)| (i, c, PredKind::Equality))
        }
        Expr::AnyOp { left, compare_op: B::Eq, right, .. } if is_constant(right) => {
            resolve_column(left, scope).map(|(i, c)| (i, c, PredKind::Equality))
        }
        Expr::Between { expr, negated: false, low, high } if is_constant(low) && is_constant(high) => {
            resolve_column(expr, scope).map(|(i, c)| (i, c, PredKind::Range))
        }
        Expr::Nested(x) => column_predicate(x, scope),
        _ => None,
    }
}

/// A join key `a.x = b.y` of a conjunct, both sides resolved to different tables of the scope.
pub(crate) fn join_key(e: &Expr, scope: &[TableRef<'_>]) -> Option<((usize, String), (usize, String))> {
    let Expr::BinaryOp { left, op: ast::BinaryOperator::Eq, right } = e else { return None };
    let l = resolve_column(left, scope)?;
    let r = resolve_column(right, scope)?;
    (l.0 != r.0).then_some((l, r))
}

/// The tables of every SELECT of a statement and of its UPDATE / DELETE target, for resolving
/// column references anywhere in it (a column name that two of them have stays unresolved).
pub(crate) fn all_scope<'s>(stmt: &'s Statement, c: &Collected<'s>, schema: &'s Schema) -> Vec<TableRef<'s>> {
    let mut out = statement_scope(stmt, schema);
    for s in &c.selects {
        for t in scope(&s.from, schema) {
            if !out.iter().any(|o| o.qualifier == t.qualifier && o.name == t.name) {
                out.push(t);
            }
        }
    }
    out
}
