//! Lowers sqlparser's AST into dbwarden's statement model. The only module that matches on
//! sqlparser's AST, so its changes between versions stay here.

use std::ops::Range;

use sqlparser::ast::{
    self, AlterColumnOperation, AlterIndexOperation, AlterTableOperation as Op, ColumnOption, CommentObject,
    ContextModifier, Expr, GeneratedAs, GeneratedExpressionMode, ObjectName, ObjectType, RenameTableNameKind,
    SchemaName, Statement, TableConstraint,
};
use sqlparser::tokenizer::Token;

use super::ir::{
    Action, AlterOp, AlterTable, AlterTableOp, ColumnDef, Constraint, ConstraintKind, CreateIndex, CreateTable,
    DropKind, ForeignKey, Generated, GrantStmt, GrantTarget, IndexKey, ObjName, Privileges, RefAction, RlsChange,
    TriggerEvents, TriggerSpec, TriggerTiming, TypeName,
};
use super::tokens::{Tok, span_of, split_top_level};

pub fn ident(i: &ast::Ident) -> String {
    super::lex::fold_ident(&i.value, i.quote_style.is_some())
}

pub fn obj_name(n: &ObjectName) -> ObjName {
    let parts: Vec<String> = n.0.iter().filter_map(|p| p.as_ident()).map(ident).collect();
    match parts.len() {
        0 => ObjName::new(None, ""),
        1 => ObjName { schema: None, name: parts[0].clone() },
        k => ObjName { schema: Some(parts[k - 2].clone()), name: parts[k - 1].clone() },
    }
}

fn ref_action(a: Option<&ast::ReferentialAction>) -> RefAction {
    match a {
        None | Some(ast::ReferentialAction::NoAction) => RefAction::NoAction,
        Some(ast::ReferentialAction::Restrict) => RefAction::Restrict,
        Some(ast::ReferentialAction::Cascade) => RefAction::Cascade,
        Some(ast::ReferentialAction::SetNull) => RefAction::SetNull,
        Some(ast::ReferentialAction::SetDefault) => RefAction::SetDefault,
    }
}

fn foreign_key(fk: &ast::ForeignKeyConstraint) -> ForeignKey {
    ForeignKey {
        columns: fk.columns.iter().map(ident).collect(),
        ref_table: obj_name(&fk.foreign_table),
        ref_columns: fk.referred_columns.iter().map(ident).collect(),
        on_delete: ref_action(fk.on_delete.as_ref()),
        on_update: ref_action(fk.on_update.as_ref()),
    }
}

fn index_column_name(c: &ast::IndexColumn) -> String {
    match &c.column.expr {
        Expr::Identifier(i) => ident(i),
        e => e.to_string(),
    }
}

/// `NOT ENFORCED` on a foreign key (its characteristics).
fn fk_not_enforced(fk: &ast::ForeignKeyConstraint) -> bool {
    fk.characteristics.is_some_and(|c| c.enforced == Some(false))
}

fn table_constraint(c: &TableConstraint, not_valid: bool, span: Option<Range<usize>>) -> Option<Constraint> {
    let enforced = match c {
        TableConstraint::Check(ck) => ck.enforced != Some(false),
        TableConstraint::ForeignKey(fk) => !fk_not_enforced(fk),
        _ => true,
    };
    let (name, kind) = match c {
        TableConstraint::PrimaryKey(pk) => (
            pk.name.as_ref(),
            ConstraintKind::PrimaryKey {
                columns: pk.columns.iter().map(index_column_name).collect(),
                using_index: None,
            },
        ),
        TableConstraint::Unique(u) => (
            u.name.as_ref(),
            ConstraintKind::Unique { columns: u.columns.iter().map(index_column_name).collect(), using_index: None },
        ),
        TableConstraint::ForeignKey(fk) => (fk.name.as_ref(), ConstraintKind::ForeignKey(foreign_key(fk))),
        TableConstraint::Check(ck) => (ck.name.as_ref(), ConstraintKind::Check { expr: ck.expr.to_string() }),
        TableConstraint::PrimaryKeyUsingIndex(u) => (
            u.name.as_ref(),
            ConstraintKind::PrimaryKey { columns: Vec::new(), using_index: Some(ident(&u.index_name)) },
        ),
        TableConstraint::UniqueUsingIndex(u) => {
            (u.name.as_ref(), ConstraintKind::Unique { columns: Vec::new(), using_index: Some(ident(&u.index_name)) })
        }
        TableConstraint::Exclude(x) => (x.name.as_ref(), ConstraintKind::Exclude),
        _ => return None,
    };
    Some(Constraint { name: name.map(ident), kind, not_valid, enforced, span })
}

