//! `dbwarden.toml`: loading, validation and rule selection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::RegexSet;
use serde::Deserialize;

use crate::diagnostic::Severity;

pub const FILE_NAME: &str = "dbwarden.toml";

/// The default PHI table-name patterns (replaced, not extended, by `[phi] patterns`).
pub const DEFAULT_PHI_PATTERNS: &[&str] = &[
    "(?i)patient",
    "(?i)diagnos",
    "(?i)prescri",
    "(?i)medical",
    "(?i)clinical",
    "(?i)health_?record",
    "(?i)lab_?result",
    "(?i)insurance",
    "(?i)medication",
    "(?i)allerg",
    "(?i)immuni[sz]ation",
    "(?i)symptom",
    "(?i)treatment",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub lint: LintConfig,
    pub phi: PhiConfig,
    pub soft_delete: SoftDeleteConfig,
    pub tenancy: TenancyConfig,
    pub audit: AuditConfig,
    /// `[queries]`: thresholds of the query rules (`dbwarden lint --queries`).
    pub queries: QueriesConfig,
    /// `[explain]`: the budget, runs and plan-rule thresholds of `dbwarden explain`.
    pub explain: ExplainConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintConfig {
    pub paths: Vec<PathBuf>,
    pub pg_version: u32,
    pub assume_in_transaction: bool,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
    /// The migration tool of every folder (`"flyway"`, `"sqitch"`, ...), instead of detecting it.
    pub layout: Option<String>,
    /// Globs of files replayed into the schema model but not judged (dumps, baselines).
    pub baseline: Vec<String>,
    /// Globs of files always judged as forward migrations, whatever their layout says.
    pub forward: Vec<String>,
    /// `[lint.placeholders]`: what each template placeholder in the migrations stands for, by
    /// name (`Namespace = "auth"` for `{{ index .Options "Namespace" }}`, `"flyway:defaultSchema"
    /// = "public"` for `${flyway:defaultSchema}`, `schema = "app"` for psql's `:schema`): SQL text,
    /// inserted as written. A placeholder without a value is read as an identifier made of its
    /// name (`namespace`), or for `:'name'` as the string `'name'`.
    pub placeholders: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhiConfig {
    pub tables: Vec<String>,
    pub patterns: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    All,
    Phi,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoftDeleteConfig {
    pub column: String,
    pub require: Require,
}

/// The default audit-log table-name patterns (replaced, not extended, by `[audit] patterns`).
pub const DEFAULT_AUDIT_PATTERNS: &[&str] = &["(?i)^audit_logs?$", "(?i)_audit$"];

/// `[tenancy]`: how tenant-scoped tables are recognised.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenancyConfig {
    /// The tenant column: a table with it must have row-level security (`tenant-table-without-rls`).
    pub column: String,
}

impl Default for TenancyConfig {
    fn default() -> Self {
        Self { column: "org_id".into() }
    }
}

/// `[audit]`: audit-log tables (`mutable-audit-log`) and, for `dbwarden audit`, thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Audit-log tables by name (`"audit_log"` or `"ops.events"`; unqualified means `public`).
    pub tables: Vec<String>,
    /// Regular expressions on table names; replace the defaults ([`DEFAULT_AUDIT_PATTERNS`]).
    pub patterns: Option<Vec<String>>,
    /// `dbwarden audit`: tables with fewer estimated rows are small (an unindexed foreign key
    /// on one is reported as info).
    pub small_table_rows: u64,
    /// `dbwarden audit`: tables with at least this many estimated rows are large (an unindexed
    /// foreign key keeps its configured severity; between small and large it is one level lower
    /// unless the foreign key cascades).
    pub large_table_rows: u64,
    /// `unused-index`: indexes smaller than this (bytes) are not reported.
    pub unused_index_min_bytes: u64,
    /// `stale-statistics`: modifications since the last analyse, as a fraction of the rows,
    /// above which statistics are stale (autovacuum's default trigger is 0.1).
    pub stale_fraction: f64,
    /// `stale-statistics`: and at least this many modifications.
    pub stale_min_modifications: u64,
    /// The statement timeout of the audit's catalog queries (PostgreSQL syntax, e.g. `"30s"`).
    pub statement_timeout: String,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            tables: Vec::new(),
            patterns: None,
            small_table_rows: 10_000,
            large_table_rows: 1_000_000,
            unused_index_min_bytes: 1 << 20,
            stale_fraction: 0.2,
            stale_min_modifications: 1000,
            statement_timeout: "30s".into(),
        }
    }
}

