//! Readers: `.sql` files (`sql`), server logs in stderr, csvlog and jsonlog format (`log`), and
//! pg_stat_statements exports and the live view (`pgss`). Each adds its queries and one anchor
//! file to a [`QuerySet`]. This module detects the format and dispatches; it holds what the readers
//! share: the query constructor, the redacted shadow of an input, and transaction control; `csv`
//! splits CSV for csvlog and pg_stat_statements exports alike.

mod csv;
mod log;
mod pgss;
mod sql;

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use super::{Anchor, CapturedQuery, QueryOrigin, QuerySet, fingerprint, normalise};
use crate::source::SourceFile;

pub use log::parse_parameters;
pub use pgss::{PgssRow, from_pg_stat_statements, read_pg_stat_statements};
pub use sql::{MAX_BUDGET_MS, parse_duration_ms};

/// An input format (`--queries-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Queries written as SQL, one per statement.
    Sql,
    /// A server log written to stderr (any `log_line_prefix`).
    Stderr,
    /// A server log with `log_destination = csvlog`.
    Csvlog,
    /// A server log with `log_destination = jsonlog` (PostgreSQL 15+).
    Jsonlog,
    /// A pg_stat_statements export: CSV with a header row.
    PgssCsv,
    /// A pg_stat_statements export: a JSON array of row objects.
    PgssJson,
}

#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Forced format; detected from the extension and content when `None`.
    pub format: Option<Format>,
    /// `--show-values`: shadows of logs carry the captured text instead of the normalised one.
    pub show_values: bool,
}

/// Reading failed. Messages never contain a value from the input.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Format { path: String, line: usize, message: String },
}

/// Detects the format of a file from its name and first bytes.
pub fn detect(path: &str, text: &str) -> Format {
    let lower = path.to_ascii_lowercase();
    let head = text.trim_start_matches('\u{feff}').trim_start();
    let first_line = head.lines().next().unwrap_or("");
    let pgss_header = first_line.contains("query") && first_line.contains("calls") && first_line.contains(',');
    if lower.ends_with(".sql") {
        Format::Sql
    } else if head.starts_with('[') || (lower.ends_with(".json") && !head.starts_with('{')) {
        Format::PgssJson
    } else if head.starts_with('{') {
        Format::Jsonlog
    } else if pgss_header {
        Format::PgssCsv
    } else if lower.ends_with(".csv") || log::is_csvlog_line(first_line) {
        Format::Csvlog
    } else if lower.ends_with(".log") || lower.contains("postgresql") || log::severity_at(first_line).is_some() {
        Format::Stderr
    } else {
        Format::Sql
    }
}

/// Reads one file into `set`.
pub fn read_path(path: &Path, opts: &ReadOptions, set: &mut QuerySet) -> Result<(), ReadError> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io { path: display.clone(), source })?;
    let text = crate::source::decode(bytes);
    read_text(&display, &text, opts, set)
}

/// Reads `text` (named `path`) into `set`.
pub fn read_text(path: &str, text: &str, opts: &ReadOptions, set: &mut QuerySet) -> Result<(), ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match opts.format.unwrap_or_else(|| detect(path, text)) {
        Format::Sql => return sql::read(path, text, set),
        Format::Stderr => log::add_entries(path, text, log::stderr_entries(text), opts, set),
        Format::Csvlog => log::add_entries(path, text, log::csv_entries(path, text, &mut set.warnings)?, opts, set),
        Format::Jsonlog => log::add_entries(path, text, log::json_entries(path, text, &mut set.warnings)?, opts, set),
        Format::PgssCsv => pgss::add_rows(Some(path), text, pgss::csv_rows(path, text)?, opts, set),
        Format::PgssJson => pgss::add_rows(Some(path), text, pgss::json_rows(path, text)?, opts, set),
    }
    Ok(())
}

/// The `traceparent` of a sqlcommenter comment (`/*traceparent='00-...-01'*/`, URL-encoded or not).
pub fn traceparent(sql: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"traceparent\s*=\s*'?(?:%27)?([0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2})")
            .expect("valid regex")
    });
    let start = sql.find("/*")?;
    re.captures(&sql[start..]).map(|c| c[1].to_ascii_lowercase())
}

/// A query captured from `origin` with its normalised text, fingerprint and traceparent, anchored
/// in `file` (the span is set by the reader, or by [`shadow`]); the other fields are empty.
fn captured(body: &str, origin: QueryOrigin, file: usize) -> CapturedQuery {
    let normalised = normalise(body);
    CapturedQuery {
        text: body.to_owned(),
        origin,
        anchor: Anchor { file, span: 0..0 },
        name: None,
        budget_ms: None,
        params: Vec::new(),
        fingerprint: fingerprint(&normalised),
        normalised,
        calls: None,
        total_ms: None,
        session: None,
        transaction: None,
        traceparent: traceparent(body),
        prepared_name: None,
    }
}

/// `BEGIN`, `COMMIT`, `SAVEPOINT` and the like: they delimit transactions, they are not queries.
fn is_transaction_control(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("").trim_end_matches(';').to_ascii_uppercase();
    matches!(first.as_str(), "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE")
}

/// Builds the redacted shadow of an input: its line structure, each line empty except the lines
/// where queries start, which hold their display text; anchors the queries there.
fn shadow(path: &str, text: &str, file: usize, first: usize, lines: &[usize], show_values: bool, set: &mut QuerySet) {
    let count = text.lines().count().max(lines.iter().copied().max().unwrap_or(1));
    let mut content: Vec<String> = vec![String::new(); count];
    for (k, &line) in lines.iter().enumerate() {
        let q = &set.queries[first + k];
        let shown =
            if show_values { q.text.split_whitespace().collect::<Vec<_>>().join(" ") } else { q.normalised.clone() };
        let slot = &mut content[line - 1];
        if slot.is_empty() {
            *slot = shown;
        } else if !slot.split("; ").any(|s| s == shown) {
            slot.push_str("; ");
            slot.push_str(&shown);
        }
    }
    let mut starts = Vec::with_capacity(count);
    let mut out = String::new();
    for l in &content {
        starts.push(out.len());
        out.push_str(l);
        out.push('\n');
    }
    for (k, &line) in lines.iter().enumerate() {
        let start = starts[line - 1];
        let len = content[line - 1].len().max(1);
        set.queries[first + k].anchor = Anchor { file, span: start..start + len };
    }
    set.files.push(SourceFile::new(path, out));
}