fn column_def(c: &ast::ColumnDef, span: Option<Range<usize>>) -> ColumnDef {
    let mut out = ColumnDef {
        name: ident(&c.name),
        ty: TypeName::new(&c.data_type.to_string()),
        not_null: false,
        default: None,
        primary_key: false,
        unique: false,
        references: None,
        checks: Vec::new(),
        references_not_enforced: false,
        checks_not_enforced: Vec::new(),
        generated: None,
        names: super::ir::ColumnConstraintNames::default(),
        span,
    };
    for o in &c.options {
        let name = o.name.as_ref().map(ident);
        match &o.option {
            ColumnOption::NotNull => out.not_null = true,
            ColumnOption::Default(e) => out.default = Some(e.to_string()),
            ColumnOption::PrimaryKey(_) => {
                out.primary_key = true;
                out.names.primary_key = name;
            }
            ColumnOption::Unique(_) => {
                out.unique = true;
                out.names.unique = name;
            }
            ColumnOption::ForeignKey(fk) => {
                out.references = Some(foreign_key(fk));
                out.references_not_enforced = fk_not_enforced(fk);
                out.names.references = name;
            }
            ColumnOption::Check(ck) => {
                out.checks.push(ck.expr.to_string());
                out.checks_not_enforced.push(ck.enforced == Some(false));
                out.names.checks.push(name);
            }
            ColumnOption::Generated { generated_as, generation_expr, generation_expr_mode, .. } => {
                out.generated = Some(match (generated_as, generation_expr, generation_expr_mode) {
                    (_, Some(_), Some(GeneratedExpressionMode::Virtual)) => Generated::Virtual,
                    (GeneratedAs::ExpStored, _, _) | (_, Some(_), _) => Generated::Stored,
                    _ => Generated::Identity,
                });
            }
            _ => {}
        }
    }
    out
}

/// Index of the first token after `ALTER TABLE [IF EXISTS] [ONLY] name [*]`.
fn after_alter_table_name(toks: &[Tok]) -> Option<usize> {
    let mut i = 0;
    while i < toks.len()
        && (toks[i].is_kw("alter")
            || toks[i].is_kw("table")
            || toks[i].is_kw("if")
            || toks[i].is_kw("exists")
            || toks[i].is_kw("only"))
    {
        i += 1;
    }
    // name: word (. word)*
    if !matches!(toks.get(i)?.token, Token::Word(_)) {
        return None;
    }
    i += 1;
    while matches!(toks.get(i).map(|t| &t.token), Some(Token::Period)) {
        i += 2;
    }
    if matches!(toks.get(i).map(|t| &t.token), Some(Token::Mul)) {
        i += 1;
    }
    Some(i)
}

/// Byte spans of the comma-separated sub-commands of an ALTER TABLE.
pub fn alter_table_op_spans(toks: &[Tok]) -> Vec<Range<usize>> {
    let Some(start) = after_alter_table_name(toks) else { return Vec::new() };
    let (parts, _) = split_top_level(toks, start);
    // A missing sub-command (`ALTER TABLE t ADD ..., ;`) makes the list unusable: no spans.
    parts.iter().map(|r| span_of(toks, r)).collect::<Option<Vec<_>>>().unwrap_or_default()
}

/// Byte spans of the elements of a CREATE TABLE's column list, split into (columns, constraints).
fn create_table_element_spans(toks: &[Tok]) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let Some(open) = toks.iter().position(|t| t.token == Token::LParen) else { return (Vec::new(), Vec::new()) };
    // `CREATE TABLE t PARTITION OF p (...)` / `... AS SELECT (...)`: the first paren must follow the name.
    if toks[..open].iter().any(|t| t.is_kw("as") || t.is_kw("of")) {
        return (Vec::new(), Vec::new());
    }
    let (parts, _) = split_top_level(toks, open + 1);
    let mut cols = Vec::new();
    let mut cons = Vec::new();
    for p in parts {
        let Some(first) = toks.get(p.start) else { continue };
        let Some(span) = span_of(toks, &p) else { continue };
        let constraint =
            ["constraint", "primary", "unique", "foreign", "check", "exclude"].iter().any(|k| first.is_kw(k));
        if first.is_kw("like") {
            continue;
        }
        if constraint { cons.push(span) } else { cols.push(span) }
    }
    (cols, cons)
}

