//! Readers: `.sql` files, server logs (stderr, csvlog, jsonlog), pg_stat_statements exports and
//! the live view. Each adds its queries and one anchor file to a [`QuerySet`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use super::{Anchor, CapturedQuery, QueryOrigin, QuerySet, fingerprint, normalise};
use crate::source::SourceFile;

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
    } else if lower.ends_with(".csv") || is_csvlog_line(first_line) {
        Format::Csvlog
    } else if lower.ends_with(".log") || lower.contains("postgresql") || severity_at(first_line).is_some() {
        Format::Stderr
    } else {
        Format::Sql
    }
}

/// A csvlog record starts with `log_time` and has the severity as a bare field.
fn is_csvlog_line(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [^,]*,").expect("valid regex"))
        .is_match(line)
        && SEVERITIES.iter().any(|s| line.contains(&format!(",{s},")))
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
        Format::Sql => read_sql(path, text, set),
        Format::Stderr => {
            let entries = stderr_entries(text);
            finish_log(path, text, entries, opts, set);
            Ok(())
        }
        Format::Csvlog => {
            let entries = csv_entries(path, text, &mut set.warnings)?;
            finish_log(path, text, entries, opts, set);
            Ok(())
        }
        Format::Jsonlog => {
            let entries = json_entries(path, text, &mut set.warnings)?;
            finish_log(path, text, entries, opts, set);
            Ok(())
        }
        Format::PgssCsv => {
            let rows = pgss_csv_rows(path, text)?;
            finish_pgss(Some(path), text, rows, opts, set);
            Ok(())
        }
        Format::PgssJson => {
            let rows = pgss_json_rows(path, text)?;
            finish_pgss(Some(path), text, rows, opts, set);
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// .sql files

fn read_sql(path: &str, text: &str, set: &mut QuerySet) -> Result<(), ReadError> {
    let file = set.files.len();
    let source = SourceFile::new(path, text);
    let split = crate::parse::split::split(&source.text);
    for stmt in &split.stmts {
        let raw = &source.text[stmt.range.clone()];
        let body = raw.trim_end().trim_end_matches(';').trim_end();
        if body.is_empty() || body.starts_with('\\') {
            continue;
        }
        let mut name = None;
        let mut budget_ms = None;
        for c in stmt.leading_comments.clone() {
            let comment = &source.text[split.comments[c].clone()];
            let Some(line) = comment.strip_prefix("--") else { continue };
            let line = line.trim();
            if let Some(n) = line.strip_prefix("name:") {
                name = n.split_whitespace().next().map(str::to_owned);
            } else if let Some(rest) = line.strip_prefix("dbwarden:") {
                let at = |message: String| ReadError::Format {
                    path: path.to_owned(),
                    line: source.position(split.comments[c].start).0,
                    message,
                };
                for word in rest.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
                    let Some(v) = word.strip_prefix("budget=") else {
                        return Err(at(format!(
                            "unknown `-- dbwarden:` setting `{word}` (the one setting is budget=DURATION, e.g. budget=20ms)"
                        )));
                    };
                    budget_ms = Some(parse_duration_ms(v).map_err(|e| at(format!("invalid budget `{v}`: {e}")))?);
                }
            }
        }
        let (line, _) = source.position(stmt.range.start);
        let normalised = normalise(body);
        set.queries.push(CapturedQuery {
            text: body.to_owned(),
            origin: QueryOrigin::File { path: path.to_owned(), line },
            anchor: Anchor { file, span: stmt.range.start..stmt.range.start + body.len() },
            name,
            budget_ms,
            params: Vec::new(),
            fingerprint: fingerprint(&normalised),
            normalised,
            calls: None,
            total_ms: None,
            session: None,
            transaction: None,
            traceparent: traceparent(body),
            prepared_name: None,
        });
    }
    set.files.push(source);
    Ok(())
}

/// The longest budget a capture may ask for: one day. (The statement timeout the runner sets is
/// capped lower still, by `[explain] max_statement_timeout_ms`.)
pub const MAX_BUDGET_MS: f64 = 86_400_000.0;

/// `20ms`, `1.5s`, `2min`, `20` (milliseconds): finite, positive, at most a day.
pub fn parse_duration_ms(v: &str) -> Result<f64, String> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix("min") {
        (n, 60_000.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    // Digits and one point only: `f64::from_str` would take `inf`, `NaN` and `1e400`.
    let num = num.trim();
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') || num.matches('.').count() > 1 {
        return Err("a duration is a positive number with ms, s or min (e.g. 20ms, 1.5s)".into());
    }
    let n = num.parse::<f64>().map_err(|e| e.to_string())? * scale;
    if n <= 0.0 || n.is_nan() {
        return Err("a budget must be greater than zero".into());
    }
    if n > MAX_BUDGET_MS {
        return Err("a budget is at most a day (86400s)".into());
    }
    Ok(n)
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

// ---------------------------------------------------------------------------------------------
// Server logs: every format is turned into entries, then into queries.

/// One log entry: a message with its severity, session fields and detail.
#[derive(Debug, Default)]
struct Entry {
    /// 1-based line where the entry starts.
    line: usize,
    severity: String,
    message: String,
    detail: Option<String>,
    session: Option<String>,
    pid: Option<String>,
    vxid: Option<String>,
    xid: Option<String>,
}

const SEVERITIES: &[&str] = &[
    "DEBUG1",
    "DEBUG2",
    "DEBUG3",
    "DEBUG4",
    "DEBUG5",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "LOG",
    "FATAL",
    "PANIC",
    "DETAIL",
    "HINT",
    "QUERY",
    "CONTEXT",
    "LOCATION",
    "STATEMENT",
];

/// In a stderr log line: (prefix end, severity, message start) of `SEVERITY:  message`.
fn severity_at(line: &str) -> Option<(usize, &'static str, usize)> {
    let mut from = 0;
    while let Some(p) = line[from..].find(":  ") {
        let at = from + p;
        let before = &line[..at];
        let word_start = before.rfind(|c: char| !c.is_ascii_alphanumeric()).map_or(0, |i| i + 1);
        let word = &before[word_start..];
        if let Some(sev) = SEVERITIES.iter().find(|s| **s == word) {
            return Some((word_start, sev, at + 3));
        }
        from = at + 1;
    }
    None
}

struct PrefixFields {
    session: Option<String>,
    pid: Option<String>,
    vxid: Option<String>,
    xid: Option<String>,
}

/// Session id (`%c`), process id (`%p`), virtual and real transaction ids (`%v`, `%x`) from a
/// `log_line_prefix`, recognised by their shapes.
fn prefix_fields(prefix: &str) -> PrefixFields {
    static RE: OnceLock<[Regex; 4]> = OnceLock::new();
    let [session, pid, vxid, xid] = RE.get_or_init(|| {
        [
            Regex::new(r"(?:^|[^0-9a-fA-F.])([0-9a-f]{8}\.[0-9a-f]{1,8})(?:$|[^0-9a-fA-F.])").expect("valid regex"),
            Regex::new(r"\[(\d+)(?:-\d+)?\]|\bpid=(\d+)").expect("valid regex"),
            Regex::new(r"(?:^|[\s\[:=])(\d+/\d+)(?:$|[\s\]:,])").expect("valid regex"),
            Regex::new(r"(?:^|[\s\[:=])\d+/\d+[\s\]:,]+(?:xid=)?(\d+)(?:$|[\s\]:,])").expect("valid regex"),
        ]
    });
    let cap =
        |re: &Regex| re.captures(prefix).and_then(|c| c.iter().skip(1).flatten().next().map(|m| m.as_str().to_owned()));
    PrefixFields { session: cap(session), pid: cap(pid), vxid: cap(vxid), xid: cap(xid) }
}

fn stderr_entries(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(cont) = line.strip_prefix('\t') {
            // Continuation of a multi-line message.
            if let Some(last) = out.last_mut() {
                last.message.push('\n');
                last.message.push_str(cont);
            }
            continue;
        }
        let Some((prefix_end, severity, msg)) = severity_at(line) else {
            continue;
        };
        let fields = prefix_fields(&line[..prefix_end]);
        let message = line[msg..].to_owned();
        if severity == "DETAIL" {
            // The DETAIL of the same process's latest entry (other sessions may interleave).
            if let Some(prev) =
                out.iter_mut().rev().take(64).find(|e| e.session == fields.session && e.pid == fields.pid)
                && prev.detail.is_none()
            {
                prev.detail = Some(message);
            }
            continue;
        }
        out.push(Entry {
            line: i + 1,
            severity: severity.to_owned(),
            message,
            detail: None,
            session: fields.session,
            pid: fields.pid,
            vxid: fields.vxid,
            xid: fields.xid,
        });
    }
    out
}

/// A CSV record: the 1-based line it starts on, and its fields.
type CsvRecord = (usize, Vec<String>);

/// Splits CSV into records of fields. A quoted field left open at the end of the text is an
/// error: the line its record starts on, and the records before it.
fn csv_records(text: &str) -> Result<Vec<CsvRecord>, (usize, Vec<CsvRecord>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = Vec::new();
            if b.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err((start_line, out)),
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                            field.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            if c == b'\n' {
                                line += 1;
                            }
                            field.push(c);
                            i += 1;
                        }
                    }
                }
            }
            while let Some(&c) = b.get(i)
                && c != b','
                && c != b'\n'
            {
                if c != b'\r' {
                    field.push(c);
                }
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&field).into_owned());
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        if !(fields.len() == 1 && fields[0].is_empty()) {
            out.push((start_line, fields));
        }
    }
    Ok(out)
}

