//! Replays statements into the schema model.

use std::ops::Range;

use super::{Column, Constraint, Grant, Index, Origin, Policy, QualName, RewriteRule, Schema, Table, Trigger};
use crate::parse::ir::{
    Action, AlterOp, AlterTable, ColumnDef, Constraint as IrConstraint, ConstraintKind, CreateIndex, CreateTable,
    DropKind, ForeignKey, GrantStmt, GrantTarget, IndexKey, ObjName, RlsChange,
};

/// Facts about the statement being applied that do not come from its text.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub file: usize,
    pub span: Range<usize>,
    /// A `-- dbwarden: phi` comment stands right before the statement.
    pub phi_marked: bool,
}

impl FileInfo {
    fn origin(&self, span: Option<&Range<usize>>) -> Origin {
        Origin::Source { file: self.file, span: span.filter(|s| s.start < s.end).unwrap_or(&self.span).clone() }
    }
}

/// Applies one statement to the model.
pub fn apply(schema: &mut Schema, action: &Action, info: &FileInfo) {
    match action {
        Action::CreateTable(ct) => create_table(schema, ct, info),
        Action::AlterTable(at) => alter_table(schema, at, info),
        Action::CreateIndex(ci) => create_index(schema, ci, info),
        Action::RenameIndex { from, to } => {
            let key = QualName::resolve(from);
            if let Some(mut idx) = schema.indexes.remove(&key) {
                idx.name.name.clone_from(to);
                schema.note_index(&idx.table, &idx.name);
                schema.gone.remove(&idx.name);
                schema.gone.insert(key);
                schema.indexes.insert(idx.name.clone(), idx);
            }
        }
        Action::Drop { kind, names, .. } => {
            for n in names {
                drop_object(schema, *kind, &QualName::resolve(n));
            }
        }
        Action::CommentOnTable { table, text } => {
            if let Some(t) = schema.table_mut(table) {
                t.comment.clone_from(text);
                t.changed = info.origin(None);
            }
        }
        Action::CreatePolicy { name, table, restrictive } => {
            if let Some(t) = schema.table_mut(table) {
                t.policies.push(Policy { name: name.clone(), restrictive: *restrictive, origin: info.origin(None) });
            }
        }
        Action::DropPolicy { name, table } => {
            if let Some(t) = schema.table_mut(table) {
                t.policies.retain(|p| &p.name != name);
            }
        }
        Action::CreateTrigger { name, table, function, spec } => {
            if let Some(t) = schema.table_mut(table) {
                t.triggers.retain(|p| &p.name != name);
                t.triggers.push(Trigger {
                    name: name.clone(),
                    function: function.clone(),
                    spec: *spec,
                    disabled: false,
                    origin: info.origin(None),
                });
            }
        }
        Action::Grant(g) => grant(schema, g, true),
        Action::Revoke(g) => grant(schema, g, false),
        Action::CreateRule(r) => {
            if let Some(t) = schema.table_mut(&r.table) {
                t.rewrite_rules.retain(|x| x.name != r.name);
                t.rewrite_rules.push(RewriteRule {
                    name: r.name.clone(),
                    event: r.event,
                    instead: r.instead,
                    nothing: r.nothing,
                    conditional: r.conditional,
                    disabled: false,
                    origin: info.origin(None),
                });
            }
        }
        Action::DropRule { name, table } => {
            if let Some(t) = schema.table_mut(table) {
                t.rewrite_rules.retain(|x| &x.name != name);
            }
        }
        Action::DropTrigger { name, table } => {
            if let Some(t) = schema.table_mut(table) {
                t.triggers.retain(|p| &p.name != name);
            }
        }
        Action::CreateView { name, materialized: true } => {
            schema.gone.remove(&QualName::resolve(name));
            schema.matviews.insert(QualName::resolve(name), info.file);
        }
        Action::CreateSchema { name } if !schema.schemas.contains(name) => schema.schemas.push(name.clone()),
        _ => {}
    }
}

/// `GRANT` (`add`) or `REVOKE` of table privileges; `ON ALL TABLES IN SCHEMA` applies to the
/// tables that exist at that point, as in PostgreSQL.
fn grant(schema: &mut Schema, g: &GrantStmt, add: bool) {
    let apply = |t: &mut Table| {
        for role in &g.grantees {
            let had = t.granted(role);
            let now = if add { had.union(g.privileges) } else { had.minus(g.privileges) };
            t.grants.retain(|x| &x.grantee != role);
            if !now.is_empty() {
                t.grants.push(Grant { grantee: role.clone(), privileges: now });
            }
        }
    };
    match &g.target {
        GrantTarget::Tables(names) => {
            for n in names {
                if let Some(t) = schema.table_mut(n) {
                    apply(t);
                }
            }
        }
        GrantTarget::AllTablesInSchema(schemas) => {
            for t in schema.tables.values_mut().filter(|t| schemas.contains(&t.name.schema)) {
                apply(t);
            }
        }
    }
}

