//! dbwarden's own statement model: what rules and the schema replay look at.
//!
//! Both sqlparser's AST (see `lower.rs`) and the token-level recogniser (see `recognise.rs`)
//! produce these, so sqlparser's AST changes stay in one module and statements sqlparser
//! rejects are still judged.

use std::ops::Range;

/// A possibly schema-qualified object name, identifiers folded as PostgreSQL folds them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjName {
    pub schema: Option<String>,
    pub name: String,
}

impl ObjName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        Self { schema: schema.map(str::to_owned), name: name.to_owned() }
    }
}

impl std::fmt::Display for ObjName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = &self.schema {
            write!(f, "{}.", quote_ident(s))?;
        }
        f.write_str(&quote_ident(&self.name))
    }
}

/// Quotes an identifier when PostgreSQL would need it.
pub fn quote_ident(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain && !is_reserved(s) { s.to_owned() } else { format!("\"{}\"", s.replace('"', "\"\"")) }
}

fn is_reserved(s: &str) -> bool {
    matches!(
        s,
        "all"
            | "analyse"
            | "analyze"
            | "and"
            | "any"
            | "array"
            | "as"
            | "asc"
            | "both"
            | "case"
            | "cast"
            | "check"
            | "collate"
            | "column"
            | "constraint"
            | "create"
            | "default"
            | "desc"
            | "distinct"
            | "do"
            | "else"
            | "end"
            | "except"
            | "false"
            | "for"
            | "foreign"
            | "from"
            | "grant"
            | "group"
            | "having"
            | "in"
            | "into"
            | "is"
            | "join"
            | "leading"
            | "limit"
            | "not"
            | "null"
            | "offset"
            | "on"
            | "only"
            | "or"
            | "order"
            | "primary"
            | "references"
            | "select"
            | "table"
            | "then"
            | "to"
            | "true"
            | "union"
            | "unique"
            | "user"
            | "using"
            | "when"
            | "where"
            | "with"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl RefAction {
    pub fn as_sql(self) -> &'static str {
        match self {
            RefAction::NoAction => "NO ACTION",
            RefAction::Restrict => "RESTRICT",
            RefAction::Cascade => "CASCADE",
            RefAction::SetNull => "SET NULL",
            RefAction::SetDefault => "SET DEFAULT",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub ref_table: ObjName,
    pub ref_columns: Vec<String>,
    pub on_delete: RefAction,
    pub on_update: RefAction,
}

/// A column type, as written, normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    pub text: String,
}

impl TypeName {
    pub fn new(text: &str) -> Self {
        Self { text: text.trim().to_ascii_lowercase() }
    }

    /// `serial`, `bigserial`, `smallserial` (and `serial4`, ...).
    pub fn is_serial(&self) -> bool {
        matches!(self.text.as_str(), "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// `GENERATED ALWAYS AS (expr) STORED`
    Stored,
    /// `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY`
    Identity,
    /// `GENERATED ALWAYS AS (expr) VIRTUAL` (PostgreSQL 18)
    Virtual,
}

#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: String,
    pub ty: TypeName,
    pub not_null: bool,
    pub default: Option<String>,
    pub primary_key: bool,
    pub unique: bool,
    pub references: Option<ForeignKey>,
    pub checks: Vec<String>,
    /// Inline `REFERENCES ... NOT ENFORCED` (PostgreSQL 18).
    pub references_not_enforced: bool,
    /// One per entry of `checks`: `CHECK (...) NOT ENFORCED` (PostgreSQL 18).
    pub checks_not_enforced: Vec<bool>,
    pub generated: Option<Generated>,
    /// `CONSTRAINT name` given to the inline PRIMARY KEY / UNIQUE / REFERENCES / CHECKs.
    pub names: ColumnConstraintNames,
    pub span: Option<Range<usize>>,
}

#[derive(Debug, Clone, Default)]
pub struct ColumnConstraintNames {
    pub primary_key: Option<String>,
    pub unique: Option<String>,
    pub references: Option<String>,
    /// One per entry of `ColumnDef::checks`.
    pub checks: Vec<Option<String>>,
}

#[derive(Debug, Clone)]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    Unique {
        columns: Vec<String>,
        using_index: Option<String>,
    },
    Check {
        expr: String,
    },
    ForeignKey(ForeignKey),
    Exclude,
    /// `[CONSTRAINT name] NOT NULL column` as a table constraint (PostgreSQL 18; PostgreSQL 18
    /// also records a column's `NOT NULL` as such a constraint, named `table_column_not_null`).
    NotNull {
        column: String,
    },
}

#[derive(Debug, Clone)]
pub struct Constraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub not_valid: bool,
    /// False for `NOT ENFORCED` (PostgreSQL 18, `CHECK` and foreign keys): never checked, not
    /// even on new rows; a foreign key has no triggers.
    pub enforced: bool,
    pub span: Option<Range<usize>>,
}

