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
                trailer(out, d, report.fix_preview(d), " ")?;
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
            let from = d.span.start.max(range.start).min(range.end);
            let to = d.span.end.min(range.end).max(from);
            let w = window(&file.text[range.clone()], from - range.start, to - range.start, SNIPPET_CHARS);
            writeln!(out, "{} {bar} {}", format!("{line:>width$}").blue().bold(), w.text)?;
            let marks = "^".repeat(w.marks);
            let marks = match d.severity {
                Severity::Error => marks.red().bold(),
                Severity::Warning => marks.yellow().bold(),
                Severity::Info => marks.cyan().bold(),
            };
            let more = if end_line > line || w.cut_span { " ..." } else { "" };
            writeln!(out, "{pad} {bar} {}{marks}{more}", " ".repeat(w.indent))?;
        }
        trailer(out, d, report.fix_preview(d), &pad)?;
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
    // The layouts, when a migration tool was recognised or a file is not judged.
    let s = report.stats;
    if s.layouts.iter().any(|(tool, (_, base))| *tool != "plain" || *base > 0) || !s.not_migrations.is_empty() {
        writeln!(out, "{} {}", "layout:".bold(), visible(&s.layout_line()))?;
        if let Some(line) = s.not_migrations_line() {
            writeln!(out, "{} {}", "not migrations (skipped):".bold(), visible(&line))?;
        }
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
fn trailer(
    out: &mut dyn Write,
    d: &crate::diagnostic::Diagnostic,
    fix: Option<String>,
    pad: &str,
) -> std::io::Result<()> {
    if let Some(help) = &d.help {
        writeln!(out, "{pad} {} {}: {}", "=".blue().bold(), "help".bold(), visible_lines(help))?;
    }
    if let Some(fix) = &fix {
        writeln!(out, "{pad} {} {}:", "=".blue().bold(), "fix".bold())?;
        for l in fix.lines() {
            writeln!(out, "{pad}     {}", visible(l).green())?;
        }
    }
    writeln!(out)
}

/// The most characters of a source line printed for one finding: a one-line migration of
/// 100 KB with 1,000 findings prints 1,000 windows, not 1,000 copies of the line.
pub const SNIPPET_CHARS: usize = 160;

/// Characters kept before the span when the line is cut.
const CONTEXT_BEFORE: usize = 40;

/// A source line cut to a window around a span.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// The text to print (tabs as four spaces, control and bidi characters escaped, `…` where
    /// cut).
    pub text: String,
    /// Columns before the span's first mark.
    pub indent: usize,
    /// Marks under the span (at least one).
    pub marks: usize,
    /// The span goes on past the window.
    pub cut_span: bool,
}

/// Cuts `line` to at most `max` characters (plus the `…` marks) around the span `from..to`
/// (byte offsets in `line`): some context before the span, then as much of the span and what
/// follows as fits.
pub(crate) fn window(line: &str, from: usize, to: usize, max: usize) -> Window {
    let from = crate::source::floor_char_boundary(line, from.min(line.len()));
    let to = crate::source::floor_char_boundary(line, to.clamp(from, line.len()));
    // Walk outwards from the span, never over more of the line than the window needs.
    let before: Vec<(usize, char)> = line[..from].char_indices().rev().take(max).collect();
    let mut after = line[from..].char_indices().map(|(i, c)| (from + i, c)).take(max + 1);
    let keep_before = before.len().min(CONTEXT_BEFORE);
    let mut shown: Vec<(usize, char)> = before[..keep_before].iter().rev().copied().collect();
    let mut cut_end = false;
    while shown.len() < max {
        match after.next() {
            Some(c) => shown.push(c),
            None => break,
        }
    }
    if shown.len() == max && after.next().is_some() {
        cut_end = true;
    }
    // Near the end of the line: spend the rest of the budget before the span.
    let mut extra = before[keep_before..].iter();
    while shown.len() < max
        && let Some(&c) = extra.next()
    {
        shown.insert(0, c);
    }
    let start_byte = shown.first().map_or(from, |&(i, _)| i);
    let end_byte = shown.last().map_or(from, |&(i, c)| i + c.len_utf8());
    let cut_start = start_byte > 0;
    let cut_end = cut_end || end_byte < line.len();
    // Control and bidi characters are printed escaped (`\u{1b}`): they take that many columns.
    let escaped = |c: char| {
        let mut buf = [0u8; 4];
        visible(c.encode_utf8(&mut buf)).into_owned()
    };
    let width = |c: char| match c {
        '\t' => 4,
        c if super::is_hidden(c) => escaped(c).len(),
        _ => 1,
    };
    let mut text = String::with_capacity(shown.len() * 2 + 8);
    if cut_start {
        text.push('…');
    }
    for &(_, c) in &shown {
        match c {
            '\t' => text.push_str("    "),
            c if super::is_hidden(c) => text.push_str(&escaped(c)),
            c => text.push(c),
        }
    }
    if cut_end {
        text.push('…');
    }
    let indent =
        usize::from(cut_start) + shown.iter().take_while(|&&(i, _)| i < from).map(|&(_, c)| width(c)).sum::<usize>();
    let marks = shown.iter().filter(|&&(i, _)| i >= from && i < to).map(|&(_, c)| width(c)).sum::<usize>();
    Window { text, indent, marks: marks.max(1), cut_span: to > end_byte }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_whole() {
        let w = window("CREATE INDEX i ON t (a);", 0, 24, 160);
        assert_eq!(w, Window { text: "CREATE INDEX i ON t (a);".into(), indent: 0, marks: 24, cut_span: false });
        let w = window("\tSELECT é, x", 10, 11, 160);
        assert_eq!((w.indent, w.marks), (4 + 8, 1));
        // Escaped characters are as wide as their escape, before and inside the span.
        let w = window("a\u{1b}b \u{202e}c", 3, 7, 160);
        assert_eq!(w.text, "a\\u{1b}b \\u{202e}c");
        assert_eq!((w.indent, w.marks), (1 + 6 + 1, 1 + 8));
    }

    #[test]
    fn long_lines_are_windowed_around_the_span() {
        let line = format!("{}CREATE INDEX i ON t (a);{}", "x".repeat(1000), "y".repeat(1000));
        let w = window(&line, 1000, 1024, 160);
        assert!(w.text.starts_with('…') && w.text.ends_with('…'));
        assert_eq!(w.text.chars().count(), 162);
        assert_eq!(&w.text.chars().skip(w.indent).take(w.marks).collect::<String>(), "CREATE INDEX i ON t (a);");
        // A span longer than the window: marks to the window's end, and it says so.
        let w = window(&line, 0, 2024, 160);
        assert!(w.cut_span && w.marks == 160 && w.indent == 0);
        // At the end of the line: the window takes the whole budget before the span.
        let w = window(&line, 2023, 2024, 160);
        assert_eq!(w.text.chars().count(), 161);
        assert_eq!(w.text.chars().nth(w.indent), Some('y'));
        // Multi-byte characters never split.
        let line = "é".repeat(500);
        let w = window(&line, 600, 602, 160);
        assert!(w.text.chars().all(|c| c == 'é' || c == '…'));
    }
}