fn non_empty(s: Option<&String>) -> Option<String> {
    s.filter(|s| !s.is_empty()).cloned()
}

/// The warning for a log whose last record was cut off (a copy of a log being written).
fn partial_record(path: &str, line: usize) -> String {
    format!("{path}:{line}: skipped the partial last record (the log ends in the middle of it)")
}

fn csv_entries(path: &str, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Entry>, ReadError> {
    let records = match csv_records(text) {
        Ok(mut records) => {
            // A last record without its line end and with fewer fields than the others was cut
            // off between two fields.
            let most = records.iter().rev().skip(1).map(|(_, f)| f.len()).max().unwrap_or(0);
            if !text.ends_with('\n')
                && let Some((line, f)) = records.last()
                && f.len() < most
            {
                warnings.push(partial_record(path, *line));
                records.pop();
            }
            records
        }
        // An unterminated quote runs to the end of the file: the last record was cut off inside
        // a field. The records before it are whole.
        Err((line, whole)) if !whole.is_empty() => {
            warnings.push(partial_record(path, line));
            whole
        }
        Err((line, _)) => {
            return Err(ReadError::Format {
                path: path.to_owned(),
                line,
                message: "unterminated quoted field in the csvlog".into(),
            });
        }
    };
    // Something else read as csvlog (`--queries-format csvlog` on another file): say so.
    if !records.is_empty() && !records.iter().any(|(_, f)| f.len() >= 14) {
        return Err(ReadError::Format {
            path: path.to_owned(),
            line: records[0].0,
            message: "not a csvlog file: no record has the csvlog columns (check --queries-format)".into(),
        });
    }
    // Column positions are the same from PostgreSQL 9 to 17 for the fields used here.
    Ok(records
        .into_iter()
        .filter(|(_, f)| f.len() >= 14)
        .map(|(line, f)| Entry {
            line,
            severity: f[11].clone(),
            message: f[13].clone(),
            detail: non_empty(f.get(14)),
            session: non_empty(f.get(5)),
            pid: non_empty(f.get(3)),
            vxid: non_empty(f.get(9)),
            xid: non_empty(f.get(10)),
        })
        .collect())
}

fn json_entries(path: &str, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Entry>, ReadError> {
    let mut out = Vec::new();
    let lines = text.lines().count();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            // The last line, without its line end, after whole entries: cut off mid-entry.
            if line_no == lines && !text.ends_with('\n') && !out.is_empty() {
                warnings.push(partial_record(path, line_no));
                break;
            }
            return Err(ReadError::Format {
                path: path.to_owned(),
                line: line_no,
                message: "not a JSON object (expected one jsonlog entry per line)".into(),
            });
        };
        let s = |k: &str| match v.get(k) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        out.push(Entry {
            line: line_no,
            severity: s("error_severity").unwrap_or_default(),
            message: s("message").unwrap_or_default(),
            detail: s("detail"),
            session: s("session_id"),
            pid: s("pid"),
            vxid: s("vxid"),
            xid: s("txid"),
        });
    }
    Ok(out)
}

