//! `--format json`: `{"version": 1, "findings": [...], "summary": {...}}`, streamed.

use std::io::Write;

use serde::Serialize;

use super::{Place, Report, counts, place};
use crate::diagnostic::{Edit, Fix};

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    /// A live database object (`schema.table[.name]`), instead of a file position.
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    message: &'a str,
    help: Option<&'a str>,
    /// The fix as SQL to read (the statement edited, then new statements).
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    /// The fix as edits: what `dbwarden fix` and the language server apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix_edits: Option<serde_json::Value>,
    /// A finding on a captured query: its fingerprint, calls and total time where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a crate::diagnostic::QueryInfo>,
    /// A finding on a live table (or its constraint or index): the table's estimated rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    table_rows: Option<f64>,
    /// ... and its total size in bytes (table, TOAST, indexes).
    #[serde(skip_serializing_if = "Option::is_none")]
    table_bytes: Option<i64>,
}

pub fn json(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    out.write_all(b"{\"version\":1,\"findings\":[")?;
    for (i, d) in report.diagnostics.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let (file, line, column, end_line, end_column, object) = match place(report, d) {
            Place::File { file, line, column, end_line, end_column } => {
                (Some(file.path.as_str()), Some(line), Some(column), Some(end_line), Some(end_column), None)
            }
            Place::Object(o) => (None, None, None, None, None, Some(o)),
        };
        let f = Finding {
            rule: d.rule.name(),
            severity: d.severity.as_str(),
            file,
            line,
            column,
            end_line,
            end_column,
            object,
            message: &d.message,
            help: d.help.as_deref(),
            fix: report.fix_preview(d),
            fix_edits: d.fix.as_ref().map(|fix| fix_edits(report, d, fix)),
            query: d.query.as_deref(),
            table_rows: d.table_stats.map(|(rows, _)| rows),
            table_bytes: d.table_stats.map(|(_, bytes)| bytes),
        };
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &f)?;
    }
    let c = counts(report.diagnostics);
    let s = report.stats;
    let summary = serde_json::json!({
        "files": s.files,
        "statements": s.statements,
        "parsed": s.parsed,
        "recognised": s.recognised,
        "not_understood": s.failed,
        "findings": report.diagnostics.len(),
        "errors": c.errors,
        "warnings": c.warnings,
        "infos": c.infos,
        "baseline_fixed": report.baseline_fixed,
    });
    out.write_all(b"\n],\"summary\":")?;
    serde_json::to_writer(&mut *out, &summary)?;
    out.write_all(b"}\n")?;
    Ok(())
}

/// `{"title", "applicability", "edits": [{"line", "column", "end_line", "end_column", "text"} |
/// {"new": true, "text"}]}`, positions 1-based as everywhere in the output.
fn fix_edits(report: &Report<'_>, d: &crate::diagnostic::Diagnostic, fix: &Fix) -> serde_json::Value {
    let file = d.object.is_none().then(|| report.files.get(d.file)).flatten();
    let edits: Vec<serde_json::Value> = fix
        .edits
        .iter()
        .map(|e| match (e, file) {
            (Edit::Replace { range, text }, Some(f)) => {
                let (line, column) = f.position(range.start);
                let (end_line, end_column) = f.position(range.end);
                serde_json::json!({"line": line, "column": column, "end_line": end_line, "end_column": end_column, "text": text})
            }
            (Edit::Replace { text, .. } | Edit::New { text }, _) => serde_json::json!({"new": true, "text": text}),
        })
        .collect();
    serde_json::json!({"title": fix.title, "applicability": fix.applicability, "edits": edits})
}
