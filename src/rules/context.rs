//! What each kind of rule implements and sees: one trait and one context per input kind.

use std::cell::RefCell;
use std::collections::HashSet;

use sqlparser::ast::Statement;

use super::Settings;
use super::locks::Lock;
use super::sink::Sink;
use crate::explain::plan::{Explain, Node};
use crate::explain::{ExplainConfig, Facts, Timing};
use crate::parse::Stmt;
use crate::parse::ir::{Action, AlterOp, AlterTable, DropKind, ObjName};
use crate::queries::{CapturedQuery, QuerySet};
use crate::schema::{QualName, Schema, Table, choose_name};
use crate::source::layout::Tool;

/// A rule that judges one statement, seeing the schema as it was before the statement.
pub trait StatementRule: Sync {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>);
    /// Reported at most once per file (at the first statement that triggers it).
    fn once_per_file(&self) -> bool {
        false
    }
}

/// A rule that judges the schema after the last migration.
pub trait SchemaRule: Sync {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>);
}

/// How the migration tool runs a statement, for advice that works where it would be pasted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunsIn {
    /// The migration tool of the file.
    pub tool: Tool,
    /// The tool runs the file inside a transaction it opens.
    pub tool_transaction: bool,
    /// Inside an explicit `BEGIN` ... `COMMIT` block of the file.
    pub block: bool,
    /// The tool sends the file as one query string and opens no transaction itself: it runs
    /// outside a transaction only while it holds one statement (golang-migrate, Prisma,
    /// dbmate's `transaction:false`), so a fix must not add a second.
    pub one_query: bool,
    /// The statement, rewritten in place as statements PostgreSQL refuses in a transaction
    /// block (`CONCURRENTLY`), would run outside one: no transaction here, or a tool that runs
    /// such statements on their own (the Supabase CLI; Flyway, when the file holds nothing
    /// else).
    pub concurrently_ok: bool,
    /// The statement is inside a `DO` block (which always runs in a transaction).
    pub inner: bool,
}

impl RunsIn {
    /// How a new migration file of `tool` holding one statement runs it (no marker, no `BEGIN`):
    /// where the new statements of a fix run.
    pub fn new_file(tool: Tool, assume_in_transaction: bool) -> Self {
        use crate::source::layout::TxnMode;
        let (tool_transaction, one_query) = match tool.default_txn() {
            TxnMode::Setting => (assume_in_transaction, false),
            // Flyway runs a file of only statements refused in a transaction without one.
            TxnMode::Wrapped if tool == Tool::Flyway => (false, false),
            TxnMode::Wrapped | TxnMode::WrappedButNonTransactional => (true, false),
            TxnMode::None => (false, false),
            TxnMode::MultiStatement => (false, true),
        };
        Self {
            tool,
            tool_transaction,
            block: false,
            one_query,
            concurrently_ok: !tool_transaction || tool == Tool::Supabase,
            inner: false,
        }
    }

    /// A fix that puts a `CONCURRENTLY` statement beside transactional ones that depend on it
    /// (`CREATE UNIQUE INDEX CONCURRENTLY` then `ALTER TABLE ... USING INDEX`) runs here, in
    /// order. Not where the tool wraps the file in a transaction: the Supabase CLI, which runs
    /// the `CONCURRENTLY` statements on their own, runs them after the file's others, so the
    /// `ALTER` would look for an index not built yet.
    pub fn mixed_ok(&self) -> bool {
        self.concurrently_ok && !self.one_query && !self.tool_transaction
    }
}

/// What a statement rule sees.
pub struct StmtCtx<'a> {
    pub stmt: &'a Stmt,
    /// The statements of the file before this one (also those inside `DO` blocks).
    pub earlier: &'a [Stmt],
    /// The statements of the file after this one (also those inside `DO` blocks).
    pub later: &'a [Stmt],
    /// The file's text.
    pub text: &'a str,
    /// The schema before this statement.
    pub schema: &'a Schema,
    pub file: usize,
    /// Inside an explicit transaction block, a `DO` block, or a file the tool wraps in one.
    pub in_transaction: bool,
    /// How the file's migration tool runs this statement: what advice must be written for.
    pub runs_in: RunsIn,
    /// A `SET [LOCAL] lock_timeout` came earlier in the file.
    pub lock_timeout_set: bool,
    /// The table locks the transaction this statement runs in already holds (taken by earlier
    /// statements of it).
    pub held: &'a [(QualName, Lock)],
    pub settings: &'a Settings,
    /// Answers of [`StmtCtx::is_new_table`] for this statement (a dozen rules ask it about the
    /// same table).
    pub new_tables: RefCell<Vec<(ObjName, bool)>>,
    /// Per file of the run so far: its install-script group, if it is one of a set of install
    /// scripts (or a migration not yet deployed).
    pub fresh_groups: &'a [Option<u32>],
}

