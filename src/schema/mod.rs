//! The schema model, built by replaying migrations (later: read from the live catalog).

pub mod catalog;
mod replay;

pub use replay::{FileInfo, apply, default_index_name, index_column_names};

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use crate::parse::ir::{ConstraintKind, Generated, IndexKey, ObjName, Privileges, RuleEvent, TriggerSpec, TypeName};

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

/// A schema-qualified name as seen for lookups: a [`QualName`] key of the model's maps can be
/// looked up by an [`ObjName`] (unqualified meaning `public`) without building a `QualName`.
pub trait NameKey {
    fn key_schema(&self) -> &str;
    fn key_name(&self) -> &str;
}

impl NameKey for QualName {
    fn key_schema(&self) -> &str {
        &self.schema
    }
    fn key_name(&self) -> &str {
        &self.name
    }
}

impl NameKey for ObjName {
    fn key_schema(&self) -> &str {
        self.schema.as_deref().unwrap_or("public")
    }
    fn key_name(&self) -> &str {
        &self.name
    }
}

// Ordered as `QualName`'s derived `Ord` orders (schema, then name), as `Borrow` requires.
impl Ord for dyn NameKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.key_schema(), self.key_name()).cmp(&(other.key_schema(), other.key_name()))
    }
}

impl PartialOrd for dyn NameKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn NameKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key_schema() == other.key_schema() && self.key_name() == other.key_name()
    }
}

impl Eq for dyn NameKey + '_ {}

impl<'a> Borrow<dyn NameKey + 'a> for QualName {
    fn borrow(&self) -> &(dyn NameKey + 'a) {
        self
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
    /// False for `NOT ENFORCED` (PostgreSQL 18; catalog: `conenforced`): never checked, and a
    /// foreign key has no triggers (deletes on the referenced table do not look at it).
    pub enforced: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// `AS RESTRICTIVE` (catalog: `polpermissive = false`): narrows what permissive policies
    /// allow, grants nothing by itself.
    pub restrictive: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub function: Option<ObjName>,
    /// Timing, events, `FOR EACH ROW`, `WHEN` (catalog: `pg_trigger.tgtype` bits, `tgqual`).
    pub spec: TriggerSpec,
    /// `ALTER TABLE ... DISABLE TRIGGER` (or `ENABLE REPLICA`): does not fire in ordinary
    /// sessions (catalog: `tgenabled` is `D` or `R`).
    pub disabled: bool,
    pub origin: Origin,
}

/// A table privilege granted to a role (catalog: `aclexplode(relacl)`, grantee 0 is `public`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The role, folded; `public` for `PUBLIC`.
    pub grantee: String,
    pub privileges: Privileges,
}

/// A rewrite rule on a table (`CREATE RULE`; catalog: `pg_rewrite`, except `_RETURN`).
#[derive(Debug, Clone)]
pub struct RewriteRule {
    pub name: String,
    pub event: RuleEvent,
    /// `DO INSTEAD` (`is_instead`).
    pub instead: bool,
    /// The action is `NOTHING` (`ev_action` is an empty list).
    pub nothing: bool,
    /// Has a `WHERE` condition (`ev_qual` is not `<>`).
    pub conditional: bool,
    /// `ALTER TABLE ... DISABLE RULE` (`ev_enabled = 'D'`); not tracked offline.
    pub disabled: bool,
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
    /// Live statistics (`dbwarden audit`); `None` for a model replayed from migrations.
    pub stats: Option<TableStats>,
    /// The owner, when known (`ALTER TABLE ... OWNER TO`; catalog: `relowner`). The owner has
    /// every privilege without a grant.
    pub owner: Option<String>,
    /// Privileges granted to roles (the owner's implicit ones are not listed).
    pub grants: Vec<Grant>,
    pub rewrite_rules: Vec<RewriteRule>,
}

/// A table's statistics in a live database (`pg_class`, `pg_stat_user_tables`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableStats {
    /// The planner's row estimate (`reltuples`; `None` when never vacuumed or analysed).
    pub rows: Option<f64>,
    /// Table, TOAST and index size in bytes, from `pg_class.relpages` (as of the last
    /// `VACUUM`, `ANALYZE` or index build: an estimate that reads no file).
    pub total_bytes: i64,
    /// Rows inserted, updated or deleted since the last analyse (`n_mod_since_analyze`).
    pub mod_since_analyze: i64,
    /// Live rows counted by the statistics system (`n_live_tup`).
    pub live_rows: i64,
    /// The last manual / automatic analyse, as text (`None`: never).
    pub last_analyze: Option<String>,
    pub last_autoanalyze: Option<String>,
    /// Sequential scans since the statistics were reset.
    pub seq_scan: i64,
}

