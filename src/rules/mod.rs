//! Rules: the one registration list, the rule traits and their contexts.

pub mod catalogue;
pub mod engine;
pub mod plan;
pub mod query;
mod schema;
mod statement;
pub(crate) mod util;

use std::sync::OnceLock;

use regex::RegexSet;

use crate::config::{Config, Require};
use crate::diagnostic::{Severity, Sink};
use crate::parse::Stmt;
use crate::parse::ir::ObjName;
use crate::schema::{QualName, Schema, Table};
use catalogue::Entry;

/// A rule that judges one statement, seeing the schema as it was before the statement.
pub trait StatementRule: Sync {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>);
}

/// A rule that judges the schema after the last migration.
pub trait SchemaRule: Sync {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>);
}

pub enum Kind {
    Statement(&'static dyn StatementRule),
    Schema(&'static dyn SchemaRule),
    /// A schema rule that needs a live database (statistics, validity, sequences): run by
    /// `dbwarden audit` only. Its fixtures are live-database tests (`tests/audit.rs`), and its
    /// catalogue examples are SQL run on a database there, not migrations.
    Live(&'static dyn SchemaRule),
    /// A rule on a captured query's `EXPLAIN` plan and measured times: run by `dbwarden explain`
    /// only. Its fixtures are captured plans (`fixtures/plans/`, tests/plans.rs), and its catalogue
    /// examples name a plan file there.
    Plan(&'static dyn plan::PlanRule),
    /// A rule on captured queries (`dbwarden lint --queries`), with the schema from the
    /// migrations. Its fixtures are in `fixtures/queries/rules/` (tests/queries.rs), and its
    /// catalogue examples are queries (with an optional `schema`), checked there too.
    Query(&'static dyn query::QueryRule),
    /// Reported by the engine itself (syntax errors, suppressions, internal errors).
    Builtin,
}

pub struct RuleDef {
    pub name: &'static str,
    pub kind: Kind,
    /// The catalogue entry, `rules/NAME.toml`.
    pub toml: &'static str,
    /// Reported at most once per file (at the first statement that triggers it).
    pub once_per_file: bool,
}

macro_rules! rule {
    ($name:literal, $kind:ident($imp:expr)) => {
        rule!($name, $kind($imp), false)
    };
    ($name:literal, $kind:ident($imp:expr), $once:expr) => {
        RuleDef {
            name: $name,
            kind: Kind::$kind(&$imp),
            toml: include_str!(concat!("../../rules/", $name, ".toml")),
            once_per_file: $once,
        }
    };
    ($name:literal) => {
        RuleDef {
            name: $name,
            kind: Kind::Builtin,
            toml: include_str!(concat!("../../rules/", $name, ".toml")),
            once_per_file: false,
        }
    };
}

/// Every rule, in documentation order. Adding a rule adds one line here.
pub static RULES: &[RuleDef] = &[
    rule!("index-not-concurrent", Statement(statement::index_not_concurrent::IndexNotConcurrent)),
    rule!("drop-index-not-concurrent", Statement(statement::drop_index_not_concurrent::DropIndexNotConcurrent)),
    rule!("reindex-not-concurrent", Statement(statement::reindex_not_concurrent::ReindexNotConcurrent)),
    rule!("concurrent-in-transaction", Statement(statement::concurrent_in_transaction::ConcurrentInTransaction)),
    rule!(
        "foreign-key-without-not-valid",
        Statement(statement::foreign_key_without_not_valid::ForeignKeyWithoutNotValid)
    ),
    rule!("check-without-not-valid", Statement(statement::check_without_not_valid::CheckWithoutNotValid)),
    rule!("set-not-null", Statement(statement::set_not_null::SetNotNull)),
    rule!("add-column-volatile-default", Statement(statement::add_column_volatile_default::AddColumnVolatileDefault)),
    rule!("add-required-column", Statement(statement::add_required_column::AddRequiredColumn)),
    rule!("add-column-rewrite", Statement(statement::add_column_rewrite::AddColumnRewrite)),
    rule!("alter-column-type", Statement(statement::alter_column_type::AlterColumnType)),
    rule!("rename-column", Statement(statement::rename_column::RenameColumn)),
    rule!("rename-table", Statement(statement::rename_table::RenameTable)),
    rule!("drop-column", Statement(statement::drop_column::DropColumn)),
    rule!("drop-table", Statement(statement::drop_table::DropTable)),
    rule!(
        "unique-constraint-without-index",
        Statement(statement::unique_constraint_without_index::UniqueConstraintWithoutIndex)
    ),
    rule!("blocking-maintenance", Statement(statement::blocking_maintenance::BlockingMaintenance)),
    rule!("missing-lock-timeout", Statement(statement::missing_lock_timeout::MissingLockTimeout), true),
    rule!("unindexed-foreign-key", Schema(schema::unindexed_foreign_key::UnindexedForeignKey)),
    rule!("cascade-on-phi", Schema(schema::cascade_on_phi::CascadeOnPhi)),
    rule!("missing-soft-delete", Schema(schema::missing_soft_delete::MissingSoftDelete)),
    rule!("unique-ignores-soft-delete", Schema(schema::unique_ignores_soft_delete::UniqueIgnoresSoftDelete)),
    rule!("missing-primary-key", Schema(schema::missing_primary_key::MissingPrimaryKey)),
    rule!("tenant-table-without-rls", Schema(schema::tenant_table_without_rls::TenantTableWithoutRls)),
    rule!("rls-without-policy", Schema(schema::rls_without_policy::RlsWithoutPolicy)),
    rule!("mutable-audit-log", Schema(schema::mutable_audit_log::MutableAuditLog)),
    rule!("phi-without-audit-trigger", Schema(schema::phi_without_audit_trigger::PhiWithoutAuditTrigger)),
    rule!("invalid-index", Live(schema::invalid_index::InvalidIndex)),
    rule!("duplicate-index", Live(schema::duplicate_index::DuplicateIndex)),
    rule!("unused-index", Live(schema::unused_index::UnusedIndex)),
    rule!("not-valid-constraint", Live(schema::not_valid_constraint::NotValidConstraint)),
    rule!("sequence-near-overflow", Live(schema::sequence_near_overflow::SequenceNearOverflow)),
    rule!("stale-statistics", Live(schema::stale_statistics::StaleStatistics)),
    rule!("schema-drift", Live(schema::schema_drift::SchemaDrift)),
    rule!("n-plus-one", Query(query::n_plus_one::NPlusOne)),
    rule!("select-star", Query(query::select_star::SelectStar)),
    rule!("update-without-where", Query(query::update_without_where::UpdateWithoutWhere)),
    rule!("delete-without-where", Query(query::delete_without_where::DeleteWithoutWhere)),
    rule!("missing-soft-delete-filter", Query(query::missing_soft_delete_filter::MissingSoftDeleteFilter)),
    rule!(
        "hard-delete-on-soft-delete-table",
        Query(query::hard_delete_on_soft_delete_table::HardDeleteOnSoftDeleteTable)
    ),
    rule!("unindexed-predicate", Query(query::unindexed_predicate::UnindexedPredicate)),
    rule!("leading-wildcard-like", Query(query::leading_wildcard_like::LeadingWildcardLike)),
    rule!("non-sargable-predicate", Query(query::non_sargable_predicate::NonSargablePredicate)),
    rule!("large-offset", Query(query::large_offset::LargeOffset)),
    rule!("order-by-random", Query(query::order_by_random::OrderByRandom)),
    rule!("not-in-subquery", Query(query::not_in_subquery::NotInSubquery)),
    rule!("pooler-incompatible", Query(query::pooler_incompatible::PoolerIncompatible)),
    rule!("over-budget", Plan(plan::over_budget::OverBudget)),
    rule!("seq-scan-discards-rows", Plan(plan::seq_scan_discards_rows::SeqScanDiscardsRows)),
    rule!("index-scan-discards-rows", Plan(plan::index_scan_discards_rows::IndexScanDiscardsRows)),
    rule!("row-misestimate", Plan(plan::row_misestimate::RowMisestimate)),
    rule!("sort-spill", Plan(plan::sort_spill::SortSpill)),
    rule!("hash-spill", Plan(plan::hash_spill::HashSpill)),
    rule!("nested-loop-inner-scan", Plan(plan::nested_loop_inner_scan::NestedLoopInnerScan)),
    rule!("lossy-bitmap", Plan(plan::lossy_bitmap::LossyBitmap)),
    rule!("index-only-heap-fetches", Plan(plan::index_only_heap_fetches::IndexOnlyHeapFetches)),
    rule!("fk-trigger-slow", Plan(plan::fk_trigger_slow::FkTriggerSlow)),
    rule!("jit-overhead", Plan(plan::jit_overhead::JitOverhead)),
    rule!("planning-time-high", Plan(plan::planning_time_high::PlanningTimeHigh)),
    rule!("query-refused"),
    rule!("query-failed"),
    rule!("budget-not-measured"),
    rule!("sequence-consumed"),
    rule!("syntax-error"),
    rule!("unused-suppression"),
    rule!("suppression-without-reason"),
    rule!("internal-error"),
];

fn entries() -> &'static [Entry] {
    static CATALOGUE: OnceLock<Vec<Entry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                Entry::parse(r.toml).unwrap_or_else(|e| Entry {
                    name: r.name.into(),
                    category: "meta".into(),
                    severity: Severity::Error,
                    summary: format!("(catalogue entry does not parse: {e})"),
                    why: String::new(),
                    instead: String::new(),
                    help: String::new(),
                    pg_versions: "all".into(),
                    references: Vec::new(),
                    aliases: Vec::new(),
                    examples: Vec::new(),
                })
            })
            .collect()
    })
}

