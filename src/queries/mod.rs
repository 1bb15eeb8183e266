//! Captured queries: the application's real queries, read from `.sql` files, PostgreSQL server
//! logs (stderr, csvlog, jsonlog) and pg_stat_statements (an export, or the live view).
//!
//! Every query keeps where it came from ([`QueryOrigin`], for messages) and an [`Anchor`] (a file
//! of [`QuerySet::files`] and a byte span in it, for findings: `Diagnostic { file, span }`).
//!
//! **Values are sensitive.** Literals and parameter values from logs and pg_stat_statements may be
//! patient data. [`CapturedQuery::text`] and [`CapturedQuery::params`] hold them (the runner needs
//! them); anything printed must use [`CapturedQuery::display`], which is the normalised text
//! (literals replaced by `$n`) unless the user passed `--show-values`. The files a log query is
//! anchored in are *redacted shadows* of the log (see [`QuerySet::files`]), so renderers that show
//! a snippet of the anchored line never show a value.

pub mod fingerprint;
pub mod read;
pub mod redact;

use std::ops::Range;

use crate::source::SourceFile;

pub use fingerprint::{fingerprint, normalise};
pub use read::{Format, ReadError, ReadOptions, read_path, read_pg_stat_statements};

pub use crate::config::QueriesConfig;

/// Where a captured query came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueryOrigin {
    /// A statement of a `.sql` file; `line` is 1-based (the statement's first line).
    File { path: String, line: usize },
    /// A server log (any format); `line` is the 1-based line of the log entry that carried the
    /// statement (for the extended protocol: the `execute` line).
    Log { path: String, line: usize },
    /// A pg_stat_statements row: from an export file (`path`, 1-based `line` of the row; for a
    /// JSON array, the line where the row's object starts), or from the live view (`path: None`).
    PgStatStatements { path: Option<String>, line: Option<usize>, queryid: Option<i64> },
}

impl QueryOrigin {
    /// `path:line`, or `pg_stat_statements (queryid N)`: safe to print.
    pub fn display(&self) -> String {
        match self {
            QueryOrigin::File { path, line } | QueryOrigin::Log { path, line } => format!("{path}:{line}"),
            QueryOrigin::PgStatStatements { path: Some(p), line: Some(l), .. } => format!("{p}:{l}"),
            QueryOrigin::PgStatStatements { path: Some(p), line: None, .. } => p.clone(),
            QueryOrigin::PgStatStatements { path: None, queryid: Some(q), .. } => {
                format!("pg_stat_statements (queryid {q})")
            }
            QueryOrigin::PgStatStatements { path: None, queryid: None, .. } => "pg_stat_statements".into(),
        }
    }

    /// Values in queries from this source may be patient data (logs, pg_stat_statements).
    pub fn is_sensitive(&self) -> bool {
        !matches!(self, QueryOrigin::File { .. })
    }
}

/// Where findings on a query are reported: `file` indexes [`QuerySet::files`], `span` is a byte
/// range in that file's text (never empty). Use as `Diagnostic { file, span, .. }` after offsetting
/// `file` by the number of files that come before the query files in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub file: usize,
    pub span: Range<usize>,
}

/// One captured query.
#[derive(Debug, Clone)]
pub struct CapturedQuery {
    /// The SQL as captured, with its literals (for logs: possibly patient data; never print it
    /// unless `--show-values`: use [`CapturedQuery::display`]). One statement, without the
    /// trailing semicolon.
    pub text: String,
    pub origin: QueryOrigin,
    pub anchor: Anchor,
    /// From a `-- name: list_upcoming_appointments` comment before the query (`.sql` files).
    pub name: Option<String>,
    /// From a `-- dbwarden: budget=20ms` comment before the query (`.sql` files); `s` and `ms`
    /// units are accepted.
    pub budget_ms: Option<f64>,
    /// Values of `$1`, `$2`, ... from the log's `parameters:` detail (index 0 is `$1`); `None` is
    /// SQL NULL. Empty when the source has none. Sensitive.
    pub params: Vec<Option<String>>,
    /// 16 hex digits identifying the normalised query: repeats of the same query with other
    /// literals, parameters, IN-list lengths, whitespace or keyword case share it.
    pub fingerprint: String,
    /// The normalised text: literals and parameters as `$n` (numbered in order), IN-lists as
    /// `IN ($n, ...)`, whitespace collapsed, keywords uppercased. Safe to print.
    pub normalised: String,
    /// Executions: from pg_stat_statements `calls`; for logs, 1 per entry (repeats are grouped
    /// later by fingerprint); `None` for `.sql` files.
    pub calls: Option<u64>,
    /// Total execution time in ms: pg_stat_statements `total_exec_time` (`total_time` before
    /// PG13), or the log's `duration:`.
    pub total_ms: Option<f64>,
    /// Session id from the log (`%c` in log_line_prefix, `session_id` in csv/json), or the
    /// process id (`%p`, `pid`) when only that is known.
    pub session: Option<String>,
    /// Virtual or real transaction id from the log (`%v`/`%x`, `virtual_transaction_id`/
    /// `transaction_id`; a real xid of 0 is ignored).
    pub transaction: Option<String>,
    /// The sqlcommenter `traceparent` from a trailing `/*traceparent='...'*/` comment.
    pub traceparent: Option<String>,
    /// The name of the prepared statement (`execute <name>:`), when the log shows one.
    pub prepared_name: Option<String>,
}