impl TableStats {
    /// The row estimate to judge impact by: `reltuples`, else the live-row counter.
    pub fn estimated_rows(&self) -> f64 {
        self.rows.unwrap_or(self.live_rows as f64)
    }
}

impl Table {
    /// A table with no columns, constraints or flags (the catalog loader fills it in).
    pub fn new(name: QualName, origin: Origin) -> Self {
        Self {
            name,
            columns: Vec::new(),
            constraints: Vec::new(),
            rls_enabled: false,
            rls_forced: false,
            policies: Vec::new(),
            triggers: Vec::new(),
            comment: None,
            phi_marked: false,
            partition_of: None,
            partitioned: false,
            columns_unknown: false,
            created: origin.clone(),
            changed: origin,
            stats: None,
            owner: None,
            grants: Vec::new(),
            rewrite_rules: Vec::new(),
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// The privileges granted to `role` (not counting the owner's implicit ones).
    pub fn granted(&self, role: &str) -> Privileges {
        self.grants.iter().filter(|g| g.grantee == role).fold(Privileges::default(), |p, g| p.union(g.privileges))
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
    /// Live statistics (`dbwarden audit`); `None` for a model replayed from migrations.
    pub stats: Option<IndexStats>,
}

/// An index's statistics in a live database (`pg_stat_user_indexes`, relation size).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Index scans since the statistics were reset (`idx_scan`).
    pub scans: i64,
    /// Size in bytes, from `pg_class.relpages` (as of the last build, `VACUUM` or `ANALYZE`).
    pub bytes: i64,
    /// Per key column: operator class, collation and ordering options (`indclass`,
    /// `indcollation`, `indoption`), so that two indexes on the same keys with different
    /// options are told apart.
    pub key_options: String,
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
    /// Sequences (loaded from a live database only).
    pub sequences: Vec<Sequence>,
    /// Tables, indexes and materialized views the replayed history had and then dropped or
    /// renamed away (and did not create again): known not to exist, so a `DROP ... IF EXISTS`
    /// of one is a no-op. A name the history never had is not listed: it may exist outside
    /// the linted files.
    pub gone: HashSet<QualName>,
    /// Facts about the live database the model was loaded from; `None` for replayed migrations.
    pub live: Option<LiveInfo>,
    /// Index names by the table they are on, so that nothing scans every index (20,000
    /// indexes on 5,000 tables; a whole corpus replayed as one history). While the model
    /// changes this is a superset (an entry may name an index since dropped, renamed or moved
    /// to another table: check [`Index::table`]); [`Schema::seal`] makes it exact.
    index_names: HashMap<QualName, NameList>,
    /// The tables whose foreign keys may reference a table, by the referenced table; a
    /// superset, like `index_names`.
    fk_referrers: HashMap<QualName, NameList>,
}

/// A sequence of a live database, with the column that owns it (serial or identity).
#[derive(Debug, Clone)]
pub struct Sequence {
    pub name: QualName,
    /// The sequence's data type (`smallint`, `integer`, `bigint`).
    pub ty: String,
    /// `None` when the role may not read it (needs `SELECT` or `USAGE` on the sequence) or the
    /// sequence was never used.
    pub last_value: Option<i64>,
    pub min_value: i64,
    pub max_value: i64,
    pub increment: i64,
    /// The owning table and column (`OWNED BY`, serial and identity columns).
    pub owner: Option<(QualName, String)>,
    /// The role may read the sequence's last value.
    pub readable: bool,
    pub origin: Origin,
}

/// Facts about a live database.
#[derive(Debug, Clone, Default)]
pub struct LiveInfo {
    pub database: String,
    /// `server_version`, e.g. `15.4 (Debian 15.4-1)`.
    pub server_version: String,
    pub server_version_num: i32,
    /// The database's size in bytes, from `pg_class.relpages` (an estimate that reads no file).
    pub size_bytes: i64,
    /// When the statistics counters were last reset (`pg_stat_database.stats_reset`), as text;
    /// `None`: never reset, counting since the database was created or the server's statistics
    /// were initialised.
    pub stats_reset: Option<String>,
    /// When the audit read the catalog (the server's `now()`), as text.
    pub read_at: String,
    /// The schemas read.
    pub schemas: Vec<String>,
}

/// Names in the order they were added, without repeats. Short lists are searched; from
/// [`NameList::SEARCHED`] names on a set answers, so that adding stays constant-time when one table
/// has tens of thousands of indexes or referrers.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameList {
    items: Vec<QualName>,
    seen: Option<std::collections::HashSet<QualName>>,
}

impl NameList {
    const SEARCHED: usize = 16;

