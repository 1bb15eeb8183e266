//! Server logs: stderr (any `log_line_prefix`), csvlog and jsonlog. Every format is turned into
//! entries, then the entries into queries.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use super::{ReadError, ReadOptions, captured, csv, is_transaction_control, shadow};
use crate::queries::{CapturedQuery, QueryOrigin, QuerySet};

/// One log entry: a message with its severity, session fields and detail.
#[derive(Debug, Default)]
pub(super) struct Entry {
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
pub(super) fn severity_at(line: &str) -> Option<(usize, &'static str, usize)> {
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

/// A csvlog record starts with `log_time` and has the severity as a bare field.
pub(super) fn is_csvlog_line(line: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [^,]*,").expect("valid regex"))
        .is_match(line)
        && SEVERITIES.iter().any(|s| line.contains(&format!(",{s},")))
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

pub(super) fn stderr_entries(text: &str) -> Vec<Entry> {
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

fn non_empty(s: Option<&String>) -> Option<String> {
    s.filter(|s| !s.is_empty()).cloned()
}

/// The warning for a log whose last record was cut off (a copy of a log being written).
fn partial_record(path: &str, line: usize) -> String {
    format!("{path}:{line}: skipped the partial last record (the log ends in the middle of it)")
}

pub(super) fn csv_entries(path: &str, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Entry>, ReadError> {
    let records = match csv::records(text) {
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

pub(super) fn json_entries(path: &str, text: &str, warnings: &mut Vec<String>) -> Result<Vec<Entry>, ReadError> {
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

/// Turns log entries into queries (one per executed statement) and adds the log's redacted shadow.
pub(super) fn add_entries(path: &str, text: &str, entries: Vec<Entry>, opts: &ReadOptions, set: &mut QuerySet) {
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
                    last.insert(key.clone(), set.queries.len());
                    set.queries.push(CapturedQuery {
                        params,
                        calls: Some(1),
                        total_ms: duration,
                        session: session.clone(),
                        transaction,
                        prepared_name: prepared.map(str::to_owned),
                        ..captured(body, QueryOrigin::Log { path: path.to_owned(), line: e.line }, file)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::read::read_text;

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
}