impl StmtCtx<'_> {
    /// The transaction this statement runs in already holds `lock` (or a stronger one) on the
    /// table: the statement waits for nothing there.
    pub fn already_holds(&self, table: &ObjName, lock: Lock) -> bool {
        self.held.iter().any(|(t, l)| t.matches(table) && *l >= lock)
    }

    pub fn table(&self, name: &ObjName) -> Option<&Table> {
        self.schema.table(name)
    }

    /// The table was created earlier in this file, or in an install script (or undeployed
    /// migration) of the same set as this file: so it is new and empty.
    pub fn is_new_table(&self, name: &ObjName) -> bool {
        if let Some((_, new)) = self.new_tables.borrow().iter().find(|(n, _)| n == name) {
            return *new;
        }
        let new = self.table(name).is_some_and(|t| t.created.file().is_some_and(|f| self.is_fresh_file(f)))
            || self.schema.is_temporary(name);
        self.new_tables.borrow_mut().push((name.clone(), new));
        new
    }

    /// The materialized view was created earlier in this file (or in the same set of install
    /// scripts or undeployed migrations).
    pub fn is_new_matview(&self, name: &ObjName) -> bool {
        self.schema.matviews.get(name as &dyn crate::schema::NameKey).is_some_and(|&f| self.is_fresh_file(f))
    }

    /// What file `f` created is new to this statement: `f` is this file, or both are of one
    /// set of install scripts or undeployed migrations.
    pub fn is_fresh_file(&self, f: usize) -> bool {
        f == self.file
            || matches!(
                (self.fresh_groups.get(f), self.fresh_groups.get(self.file)),
                (Some(Some(a)), Some(Some(b))) if a == b
            )
    }

    /// No table, index or materialized view `name` exists when this statement runs, as far as
    /// the history shows: the replayed history had it and dropped or renamed it away. `DROP ...
    /// IF EXISTS` of it is a no-op that takes no lock. A name the history never had is not
    /// absent: it may exist outside the linted files (a hand-made index, a table created before
    /// the first migration), even when this file creates it afterwards (`DROP INDEX IF EXISTS
    /// i; CREATE INDEX i ...` rebuilds an index that exists).
    pub fn is_absent(&self, name: &ObjName) -> bool {
        let key = QualName::resolve(name);
        !self.schema.tables.contains_key(&key)
            && !self.schema.indexes.contains_key(&key)
            && !self.schema.matviews.contains_key(&key)
            && !self.schema.is_temporary(name)
            && self.schema.gone.contains(&key)
    }

    /// A later statement of this file renames another table to `name` (a table swap: `DROP
    /// TABLE t; ALTER TABLE t_new RENAME TO t`): the application keeps a table of that name.
    pub fn is_swapped_in_later(&self, name: &ObjName) -> bool {
        let key = QualName::resolve(name);
        self.later.iter().any(|s| match &s.action {
            Action::AlterTable(at) => at.ops.iter().any(|op| {
                matches!(&op.op, AlterOp::RenameTable { to }
                    if *to == key.name && QualName::resolve(&at.name).schema == key.schema)
            }),
            _ => false,
        })
    }

    /// An earlier statement of this file dropped the table `name` (a table swap: `DROP TABLE
    /// t; ALTER TABLE t_new RENAME TO t`): a table moved to that name takes its place.
    pub fn was_dropped_earlier(&self, name: &ObjName) -> bool {
        let key = QualName::resolve(name);
        self.earlier.iter().any(|s| match &s.action {
            Action::Drop { kind: DropKind::Table, names, .. } => names.iter().any(|n| QualName::resolve(n) == key),
            _ => false,
        })
    }

    /// The index `name` is on a table new to this statement (see [`StmtCtx::is_new_table`]).
    /// When the model does not know the index, its table is taken from its name, as
    /// PostgreSQL's own index names start with it (`logs_namespace` on `logs`): the longest
    /// table new to this file whose name, then `_`, starts the index's name.
    pub fn index_on_new_table(&self, name: &ObjName) -> bool {
        if let Some(idx) = self.schema.index(name) {
            let t = ObjName { schema: Some(idx.table.schema.clone()), name: idx.table.name.clone() };
            return self.is_new_table(&t);
        }
        let key = QualName::resolve(name);
        self.schema
            .tables
            .values()
            .filter(|t| {
                t.name.schema == key.schema
                    && key.name.len() > t.name.name.len()
                    && key.name.starts_with(t.name.name.as_str())
                    && key.name.as_bytes()[t.name.name.len()] == b'_'
            })
            .max_by_key(|t| t.name.name.len())
            .is_some_and(|t| t.created.file().is_some_and(|f| self.is_fresh_file(f)))
    }

    pub fn sql(&self) -> &str {
        &self.text[self.stmt.range.clone()]
    }

    /// The statement's `ALTER TABLE`, when the table existed before this file (an `ALTER` of a
    /// table created in the same file locks and rewrites nothing anyone waits for).
    pub fn alter_of_existing_table(&self) -> Option<&AlterTable> {
        match &self.stmt.action {
            Action::AlterTable(at) if !self.is_new_table(&at.name) => Some(at),
            _ => None,
        }
    }
}