    fn insert(&mut self, item: &QualName) {
        let present = match &self.seen {
            Some(seen) => seen.contains(item),
            None => self.items.contains(item),
        };
        if present {
            return;
        }
        self.items.push(item.clone());
        match &mut self.seen {
            Some(seen) => {
                seen.insert(item.clone());
            }
            None if self.items.len() > Self::SEARCHED => self.seen = Some(self.items.iter().cloned().collect()),
            None => {}
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, QualName> {
        self.items.iter()
    }
}

/// Adds `item` to the list of `key` unless it is there.
fn note(map: &mut HashMap<QualName, NameList>, key: &QualName, item: &QualName) {
    match map.get_mut(key) {
        Some(list) => list.insert(item),
        None => {
            let mut list = NameList::default();
            list.insert(item);
            map.insert(key.clone(), list);
        }
    }
}

impl Schema {
    pub fn table(&self, name: &ObjName) -> Option<&Table> {
        self.tables.get(name as &dyn NameKey)
    }

    pub fn table_mut(&mut self, name: &ObjName) -> Option<&mut Table> {
        self.tables.get_mut(name as &dyn NameKey)
    }

    /// The index `name` (unqualified meaning `public`).
    pub fn index(&self, name: &ObjName) -> Option<&Index> {
        self.indexes.get(name as &dyn NameKey)
    }

    /// The table's constraints, also for tables the migrations never created.
    pub fn constraints_of(&self, name: &ObjName) -> &[Constraint] {
        match self.table(name) {
            Some(t) => &t.constraints,
            None => self.external_constraints.get(name as &dyn NameKey).map_or(&[], Vec::as_slice),
        }
    }

    /// Whether a table, index, materialized view or sequence of `schema` is named `name`
    /// (they share one namespace, `pg_class`).
    pub fn relation_exists(&self, schema: &str, name: &str) -> bool {
        let q = QualName { schema: schema.to_owned(), name: name.to_owned() };
        self.tables.contains_key(&q)
            || self.indexes.contains_key(&q)
            || self.matviews.contains_key(&q)
            || self.temporary.contains(&q)
            || self.sequences.iter().any(|s| s.name == q)
    }

    pub fn is_temporary(&self, name: &ObjName) -> bool {
        self.temporary.iter().any(|t| t.matches(name))
    }

    /// The indexes on `table`.
    pub fn indexes_on<'a>(&'a self, table: &'a QualName) -> impl Iterator<Item = &'a Index> + 'a {
        self.index_names
            .get(table)
            .into_iter()
            .flat_map(NameList::iter)
            .filter_map(|n| self.indexes.get(n))
            .filter(move |i| &i.table == table)
    }

    /// Records that index `index` is on `table` (call after inserting or renaming an index, or
    /// moving it to another table).
    pub(crate) fn note_index(&mut self, table: &QualName, index: &QualName) {
        note(&mut self.index_names, table, index);
    }

    /// Records that `table` has a foreign key referencing `referenced`.
    pub(crate) fn note_foreign_key(&mut self, referenced: &QualName, table: &QualName) {
        note(&mut self.fk_referrers, referenced, table);
    }

    /// The names of the indexes that may be on `table` (a superset: check [`Index::table`]).
    pub(crate) fn index_names_on(&self, table: &QualName) -> Vec<QualName> {
        self.index_names.get(table).map(|l| l.items.clone()).unwrap_or_default()
    }

    /// Takes the list of indexes that may be on `table` (when the table is dropped or renamed).
    pub(crate) fn take_index_names(&mut self, table: &QualName) -> Vec<QualName> {
        self.index_names.remove(table).map(|l| l.items).unwrap_or_default()
    }

    /// The tables whose foreign keys may reference `table` (a superset).
    pub(crate) fn fk_referrers_of(&self, table: &QualName) -> Vec<QualName> {
        self.fk_referrers.get(table).map(|l| l.items.clone()).unwrap_or_default()
    }

    /// Takes the list of tables whose foreign keys may reference `table`.
    pub(crate) fn take_fk_referrers(&mut self, table: &QualName) -> Vec<QualName> {
        self.fk_referrers.remove(table).map(|l| l.items).unwrap_or_default()
    }

    /// Rebuilds the lookups from the tables and indexes: call when the model is complete
    /// (after the replay, after loading the catalog) or was changed other than through
    /// [`apply`] (e.g. tables or indexes inserted or removed directly).
    pub fn seal(&mut self) {
        let mut index_names: HashMap<QualName, NameList> = HashMap::new();
        for (name, i) in &self.indexes {
            note(&mut index_names, &i.table, name);
        }
        let mut fk_referrers = HashMap::new();
        for t in self.tables.values() {
            for c in &t.constraints {
                if let crate::parse::ir::ConstraintKind::ForeignKey(fk) = &c.kind {
                    note(&mut fk_referrers, &QualName::resolve(&fk.ref_table), &t.name);
                }
            }
        }
        self.index_names = index_names;
        self.fk_referrers = fk_referrers;
    }
}

/// The longest identifier PostgreSQL keeps (NAMEDATALEN - 1), bytes.
pub const MAX_IDENT: usize = 63;

/// `bytes` cut to at most `max` bytes on a character boundary (PostgreSQL's `pg_mbcliplen`).
fn clip(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label` (or `name1_label`), the longer of the two
/// names cut first, byte by byte, until the whole fits [`MAX_IDENT`] bytes.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let avail = MAX_IDENT.saturating_sub(overhead);
    let (mut n1, mut n2) = (name1.len(), name2.map_or(0, str::len));
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_owned();
    if let Some(name2) = name2 {
        out.push('_');
        out.push_str(clip(name2, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// PostgreSQL's `ChooseRelationName` (and `ChooseConstraintName`): [`make_object_name`] with
/// `label`, else with `label1`, `label2`, ... until `taken` refuses none: the name
/// `CREATE INDEX ON t (a, b)` gives its index (`t_a_b_idx`, then `t_a_b_idx1`).
pub fn choose_name(name1: &str, name2: Option<&str>, label: &str, mut taken: impl FnMut(&str) -> bool) -> String {
    for n in 0..10_000u32 {
        let label = if n == 0 { label.to_owned() } else { format!("{label}{n}") };
        let name = make_object_name(name1, name2, &label);
        if !taken(&name) {
            return name;
        }
    }
    make_object_name(name1, name2, label)
}

/// PostgreSQL's `ChooseIndexNameAddition`: the index's column names joined by `_`, stopped once
/// [`MAX_IDENT`] bytes are reached.
pub fn index_name_addition<S: AsRef<str>>(columns: &[S]) -> String {
    let mut out = String::new();
    for c in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(clip(c.as_ref(), MAX_IDENT));
        if out.len() > MAX_IDENT {
            break;
        }
    }
    out
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_are_chosen_as_postgresql_chooses_them() {
        let none = |_: &str| false;
        assert_eq!(choose_name("visits", Some("patient_id"), "idx", none), "visits_patient_id_idx");
        assert_eq!(
            choose_name("visits", Some("patient_id"), "idx", |n| n == "visits_patient_id_idx"),
            "visits_patient_id_idx1"
        );
        assert_eq!(choose_name("t", None, "pkey", none), "t_pkey");
        // The longer name is cut first: PostgreSQL 15 names the index of
        // `CREATE INDEX ON <40 a's> (<40 b's>)` `aaa..a(29)_bbb..b(29)_idx`.
        let n = choose_name(&"a".repeat(40), Some(&"b".repeat(40)), "idx", none);
        assert_eq!(n, format!("{}_{}_idx", "a".repeat(29), "b".repeat(29)));
        let n = choose_name(&"a".repeat(10), Some(&"b".repeat(70)), "idx", none);
        assert_eq!(n, format!("{}_{}_idx", "a".repeat(10), "b".repeat(48)));
        assert_eq!(n.len(), MAX_IDENT);
        // Cut on a character boundary.
        let long = "é".repeat(40);
        let n = choose_name(&long, Some("x"), "idx", none);
        assert!(n.len() <= MAX_IDENT && n.ends_with("_x_idx") && n.starts_with('é'), "{n}");
        assert_eq!(index_name_addition(&["a", "b"]), "a_b");
        assert!(index_name_addition(&vec!["c".repeat(40); 5]).len() <= 2 * MAX_IDENT);
    }
}
