//! The schema model, built by replaying migrations (later: read from the live catalog).

mod replay;

pub use replay::{FileInfo, apply};

use std::collections::BTreeMap;
use std::ops::Range;

use crate::parse::ir::{ConstraintKind, Generated, IndexKey, ObjName, TypeName};

/// Where an object was created or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A statement of a migration file of the run: the file's index and a byte span in it.
    Source { file: usize, span: Range<usize> },
    /// An object of a live database, by its schema-qualified name (`schema.table[.index]`).
    Catalog { object: String },
}

impl Origin {
    /// The migration file, for objects that come from one.
    pub fn file(&self) -> Option<usize> {
        match self {
            Origin::Source { file, .. } => Some(*file),
            Origin::Catalog { .. } => None,
        }
    }
}

/// A schema-qualified name with the schema resolved (`public` when unqualified).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QualName {
    pub schema: String,
    pub name: String,
}

impl QualName {
    pub fn resolve(n: &ObjName) -> Self {
        Self { schema: n.schema.clone().unwrap_or_else(|| "public".into()), name: n.name.clone() }
    }

    /// Whether `n` (unqualified meaning `public`) names this object; no allocation.
    pub fn matches(&self, n: &ObjName) -> bool {
        self.name == n.name && n.schema.as_deref().unwrap_or("public") == self.schema
    }

    pub fn display(&self) -> String {
        let n = ObjName { schema: Some(self.schema.clone()), name: self.name.clone() };
        if self.schema == "public" { crate::parse::ir::quote_ident(&self.name) } else { n.to_string() }
    }
}

impl std::fmt::Display for QualName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: TypeName,
    pub not_null: bool,
    pub default: Option<String>,
    pub generated: Option<Generated>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    /// False for a constraint added `NOT VALID` and not validated since.
    pub validated: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub function: Option<ObjName>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: QualName,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub policies: Vec<Policy>,
    pub triggers: Vec<Trigger>,
    pub comment: Option<String>,
    /// Marked with `-- dbwarden: phi` before its `CREATE TABLE`.
    pub phi_marked: bool,
    pub partition_of: Option<QualName>,
    /// Declared with `PARTITION BY`.
    pub partitioned: bool,
    /// Created by `CREATE TABLE ... AS` / `LIKE`: the column list is not known.
    pub columns_unknown: bool,
    pub created: Origin,
    pub changed: Origin,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    pub fn has_primary_key(&self) -> bool {
        self.constraints.iter().any(|c| matches!(c.kind, ConstraintKind::PrimaryKey { .. }))
    }
}

#[derive(Debug, Clone)]
pub struct Index {
    pub name: QualName,
    pub table: QualName,
    pub unique: bool,
    pub method: String,
    pub keys: Vec<IndexKey>,
    pub include: Vec<String>,
    pub predicate: Option<String>,
    pub valid: bool,
    /// The constraint this index backs (PRIMARY KEY / UNIQUE), if any.
    pub constraint: Option<String>,
    pub origin: Origin,
}

impl Index {
    /// Key columns (expressions are `None`).
    pub fn key_columns(&self) -> impl Iterator<Item = Option<&str>> {
        self.keys.iter().map(|k| match k {
            IndexKey::Column(c) => Some(c.as_str()),
            IndexKey::Expr(_) => None,
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct Schema {
    pub tables: BTreeMap<QualName, Table>,
    pub indexes: BTreeMap<QualName, Index>,
    pub schemas: Vec<String>,
    /// Constraints added to tables the migrations never created (created outside the linted
    /// files): kept so that e.g. a validated `CHECK (col IS NOT NULL)` is known.
    pub external_constraints: BTreeMap<QualName, Vec<Constraint>>,
    /// Temporary tables (session-local, always new and empty).
    pub temporary: Vec<QualName>,
    /// Materialized views, with the file that created them.
    pub matviews: BTreeMap<QualName, usize>,
}

impl Schema {
    pub fn table(&self, name: &ObjName) -> Option<&Table> {
        self.tables.get(&QualName::resolve(name))
    }

    /// The table's constraints, also for tables the migrations never created.
    pub fn constraints_of(&self, name: &ObjName) -> &[Constraint] {
        let key = QualName::resolve(name);
        match self.tables.get(&key) {
            Some(t) => &t.constraints,
            None => self.external_constraints.get(&key).map_or(&[], Vec::as_slice),
        }
    }

    pub fn is_temporary(&self, name: &ObjName) -> bool {
        self.temporary.iter().any(|t| t.matches(name))
    }

    pub fn indexes_on<'a>(&'a self, table: &'a QualName) -> impl Iterator<Item = &'a Index> + 'a {
        self.indexes.values().filter(move |i| &i.table == table)
    }
}