fn create_table(schema: &mut Schema, ct: &CreateTable, info: &FileInfo) {
    let name = QualName::resolve(&ct.name);
    if ct.temporary {
        if !schema.temporary.contains(&name) {
            schema.temporary.push(name);
        }
        return;
    }
    if schema.tables.contains_key(&name) {
        if ct.if_not_exists {
            return;
        }
        // A re-creation (e.g. a squashed schema after earlier migrations): start over.
        drop_object(schema, DropKind::Table, &name);
    }
    let origin = info.origin(ct.header.as_ref());
    let mut table = Table {
        phi_marked: info.phi_marked,
        partition_of: ct.partition_of.as_ref().map(QualName::resolve),
        columns_unknown: ct.columns_unknown,
        partitioned: ct.partitioned,
        ..Table::new(name.clone(), origin)
    };
    if let Some(parent) = table.partition_of.as_ref().and_then(|p| schema.tables.get(p)) {
        table.columns.clone_from(&parent.columns);
        table.columns_unknown = parent.columns_unknown;
    }
    let mut pending = Vec::new();
    // LIKE copies the source's columns, and with INCLUDING INDEXES its primary key and unique
    // constraints (under new names).
    for (source, indexes) in &ct.like {
        let Some(src) = schema.table(source) else { continue };
        table.columns.extend(src.columns.iter().cloned());
        if *indexes {
            for c in &src.constraints {
                if matches!(c.kind, ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. }) {
                    pending.push(IrConstraint {
                        name: None,
                        kind: c.kind.clone(),
                        not_valid: false,
                        enforced: true,
                        span: ct.header.clone(),
                    });
                }
            }
        }
    }
    if !ct.like.is_empty() && ct.like.iter().all(|(s, _)| schema.table(s).is_some()) {
        table.columns_unknown = false;
    }
    for col in &ct.columns {
        add_column(&mut table, col, info, &mut pending);
    }
    schema.gone.remove(&name);
    schema.tables.insert(name.clone(), table);
    for c in pending {
        add_constraint(schema, &name, &c, info);
    }
    for c in &ct.constraints {
        add_constraint(schema, &name, c, info);
    }
}

/// Adds a column; its inline constraints are collected in `pending` to be added afterwards.
fn add_column(table: &mut Table, col: &ColumnDef, info: &FileInfo, pending: &mut Vec<IrConstraint>) {
    table.columns.retain(|c| c.name != col.name);
    table.columns.push(Column {
        name: col.name.clone(),
        ty: col.ty.clone(),
        not_null: col.not_null || col.primary_key,
        default: col.default.clone(),
        generated: col.generated,
        origin: info.origin(col.span.as_ref()),
    });
    let cols = vec![col.name.clone()];
    if col.primary_key {
        pending.push(IrConstraint {
            name: col.names.primary_key.clone(),
            kind: ConstraintKind::PrimaryKey { columns: cols.clone(), using_index: None },
            not_valid: false,
            enforced: true,
            span: col.span.clone(),
        });
    }
    if col.unique {
        pending.push(IrConstraint {
            name: col.names.unique.clone(),
            kind: ConstraintKind::Unique { columns: cols.clone(), using_index: None },
            not_valid: false,
            enforced: true,
            span: col.span.clone(),
        });
    }
    for (i, check) in col.checks.iter().enumerate() {
        pending.push(IrConstraint {
            name: col.names.checks.get(i).cloned().flatten(),
            kind: ConstraintKind::Check { expr: check.clone() },
            not_valid: false,
            enforced: !col.checks_not_enforced.get(i).copied().unwrap_or(false),
            span: col.span.clone(),
        });
    }
    if let Some(fk) = &col.references {
        let mut fk = fk.clone();
        fk.columns.clone_from(&cols);
        pending.push(IrConstraint {
            name: col.names.references.clone(),
            kind: ConstraintKind::ForeignKey(fk),
            not_valid: false,
            enforced: !col.references_not_enforced,
            span: col.span.clone(),
        });
    }
}

/// PostgreSQL's generated constraint name (`t_a_b_fkey`, `t_pkey`, ...), without truncation.
fn default_constraint_name(table: &str, kind: &ConstraintKind) -> String {
    match kind {
        ConstraintKind::PrimaryKey { .. } => format!("{table}_pkey"),
        ConstraintKind::Unique { columns, .. } => format!("{table}_{}_key", columns.join("_")),
        ConstraintKind::ForeignKey(fk) => format!("{table}_{}_fkey", fk.columns.join("_")),
        ConstraintKind::Check { .. } => format!("{table}_check"),
        ConstraintKind::Exclude => format!("{table}_excl"),
        ConstraintKind::NotNull { column } => format!("{table}_{column}_not_null"),
    }
}