/// The catalogue entry of the rule at `RULES[i]`.
pub fn entry(i: usize) -> &'static Entry {
    &entries()[i]
}

/// Finds a rule by name or alias.
pub fn lookup(name: &str) -> Option<usize> {
    RULES
        .iter()
        .position(|r| r.name == name)
        .or_else(|| entries().iter().position(|e| e.aliases.iter().any(|a| a == name)))
}

/// A name usable in `select` / `ignore`: `all`, a category or a rule.
pub fn is_selector(name: &str) -> bool {
    name == "all" || catalogue::CATEGORIES.iter().any(|(c, _)| *c == name) || lookup(name).is_some()
}

/// The configuration, resolved for a run.
pub struct Settings {
    pub pg_version: u32,
    pub assume_in_transaction: bool,
    /// Per rule (index into `RULES`): enabled.
    pub enabled: Vec<bool>,
    pub severity: Vec<Severity>,
    pub phi_patterns: RegexSet,
    pub phi_tables: Vec<QualName>,
    pub soft_delete_column: String,
    pub soft_delete_require: Require,
    /// `[tenancy] column`.
    pub tenant_column: String,
    pub audit_tables: Vec<QualName>,
    pub audit_patterns: RegexSet,
    /// `[audit]` thresholds for `dbwarden audit`.
    pub audit: crate::config::AuditConfig,
}

