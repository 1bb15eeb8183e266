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

/// Whether a fix may be applied without review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// The migration reaches the same schema when it succeeds, and the edited SQL runs where it
    /// lands (inside or outside a transaction block, on the target version).
    Safe,
    /// It changes what the migration does, or needs moving (e.g. out of a transaction block).
    Unsafe,
}

/// One change of a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Replaces a byte range of the finding's file (an insertion when the range is empty).
    Replace { range: Range<usize>, text: String },
    /// SQL to run on its own: a new migration after the finding's file (or, on a live database,
    /// a statement to run there).
    New { text: String },
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit::Replace { range: at..at, text: text.into() }
    }

    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Edit::Replace { range, text: text.into() }
    }
}

/// A fix: a title (what it does, for code actions), whether it is safe, and its edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
    /// The statement the `Replace` edits change, so the fix can be shown as that statement edited.
    pub statement: Option<Range<usize>>,
}

impl Fix {
    /// The fix as SQL to read: the statement with the edits applied (given the file's `text`),
    /// then each new statement.
    pub fn preview(&self, text: Option<&str>) -> String {
        let mut out = String::new();
        if let (Some(stmt), Some(text), true) = (&self.statement, text, self.edits_source()) {
            let mut replaces: Vec<(&Range<usize>, &str)> = self
                .edits
                .iter()
                .filter_map(|e| match e {
                    Edit::Replace { range, text } if range.start >= stmt.start && range.end <= stmt.end => {
                        Some((range, text.as_str()))
                    }
                    _ => None,
                })
                .collect();
            replaces.sort_by_key(|(r, _)| (r.start, r.end));
            let mut at = stmt.start;
            for (r, t) in replaces {
                if r.start < at {
                    continue;
                }
                out.push_str(text.get(at..r.start).unwrap_or(""));
                out.push_str(t);
                at = r.end;
            }
            out.push_str(text.get(at..stmt.end).unwrap_or(""));
        }
        for e in &self.edits {
            if let Edit::New { text } = e {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(text);
            }
        }
        out
    }

    /// The fix edits the finding's file (rather than only adding new statements).
    pub fn edits_source(&self) -> bool {
        self.edits.iter().any(|e| matches!(e, Edit::Replace { .. }))
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
    /// What to change instead, as edits, where the rule can propose it.
    pub fix: Option<Fix>,
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
    /// Files by migration tool (its layout name): migrations, and baselines (dumps).
    pub layouts: std::collections::BTreeMap<&'static str, (usize, usize)>,
    /// Files found that are not migrations of their layout, and why.
    pub not_migrations: Vec<(String, &'static str)>,
}

impl Stats {
    pub fn count_layout(&mut self, tool: &'static str, baseline: bool) {
        let e = self.layouts.entry(tool).or_default();
        if baseline {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }

    /// One line: the layouts found, e.g. `prisma (163 migrations), plain (2 migrations, 1 baseline)`.
    pub fn layout_line(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        self.layouts
            .iter()
            .map(|(tool, (fwd, base))| {
                let mut parts = Vec::new();
                if *fwd > 0 {
                    parts.push(plural(*fwd, "migration", "migrations"));
                }
                if *base > 0 {
                    parts.push(plural(*base, "baseline", "baselines"));
                }
                format!("{tool} ({})", parts.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One line: the files skipped as not migrations, by reason.
    pub fn not_migrations_line(&self) -> Option<String> {
        if self.not_migrations.is_empty() {
            return None;
        }
        let mut by: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
        for (path, why) in &self.not_migrations {
            by.entry(why).or_default().push(path);
        }
        let parts: Vec<String> = by
            .iter()
            .map(|(why, paths)| match paths.len() {
                1..=3 => format!("{why}: {}", paths.join(", ")),
                n => format!("{why}: {n} files ({}, ...)", paths[0]),
            })
            .collect();
        Some(parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_previews_as_its_statement_edited_then_new_statements() {
        let text = "SELECT 1;\nCREATE INDEX i ON t (a);\n";
        let stmt = 10..34;
        let fix = Fix {
            title: "t".into(),
            applicability: Applicability::Safe,
            edits: vec![Edit::insert(22, " CONCURRENTLY"), Edit::insert(10, "SET lock_timeout = '5s';\n")],
            statement: Some(stmt.clone()),
        };
        assert_eq!(fix.preview(Some(text)), "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);");
        let added = Fix { edits: vec![Edit::New { text: "ANALYZE t;".into() }], statement: Some(stmt), ..fix };
        assert_eq!(added.preview(Some(text)), "ANALYZE t;", "an addition does not repeat the statement");
        assert!(!added.edits_source());
    }
}
