//! `--format github`: GitHub Actions workflow commands (annotations), one per finding, and a
//! Markdown summary for `$GITHUB_STEP_SUMMARY`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::{Place, Report, counts, location_text, place, visible, visible_lines};
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
    let paths: Vec<String> = super::repo_paths(&report.files).iter().map(|p| escape_property(&visible(p))).collect();
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
                let _ = write!(message, "{}: ", visible(o));
            }
        }
        let _ = write!(props, "title={}", escape_property(&format!("dbwarden ({})", d.rule)));
        // Control and bidi characters from the input are shown escaped; the line breaks between
        // the message, the help and the fix's lines are the renderer's own.
        message.push_str(&visible_lines(&d.message));
        if let Some(help) = &d.help {
            let _ = write!(message, "\nhelp: {}", visible_lines(help));
        }
        if let Some(fix) = report.fix_preview(d) {
            message.push_str("\nfix:");
            for l in fix.lines() {
                let _ = write!(message, "\n{}", visible(l));
            }
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
        *by_rule.entry(d.rule.name()).or_default() += 1;
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
        let _ = writeln!(s, "| {} | {n} |", md_code(f));
    }
    let _ = writeln!(s, "\n### First findings\n\n| severity | rule | location | message |\n|---|---|---|---|");
    for d in report.diagnostics.iter().take(SUMMARY_FIRST) {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} |",
            d.severity,
            d.rule,
            md_code(&location_text(report, d)),
            md_text(&d.message)
        );
    }
    if report.diagnostics.len() > SUMMARY_FIRST {
        let _ = writeln!(s, "\n… and {} more (see the job log).", report.diagnostics.len() - SUMMARY_FIRST);
    }
    s
}

/// Text for a Markdown table cell, safe whatever the input holds: line breaks (LF, CRLF, CR)
/// as spaces, control and bidi characters visible, and every character Markdown or HTML could
/// read as markup or a link as a character reference (`_`, which only ever emphasises, stays) (so no backtick in a name can close a code span and
/// let markup in, and no `|` can split the cell).
fn md_cell(s: &str) -> String {
    let flat = s.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let mut out = String::with_capacity(flat.len() + 16);
    for c in visible(&flat).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' | '|' | '\\' | '*' | '[' | ']' | '~' | '!' | '#' | '$' => {
                use std::fmt::Write as _;
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` as code in a table cell (`<code>`, which no content can close: see [`md_cell`]).
fn md_code(s: &str) -> String {
    format!("<code>{}</code>", md_cell(s))
}

/// A message in a table cell: its backtick-quoted SQL as code, the rest as text, both through
/// [`md_cell`]; an unpaired backtick is shown as one.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 32);
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        out.push_str(&md_cell(&rest[..open]));
        let after = &rest[open + 1..];
        match after.find('`') {
            Some(close) => {
                out.push_str(&md_code(&after[..close]));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&md_cell("`"));
                rest = after;
            }
        }
    }
    out.push_str(&md_cell(rest));
    out
}