/// `LIKE source [INCLUDING ... | EXCLUDING ...]` elements: the source and whether indexes are copied.
pub fn like_sources(toks: &[Tok]) -> Vec<(ObjName, bool)> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !t.is_kw("like") {
            continue;
        }
        let Some((name, mut j)) = super::tokens::read_name(toks, i + 1) else { continue };
        let mut indexes = false;
        while let (Some(verb), Some(what)) = (toks.get(j), toks.get(j + 1)) {
            let on = verb.is_kw("including");
            if !on && !verb.is_kw("excluding") {
                break;
            }
            if what.is_kw("all") || what.is_kw("indexes") {
                indexes = on;
            }
            j += 2;
        }
        out.push((name, indexes));
    }
    out
}

/// From `CREATE` to the end of the table name.
pub fn create_table_header(toks: &[Tok]) -> Option<Range<usize>> {
    let table = toks.iter().position(|t| t.is_kw("table"))?;
    let mut i = table + 1;
    while toks.get(i).is_some_and(|t| t.is_kw("if") || t.is_kw("not") || t.is_kw("exists")) {
        i += 1;
    }
    let mut end = i;
    while matches!(toks.get(end + 1).map(|t| &t.token), Some(Token::Period)) {
        end += 2;
    }
    Some(toks.first()?.range.start..toks.get(end)?.range.end)
}

