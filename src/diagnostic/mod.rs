//! Findings: what a rule reports.

pub mod baseline;

use std::ops::Range;

pub use crate::rules::list::RuleId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// One level lower (info stays info).
    pub fn lower(self) -> Self {
        match self {
            Severity::Error => Severity::Warning,
            Severity::Warning | Severity::Info => Severity::Info,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding matters compared with the rule's usual case: rules report impact as data
/// (a table is small, holds no patient data), and the pipeline derives the severity from it and
/// the configured severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Impact {
    /// The configured severity.
    #[default]
    Usual,
    /// One level below the configured severity (e.g. `missing-soft-delete` on a table without
    /// patient data).
    Lower,
    /// At most `info` (e.g. an unindexed foreign key on a live table of a few hundred rows).
    Negligible,
}

impl Impact {
    /// The severity of a finding of this impact for a rule configured at `configured`.
    pub fn severity(self, configured: Severity) -> Severity {
        match self {
            Impact::Usual => configured,
            Impact::Lower => configured.lower(),
            Impact::Negligible => configured.min(Severity::Info),
        }
    }
}

/// One finding. Positions are byte offsets into the file's text; renderers convert them.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: RuleId,
    pub severity: Severity,
    /// Index of the file in the lint run (unused when `object` is set).
    pub file: usize,
    /// For findings on a live database: the object (`schema.table[.constraint_or_index]`)
    /// instead of a file position.
    pub object: Option<String>,
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
    /// The safe SQL to use instead, where the rule can propose it.
    pub fix: Option<String>,
    /// The byte range `fix` replaces (the statement), when it is a replacement rather than a
    /// statement to add.
    pub fix_replaces: Option<Range<usize>>,
    /// The finding's impact, which sets its severity relative to the configured one.
    pub impact: Impact,
    /// For findings on a live table: its estimated rows and total size in bytes.
    pub table_stats: Option<(f64, i64)>,
    /// For findings on a captured query: what identifies it (`--format json` prints it).
    pub query: Option<Box<QueryInfo>>,
    /// The fingerprint given by the run (see `render::fingerprint`), when it was computed before
    /// some findings were filtered out; renderers use it instead of computing one.
    pub fingerprint: Option<String>,
}

/// A captured query, as findings on it carry it. Holds no value from a log (the text is the
/// normalised one unless `--show-values`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueryInfo {
    /// 16 hex digits: repeats with other literals or parameters share it.
    pub fingerprint: String,
    /// From `-- name: ...` in a `.sql` file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Executions (pg_stat_statements `calls`, or the log entries of this query in its file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<u64>,
    /// Total execution time over those calls, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<f64>,
    /// The query as shown: normalised for logs and exports, as written for `.sql` files.
    pub text: String,
}

/// Counts for `--statistics` and the corpus report.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub files: usize,
    pub statements: usize,
    pub parsed: usize,
    pub recognised: usize,
    pub failed: usize,
    /// Statements understood by the recogniser only, by kind.
    pub recognised_kinds: std::collections::BTreeMap<&'static str, usize>,
}