#[derive(Debug, Clone)]
pub struct CreateTable {
    pub name: ObjName,
    pub if_not_exists: bool,
    pub temporary: bool,
    pub unlogged: bool,
    pub columns: Vec<ColumnDef>,
    pub constraints: Vec<Constraint>,
    /// `PARTITION OF parent`
    pub partition_of: Option<ObjName>,
    /// `CREATE TABLE ... AS SELECT` / `LIKE`: columns not known.
    pub columns_unknown: bool,
    /// `PARTITION BY ...`: a partitioned table.
    pub partitioned: bool,
    /// `CREATE TABLE name`: where table-level findings point.
    pub header: Option<Range<usize>>,
    /// `LIKE source [INCLUDING ...]`: the source, and whether its indexes (and so its primary
    /// key and unique constraints) are copied (`INCLUDING INDEXES` / `INCLUDING ALL`).
    pub like: Vec<(ObjName, bool)>,
}

#[derive(Debug, Clone)]
pub enum AlterOp {
    AddColumn {
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        name: String,
        if_exists: bool,
    },
    AlterType {
        column: String,
        ty: TypeName,
        using: Option<String>,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    SetDefault {
        column: String,
        expr: String,
    },
    DropDefault {
        column: String,
    },
    AddConstraint(Constraint),
    ValidateConstraint {
        name: String,
    },
    /// `ALTER CONSTRAINT name [[NOT] DEFERRABLE] [INITIALLY ...] [[NOT] ENFORCED]` or
    /// `ALTER CONSTRAINT name [NO] INHERIT` (PostgreSQL 18 for the last two). `enforced` is the
    /// `[NOT] ENFORCED` given, if any: `ENFORCED` on a foreign key that was not checks every row.
    AlterConstraint {
        name: String,
        enforced: Option<bool>,
    },
    /// `ALTER [COLUMN] c SET EXPRESSION AS (expr)` (PostgreSQL 17): a stored generated column is
    /// recomputed for every row (the table is rewritten); a virtual one is not.
    SetExpression {
        column: String,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
    },
    RenameColumn {
        from: String,
        to: String,
    },
    RenameTable {
        to: String,
    },
    RenameConstraint {
        from: String,
        to: String,
    },
    SetSchema {
        schema: String,
    },
    Rls(RlsChange),
    AttachPartition {
        partition: ObjName,
    },
    DetachPartition {
        partition: ObjName,
        concurrently: bool,
    },
    /// `OWNER TO role` (`CURRENT_USER` and the like are kept as written, lower case).
    OwnerTo {
        owner: String,
    },
    /// `ENABLE [ALWAYS | REPLICA] TRIGGER name` / `DISABLE TRIGGER name`; `name` is `None` for
    /// `ALL` / `USER`. `enabled`: fires in ordinary sessions (`ENABLE REPLICA` does not).
    TriggerState {
        name: Option<String>,
        enabled: bool,
    },
    /// Takes a SHARE UPDATE EXCLUSIVE lock only (SET STATISTICS, SET (storage params), ...).
    LightweightOther,
    /// Anything else: OWNER TO, REPLICA IDENTITY, SET LOGGED, ...
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RlsChange {
    Enable,
    Disable,
    Force,
    NoForce,
}

#[derive(Debug, Clone)]
pub struct AlterTableOp {
    pub op: AlterOp,
    pub span: Option<Range<usize>>,
}

#[derive(Debug, Clone)]
pub struct AlterTable {
    pub name: ObjName,
    pub if_exists: bool,
    pub only: bool,
    pub ops: Vec<AlterTableOp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexKey {
    Column(String),
    Expr(String),
}

#[derive(Debug, Clone)]
pub struct CreateIndex {
    pub name: Option<String>,
    pub table: ObjName,
    pub unique: bool,
    pub concurrently: bool,
    pub if_not_exists: bool,
    pub only: bool,
    pub method: String,
    pub keys: Vec<IndexKey>,
    pub include: Vec<String>,
    pub predicate: Option<String>,
}

/// When a trigger fires relative to its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TriggerTiming {
    Before,
    #[default]
    After,
    InsteadOf,
}

/// The events a trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TriggerEvents {
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
}

/// `CREATE TRIGGER`'s timing, events, level and condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TriggerSpec {
    pub timing: TriggerTiming,
    pub events: TriggerEvents,
    /// `FOR EACH ROW` (else `FOR EACH STATEMENT`, the default).
    pub for_each_row: bool,
    /// Has a `WHEN (...)` condition: fires for some rows only.
    pub conditional: bool,
}