impl Default for LintConfig {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            pg_version: 15,
            assume_in_transaction: false,
            select: vec!["all".into()],
            ignore: Vec::new(),
            severity: BTreeMap::new(),
            layout: None,
            baseline: Vec::new(),
            forward: Vec::new(),
            placeholders: BTreeMap::new(),
        }
    }
}

impl Default for SoftDeleteConfig {
    fn default() -> Self {
        Self { column: "deleted_at".into(), require: Require::Phi }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Parses a configuration file's text. `path` is used in error messages only.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Invalid { path: path.into(), message: e.to_string() })?;
        config.validate(path)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), source: e })?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        // Paths in the config are relative to the config file's folder.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            for p in &mut config.lint.paths {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(config)
    }

    /// Looks for `dbwarden.toml` from `start` upwards.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    /// Checks what the configuration itself can (regexes); rule names are the rules' to check
    /// (`rules::check_names`).
    fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        if let Some(patterns) = &self.phi.patterns {
            RegexSet::new(patterns).map_err(|e| invalid(format!("invalid regex in [phi] patterns: {e}")))?;
        }
        if let Some(patterns) = &self.audit.patterns {
            RegexSet::new(patterns).map_err(|e| invalid(format!("invalid regex in [audit] patterns: {e}")))?;
        }
        if self.lint.pg_version < 9 || self.lint.pg_version > 40 {
            return Err(invalid(format!(
                "[lint] pg_version {} is not a PostgreSQL major version",
                self.lint.pg_version
            )));
        }
        Ok(())
    }

    /// Compiled audit-log table-name patterns.
    pub fn audit_patterns(&self) -> RegexSet {
        match &self.audit.patterns {
            Some(p) => RegexSet::new(p).unwrap_or_else(|_| RegexSet::empty()),
            None => RegexSet::new(DEFAULT_AUDIT_PATTERNS).unwrap_or_else(|_| RegexSet::empty()),
        }
    }

    /// Compiled PHI table-name patterns.
    pub fn phi_patterns(&self) -> RegexSet {
        match &self.phi.patterns {
            Some(p) => RegexSet::new(p).unwrap_or_else(|_| RegexSet::empty()),
            None => RegexSet::new(DEFAULT_PHI_PATTERNS).unwrap_or_else(|_| RegexSet::empty()),
        }
    }
}

/// `[queries]` in dbwarden.toml: thresholds of the query rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueriesConfig {
    /// `n-plus-one`: executions of the same query within one transaction or trace.
    pub n_plus_one_threshold: usize,
    /// `large-offset`: the largest `OFFSET` not reported.
    pub large_offset: u64,
}

impl Default for QueriesConfig {
    fn default() -> Self {
        Self { n_plus_one_threshold: 10, large_offset: 1000 }
    }
}