/// What a log message says.
enum Message<'a> {
    /// A statement that ran: simple protocol (`statement:`) or the execute phase of the
    /// extended protocol (`execute <name>:`), with the duration when on the same line.
    Query { sql: &'a str, duration: Option<f64>, prepared: Option<&'a str> },
    /// `duration: X ms` alone (`log_duration`): the duration of the session's last statement.
    Duration(f64),
    /// Parse and bind phases, and anything else.
    Other,
}

fn classify(message: &str) -> Message<'_> {
    let mut rest = message;
    let mut duration = None;
    if let Some(d) = rest.strip_prefix("duration: ") {
        let end = d.find(" ms").unwrap_or(d.len());
        duration = d[..end].trim().parse::<f64>().ok();
        rest = d[end..].strip_prefix(" ms").unwrap_or("").trim_start();
        if rest.is_empty() {
            return duration.map_or(Message::Other, Message::Duration);
        }
    }
    if let Some(sql) = rest.strip_prefix("statement: ") {
        return Message::Query { sql, duration, prepared: None };
    }
    if let Some(e) = rest.strip_prefix("execute ") {
        // `execute <unnamed>: SQL`, `execute S_1: SQL`, `execute fetch from C_1/S_1: SQL`.
        let Some(colon) = e.find(": ") else { return Message::Other };
        let name = e[..colon].trim_start_matches("fetch from ");
        let name = name.rsplit('/').next().unwrap_or(name);
        let prepared = (name != "<unnamed>").then_some(name);
        return Message::Query { sql: &e[colon + 2..], duration, prepared };
    }
    Message::Other
}

