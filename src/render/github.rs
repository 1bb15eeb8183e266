//! `--format github`: GitHub Actions workflow commands (annotations), one per finding, and a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::{Report, counts, positions};
use crate::diagnostic::Severity;

/// Escapes workflow-command data: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value: data escapes plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn github(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    for d in report.diagnostics {
        let file = report.files[d.file];
        let (line, col, end_line, end_col) = positions(file, d);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = format!("file={},line={line},endLine={end_line}", escape_property(&file.path));
        if line == end_line {
            let _ = write!(props, ",col={col},endColumn={end_col}");
        }
        let _ = write!(props, ",title={}", escape_property(&format!("dbwarden ({})", d.rule)));
        let mut message = d.message.clone();
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
        *by_file.entry(&report.files[d.file].path).or_default() += 1;
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
        let file = report.files[d.file];
        let (line, col, _, _) = positions(file, d);
        let _ = writeln!(
            s,
            "| {} | `{}` | `{}:{line}:{col}` | {} |",
            d.severity,
            d.rule,
            md_cell(&file.path),
            md_cell(&d.message)
        );
    }
    if report.diagnostics.len() > SUMMARY_FIRST {
        let _ = writeln!(s, "\n… and {} more (see the job log).", report.diagnostics.len() - SUMMARY_FIRST);
    }
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