/// What a schema rule sees.
pub struct SchemaCtx<'a> {
    pub schema: &'a Schema,
    pub settings: &'a Settings,
    /// `dbwarden audit --migrations`: the schema the migrations build, to compare with the live one.
    pub migrations: Option<&'a Schema>,
    /// Relations the run's fixes create, so that no two fixes choose one name.
    fix_names: RefCell<HashSet<QualName>>,
    /// Per migration file: where each judged statement starts and how it runs (empty for a
    /// live database).
    runs: &'a [Vec<(usize, RunsIn)>],
}

impl<'a> SchemaCtx<'a> {
    pub fn new(schema: &'a Schema, settings: &'a Settings, migrations: Option<&'a Schema>) -> Self {
        Self { schema, settings, migrations, fix_names: RefCell::default(), runs: &[] }
    }

    /// With how each statement of the migration files runs (see [`SchemaCtx::runs_in`]).
    pub fn with_runs(self, runs: &'a [Vec<(usize, RunsIn)>]) -> Self {
        Self { runs, ..self }
    }

    /// How the statement that defined an object runs (the innermost statement holding its
    /// span); `None` for an object of a live database.
    pub fn runs_in(&self, origin: &crate::schema::Origin) -> Option<RunsIn> {
        let crate::schema::Origin::Source { file, span } = origin else { return None };
        let stmts = self.runs.get(*file)?;
        let at = stmts.partition_point(|(start, _)| *start <= span.start);
        at.checked_sub(1).map(|i| stmts[i].1)
    }

    /// A name for a relation (an index) a fix creates in schema `namespace`, made of `name1`,
    /// `name2` and `label` as PostgreSQL makes it (cut to 63 bytes, numbered), taken neither by
    /// the model nor by another fix of this run.
    pub fn fix_relation_name(&self, namespace: &str, name1: &str, name2: Option<&str>, label: &str) -> String {
        let mut given = self.fix_names.borrow_mut();
        let name = choose_name(name1, name2, label, |n| {
            self.schema.relation_exists(namespace, n)
                || given.contains(&QualName { schema: namespace.to_owned(), name: n.to_owned() })
        });
        given.insert(QualName { schema: namespace.to_owned(), name: name.clone() });
        name
    }
}

/// A rule on captured queries.
pub trait QueryRule: Sync {
    /// Judges one query (once per fingerprint and input file).
    fn check(&self, _ctx: &QueryCtx<'_>, _sink: &mut Sink<'_>) {}
    /// Judges the whole capture (e.g. repeats across queries).
    fn check_all(&self, _ctx: &CaptureCtx<'_>, _sink: &mut Sink<'_>) {}
}

/// Options of a query lint run (`[queries]` in dbwarden.toml, and `--show-values`).
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `n-plus-one`: executions of one query within one transaction or trace.
    pub n_plus_one_threshold: usize,
    /// `large-offset`: the largest `OFFSET` not reported.
    pub large_offset: u64,
    /// Print values (literals, parameters) from logs in messages.
    pub show_values: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self { n_plus_one_threshold: 10, large_offset: 1000, show_values: false }
    }
}

impl QueryOptions {
    pub fn from_config(c: &crate::queries::QueriesConfig, show_values: bool) -> Self {
        Self { n_plus_one_threshold: c.n_plus_one_threshold.max(2), large_offset: c.large_offset, show_values }
    }
}

/// What a query rule sees.
pub struct QueryCtx<'a> {
    pub query: &'a CapturedQuery,
    /// The parsed statement; `None` when sqlparser cannot parse the query.
    pub stmt: Option<&'a Statement>,
    pub schema: &'a Schema,
    pub settings: &'a Settings,
    pub options: &'a QueryOptions,
}

impl QueryCtx<'_> {
    /// Values may be printed: the query comes from a `.sql` file, or `--show-values`.
    pub fn values_visible(&self) -> bool {
        self.options.show_values || !self.query.origin.is_sensitive()
    }
}

/// What a rule on the whole capture sees.
pub struct CaptureCtx<'a> {
    pub queries: &'a QuerySet,
    pub schema: &'a Schema,
    pub settings: &'a Settings,
    pub options: &'a QueryOptions,
}

/// A rule that judges a query's plan (and its measured times).
pub trait PlanRule: Sync {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>);
}

/// What a plan rule sees.
pub struct PlanCtx<'a> {
    pub explain: &'a Explain,
    /// Median, min and max over the measured runs; `None` when the query was not measured
    /// (planned only).
    pub timing: Option<&'a Timing>,
    /// The budget that applies to this query, ms.
    pub budget_ms: f64,
    /// The query's name (`-- name:`), for messages.
    pub name: Option<&'a str>,
    pub config: &'a ExplainConfig,
    pub facts: &'a Facts,
}

impl PlanCtx<'_> {
    /// Execution time: the measured median, else this plan's own.
    pub fn execution_ms(&self) -> f64 {
        self.timing.map_or_else(|| self.explain.execution_ms.unwrap_or(0.0), |t| t.median_ms)
    }

    /// Analysed nodes that ran at least once.
    pub fn executed(&self) -> impl Iterator<Item = &Node> {
        let analysed = self.explain.analyzed;
        self.explain.nodes().into_iter().filter(move |n| analysed && !n.never_executed())
    }
}
