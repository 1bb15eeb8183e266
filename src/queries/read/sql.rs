//! `.sql` files: one query per statement, with its name and budget from the comments before it.

use super::{ReadError, captured};
use crate::queries::{Anchor, CapturedQuery, QueryOrigin, QuerySet};
use crate::source::SourceFile;

/// Reads a `.sql` file: one query per statement, named and budgeted by the comments before it.
pub(super) fn read(path: &str, text: &str, set: &mut QuerySet) -> Result<(), ReadError> {
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
        set.queries.push(CapturedQuery {
            anchor: Anchor { file, span: stmt.range.start..stmt.range.start + body.len() },
            name,
            budget_ms,
            ..captured(body, QueryOrigin::File { path: path.to_owned(), line }, file)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::read::{ReadOptions, read_text};

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