/// `[explain]` in `dbwarden.toml`: the budget, the runs, and the plan rules' thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExplainConfig {
    /// The budget for a query's median execution time, ms (`--budget-ms`; a query's own
    /// `-- dbwarden: budget=20ms` wins).
    pub budget_ms: f64,
    /// Measured runs (`--runs`).
    pub runs: u32,
    /// Warm-up runs before them (`--warmup`).
    pub warmup: u32,
    /// The budget applies to planning plus execution (`--budget-includes-planning`).
    pub budget_includes_planning: bool,
    /// `statement_timeout` is this multiple of the budget (at least 1 s).
    pub statement_timeout_factor: f64,
    /// `lock_timeout` for every query, ms.
    pub lock_timeout_ms: u64,
    /// No statement timeout above this, ms, whatever a budget asks for (a capture's
    /// `-- dbwarden: budget=` cannot raise it).
    pub max_statement_timeout_ms: f64,
    /// `seq-scan-discards-rows`: fraction of the rows read that the filter removes ...
    pub seq_scan_discard_fraction: f64,
    /// ... and at least this many rows removed.
    pub seq_scan_discard_min_rows: f64,
    /// `index-scan-discards-rows`: fraction removed by the filter ...
    pub index_scan_discard_fraction: f64,
    /// ... and at least this many rows removed.
    pub index_scan_discard_min_rows: f64,
    /// `row-misestimate`: actual and estimated rows differ by this factor ...
    pub misestimate_factor: f64,
    /// ... and by at least this many rows.
    pub misestimate_min_rows: f64,
    /// `nested-loop-inner-scan`: the inner side runs at least this many times ...
    pub nested_loop_min_loops: f64,
    /// ... and is a sequential scan or takes at least this fraction of the execution time.
    pub nested_loop_time_fraction: f64,
    /// `index-only-heap-fetches`: heap fetches as a fraction of the rows returned ...
    pub heap_fetch_fraction: f64,
    /// ... and at least this many.
    pub heap_fetch_min: f64,
    /// `fk-trigger-slow`: a foreign-key trigger taking this fraction of the execution time ...
    pub fk_trigger_fraction: f64,
    /// ... (and at least `fk_trigger_floor_ms`), or at least this many ms.
    pub fk_trigger_min_ms: f64,
    /// The least time a foreign-key trigger must take to be reported at all, ms.
    pub fk_trigger_floor_ms: f64,
    /// `jit-overhead`: JIT time as a fraction of the execution time ...
    pub jit_fraction: f64,
    /// ... and at least this many ms.
    pub jit_min_ms: f64,
    /// `planning-time-high`: planning takes at least this many ms ...
    pub planning_min_ms: f64,
    /// ... and at least this multiple of the execution time.
    pub planning_execution_ratio: f64,
}

impl Default for ExplainConfig {
    fn default() -> Self {
        Self {
            budget_ms: 50.0,
            runs: 5,
            warmup: 1,
            budget_includes_planning: false,
            statement_timeout_factor: 20.0,
            lock_timeout_ms: 200,
            max_statement_timeout_ms: 300_000.0,
            seq_scan_discard_fraction: 0.9,
            seq_scan_discard_min_rows: 10_000.0,
            index_scan_discard_fraction: 0.5,
            index_scan_discard_min_rows: 1_000.0,
            misestimate_factor: 10.0,
            misestimate_min_rows: 100.0,
            nested_loop_min_loops: 1_000.0,
            nested_loop_time_fraction: 0.2,
            heap_fetch_fraction: 0.05,
            heap_fetch_min: 100.0,
            fk_trigger_fraction: 0.1,
            fk_trigger_min_ms: 10.0,
            fk_trigger_floor_ms: 1.0,
            jit_fraction: 0.2,
            jit_min_ms: 10.0,
            planning_min_ms: 10.0,
            planning_execution_ratio: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse("[lint]\npathz = []\n", "x.toml").unwrap_err().to_string();
        assert!(err.contains("pathz"), "{err}");
    }

    #[test]
    fn full_example_parses() {
        let c = Config::parse(
            r#"
[lint]
paths = ["db/migrations"]
pg_version = 15
assume_in_transaction = false
select = ["all"]
ignore = []
[lint.severity]
drop-column = "error"
[lint.placeholders]
Namespace = "auth"
"flyway:defaultSchema" = "public"
[phi]
tables = ["patients", "care.notes"]
patterns = ["(?i)patient"]
[soft_delete]
column = "deleted_at"
require = "phi"
"#,
            "x.toml",
        )
        .unwrap();
        assert_eq!(c.lint.severity["drop-column"], Severity::Error);
        assert_eq!(c.soft_delete.require, Require::Phi);
        assert_eq!(c.lint.placeholders["Namespace"], "auth");
        assert_eq!(c.lint.placeholders["flyway:defaultSchema"], "public");
    }
}