fn add_constraint(schema: &mut Schema, table_name: &QualName, c: &IrConstraint, info: &FileInfo) {
    let Some(table) = schema.tables.get_mut(table_name) else { return };
    let name = c.name.clone().unwrap_or_else(|| default_constraint_name(&table.name.name, &c.kind));
    let origin = info.origin(c.span.as_ref());
    let mut kind = c.kind.clone();
    if let ConstraintKind::ForeignKey(fk) = &mut kind
        && fk.ref_columns.is_empty()
        && let Some(pk) = referenced_key(schema.table(&fk.ref_table))
    {
        fk.ref_columns = pk;
    }
    if let ConstraintKind::ForeignKey(fk) = &kind {
        schema.note_foreign_key(&QualName::resolve(&fk.ref_table), table_name);
    }
    let Some(table) = schema.tables.get_mut(table_name) else { return };
    table.changed = origin.clone();
    if let ConstraintKind::PrimaryKey { columns, .. } = &kind {
        for col in columns {
            if let Some(c) = table.column_mut(col) {
                c.not_null = true;
            }
        }
    }
    // A validated `NOT NULL` constraint makes the column `NOT NULL`; a `NOT VALID` one does not
    // (yet): rows may still hold NULLs until `VALIDATE CONSTRAINT` or `SET NOT NULL`.
    if let ConstraintKind::NotNull { column } = &kind
        && !c.not_valid
        && let Some(col) = table.column_mut(column)
    {
        col.not_null = true;
    }
    let backing = match &kind {
        ConstraintKind::PrimaryKey { columns, using_index } | ConstraintKind::Unique { columns, using_index } => {
            Some((columns.clone(), using_index.clone()))
        }
        _ => None,
    };
    table.constraints.retain(|x| x.name != name);
    // A `NOT ENFORCED` constraint is never valid (PostgreSQL marks it `NOT VALID`).
    table.constraints.push(Constraint {
        name: name.clone(),
        kind,
        validated: !c.not_valid && c.enforced,
        enforced: c.enforced,
        origin: origin.clone(),
    });
    if let Some((columns, using_index)) = backing {
        let idx_schema = table_name.schema.clone();
        if let Some(existing) = using_index {
            // USING INDEX: the index is renamed to the constraint's name and now backs it.
            let old = QualName { schema: idx_schema.clone(), name: existing };
            if let Some(mut idx) = schema.indexes.remove(&old) {
                idx.name.name.clone_from(&name);
                idx.constraint = Some(name.clone());
                schema.note_index(&idx.table, &idx.name);
                schema.indexes.insert(idx.name.clone(), idx);
                return;
            }
        }
        let idx_name = QualName { schema: idx_schema, name: name.clone() };
        schema.note_index(table_name, &idx_name);
        schema.gone.remove(&idx_name);
        schema.indexes.insert(
            idx_name.clone(),
            Index {
                name: idx_name,
                table: table_name.clone(),
                unique: true,
                method: "btree".into(),
                keys: columns.into_iter().map(IndexKey::Column).collect(),
                include: Vec::new(),
                predicate: None,
                valid: true,
                constraint: Some(name),
                origin,
                stats: None,
            },
        );
    }
}

/// The referenced table's primary key columns (a FK without a column list references them).
fn referenced_key(table: Option<&Table>) -> Option<Vec<String>> {
    table?.constraints.iter().find_map(|c| match &c.kind {
        ConstraintKind::PrimaryKey { columns, .. } => Some(columns.clone()),
        _ => None,
    })
}