/// Lowers a parsed statement. `toks` are the statement's significant tokens (absolute offsets).
pub fn lower(stmt: &Statement, toks: &[Tok]) -> Action {
    match stmt {
        Statement::CreateTable(ct) => {
            let (col_spans, con_spans) = create_table_element_spans(toks);
            let col_spans_ok = col_spans.len() == ct.columns.len();
            let con_spans_ok = con_spans.len() == ct.constraints.len();
            Action::CreateTable(CreateTable {
                name: obj_name(&ct.name),
                if_not_exists: ct.if_not_exists,
                temporary: ct.temporary,
                unlogged: ct.unlogged,
                columns: ct
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| column_def(c, col_spans_ok.then(|| col_spans[i].clone())))
                    .collect(),
                constraints: ct
                    .constraints
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| table_constraint(c, false, con_spans_ok.then(|| con_spans[i].clone())))
                    .collect(),
                partition_of: ct.partition_of.as_ref().map(obj_name),
                columns_unknown: ct.query.is_some() || ct.like.is_some() || ct.inherits.is_some(),
                partitioned: ct.partition_by.is_some(),
                header: create_table_header(toks),
                like: like_sources(toks),
            })
        }
        Statement::AlterTable(at) => {
            let spans = alter_table_op_spans(toks);
            let spans_ok = spans.len() == at.operations.len();
            let ops = at
                .operations
                .iter()
                .enumerate()
                .map(|(i, op)| AlterTableOp {
                    op: alter_op(op, spans_ok.then(|| spans[i].clone())),
                    span: spans_ok.then(|| spans[i].clone()),
                })
                .collect();
            Action::AlterTable(AlterTable { name: obj_name(&at.name), if_exists: at.if_exists, only: at.only, ops })
        }
        Statement::CreateIndex(ci) => Action::CreateIndex(CreateIndex {
            name: ci.name.as_ref().map(|n| obj_name(n).name),
            table: obj_name(&ci.table_name),
            unique: ci.unique,
            concurrently: ci.concurrently,
            if_not_exists: ci.if_not_exists,
            only: toks.iter().take_while(|t| !t.is_kw("using") && t.token != Token::LParen).any(|t| t.is_kw("only")),
            method: ci.using.as_ref().map_or_else(|| "btree".to_owned(), |u| u.to_string().to_lowercase()),
            keys: ci
                .columns
                .iter()
                .map(|c| match strip_nested(&c.column.expr) {
                    Expr::Identifier(i) => IndexKey::Column(ident(i)),
                    e => IndexKey::Expr(e.to_string()),
                })
                .collect(),
            include: ci.include.iter().map(ident).collect(),
            predicate: ci.predicate.as_ref().map(ToString::to_string),
        }),
        Statement::AlterIndex { name, operation: AlterIndexOperation::RenameIndex { index_name } } => {
            Action::RenameIndex { from: obj_name(name), to: obj_name(index_name).name }
        }
        Statement::Drop { object_type, if_exists, names, cascade, .. } => Action::Drop {
            kind: match object_type {
                ObjectType::Table => DropKind::Table,
                ObjectType::View => DropKind::View,
                ObjectType::MaterializedView => DropKind::MaterializedView,
                ObjectType::Index => DropKind::Index,
                ObjectType::Sequence => DropKind::Sequence,
                ObjectType::Schema => DropKind::Schema,
                ObjectType::Type => DropKind::Type,
                _ => DropKind::Other,
            },
            names: names
                .iter()
                .map(|n| {
                    let o = obj_name(n);
                    if *object_type == ObjectType::Schema { ObjName::new(None, &o.name) } else { o }
                })
                .collect(),
            if_exists: *if_exists,
            cascade: *cascade,
            concurrently: false,
        },
        Statement::Truncate(t) => {
            Action::Truncate { tables: t.table_names.iter().map(|t| obj_name(&t.name)).collect() }
        }
        Statement::Lock(l) => Action::Lock {
            tables: l.tables.iter().map(|t| obj_name(&t.name)).collect(),
            mode: l.lock_mode.as_ref().map_or_else(|| "ACCESS EXCLUSIVE".to_owned(), |m| m.to_string().to_uppercase()),
        },
        Statement::Set(ast::Set::SingleAssignment { scope, variable, values, .. }) => Action::Set {
            name: variable.to_string().to_lowercase(),
            value: values.iter().map(value_text).collect::<Vec<_>>().join(", "),
            local: matches!(scope, Some(ContextModifier::Local)),
        },
        Statement::Reset(r) => match &r.reset {
            ast::Reset::ConfigurationParameter(n) => {
                Action::Set { name: n.to_string().to_lowercase(), value: "default".into(), local: false }
            }
            _ => Action::Other { kind: "RESET" },
        },
        Statement::Query(q) => set_config_call(q).unwrap_or(Action::Other { kind: "SELECT" }),
        Statement::StartTransaction { .. } => Action::Begin,
        Statement::Commit { .. } => Action::Commit,
        Statement::Rollback { savepoint: None, .. } => Action::Rollback,
        Statement::Comment { object_type: CommentObject::Table, object_name, comment, .. } => {
            Action::CommentOnTable { table: obj_name(object_name), text: comment.clone() }
        }
        Statement::CreatePolicy(p) => Action::CreatePolicy {
            name: ident(&p.name),
            table: obj_name(&p.table_name),
            restrictive: matches!(p.policy_type, Some(ast::CreatePolicyType::Restrictive)),
        },
        Statement::DropPolicy(p) => Action::DropPolicy { name: ident(&p.name), table: obj_name(&p.table_name) },
        Statement::CreateTrigger(t) => Action::CreateTrigger {
            name: obj_name(&t.name).name,
            table: obj_name(&t.table_name),
            function: t.exec_body.as_ref().map(|b| obj_name(&b.func_desc.name)),
            spec: trigger_spec(t),
        },
        Statement::Grant(g) => match grant_stmt(&g.privileges, g.objects.as_ref(), &g.grantees) {
            Some(g) => Action::Grant(g),
            None => Action::Other { kind: "GRANT" },
        },
        Statement::Revoke(r) => match grant_stmt(&r.privileges, r.objects.as_ref(), &r.grantees) {
            Some(g) if !r.grant_option_for => Action::Revoke(g),
            _ => Action::Other { kind: "REVOKE" },
        },
        Statement::DropTrigger(t) => match &t.table_name {
            Some(table) => Action::DropTrigger { name: obj_name(&t.trigger_name).name, table: obj_name(table) },
            None => Action::Other { kind: "DROP TRIGGER" },
        },
        Statement::CreateSchema { schema_name, .. } => match schema_name {
            SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => {
                Action::CreateSchema { name: obj_name(n).name }
            }
            SchemaName::UnnamedAuthorization(i) => Action::CreateSchema { name: ident(i) },
        },
        Statement::CreateView(v) => Action::CreateView { name: obj_name(&v.name), materialized: v.materialized },
        Statement::Vacuum(v) => Action::Vacuum { full: v.full, tables: v.table_name.iter().map(obj_name).collect() },
        other => Action::Other { kind: other_kind(other) },
    }
}

