//! rustc-style output: severity, rule, message, location, the source with the span underlined,
//! help and fix. Linear in the number of findings: each finding reads only its own lines.

use std::io::Write;

use colored::Colorize;

use super::{Place, Report, counts, place, visible, visible_lines};
use crate::diagnostic::Severity;

pub fn human(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    for d in report.diagnostics {
        let sev = match d.severity {
            Severity::Error => "error".red().bold(),
            Severity::Warning => "warning".yellow().bold(),
            Severity::Info => "info".cyan().bold(),
        };
        writeln!(out, "{sev}{}: {}", format!("[{}]", d.rule).bold(), visible_lines(&d.message).bold())?;
        let (file, line, col, end_line) = match place(report, d) {
            Place::File { file, line, column, end_line, .. } => (file, line, column, end_line),
            Place::Object(o) => {
                writeln!(out, " {} {}", "-->".blue().bold(), visible(o))?;
                trailer(out, d, " ")?;
                continue;
            }
        };
        let width = line.to_string().len();
        let pad = " ".repeat(width);
        let bar = "|".blue().bold();
        writeln!(out, "{pad}{} {}:{line}:{col}", "-->".blue().bold(), visible(&file.path))?;
        if !file.text.is_empty() {
            // The first line of the span, underlined; a span that goes on is marked with `...`.
            // Control and bidi characters are shown escaped, and the underline counts them so.
            writeln!(out, "{pad} {bar}")?;
            let range = file.index.line_range(&file.text, line - 1);
            let text = &file.text[range.clone()];
            writeln!(out, "{} {bar} {}", format!("{line:>width$}").blue().bold(), visible(text).replace('\t', "    "))?;
            let from = d.span.start.max(range.start).min(range.end);
            let to = d.span.end.min(range.end).max(from);
            let cols = |s: &str| visible(s).chars().map(|c| if c == '\t' { 4 } else { 1 }).sum::<usize>();
            let marks = "^".repeat(cols(&file.text[from..to]).max(1));
            let marks = match d.severity {
                Severity::Error => marks.red().bold(),
                Severity::Warning => marks.yellow().bold(),
                Severity::Info => marks.cyan().bold(),
            };
            let more = if end_line > line { " ..." } else { "" };
            writeln!(out, "{pad} {bar} {}{marks}{more}", " ".repeat(cols(&file.text[range.start..from])))?;
        }
        trailer(out, d, &pad)?;
    }
    let c = counts(report.diagnostics);
    let files = report.stats.files;
    // A live audit reads no files: say where the findings are instead.
    let scope = if files == 0 && report.diagnostics.iter().all(|d| d.object.is_some()) {
        "in the database".to_owned()
    } else {
        format!("in {files} file{}", plural(files))
    };
    if report.diagnostics.is_empty() {
        writeln!(out, "{} no findings {scope}", "ok:".green().bold())?;
    } else {
        writeln!(
            out,
            "{} {} finding{} ({} error{}, {} warning{}, {} info) {scope}",
            "found".bold(),
            report.diagnostics.len(),
            plural(report.diagnostics.len()),
            c.errors,
            plural(c.errors),
            c.warnings,
            plural(c.warnings),
            c.infos,
        )?;
    }
    if report.baseline_fixed > 0 {
        writeln!(
            out,
            "{} {} baseline entr{} matched no finding (fixed): rewrite the baseline with --write-baseline to prune",
            "note:".bold(),
            report.baseline_fixed,
            if report.baseline_fixed == 1 { "y" } else { "ies" }
        )?;
    }
    Ok(())
}

/// The help, the fix and the blank line that close a finding.
fn trailer(out: &mut dyn Write, d: &crate::diagnostic::Diagnostic, pad: &str) -> std::io::Result<()> {
    if let Some(help) = &d.help {
        writeln!(out, "{pad} {} {}: {}", "=".blue().bold(), "help".bold(), visible_lines(help))?;
    }
    if let Some(fix) = &d.fix {
        writeln!(out, "{pad} {} {}:", "=".blue().bold(), "fix".bold())?;
        for l in fix.lines() {
            writeln!(out, "{pad}     {}", visible(l).green())?;
        }
    }
    writeln!(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