fn alter_table(schema: &mut Schema, at: &AlterTable, info: &FileInfo) {
    let mut name = QualName::resolve(&at.name);
    if !schema.tables.contains_key(&name) {
        external_constraints(schema, name, at, info);
        return;
    }
    for op in &at.ops {
        let origin = info.origin(op.span.as_ref());
        match &op.op {
            AlterOp::AddColumn { column, if_not_exists } => {
                let mut pending = Vec::new();
                if let Some(t) = schema.tables.get_mut(&name) {
                    if *if_not_exists && t.column(&column.name).is_some() {
                        continue;
                    }
                    add_column(t, column, info, &mut pending);
                    t.changed = origin;
                }
                for c in pending {
                    add_constraint(schema, &name, &c, info);
                }
            }
            AlterOp::DropColumn { name: col, .. } => drop_column(schema, &name, col),
            AlterOp::AlterType { column, ty, .. } => {
                if let Some(c) = schema.tables.get_mut(&name).and_then(|t| t.column_mut(column)) {
                    c.ty = ty.clone();
                    c.origin = origin;
                }
            }
            AlterOp::SetNotNull { column } | AlterOp::DropNotNull { column } => {
                let set = matches!(op.op, AlterOp::SetNotNull { .. });
                let Some(t) = schema.tables.get_mut(&name) else { continue };
                if let Some(c) = t.column_mut(column) {
                    c.not_null = set;
                }
                // `SET NOT NULL` validates a `NOT VALID` not-null constraint of the column;
                // `DROP NOT NULL` drops the (valid) one.
                let on_column =
                    |c: &Constraint| matches!(&c.kind, ConstraintKind::NotNull { column: x } if x == column);
                if set {
                    t.constraints.iter_mut().filter(|c| on_column(c)).for_each(|c| c.validated = true);
                } else {
                    t.constraints.retain(|c| !(on_column(c) && c.validated));
                }
            }
            AlterOp::SetDefault { column, expr } => {
                if let Some(c) = schema.tables.get_mut(&name).and_then(|t| t.column_mut(column)) {
                    c.default = Some(expr.clone());
                }
            }
            AlterOp::DropDefault { column } => {
                if let Some(c) = schema.tables.get_mut(&name).and_then(|t| t.column_mut(column)) {
                    c.default = None;
                }
            }
            AlterOp::AddConstraint(c) => add_constraint(schema, &name, c, info),
            AlterOp::ValidateConstraint { name: cname } => {
                let Some(t) = schema.tables.get_mut(&name) else { continue };
                // PostgreSQL refuses to validate a `NOT ENFORCED` constraint.
                let Some(c) = t.constraints.iter_mut().find(|c| &c.name == cname && c.enforced) else { continue };
                c.validated = true;
                if let ConstraintKind::NotNull { column } = &c.kind {
                    let column = column.clone();
                    if let Some(col) = t.column_mut(&column) {
                        col.not_null = true;
                    }
                }
            }
            AlterOp::AlterConstraint { name: cname, enforced: Some(enforced) } => {
                // `ENFORCED` checks the existing rows and marks the constraint valid;
                // `NOT ENFORCED` marks it not valid.
                if let Some(c) =
                    schema.tables.get_mut(&name).and_then(|t| t.constraints.iter_mut().find(|c| &c.name == cname))
                {
                    c.enforced = *enforced;
                    c.validated = *enforced;
                }
            }
            AlterOp::DropConstraint { name: cname, .. } => {
                if let Some(t) = schema.tables.get_mut(&name) {
                    // Dropping a column's validated not-null constraint makes it nullable again
                    // (unless a primary key keeps it `NOT NULL`).
                    let dropped_not_null = t.constraints.iter().find_map(|c| match &c.kind {
                        ConstraintKind::NotNull { column } if &c.name == cname && c.validated => Some(column.clone()),
                        _ => None,
                    });
                    t.constraints.retain(|c| &c.name != cname);
                    if let Some(column) = dropped_not_null {
                        let in_key = t.constraints.iter().any(
                            |c| matches!(&c.kind, ConstraintKind::PrimaryKey { columns, .. } if columns.contains(&column)),
                        );
                        if let Some(col) = t.column_mut(&column).filter(|_| !in_key) {
                            col.not_null = false;
                        }
                    }
                }
                let idx = QualName { schema: name.schema.clone(), name: cname.clone() };
                if schema.indexes.get(&idx).is_some_and(|i| i.constraint.as_deref() == Some(cname)) {
                    schema.indexes.remove(&idx);
                    schema.gone.insert(idx);
                }
            }
            AlterOp::RenameColumn { from, to } => rename_column(schema, &name, from, to),
            AlterOp::RenameConstraint { from, to } => {
                if let Some(c) =
                    schema.tables.get_mut(&name).and_then(|t| t.constraints.iter_mut().find(|c| &c.name == from))
                {
                    c.name.clone_from(to);
                }
            }
            AlterOp::RenameTable { to } => {
                let new = QualName { schema: name.schema.clone(), name: to.clone() };
                move_table(schema, &name, &new);
                name = new;
            }
            AlterOp::SetSchema { schema: s } => {
                let new = QualName { schema: s.clone(), name: name.name.clone() };
                move_table(schema, &name, &new);
                name = new;
            }
            AlterOp::Rls(change) => {
                if let Some(t) = schema.tables.get_mut(&name) {
                    match change {
                        RlsChange::Enable => t.rls_enabled = true,
                        RlsChange::Disable => t.rls_enabled = false,
                        RlsChange::Force => t.rls_forced = true,
                        RlsChange::NoForce => t.rls_forced = false,
                    }
                }
            }
            AlterOp::AttachPartition { partition } => {
                if let Some(p) = schema.table_mut(partition) {
                    p.partition_of = Some(name.clone());
                }
            }
            AlterOp::DetachPartition { partition, .. } => {
                if let Some(p) = schema.table_mut(partition) {
                    p.partition_of = None;
                }
            }
            AlterOp::OwnerTo { owner } => {
                if let Some(t) = schema.tables.get_mut(&name) {
                    t.owner = Some(owner.clone());
                }
            }
            AlterOp::TriggerState { name: trigger, enabled } => {
                if let Some(t) = schema.tables.get_mut(&name) {
                    for tr in t.triggers.iter_mut().filter(|tr| trigger.as_ref().is_none_or(|n| n == &tr.name)) {
                        tr.disabled = !enabled;
                    }
                }
            }
            AlterOp::AlterConstraint { enforced: None, .. }
            | AlterOp::SetExpression { .. }
            | AlterOp::LightweightOther
            | AlterOp::Other => {}
        }
    }
}

/// Constraints on a table the migrations never created: recorded on the side.
fn external_constraints(schema: &mut Schema, name: QualName, at: &AlterTable, info: &FileInfo) {
    for op in &at.ops {
        let list = schema.external_constraints.entry(name.clone()).or_default();
        match &op.op {
            AlterOp::AddConstraint(c) => {
                let cname = c.name.clone().unwrap_or_else(|| default_constraint_name(&name.name, &c.kind));
                list.retain(|x| x.name != cname);
                list.push(Constraint {
                    name: cname,
                    kind: c.kind.clone(),
                    validated: !c.not_valid && c.enforced,
                    enforced: c.enforced,
                    origin: info.origin(c.span.as_ref()),
                });
            }
            AlterOp::ValidateConstraint { name: cname } => {
                for c in list.iter_mut().filter(|c| &c.name == cname && c.enforced) {
                    c.validated = true;
                }
            }
            AlterOp::AlterConstraint { name: cname, enforced: Some(enforced) } => {
                for c in list.iter_mut().filter(|c| &c.name == cname) {
                    c.enforced = *enforced;
                    c.validated = *enforced;
                }
            }
            // `SET NOT NULL` validates the column's `NOT VALID` not-null constraint.
            AlterOp::SetNotNull { column } => {
                for c in list.iter_mut() {
                    if matches!(&c.kind, ConstraintKind::NotNull { column: x } if x == column) {
                        c.validated = true;
                    }
                }
            }
            AlterOp::DropConstraint { name: cname, .. } => list.retain(|c| &c.name != cname),
            AlterOp::DropColumn { name: col, .. } | AlterOp::RenameColumn { from: col, .. } => {
                list.retain(|c| match &c.kind {
                    ConstraintKind::Check { expr } => !mentions_ident(expr, col),
                    ConstraintKind::NotNull { column } => column != col,
                    _ => true,
                });
            }
            _ => {}
        }
    }
}