fn trigger_spec(t: &ast::CreateTrigger) -> TriggerSpec {
    let mut events = TriggerEvents::default();
    for e in &t.events {
        match e {
            ast::TriggerEvent::Insert => events.insert = true,
            ast::TriggerEvent::Update(_) => events.update = true,
            ast::TriggerEvent::Delete => events.delete = true,
            ast::TriggerEvent::Truncate => events.truncate = true,
        }
    }
    TriggerSpec {
        timing: match t.period {
            Some(ast::TriggerPeriod::Before) => TriggerTiming::Before,
            Some(ast::TriggerPeriod::InsteadOf) => TriggerTiming::InsteadOf,
            _ => TriggerTiming::After,
        },
        events,
        for_each_row: matches!(
            t.trigger_object,
            Some(
                ast::TriggerObjectKind::For(ast::TriggerObject::Row)
                    | ast::TriggerObjectKind::ForEach(ast::TriggerObject::Row)
            )
        ),
        conditional: t.condition.is_some(),
    }
}

/// A `GRANT` / `REVOKE` of privileges on tables; `None` for other objects and role grants.
fn grant_stmt(
    privileges: &ast::Privileges,
    objects: Option<&ast::GrantObjects>,
    grantees: &[ast::Grantee],
) -> Option<GrantStmt> {
    let target = match objects? {
        ast::GrantObjects::Tables(names) => GrantTarget::Tables(names.iter().map(obj_name).collect()),
        ast::GrantObjects::AllTablesInSchema { schemas } => {
            GrantTarget::AllTablesInSchema(schemas.iter().map(|s| obj_name(s).name).collect())
        }
        _ => return None,
    };
    let privileges = match privileges {
        ast::Privileges::All { .. } => Privileges::ALL,
        ast::Privileges::Actions(actions) => {
            let mut p = Privileges::default();
            for a in actions {
                match a {
                    ast::Action::Select { .. } => p.select = true,
                    ast::Action::Insert { .. } => p.insert = true,
                    // A column list grants the column only; counted as the privilege (it still
                    // lets the role change those columns).
                    ast::Action::Update { .. } => p.update = true,
                    ast::Action::Delete => p.delete = true,
                    ast::Action::Truncate => p.truncate = true,
                    ast::Action::References { .. } => p.references = true,
                    ast::Action::Trigger => p.trigger = true,
                    _ => {}
                }
            }
            p
        }
    };
    let grantees = grantees
        .iter()
        .filter_map(|g| match (&g.grantee_type, &g.name) {
            (ast::GranteesType::Public, _) => Some("public".to_owned()),
            (_, Some(ast::GranteeName::ObjectName(n))) => Some(obj_name(n).name),
            _ => None,
        })
        .collect();
    Some(GrantStmt { privileges, target, grantees })
}

/// `((col))` is the column `col` to PostgreSQL.
fn strip_nested(mut e: &Expr) -> &Expr {
    while let Expr::Nested(inner) = e {
        e = inner;
    }
    e
}

/// `SELECT set_config('name', 'value', is_local)`: a setting change like `SET`.
fn set_config_call(q: &ast::Query) -> Option<Action> {
    let ast::SetExpr::Select(select) = q.body.as_ref() else { return None };
    let [item] = select.projection.as_slice() else { return None };
    let (ast::SelectItem::UnnamedExpr(Expr::Function(f))
    | ast::SelectItem::ExprWithAlias { expr: Expr::Function(f), .. }) = item
    else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("set_config")
        && !f.name.to_string().eq_ignore_ascii_case("pg_catalog.set_config")
    {
        return None;
    }
    let ast::FunctionArguments::List(list) = &f.args else { return None };
    let vals: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    let [name, value, local] = vals.as_slice() else { return None };
    let local = matches!(local, Expr::Value(v) if matches!(v.value, ast::Value::Boolean(true)));
    Some(Action::Set { name: value_text(name).to_lowercase(), value: value_text(value), local })
}

fn value_text(e: &Expr) -> String {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        Expr::Identifier(i) => i.value.clone(),
        other => other.to_string(),
    }
}