impl CapturedQuery {
    /// The text to show the user: the captured text for `.sql` files or with `show_values`, the
    /// normalised text otherwise.
    pub fn display(&self, show_values: bool) -> &str {
        if show_values || !self.origin.is_sensitive() { &self.text } else { &self.normalised }
    }
}

/// Reading the inputs of a run failed. Messages never contain a value from the input.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// Reads every `--queries` path (a folder: its `.sql`, `.log`, `.csv` and `.json` files, in
/// natural order), then, with `pgss`, the target database's pg_stat_statements view.
pub fn read_inputs(
    paths: &[std::path::PathBuf],
    opts: &ReadOptions,
    pgss: Option<&crate::db::Target>,
) -> Result<QuerySet, InputError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        if p.is_dir() {
            let io = |source| ReadError::Io { path: p.display().to_string(), source };
            let root = std::fs::canonicalize(p).map_err(io)?;
            let mut found = Vec::new();
            collect_dir(p, &root, &mut found, &mut skipped).map_err(io)?;
            found.sort_by(|a, b| crate::source::natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut set = QuerySet::read(&files, opts)?;
    set.skipped = skipped;
    if let Some(target) = pgss {
        read::from_pg_stat_statements(target, opts, &mut set)?;
    }
    Ok(set)
}

/// The input files of a folder; as for migrations, symlinked folders are not entered, a symlink
/// is read only when it stays inside `root`, and special files never (see
/// [`crate::source::check_readable`]).
fn collect_dir(
    dir: &std::path::Path,
    root: &std::path::Path,
    out: &mut Vec<std::path::PathBuf>,
    skipped: &mut Vec<crate::source::Skipped>,
) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            collect_dir(&p, root, out, skipped)?;
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "sql" | "log" | "csv" | "json"))
        {
            match crate::source::check_readable(&p, Some(root)) {
                Ok(()) => out.push(p),
                Err(reason) => skipped.push(crate::source::Skipped { path: p, reason }),
            }
        }
    }
    Ok(())
}

/// The queries of one run, and the files they are anchored in.
#[derive(Debug, Default)]
pub struct QuerySet {
    pub queries: Vec<CapturedQuery>,
    /// One per input: for `.sql` files the file itself; for logs and exports a redacted shadow
    /// with the same path and line numbers, whose lines are empty except where a query starts,
    /// which holds that query's display text (normalised unless `--show-values`). Renderers can
    /// therefore show snippets safely.
    pub files: Vec<SourceFile>,
    /// Files found in the folders given and not read (symlinks out of the folder, special files).
    pub skipped: Vec<crate::source::Skipped>,
    /// What was read only in part (a log cut off in the middle of its last record), for stderr.
    pub warnings: Vec<String>,
}

impl QuerySet {
    /// Reads every path, in order (each with its own detected format unless one is forced).
    pub fn read(paths: &[std::path::PathBuf], opts: &ReadOptions) -> Result<Self, ReadError> {
        let mut set = QuerySet::default();
        for p in paths {
            read_path(p, opts, &mut set)?;
        }
        Ok(set)
    }

    /// Inputs in which no query was found (a wrong `--queries-format`, or a log without
    /// statement logging): their paths.
    pub fn empty_inputs(&self) -> Vec<&str> {
        (0..self.files.len())
            .filter(|&f| !self.queries.iter().any(|q| q.anchor.file == f))
            .map(|f| self.files[f].path.as_str())
            .collect()
    }

    /// The queries grouped by fingerprint, in first-seen order: (fingerprint, indices).
    pub fn groups(&self) -> Vec<(&str, Vec<usize>)> {
        let mut order: Vec<(&str, Vec<usize>)> = Vec::new();
        let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, q) in self.queries.iter().enumerate() {
            match at.get(q.fingerprint.as_str()) {
                Some(&g) => order[g].1.push(i),
                None => {
                    at.insert(&q.fingerprint, order.len());
                    order.push((&q.fingerprint, vec![i]));
                }
            }
        }
        order
    }
}