/// Whether the expression uses the identifier `name` (as PostgreSQL folds identifiers).
fn mentions_ident(expr: &str, name: &str) -> bool {
    let Ok(toks) = crate::parse::tokens::tokenize(expr) else { return false };
    toks.iter().any(|t| matches!(&t.token, sqlparser::tokenizer::Token::Word(w) if fold(w) == name))
}

fn fold(w: &sqlparser::tokenizer::Word) -> String {
    crate::parse::lex::fold_ident(&w.value, w.quote_style.is_some())
}

/// The expression with identifier `from` renamed to `to` (PostgreSQL stores expressions by
/// column number, so a rename carries over to index predicates and CHECKs).
fn rename_in_expr(expr: &str, from: &str, to: &str) -> String {
    let Ok(toks) = crate::parse::tokens::tokenize(expr) else { return expr.to_owned() };
    let sig = crate::parse::tokens::significant(expr, &toks, 0);
    let mut out = String::with_capacity(expr.len());
    let mut last = 0;
    for t in &sig {
        if let sqlparser::tokenizer::Token::Word(w) = &t.token
            && fold(w) == from
        {
            out.push_str(&expr[last..t.range.start]);
            out.push_str(&crate::parse::ir::quote_ident(to));
            last = t.range.end;
        }
    }
    out.push_str(&expr[last..]);
    out
}

fn drop_column(schema: &mut Schema, table: &QualName, col: &str) {
    let Some(t) = schema.tables.get_mut(table) else { return };
    t.columns.retain(|c| c.name != col);
    t.constraints.retain(|c| !constraint_uses(&c.kind, col));
    for n in schema.index_names_on(table) {
        let uses = |i: &Index| {
            &i.table == table
                && (i.keys.iter().any(|k| matches!(k, IndexKey::Column(c) if c == col))
                    || i.include.iter().any(|c| c == col))
        };
        // PostgreSQL drops the indexes on the column with it.
        if schema.indexes.get(&n).is_some_and(uses) {
            schema.indexes.remove(&n);
            schema.gone.insert(n);
        }
    }
}

fn constraint_uses(kind: &ConstraintKind, col: &str) -> bool {
    match kind {
        ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => {
            columns.iter().any(|c| c == col)
        }
        ConstraintKind::ForeignKey(fk) => fk.columns.iter().any(|c| c == col),
        ConstraintKind::NotNull { column } => column == col,
        ConstraintKind::Check { .. } | ConstraintKind::Exclude => false,
    }
}

fn rename_column(schema: &mut Schema, table: &QualName, from: &str, to: &str) {
    let rename = |v: &mut Vec<String>| {
        for c in v.iter_mut() {
            if c == from {
                *c = to.to_owned();
            }
        }
    };
    if let Some(t) = schema.tables.get_mut(table) {
        if let Some(c) = t.column_mut(from) {
            c.name = to.to_owned();
        }
        for c in &mut t.constraints {
            match &mut c.kind {
                ConstraintKind::PrimaryKey { columns, .. } | ConstraintKind::Unique { columns, .. } => rename(columns),
                ConstraintKind::ForeignKey(fk) => rename(&mut fk.columns),
                ConstraintKind::Check { expr } => *expr = rename_in_expr(expr, from, to),
                ConstraintKind::NotNull { column } if column == from => *column = to.to_owned(),
                ConstraintKind::NotNull { .. } | ConstraintKind::Exclude => {}
            }
        }
    }
    for n in schema.index_names_on(table) {
        let Some(i) = schema.indexes.get_mut(&n).filter(|i| &i.table == table) else { continue };
        for k in &mut i.keys {
            match k {
                IndexKey::Column(c) if c == from => *c = to.to_owned(),
                IndexKey::Expr(e) => *e = rename_in_expr(e, from, to),
                IndexKey::Column(_) => {}
            }
        }
        rename(&mut i.include);
        if let Some(p) = &mut i.predicate {
            *p = rename_in_expr(p, from, to);
        }
    }
    // Foreign keys elsewhere that reference the renamed column.
    for r in schema.fk_referrers_of(table) {
        let Some(t) = schema.tables.get_mut(&r) else { continue };
        for c in &mut t.constraints {
            if let ConstraintKind::ForeignKey(ForeignKey { ref_table, ref_columns, .. }) = &mut c.kind
                && table.matches(ref_table)
            {
                rename(ref_columns);
            }
        }
    }
}

fn move_table(schema: &mut Schema, from: &QualName, to: &QualName) {
    let Some(mut t) = schema.tables.remove(from) else { return };
    t.name = to.clone();
    // The table's own foreign keys now come from `to`.
    let refs: Vec<QualName> = t
        .constraints
        .iter()
        .filter_map(|c| match &c.kind {
            ConstraintKind::ForeignKey(fk) => Some(QualName::resolve(&fk.ref_table)),
            _ => None,
        })
        .collect();
    schema.gone.remove(to);
    schema.gone.insert(from.clone());
    schema.tables.insert(to.clone(), t);
    for r in &refs {
        schema.note_foreign_key(r, to);
    }
    for n in schema.take_index_names(from) {
        if let Some(i) = schema.indexes.get_mut(&n).filter(|i| &i.table == from) {
            i.table = to.clone();
            schema.note_index(to, &n);
        }
    }
    // Foreign keys referencing the table follow it (its own were noted under `to` above, so a
    // self-reference is among them).
    let new_ref = ObjName { schema: (to.schema != "public").then(|| to.schema.clone()), name: to.name.clone() };
    for r in schema.take_fk_referrers(from) {
        let Some(t) = schema.tables.get_mut(&r) else { continue };
        for c in &mut t.constraints {
            if let ConstraintKind::ForeignKey(fk) = &mut c.kind
                && from.matches(&fk.ref_table)
            {
                fk.ref_table = new_ref.clone();
            }
        }
        schema.note_foreign_key(to, &r);
    }
}

