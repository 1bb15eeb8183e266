//! pg_stat_statements: exports (CSV with a header row, or a JSON array of row objects) and the
//! live view. Every version's column names are read (`total_exec_time` since 13, `total_time`
//! before).

use std::collections::HashMap;

use super::{ReadError, ReadOptions, captured, csv, is_transaction_control, shadow};
use crate::queries::{CapturedQuery, QueryOrigin, QuerySet};

/// One row of pg_stat_statements, whatever its version's column names.
#[derive(Debug, Default)]
pub struct PgssRow {
    pub line: Option<usize>,
    pub query: String,
    pub queryid: Option<i64>,
    pub calls: Option<u64>,
    pub total_ms: Option<f64>,
}

impl PgssRow {
    /// Builds a row from a column lookup: `total_exec_time` (PG13+) or `total_time` (PG9.4-12).
    fn from_columns(line: Option<usize>, get: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let query = get("query")?;
        Some(PgssRow {
            line,
            query,
            queryid: get("queryid").and_then(|v| v.trim().parse().ok()),
            calls: get("calls").and_then(|v| v.trim().parse::<f64>().ok()).map(|c| c.max(0.0) as u64),
            total_ms: get("total_exec_time").or_else(|| get("total_time")).and_then(|v| v.trim().parse().ok()),
        })
    }
}

pub(super) fn csv_rows(path: &str, text: &str) -> Result<Vec<PgssRow>, ReadError> {
    let err = |line: usize, message: &str| ReadError::Format { path: path.to_owned(), line, message: message.into() };
    let records = csv::records(text).map_err(|(l, _)| err(l, "unterminated quoted field"))?;
    let Some((_, header)) = records.first() else { return Ok(Vec::new()) };
    let col: HashMap<&str, usize> = header.iter().enumerate().map(|(i, h)| (h.trim(), i)).collect();
    if !col.contains_key("query") {
        return Err(err(
            1,
            "the header has no `query` column (expected a pg_stat_statements export with a header row)",
        ));
    }
    Ok(records[1..]
        .iter()
        .filter_map(|(line, f)| PgssRow::from_columns(Some(*line), &|k| col.get(k).and_then(|&i| f.get(i)).cloned()))
        .collect())
}

/// A row's column as text: strings as they are, other values as JSON, `null` as absent.
fn json_column(row: &serde_json::Value, column: &str) -> Option<String> {
    match row.get(column)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Lines where each top-level element of a JSON array starts.
fn array_element_lines(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let (mut depth, mut line, mut in_str, mut esc) = (0usize, 1usize, false, false);
    let mut out = Vec::new();
    for &c in b {
        if c == b'\n' {
            line += 1;
        }
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                if depth == 1 && c == b'{' {
                    out.push(line);
                }
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

pub(super) fn json_rows(path: &str, text: &str) -> Result<Vec<PgssRow>, ReadError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ReadError::Format {
        path: path.to_owned(),
        line: e.line(),
        message: "not a JSON array of pg_stat_statements rows".into(),
    })?;
    let rows = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Null => Vec::new(),
        _ => {
            return Err(ReadError::Format {
                path: path.to_owned(),
                line: 1,
                message: "expected a JSON array of pg_stat_statements rows".into(),
            });
        }
    };
    let lines = array_element_lines(text);
    Ok(rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| PgssRow::from_columns(lines.get(i).copied(), &|k| json_column(r, k)))
        .collect())
}

/// Turns pg_stat_statements rows into queries (transaction control left out) and adds the input's
/// redacted shadow.
pub(super) fn add_rows(path: Option<&str>, text: &str, rows: Vec<PgssRow>, opts: &ReadOptions, set: &mut QuerySet) {
    let file = set.files.len();
    let first = set.queries.len();
    let mut lines = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let body = row.query.trim().trim_end_matches(';').trim_end();
        if body.is_empty() || is_transaction_control(body) {
            continue;
        }
        let line = row.line.unwrap_or(i + 1);
        lines.push(line);
        let origin = QueryOrigin::PgStatStatements {
            path: path.map(str::to_owned),
            line: path.and(row.line),
            queryid: row.queryid,
        };
        set.queries.push(CapturedQuery { calls: row.calls, total_ms: row.total_ms, ..captured(body, origin, file) });
    }
    shadow(path.unwrap_or("pg_stat_statements"), text, file, first, &lines, opts.show_values, set);
}

/// Connects to `target` and reads its pg_stat_statements view into `set`. Errors name the target
/// without its password.
pub fn from_pg_stat_statements(
    target: &crate::db::Target,
    opts: &ReadOptions,
    set: &mut QuerySet,
) -> Result<(), crate::db::DbError> {
    let mut client = target.connect()?;
    read_pg_stat_statements(&mut client, opts, set).map_err(|e| {
        let text = crate::db::error_text(&e);
        let message = if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) {
            format!(
                "{}: pg_stat_statements is not installed in this database (it needs \
                 `shared_preload_libraries = 'pg_stat_statements'` and `CREATE EXTENSION pg_stat_statements`)",
                target.display()
            )
        } else {
            format!("{}: cannot read pg_stat_statements: {}", target.display(), target.scrub(&text))
        };
        crate::db::DbError::Query { message }
    })
}

/// Reads the `pg_stat_statements` view of the connected database into `set` (rows of the current
/// database, most total time first). Column renames across versions (`total_time` before 13,
/// `total_exec_time` since) are handled by reading each row as JSON.
pub fn read_pg_stat_statements(
    client: &mut postgres::Client,
    opts: &ReadOptions,
    set: &mut QuerySet,
) -> Result<(), postgres::Error> {
    let rows = client.query(
        "SELECT to_jsonb(s)::text FROM pg_stat_statements s \
         WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        &[],
    )?;
    let mut parsed: Vec<PgssRow> = rows
        .iter()
        .filter_map(|r| {
            let t: String = r.get(0);
            let v: serde_json::Value = serde_json::from_str(&t).ok()?;
            PgssRow::from_columns(None, &|k| json_column(&v, k))
        })
        .collect();
    parsed.sort_by(|a, b| b.total_ms.unwrap_or(0.0).total_cmp(&a.total_ms.unwrap_or(0.0)));
    let text = "\n".repeat(parsed.len());
    add_rows(None, &text, parsed, opts, set);
    Ok(())
}