/// Table privileges (`GRANT` / `REVOKE`, or `relacl` in the catalog).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Privileges {
    pub select: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
    pub references: bool,
    pub trigger: bool,
}

impl Privileges {
    pub const ALL: Privileges = Privileges {
        select: true,
        insert: true,
        update: true,
        delete: true,
        truncate: true,
        references: true,
        trigger: true,
    };

    pub fn union(self, o: Self) -> Self {
        Self {
            select: self.select || o.select,
            insert: self.insert || o.insert,
            update: self.update || o.update,
            delete: self.delete || o.delete,
            truncate: self.truncate || o.truncate,
            references: self.references || o.references,
            trigger: self.trigger || o.trigger,
        }
    }

    /// These privileges without those of `o`.
    pub fn minus(self, o: Self) -> Self {
        Self {
            select: self.select && !o.select,
            insert: self.insert && !o.insert,
            update: self.update && !o.update,
            delete: self.delete && !o.delete,
            truncate: self.truncate && !o.truncate,
            references: self.references && !o.references,
            trigger: self.trigger && !o.trigger,
        }
    }

    pub fn is_empty(self) -> bool {
        self == Self::default()
    }
}

/// What a `GRANT` / `REVOKE` on tables applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantTarget {
    /// `ON [TABLE] a, b`
    Tables(Vec<ObjName>),
    /// `ON ALL TABLES IN SCHEMA s, ...`: the tables that exist at that point.
    AllTablesInSchema(Vec<String>),
}

/// `GRANT privileges ON tables TO roles` / `REVOKE privileges ON tables FROM roles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantStmt {
    pub privileges: Privileges,
    pub target: GrantTarget,
    /// Role names, folded; `PUBLIC` is `public`.
    pub grantees: Vec<String>,
}

/// The event of a rewrite rule (`CREATE RULE ... AS ON event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleEvent {
    #[default]
    Select,
    Insert,
    Update,
    Delete,
}

/// `CREATE [OR REPLACE] RULE name AS ON event TO table [WHERE ...] DO [ALSO | INSTEAD] ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRule {
    pub name: String,
    pub table: ObjName,
    pub event: RuleEvent,
    /// `DO INSTEAD` (else `DO ALSO`).
    pub instead: bool,
    /// The action is `NOTHING`.
    pub nothing: bool,
    /// Has a `WHERE` condition.
    pub conditional: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    Table,
    View,
    MaterializedView,
    Index,
    Sequence,
    Schema,
    Type,
    Other,
}

