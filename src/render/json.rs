//! `--format json`: `{"version": 1, "findings": [...], "summary": {...}}`, streamed.

use std::io::Write;

use serde::Serialize;

use super::{Report, counts, positions};

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'a str,
    severity: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
}

pub fn json(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    out.write_all(b"{\"version\":1,\"findings\":[")?;
    for (i, d) in report.diagnostics.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let file = report.files[d.file];
        let (line, column, end_line, end_column) = positions(file, d);
        let f = Finding {
            rule: d.rule,
            severity: d.severity.as_str(),
            file: &file.path,
            line,
            column,
            end_line,
            end_column,
            message: &d.message,
            help: d.help.as_deref(),
            fix: d.fix.as_deref(),
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