fn drop_object(schema: &mut Schema, kind: DropKind, name: &QualName) {
    match kind {
        DropKind::Table if schema.temporary.contains(name) => schema.temporary.retain(|t| t != name),
        DropKind::Table if schema.tables.remove(name).is_some() => {
            schema.gone.insert(name.clone());
            for n in schema.take_index_names(name) {
                if schema.indexes.get(&n).is_some_and(|i| &i.table == name) {
                    schema.indexes.remove(&n);
                    schema.gone.insert(n);
                }
            }
            // Foreign keys referencing the table go with it (`DROP TABLE ... CASCADE`).
            for r in schema.take_fk_referrers(name) {
                if let Some(t) = schema.tables.get_mut(&r) {
                    t.constraints
                        .retain(|c| !matches!(&c.kind, ConstraintKind::ForeignKey(fk) if name.matches(&fk.ref_table)));
                }
            }
        }
        DropKind::MaterializedView if schema.matviews.remove(name).is_some() => {
            schema.gone.insert(name.clone());
        }
        DropKind::Index if schema.indexes.remove(name).is_some() => {
            schema.gone.insert(name.clone());
        }
        DropKind::Schema => {
            let gone = schema.tables.keys().chain(schema.indexes.keys()).filter(|k| k.schema == name.name).cloned();
            let gone: Vec<QualName> = gone.collect();
            schema.gone.extend(gone);
            schema.tables.retain(|k, _| k.schema != name.name);
            schema.indexes.retain(|k, _| k.schema != name.name);
            schema.schemas.retain(|s| s != &name.name);
        }
        _ => {}
    }
}

/// The column names PostgreSQL derives for an index's keys and `INCLUDE` columns
/// (`ChooseIndexColumnNames`): a column's name; for an expression, what `FigureIndexColname`
/// finds (a function's name, a cast column's name) or `expr`; repeats numbered (`lower`,
/// `lower1`).
pub fn index_column_names(keys: &[IndexKey], include: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(keys.len() + include.len());
    let names = keys
        .iter()
        .map(|k| match k {
            IndexKey::Column(c) => c.clone(),
            IndexKey::Expr(e) => figure_colname(e).unwrap_or_else(|| "expr".to_owned()),
        })
        .chain(include.iter().cloned());
    for orig in names {
        let mut name = orig.clone();
        let mut i = 1u32;
        while out.contains(&name) {
            let digits = i.to_string();
            let mut end = orig.len().min(super::MAX_IDENT - digits.len());
            while !orig.is_char_boundary(end) {
                end -= 1;
            }
            name = format!("{}{digits}", &orig[..end]);
            i += 1;
        }
        out.push(name);
    }
    out
}

/// The name `FigureColname` gives an index expression, as far as its text shows it: a column
/// (`(org_id)`, `t.org_id`), a function call (`lower(email)` is `lower`), a cast (the name of
/// what is cast, else the type's); `None` for anything else (PostgreSQL says `expr`).
fn figure_colname(expr: &str) -> Option<String> {
    let toks = crate::parse::tokens::tokenize(expr).ok()?;
    let sig = crate::parse::tokens::significant(expr, &toks, 0);
    figure(&sig)
}

fn figure(mut t: &[crate::parse::tokens::Tok]) -> Option<String> {
    use sqlparser::tokenizer::Token;
    // Parentheses around the whole expression.
    while t.len() >= 2
        && matches!(t[0].token, Token::LParen)
        && matches!(t[t.len() - 1].token, Token::RParen)
        && closing(t, 0) == Some(t.len() - 1)
    {
        t = &t[1..t.len() - 1];
    }
    // A top-level `::` cast: the name of what is cast, else the type's.
    let mut depth = 0i32;
    let mut cast = None;
    for (i, x) in t.iter().enumerate() {
        match x.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::DoubleColon if depth == 0 => cast = Some(i),
            _ => {}
        }
    }
    if let Some(i) = cast {
        return figure(&t[..i]).or_else(|| t.get(i + 1..).and_then(|ty| ty.iter().rev().find_map(type_word)));
    }
    if t.first().is_some_and(|x| x.is_kw("case")) {
        return Some("case".to_owned());
    }
    // `x AT TIME ZONE z` is a call of `timezone`.
    if t.windows(3).any(|w| w[0].is_kw("at") && w[1].is_kw("time") && w[2].is_kw("zone")) {
        return Some("timezone".to_owned());
    }
    // A (qualified) column, or a function call.
    let mut i = 0;
    loop {
        let name = t.get(i)?.ident()?;
        match t.get(i + 1).map(|x| &x.token) {
            None => return Some(name),
            Some(Token::Period) => i += 2,
            Some(Token::LParen) if closing(t, i + 1) == Some(t.len() - 1) => {
                if i > 0 || !t[0].is_kw("cast") {
                    return Some(name);
                }
                // `CAST(x AS type)`: as a `::` cast.
                let inner = &t[2..t.len() - 1];
                let mut depth = 0i32;
                let at = inner.iter().position(|x| {
                    match x.token {
                        Token::LParen => depth += 1,
                        Token::RParen => depth -= 1,
                        _ => {}
                    }
                    depth == 0 && x.is_kw("as")
                })?;
                return figure(&inner[..at]).or_else(|| inner[at + 1..].iter().rev().find_map(type_word));
            }
            _ => return None,
        }
    }
}