/// `parameters: $1 = '...', $2 = NULL`: values by number (`None` = NULL). Values are kept only
/// in memory; parsing errors say nothing about the values.
pub fn parse_parameters(detail: &str) -> Vec<Option<String>> {
    let Some(rest) = detail.trim_start().strip_prefix("parameters:") else { return Vec::new() };
    let b = rest.as_bytes();
    let mut out: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        if b.get(i) != Some(&b'$') {
            break;
        }
        i += 1;
        let ns = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let Ok(n) = rest[ns..i].parse::<usize>() else { break };
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            break;
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let value = if b.get(i) == Some(&b'\'') {
            let mut v = String::new();
            let mut j = i + 1;
            let mut seg = j;
            loop {
                match b.get(j) {
                    None => break,
                    Some(b'\'') if b.get(j + 1) == Some(&b'\'') => {
                        v.push_str(&rest[seg..j]);
                        v.push('\'');
                        j += 2;
                        seg = j;
                    }
                    Some(b'\'') => {
                        v.push_str(&rest[seg..j]);
                        j += 1;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            i = j;
            // PostgreSQL truncates long values (`log_parameter_max_length`) with `...`.
            if rest[i..].starts_with("...") {
                i += 3;
            }
            Some(v)
        } else if rest[i..].starts_with("NULL") {
            i += 4;
            None
        } else {
            break;
        };
        if n == 0 {
            break;
        }
        if out.len() < n {
            out.resize(n, None);
        }
        out[n - 1] = value;
    }
    out
}

fn is_transaction_control(sql: &str) -> bool {
    let first = sql.split_whitespace().next().unwrap_or("").trim_end_matches(';').to_ascii_uppercase();
    matches!(first.as_str(), "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE")
}

/// Turns log entries into queries (one per executed statement) and adds the log's redacted shadow.
fn finish_log(path: &str, text: &str, entries: Vec<Entry>, opts: &ReadOptions, set: &mut QuerySet) {
    let file = set.files.len();
    let first = set.queries.len();
    // Per session: the last query (for a later `duration:` line) and the synthetic transaction
    // (BEGIN ... COMMIT) for prefixes without a transaction id.
    let mut last: HashMap<String, usize> = HashMap::new();
    let mut txn: HashMap<String, Option<String>> = HashMap::new();
    let mut counter = 0usize;
    for e in entries {
        if e.severity != "LOG" {
            continue;
        }
        let session = e.session.clone().or_else(|| e.pid.clone());
        let key = session.clone().unwrap_or_default();
        match classify(&e.message) {
            Message::Duration(ms) => {
                if let Some(&q) = last.get(&key)
                    && set.queries[q].total_ms.is_none()
                {
                    set.queries[q].total_ms = Some(ms);
                }
                last.remove(&key);
            }
            Message::Other => {}
            Message::Query { sql, duration, prepared } => {
                // A simple-protocol string may hold several statements.
                let split = crate::parse::split::split(sql);
                for (k, stmt) in split.stmts.iter().enumerate() {
                    // Up to the next statement: trailing comments (sqlcommenter) stay with it.
                    let end = split.stmts.get(k + 1).map_or(sql.len(), |n| n.range.start);
                    let body = sql[stmt.range.start..end].trim_end();
                    let body = body.strip_suffix(';').unwrap_or(body).trim_end();
                    if body.is_empty() {
                        continue;
                    }
                    if is_transaction_control(body) {
                        let upper = body.to_ascii_uppercase();
                        if upper.starts_with("BEGIN") || upper.starts_with("START") {
                            counter += 1;
                            txn.insert(key.clone(), Some(format!("block-{counter}")));
                        } else if !upper.starts_with("SAVEPOINT") && !upper.starts_with("RELEASE") {
                            txn.insert(key.clone(), None);
                        }
                        continue;
                    }
                    let transaction = e
                        .vxid
                        .clone()
                        .filter(|v| !v.ends_with("/0"))
                        .or_else(|| e.xid.clone().filter(|x| x != "0"))
                        .or_else(|| txn.get(&key).cloned().flatten());
                    let params = e.detail.as_deref().map(parse_parameters).unwrap_or_default();
                    // `log_statement = all` together with `log_min_duration_statement`: the
                    // statement is logged when it starts and again with its duration.
                    if let Some(ms) = duration
                        && let Some(&q) = last.get(&key)
                        && set.queries[q].total_ms.is_none()
                        && set.queries[q].text == body
                        && set.queries[q].params == params
                    {
                        set.queries[q].total_ms = Some(ms);
                        last.remove(&key);
                        continue;
                    }
                    let normalised = normalise(body);
                    last.insert(key.clone(), set.queries.len());
                    set.queries.push(CapturedQuery {
                        text: body.to_owned(),
                        origin: QueryOrigin::Log { path: path.to_owned(), line: e.line },
                        anchor: Anchor { file, span: 0..0 },
                        name: None,
                        budget_ms: None,
                        params,
                        fingerprint: fingerprint(&normalised),
                        normalised,
                        calls: Some(1),
                        total_ms: duration,
                        session: session.clone(),
                        transaction,
                        traceparent: traceparent(body),
                        prepared_name: prepared.map(str::to_owned),
                    });
                }
            }
        }
    }
    let lines: Vec<usize> = set.queries[first..]
        .iter()
        .map(|q| match q.origin {
            QueryOrigin::Log { line, .. } => line,
            _ => 1,
        })
        .collect();
    shadow(path, text, file, first, &lines, opts.show_values, set);
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

// ---------------------------------------------------------------------------------------------
// pg_stat_statements

/// One row of pg_stat_statements, whatever its version's column names.
#[derive(Debug, Default)]
pub struct PgssRow {
    pub line: Option<usize>,
    pub query: String,
    pub queryid: Option<i64>,
    pub calls: Option<u64>,
    pub total_ms: Option<f64>,
}

/// Builds a row from a column lookup: `total_exec_time` (PG13+) or `total_time` (PG9.4-12).
fn pgss_row(line: Option<usize>, get: &dyn Fn(&str) -> Option<String>) -> Option<PgssRow> {
    let query = get("query")?;
    Some(PgssRow {
        line,
        query,
        queryid: get("queryid").and_then(|v| v.trim().parse().ok()),
        calls: get("calls").and_then(|v| v.trim().parse::<f64>().ok()).map(|c| c.max(0.0) as u64),
        total_ms: get("total_exec_time").or_else(|| get("total_time")).and_then(|v| v.trim().parse().ok()),
    })
}

fn pgss_csv_rows(path: &str, text: &str) -> Result<Vec<PgssRow>, ReadError> {
    let err = |line: usize, message: &str| ReadError::Format { path: path.to_owned(), line, message: message.into() };
    let records = csv_records(text).map_err(|(l, _)| err(l, "unterminated quoted field"))?;
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
        .filter_map(|(line, f)| pgss_row(Some(*line), &|k| col.get(k).and_then(|&i| f.get(i)).cloned()))
        .collect())
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

fn pgss_json_rows(path: &str, text: &str) -> Result<Vec<PgssRow>, ReadError> {
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
        .filter_map(|(i, r)| {
            pgss_row(lines.get(i).copied(), &|k| match r.get(k)? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
        })
        .collect())
}

fn finish_pgss(path: Option<&str>, text: &str, rows: Vec<PgssRow>, opts: &ReadOptions, set: &mut QuerySet) {
    let file = set.files.len();
    let first = set.queries.len();
    let mut lines = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let body = row.query.trim().trim_end_matches(';').trim_end();
        if body.is_empty() || is_transaction_control(body) {
            continue;
        }
        let normalised = normalise(body);
        let line = row.line.unwrap_or(i + 1);
        lines.push(line);
        set.queries.push(CapturedQuery {
            text: body.to_owned(),
            origin: QueryOrigin::PgStatStatements {
                path: path.map(str::to_owned),
                line: path.and(row.line),
                queryid: row.queryid,
            },
            anchor: Anchor { file, span: 0..0 },
            name: None,
            budget_ms: None,
            params: Vec::new(),
            fingerprint: fingerprint(&normalised),
            normalised,
            calls: row.calls,
            total_ms: row.total_ms,
            session: None,
            transaction: None,
            traceparent: traceparent(body),
            prepared_name: None,
        });
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
            pgss_row(None, &|k| match v.get(k)? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
        })
        .collect();
    parsed.sort_by(|a, b| b.total_ms.unwrap_or(0.0).total_cmp(&a.total_ms.unwrap_or(0.0)));
    let text = "\n".repeat(parsed.len());
    finish_pgss(None, &text, parsed, opts, set);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let p = parse_parameters("parameters: $1 = 'O''Brien, Jr.', $2 = NULL, $3 = '', $10 = 'x, $2 = ''y'''");
        assert_eq!(p.len(), 10);
        assert_eq!(p[0].as_deref(), Some("O'Brien, Jr."));
        assert_eq!(p[1], None);
        assert_eq!(p[2].as_deref(), Some(""));
        assert_eq!(p[9].as_deref(), Some("x, $2 = 'y'"));
    }

    #[test]
    fn prefixes() {
        let f = prefix_fields("2026-11-22 02:46:44.226 UTC [16170] postgres@clinic 6b025794.3f2a 3/81 0 ");
        assert_eq!(f.session.as_deref(), Some("6b025794.3f2a"));
        assert_eq!(f.pid.as_deref(), Some("16170"));
        assert_eq!(f.vxid.as_deref(), Some("3/81"));
        assert_eq!(f.xid.as_deref(), Some("0"));
        let f = prefix_fields("2026-11-22 02:46:52 UTC:[local]:postgres@clinic:[16438]:");
        assert_eq!((f.session, f.pid.as_deref(), f.vxid), (None, Some("16438"), None));
    }

    #[test]
    fn classify_lines() {
        assert!(matches!(classify("duration: 1.5 ms"), Message::Duration(d) if (d - 1.5).abs() < 1e-9));
        assert!(matches!(
            classify("duration: 0.1 ms  execute S_1: SELECT 1"),
            Message::Query { sql: "SELECT 1", prepared: Some("S_1"), .. }
        ));
        assert!(matches!(
            classify("execute fetch from C_1/S_2: SELECT 1"),
            Message::Query { prepared: Some("S_2"), .. }
        ));
        assert!(matches!(classify("duration: 0.1 ms  bind <unnamed>: SELECT 1"), Message::Other));
    }

    #[test]
    fn statement_logged_twice_counts_once() {
        // log_statement = all and log_min_duration_statement = 0 together; no prefix at all;
        // CRLF line ends.
        let log = "LOG:  statement: SELECT 1\r\nLOG:  duration: 0.5 ms  statement: SELECT 1\r\n\
                   LOG:  execute S_1: SELECT $1\r\nDETAIL:  parameters: $1 = '7'\r\n\
                   LOG:  duration: 0.2 ms  execute S_1: SELECT $1\r\nDETAIL:  parameters: $1 = '7'\r\n\
                   LOG:  duration: 0.3 ms  statement: SELECT 1\r\n";
        let mut set = QuerySet::default();
        read_text("x.log", log, &ReadOptions::default(), &mut set).unwrap();
        let got: Vec<_> = set.queries.iter().map(|q| (q.text.as_str(), q.total_ms, line_of(q))).collect();
        assert_eq!(got, vec![("SELECT 1", Some(0.5), 1), ("SELECT $1", Some(0.2), 3), ("SELECT 1", Some(0.3), 7)]);
    }

    fn line_of(q: &CapturedQuery) -> usize {
        match q.origin {
            QueryOrigin::Log { line, .. } => line,
            _ => 0,
        }
    }

    #[test]
    fn interleaved_sessions_keep_their_parameters() {
        let log = "2026-11-22 10:00:00 UTC [11] LOG:  duration: 0.1 ms  execute <unnamed>: SELECT $1\n\
                   2026-11-22 10:00:00 UTC [12] LOG:  duration: 0.1 ms  execute <unnamed>: SELECT $1, $2\n\
                   2026-11-22 10:00:00 UTC [11] DETAIL:  parameters: $1 = 'a'\n\
                   2026-11-22 10:00:00 UTC [12] DETAIL:  parameters: $1 = 'b', $2 = 'c'\n";
        let mut set = QuerySet::default();
        read_text("x.log", log, &ReadOptions::default(), &mut set).unwrap();
        assert_eq!(set.queries[0].params, vec![Some("a".to_owned())]);
        assert_eq!(set.queries[1].params, vec![Some("b".to_owned()), Some("c".to_owned())]);
        assert_eq!(set.queries[0].session.as_deref(), Some("11"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("20ms"), Ok(20.0));
        assert_eq!(parse_duration_ms("1.5s"), Ok(1500.0));
        assert_eq!(parse_duration_ms("2min"), Ok(120_000.0));
        assert_eq!(parse_duration_ms("20"), Ok(20.0));
        for bad in ["x", "NaN", "inf", "infms", "-5ms", "0ms", "1e400", "99999999999s", "10 parsecs", "", "1.2.3s"] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_budgets_are_errors_with_their_location() {
        let read = |text: &str| {
            let mut set = QuerySet::default();
            read_text("q.sql", text, &ReadOptions::default(), &mut set).map(|()| set.queries[0].budget_ms)
        };
        assert_eq!(read("-- dbwarden: budget=20ms\nSELECT 1;").ok(), Some(Some(20.0)));
        for (text, what) in [
            ("SELECT 0;\n\n-- dbwarden: budget=NaN\nSELECT 1;", "invalid budget `NaN`"),
            ("SELECT 0;\n\n-- dbwarden: budget=-5ms\nSELECT 1;", "invalid budget `-5ms`"),
            ("SELECT 0;\n\n-- dbwarden: budget=99999999999s\nSELECT 1;", "at most a day"),
            ("SELECT 0;\n\n-- dbwarden: budget=10 parsecs\nSELECT 1;", "unknown `-- dbwarden:` setting `parsecs`"),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(e.starts_with("q.sql:3: ") && e.contains(what), "{e}");
        }
    }
}
