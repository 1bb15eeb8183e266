//! `--format github`: GitHub Actions workflow commands (annotations), one per finding, and a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::{Place, Report, counts, location_text, place};
use crate::diagnostic::Severity;

/// Escapes workflow-command data: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value: data escapes plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation per finding. `file` is relative to the repository root, which is what the
/// runner expects of a relative path; `col` and `endColumn` only when the span is on one line
/// (the runner drops both when `line` and `endLine` differ).
pub fn github(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    let paths: Vec<String> = super::repo_paths(&report.files).iter().map(|p| escape_property(p)).collect();
    for d in report.diagnostics {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = String::new();
        let mut message = String::new();
        match place(report, d) {
            Place::File { line, column, end_line, end_column, .. } => {
                let _ = write!(props, "file={},line={line},endLine={end_line},", paths[d.file]);
                if line == end_line {
                    let _ = write!(props, "col={column},endColumn={end_column},");
                }
            }
            // A live object has no file: the annotation goes on the run, naming the object.
            Place::Object(o) => {
                let _ = write!(message, "{o}: ");
            }
        }
        let _ = write!(props, "title={}", escape_property(&format!("dbwarden ({})", d.rule)));
        message.push_str(&d.message);
        if let Some(help) = &d.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        if let Some(fix) = &d.fix {
            let _ = write!(message, "\nfix:\n{fix}");
        }
        writeln!(out, "::{level} {props}::{}", escape_data(&message))?;
    }
    Ok(())
}

const SUMMARY_FIRST: usize = 50;

/// A Markdown summary: counts per rule and per file, and the first findings.
pub fn step_summary(report: &Report<'_>) -> String {
    let c = counts(report.diagnostics);
    let mut s = String::from("## dbwarden\n\n");
    if report.diagnostics.is_empty() {
        let _ = writeln!(s, "No findings in {} files.", report.stats.files);
        return s;
    }
    let _ = writeln!(
        s,
        "{} findings ({} errors, {} warnings, {} info) in {} files.\n",
        report.diagnostics.len(),
        c.errors,
        c.warnings,
        c.infos,
        report.stats.files
    );
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_file: BTreeMap<&str, usize> = BTreeMap::new();
    for d in report.diagnostics {
        *by_rule.entry(d.rule).or_default() += 1;
        let where_ = match &d.object {
            Some(o) => o.as_str(),
            None => report.files[d.file].path.as_str(),
        };
        *by_file.entry(where_).or_default() += 1;
    }
    s.push_str("| rule | findings |\n|---|---:|\n");
    for (r, n) in &by_rule {
        let _ = writeln!(s, "| `{r}` | {n} |");
    }
    s.push_str("\n| file | findings |\n|---|---:|\n");
    for (f, n) in &by_file {
        let _ = writeln!(s, "| `{}` | {n} |", md_cell(f));
    }
    let _ = writeln!(s, "\n### First findings\n\n| severity | rule | location | message |\n|---|---|---|---|");
    for d in report.diagnostics.iter().take(SUMMARY_FIRST) {
        let _ = writeln!(
            s,
            "| {} | `{}` | `{}` | {} |",
            d.severity,
            d.rule,
            md_cell(&location_text(report, d)),
            md_cell(&d.message)
        );
    }
    if report.diagnostics.len() > SUMMARY_FIRST {
        let _ = writeln!(s, "\n… and {} more (see the job log).", report.diagnostics.len() - SUMMARY_FIRST);
    }
    s
}

/// Text for a Markdown table cell: pipes escaped, line breaks (LF, CRLF, CR) as spaces.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace("\r\n", " ").replace(['\r', '\n'], " ")
}