/// The index of the parenthesis closing the one at `open`.
fn closing(t: &[crate::parse::tokens::Tok], open: usize) -> Option<usize> {
    use sqlparser::tokenizer::Token;
    let mut depth = 0i32;
    for (i, x) in t.iter().enumerate().skip(open) {
        match x.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn type_word(t: &crate::parse::tokens::Tok) -> Option<String> {
    t.ident()
}

/// The name PostgreSQL gives an index created without one (`ChooseIndexName`): `table_cols_idx`,
/// numbered when a relation of the schema has it.
pub fn default_index_name(schema: &Schema, ci: &CreateIndex) -> String {
    let table = QualName::resolve(&ci.table);
    let cols = super::index_name_addition(&index_column_names(&ci.keys, &ci.include));
    super::choose_name(&table.name, Some(&cols), "idx", |n| schema.relation_exists(&table.schema, n))
}

fn create_index(schema: &mut Schema, ci: &CreateIndex, info: &FileInfo) {
    let table = QualName::resolve(&ci.table);
    let idx_name = ci.name.clone().unwrap_or_else(|| default_index_name(schema, ci));
    let key = QualName { schema: table.schema.clone(), name: idx_name };
    if ci.if_not_exists && schema.indexes.contains_key(&key) {
        return;
    }
    schema.note_index(&table, &key);
    schema.gone.remove(&key);
    schema.indexes.insert(
        key.clone(),
        Index {
            name: key,
            table,
            unique: ci.unique,
            method: ci.method.clone(),
            keys: ci.keys.clone(),
            include: ci.include.clone(),
            predicate: ci.predicate.clone(),
            // `ON ONLY` a partitioned table: invalid until every partition's index is attached.
            valid: !ci.only,
            constraint: None,
            origin: info.origin(None),
            stats: None,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_column_names_follow_postgresql() {
        let e = |s: &str| IndexKey::Expr(s.into());
        let c = |s: &str| IndexKey::Column(s.into());
        // Checked on PostgreSQL 15: `CREATE INDEX ON t (...)` names.
        assert_eq!(index_column_names(&[e("lower(b)")], &[]), ["lower"]);
        assert_eq!(index_column_names(&[e("(a + 1)")], &[]), ["expr"]);
        assert_eq!(index_column_names(&[c("a")], &["b".into()]), ["a", "b"]);
        assert_eq!(index_column_names(&[e("(b::int)")], &[]), ["b"]);
        assert_eq!(
            index_column_names(&[e("lower(b)"), e("upper(b)"), e("lower(b)")], &[]),
            ["lower", "upper", "lower1"]
        );
        assert_eq!(index_column_names(&[e("public.f(x, y)")], &[]), ["f"]);
        assert_eq!(index_column_names(&[e("CAST(created_at AS date)")], &[]), ["created_at"]);
        assert_eq!(index_column_names(&[e("CAST(created_at AT TIME ZONE 'UTC' AS date)")], &[]), ["timezone"]);
        assert_eq!(index_column_names(&[e("(CASE WHEN a > 0 THEN 1 END)")], &[]), ["case"]);
        assert_eq!(index_column_names(&[e("((\"OrgId\"))")], &[]), ["OrgId"]);
        assert_eq!(index_column_names(&[e("(data->>'k')")], &[]), ["expr"]);
        assert_eq!(index_column_names(&[e("('x'::text)")], &[]), ["text"]);
    }

    fn replay(sql: &str) -> Schema {
        let mut schema = Schema::default();
        for raw in crate::parse::split::split(sql).stmts {
            let (action, _) = crate::parse::parse_statement(sql, raw.range.clone());
            apply(&mut schema, &action, &FileInfo { file: 0, span: raw.range, phi_marked: false });
        }
        schema
    }

    fn q(name: &str) -> QualName {
        QualName { schema: "public".into(), name: name.into() }
    }

    fn indexes(schema: &Schema, table: &str) -> Vec<String> {
        let t = q(table);
        let mut v: Vec<String> = schema.indexes_on(&t).map(|i| i.name.name.clone()).collect();
        v.sort();
        v
    }

    fn fk_targets(schema: &Schema, table: &str) -> Vec<String> {
        let t = schema.tables.get(&q(table)).expect("table");
        t.constraints
            .iter()
            .filter_map(|c| match &c.kind {
                ConstraintKind::ForeignKey(fk) => Some(fk.ref_table.name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The lookups kept during the replay agree with the ones `seal` rebuilds from scratch.
    fn assert_lookups_exact(mut schema: Schema) {
        let tables: Vec<QualName> = schema.tables.keys().cloned().collect();
        let during: Vec<Vec<String>> = tables.iter().map(|t| indexes(&schema, &t.name)).collect();
        schema.seal();
        let after: Vec<Vec<String>> = tables.iter().map(|t| indexes(&schema, &t.name)).collect();
        assert_eq!(during, after);
    }

    const HISTORY: &str = "
        CREATE TABLE parent (id int PRIMARY KEY, boss int REFERENCES parent);
        CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, note text);
        CREATE INDEX child_parent_idx ON child (parent_id);
        CREATE INDEX child_note_idx ON child (note);
        CREATE INDEX parent_boss_idx ON parent (boss);
    ";

    #[test]
    fn renaming_a_table_carries_its_indexes_and_the_foreign_keys_that_reference_it() {
        let s = replay(&format!("{HISTORY} ALTER TABLE parent RENAME TO person;"));
        assert_eq!(indexes(&s, "person"), ["parent_boss_idx", "parent_pkey"]);
        assert!(indexes(&s, "parent").is_empty());
        assert_eq!(fk_targets(&s, "child"), ["person"]);
        assert_eq!(fk_targets(&s, "person"), ["person"], "a self-reference follows the rename");
        assert_lookups_exact(s);
    }

    #[test]
    fn dropping_a_renamed_table_drops_its_indexes_and_the_foreign_keys_to_it() {
        let s = replay(&format!("{HISTORY} ALTER TABLE parent RENAME TO person; DROP TABLE person CASCADE;"));
        assert!(s.indexes.keys().all(|k| !k.name.starts_with("parent")), "{:?}", s.indexes.keys());
        assert!(fk_targets(&s, "child").is_empty());
        assert_eq!(indexes(&s, "child"), ["child_note_idx", "child_parent_idx", "child_pkey"]);
        assert_lookups_exact(s);
    }

    #[test]
    fn a_table_renamed_back_and_forth_and_recreated_keeps_exact_lookups() {
        let s = replay(&format!(
            "{HISTORY}
            ALTER TABLE child RENAME TO kid;
            ALTER INDEX child_note_idx RENAME TO kid_note_idx;
            ALTER TABLE kid RENAME COLUMN parent_id TO person_id;
            ALTER TABLE kid RENAME TO child;
            ALTER TABLE child DROP COLUMN note;
            CREATE TABLE parent (id bigint PRIMARY KEY);
            CREATE INDEX parent_boss_idx ON child (person_id);
            ALTER TABLE parent SET SCHEMA archive;"
        ));
        // Re-creating `parent` dropped its old indexes and the foreign key to it.
        assert!(fk_targets(&s, "child").is_empty());
        assert_eq!(indexes(&s, "child"), ["child_parent_idx", "child_pkey", "parent_boss_idx"]);
        let moved = QualName { schema: "archive".into(), name: "parent".into() };
        assert_eq!(s.indexes_on(&moved).map(|i| i.name.name.as_str()).collect::<Vec<_>>(), ["parent_pkey"]);
        assert_lookups_exact(s);
    }

    fn not_null(s: &Schema, table: &str, column: &str) -> bool {
        s.tables.get(&q(table)).and_then(|t| t.column(column)).is_some_and(|c| c.not_null)
    }

    #[test]
    fn not_null_constraints_make_a_column_not_null_once_valid() {
        let base = "CREATE TABLE t (id int, a int, b int, c int, CONSTRAINT c_nn NOT NULL c);";
        let s = replay(base);
        assert!(not_null(&s, "t", "c") && !not_null(&s, "t", "a"));
        let s = replay(&format!("{base} ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID;"));
        assert!(!not_null(&s, "t", "a"), "NOT VALID proves nothing yet");
        let nn = |s: &Schema| s.tables[&q("t")].constraints.iter().find(|c| c.name == "a_nn").map(|c| c.validated);
        assert_eq!(nn(&s), Some(false));
        let s = replay(&format!(
            "{base} ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT a_nn;"
        ));
        assert!(not_null(&s, "t", "a") && nn(&s) == Some(true));
        let s = replay(&format!(
            "{base} ALTER TABLE t ADD CONSTRAINT a_nn NOT NULL a NOT VALID; ALTER TABLE t ALTER a SET NOT NULL;"
        ));
        assert_eq!(nn(&s), Some(true), "SET NOT NULL validates the constraint");
        let s = replay(&format!("{base} ALTER TABLE t ADD NOT NULL b; ALTER TABLE t DROP CONSTRAINT t_b_not_null;"));
        assert!(!not_null(&s, "t", "b"), "the default name is table_column_not_null");
        let s = replay(&format!(
            "{base} ALTER TABLE t ADD NOT NULL b; ALTER TABLE t RENAME b TO bb; ALTER TABLE t DROP COLUMN c;"
        ));
        let kinds: Vec<String> = s.tables[&q("t")].constraints.iter().map(|c| format!("{:?}", c.kind)).collect();
        assert_eq!(kinds, [r#"NotNull { column: "bb" }"#]);
    }

    #[test]
    fn not_enforced_constraints_are_never_valid() {
        let s = replay(
            "CREATE TABLE u (id int PRIMARY KEY);
             CREATE TABLE t (id int, b int REFERENCES u NOT ENFORCED, a int CHECK (a > 0) NOT ENFORCED);
             ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES u NOT ENFORCED;
             ALTER TABLE t VALIDATE CONSTRAINT fk;",
        );
        let state: Vec<(bool, bool)> =
            s.tables[&q("t")].constraints.iter().map(|c| (c.enforced, c.validated)).collect();
        assert_eq!(state, [(false, false), (false, false), (false, false)]);
        let s = replay(
            "CREATE TABLE u (id int PRIMARY KEY); CREATE TABLE t (id int);
             ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES u NOT ENFORCED;
             ALTER TABLE t ALTER CONSTRAINT fk ENFORCED;",
        );
        let fk = &s.tables[&q("t")].constraints[0];
        assert!(fk.enforced && fk.validated, "ENFORCED checks the rows and marks it valid");
    }
}