#[derive(Debug, Clone)]
pub enum Action {
    CreateTable(CreateTable),
    AlterTable(AlterTable),
    CreateIndex(CreateIndex),
    /// `ALTER INDEX a RENAME TO b`
    RenameIndex {
        from: ObjName,
        to: String,
    },
    Drop {
        kind: DropKind,
        names: Vec<ObjName>,
        if_exists: bool,
        cascade: bool,
        concurrently: bool,
    },
    Reindex {
        concurrently: bool,
        kind: String,
        name: Option<ObjName>,
    },
    Vacuum {
        full: bool,
        tables: Vec<ObjName>,
    },
    Cluster {
        table: Option<ObjName>,
    },
    Lock {
        tables: Vec<ObjName>,
        mode: String,
    },
    RefreshMatView {
        name: ObjName,
        concurrently: bool,
    },
    Truncate {
        tables: Vec<ObjName>,
    },
    /// `SET [LOCAL|SESSION] name = value` (also `SELECT set_config(...)`).
    Set {
        name: String,
        value: String,
        local: bool,
    },
    Begin,
    Commit,
    Rollback,
    CommentOnTable {
        table: ObjName,
        text: Option<String>,
    },
    CreatePolicy {
        name: String,
        table: ObjName,
        /// `AS RESTRICTIVE` (else permissive, the default).
        restrictive: bool,
    },
    DropPolicy {
        name: String,
        table: ObjName,
    },
    CreateTrigger {
        name: String,
        table: ObjName,
        function: Option<ObjName>,
        spec: TriggerSpec,
    },
    DropTrigger {
        name: String,
        table: ObjName,
    },
    CreateSchema {
        name: String,
    },
    /// `GRANT` of table privileges (other `GRANT`s are `Other`).
    Grant(GrantStmt),
    /// `REVOKE` of table privileges (`REVOKE GRANT OPTION FOR` is `Other`).
    Revoke(GrantStmt),
    CreateRule(CreateRule),
    DropRule {
        name: String,
        table: ObjName,
    },
    CreateView {
        name: ObjName,
        materialized: bool,
    },
    /// A `DO` block; its plain SQL statements are linted as statements of their own.
    Do,
    /// Understood, with no effect the model tracks (INSERT, SELECT, CREATE FUNCTION, GRANT, ...).
    Other {
        kind: &'static str,
    },
}

impl Action {
    /// Passes every byte range the action holds through `f`: positions found in a respelled copy
    /// of the statement (see `placeholder.rs`), taken back to the file. The ranges are those of
    /// [`CreateTable`] (its header, columns and constraints) and [`AlterTableOp`] (and the column
    /// or constraint it adds); a new range in the model must be added here.
    pub fn map_spans(&mut self, f: &impl Fn(Range<usize>) -> Range<usize>) {
        let map = |span: &mut Option<Range<usize>>| {
            if let Some(s) = span.take() {
                *span = Some(f(s));
            }
        };
        match self {
            Action::CreateTable(ct) => {
                map(&mut ct.header);
                ct.columns.iter_mut().for_each(|c| map(&mut c.span));
                ct.constraints.iter_mut().for_each(|c| map(&mut c.span));
            }
            Action::AlterTable(at) => {
                for op in &mut at.ops {
                    map(&mut op.span);
                    match &mut op.op {
                        AlterOp::AddColumn { column, .. } => map(&mut column.span),
                        AlterOp::AddConstraint(c) => map(&mut c.span),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// The tables this statement touches that existed before (for lock rules).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Action::CreateTable(_) => "CREATE TABLE",
            Action::AlterTable(_) => "ALTER TABLE",
            Action::CreateIndex(_) => "CREATE INDEX",
            Action::RenameIndex { .. } => "ALTER INDEX",
            Action::Drop { .. } => "DROP",
            Action::Reindex { .. } => "REINDEX",
            Action::Vacuum { .. } => "VACUUM",
            Action::Cluster { .. } => "CLUSTER",
            Action::Lock { .. } => "LOCK",
            Action::RefreshMatView { .. } => "REFRESH MATERIALIZED VIEW",
            Action::Truncate { .. } => "TRUNCATE",
            Action::Set { .. } => "SET",
            Action::Begin => "BEGIN",
            Action::Commit => "COMMIT",
            Action::Rollback => "ROLLBACK",
            Action::CommentOnTable { .. } => "COMMENT",
            Action::CreatePolicy { .. } => "CREATE POLICY",
            Action::DropPolicy { .. } => "DROP POLICY",
            Action::CreateTrigger { .. } => "CREATE TRIGGER",
            Action::DropTrigger { .. } => "DROP TRIGGER",
            Action::CreateSchema { .. } => "CREATE SCHEMA",
            Action::Grant(_) => "GRANT",
            Action::Revoke(_) => "REVOKE",
            Action::CreateRule(_) => "CREATE RULE",
            Action::DropRule { .. } => "DROP RULE",
            Action::CreateView { .. } => "CREATE VIEW",
            Action::Do => "DO",
            Action::Other { kind } => kind,
        }
    }
}