fn other_kind(s: &Statement) -> &'static str {
    match s {
        Statement::Query(_) => "SELECT",
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::CreateFunction(_) => "CREATE FUNCTION",
        Statement::CreateType { .. } => "CREATE TYPE",
        Statement::CreateSequence { .. } => "CREATE SEQUENCE",
        Statement::CreateExtension(_) => "CREATE EXTENSION",
        Statement::Grant(_) => "GRANT",
        Statement::Revoke(_) => "REVOKE",
        Statement::Comment { .. } => "COMMENT",
        _ => "statement",
    }
}

fn alter_op(op: &Op, span: Option<Range<usize>>) -> AlterOp {
    match op {
        Op::AddColumn { column_def: def, if_not_exists, .. } => {
            AlterOp::AddColumn { column: column_def(def, span), if_not_exists: *if_not_exists }
        }
        Op::DropColumn { column_names, if_exists, .. } => {
            AlterOp::DropColumn { name: column_names.first().map(ident).unwrap_or_default(), if_exists: *if_exists }
        }
        Op::RenameColumn { old_column_name, new_column_name } => {
            AlterOp::RenameColumn { from: ident(old_column_name), to: ident(new_column_name) }
        }
        Op::RenameTable { table_name: RenameTableNameKind::To(n) | RenameTableNameKind::As(n) } => {
            AlterOp::RenameTable { to: obj_name(n).name }
        }
        Op::RenameConstraint { old_name, new_name } => {
            AlterOp::RenameConstraint { from: ident(old_name), to: ident(new_name) }
        }
        Op::AlterColumn { column_name, op } => {
            let column = ident(column_name);
            match op {
                AlterColumnOperation::SetNotNull => AlterOp::SetNotNull { column },
                AlterColumnOperation::DropNotNull => AlterOp::DropNotNull { column },
                AlterColumnOperation::SetDefault { value } => AlterOp::SetDefault { column, expr: value.to_string() },
                AlterColumnOperation::DropDefault => AlterOp::DropDefault { column },
                AlterColumnOperation::SetDataType { data_type, using, .. } => AlterOp::AlterType {
                    column,
                    ty: TypeName::new(&data_type.to_string()),
                    using: using.as_ref().map(ToString::to_string),
                },
                // ADD GENERATED ... AS IDENTITY on an existing column: no rewrite, ACCESS EXCLUSIVE.
                AlterColumnOperation::AddGenerated { .. } => AlterOp::Other,
            }
        }
        Op::AddConstraint { constraint, not_valid } => match table_constraint(constraint, *not_valid, span) {
            Some(c) => AlterOp::AddConstraint(c),
            None => AlterOp::Other,
        },
        Op::ValidateConstraint { name } => AlterOp::ValidateConstraint { name: ident(name) },
        Op::DropConstraint { name, if_exists, .. } => {
            AlterOp::DropConstraint { name: ident(name), if_exists: *if_exists }
        }
        Op::EnableRowLevelSecurity => AlterOp::Rls(RlsChange::Enable),
        Op::DisableRowLevelSecurity => AlterOp::Rls(RlsChange::Disable),
        Op::ForceRowLevelSecurity => AlterOp::Rls(RlsChange::Force),
        Op::NoForceRowLevelSecurity => AlterOp::Rls(RlsChange::NoForce),
        Op::SetOptionsParens { .. } => AlterOp::LightweightOther,
        Op::OwnerTo { new_owner } => AlterOp::OwnerTo {
            owner: match new_owner {
                ast::Owner::Ident(i) => ident(i),
                other => other.to_string().to_lowercase(),
            },
        },
        Op::EnableTrigger { name } | Op::EnableAlwaysTrigger { name } => {
            AlterOp::TriggerState { name: trigger_name(name), enabled: true }
        }
        Op::DisableTrigger { name } | Op::EnableReplicaTrigger { name } => {
            AlterOp::TriggerState { name: trigger_name(name), enabled: false }
        }
        _ => AlterOp::Other,
    }
}

/// A trigger named in `ENABLE` / `DISABLE TRIGGER`; `None` for `ALL` / `USER`.
fn trigger_name(i: &ast::Ident) -> Option<String> {
    let all = i.quote_style.is_none() && (i.value.eq_ignore_ascii_case("all") || i.value.eq_ignore_ascii_case("user"));
    (!all).then(|| ident(i))
}