impl Settings {
    pub fn new(config: &Config) -> Self {
        let matches = |sel: &str, i: usize| {
            sel == "all" || sel == RULES[i].name || entry(i).category == sel || lookup(sel) == Some(i)
        };
        let enabled = (0..RULES.len())
            .map(|i| {
                config.lint.select.iter().any(|s| matches(s, i)) && !config.lint.ignore.iter().any(|s| matches(s, i))
            })
            .collect();
        let severity = (0..RULES.len())
            .map(|i| {
                config.lint.severity.iter().find(|(k, _)| lookup(k) == Some(i)).map_or(entry(i).severity, |(_, v)| *v)
            })
            .collect();
        let qualify = |t: &String| match t.split_once('.') {
            Some((s, n)) => QualName { schema: s.to_owned(), name: n.to_owned() },
            None => QualName { schema: "public".into(), name: t.clone() },
        };
        let phi_tables = config.phi.tables.iter().map(qualify).collect();
        Self {
            pg_version: config.lint.pg_version,
            assume_in_transaction: config.lint.assume_in_transaction,
            enabled,
            severity,
            phi_patterns: config.phi_patterns(),
            phi_tables,
            soft_delete_column: config.soft_delete.column.clone(),
            soft_delete_require: config.soft_delete.require,
            tenant_column: config.tenancy.column.clone(),
            audit_tables: config.audit.tables.iter().map(qualify).collect(),
            audit_patterns: config.audit_patterns(),
            audit: config.audit.clone(),
        }
    }

    pub fn is_enabled(&self, name: &str) -> bool {
        lookup(name).is_some_and(|i| self.enabled[i])
    }

    /// Whether the table holds patient data (config, name pattern, comment or annotation).
    pub fn is_phi(&self, table: &Table) -> bool {
        table.phi_marked
            || self.phi_tables.contains(&table.name)
            || self.phi_patterns.is_match(&table.name.name)
            || table.comment.as_deref().is_some_and(util::mentions_phi)
    }

    /// Whether the table is an audit log (`[audit] tables` / `patterns`).
    pub fn is_audit_table(&self, table: &QualName) -> bool {
        self.audit_tables.contains(table) || self.audit_patterns.is_match(&table.name)
    }
}

/// What a statement rule sees.
pub struct StmtCtx<'a> {
    pub stmt: &'a Stmt,
    /// The file's text.
    pub text: &'a str,
    /// The schema before this statement.
    pub schema: &'a Schema,
    pub file: usize,
    /// Inside an explicit transaction block, a `DO` block, or a file the tool wraps in one.
    pub in_transaction: bool,
    /// A `SET [LOCAL] lock_timeout` came earlier in the file.
    pub lock_timeout_set: bool,
    pub settings: &'a Settings,
    /// Answers of [`StmtCtx::is_new_table`] for this statement (a dozen rules ask it about the
    /// same table).
    pub new_tables: std::cell::RefCell<Vec<(ObjName, bool)>>,
}

impl StmtCtx<'_> {
    pub fn table(&self, name: &ObjName) -> Option<&Table> {
        self.schema.table(name)
    }

    /// The table was created earlier in this file (so it is new and empty).
    pub fn is_new_table(&self, name: &ObjName) -> bool {
        if let Some((_, new)) = self.new_tables.borrow().iter().find(|(n, _)| n == name) {
            return *new;
        }
        let new =
            self.table(name).is_some_and(|t| t.created.file() == Some(self.file)) || self.schema.is_temporary(name);
        self.new_tables.borrow_mut().push((name.clone(), new));
        new
    }

    /// The materialized view was created earlier in this file.
    pub fn is_new_matview(&self, name: &ObjName) -> bool {
        self.schema.matviews.get(name as &dyn crate::schema::NameKey).is_some_and(|&f| f == self.file)
    }

    pub fn sql(&self) -> &str {
        &self.text[self.stmt.range.clone()]
    }
}

/// What a schema rule sees.
pub struct SchemaCtx<'a> {
    pub schema: &'a Schema,
    pub settings: &'a Settings,
    /// `dbwarden audit --migrations`: the schema the migrations build, to compare with the live one.
    pub migrations: Option<&'a Schema>,
}
