//! Output formats: pure functions over diagnostics, streaming to a writer.

pub mod fingerprint;
mod github;
mod gitlab;
pub mod html;
mod human;
mod json;
mod sarif;

pub use github::{escape_data, escape_property, github, step_summary};
pub use gitlab::gitlab;
pub use html::{HtmlContext, QueryTiming, TargetInfo, html};
pub use human::human;
pub use json::json;
pub use sarif::{sarif, uri_path};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceFile;

/// Whether a character must not reach a terminal or a page as itself: control characters (ESC
/// starts terminal escape sequences, CR overwrites a line, BEL rings) and the bidirectional
/// controls that reorder how text reads (U+202A-U+202E, U+2066-U+2069, and the marks U+200E,
/// U+200F, U+061C).
pub(crate) fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// `s` with every such character written visibly, as Rust writes it (`\u{1b}`); a tab stays.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    visible_but(s, false)
}

/// [`visible`], keeping line ends (LF, and the CR of CRLF) as they are: for multi-line text.
pub fn visible_lines(s: &str) -> std::borrow::Cow<'_, str> {
    visible_but(s, true)
}

fn visible_but(s: &str, lines: bool) -> std::borrow::Cow<'_, str> {
    let keep = |c: char, next: Option<char>| lines && (c == '\n' || (c == '\r' && next == Some('\n')));
    let mut it = s.chars().peekable();
    let mut out: Option<String> = None;
    let mut at = 0;
    while let Some(c) = it.next() {
        let next = it.peek().copied();
        if is_hidden(c) && !keep(c, next) {
            let o = out.get_or_insert_with(|| s[..at].to_owned());
            use std::fmt::Write as _;
            let _ = write!(o, "\\u{{{:x}}}", u32::from(c));
        } else if let Some(o) = &mut out {
            o.push(c);
        }
        at += c.len_utf8();
    }
    out.map_or(std::borrow::Cow::Borrowed(s), std::borrow::Cow::Owned)
}

/// What every renderer needs: the files (for positions and snippets) and the findings.
pub struct Report<'a> {
    pub files: Vec<&'a SourceFile>,
    pub diagnostics: &'a [Diagnostic],
    pub stats: &'a crate::diagnostic::Stats,
    /// Baseline entries that matched no finding (fixed since the baseline was written).
    pub baseline_fixed: usize,
}

impl Report<'_> {
    /// A finding's fix as SQL to read (its statement edited, then new statements).
    pub fn fix_preview(&self, d: &Diagnostic) -> Option<String> {
        let text = d.object.is_none().then(|| self.files.get(d.file).map(|f| f.text.as_str())).flatten();
        d.fix.as_ref().map(|f| f.preview(text))
    }
}

/// Where a finding is: a position in a file, or a live database object.
pub enum Place<'a> {
    File { file: &'a SourceFile, line: usize, column: usize, end_line: usize, end_column: usize },
    Object(&'a str),
}

/// The place of a finding of `report`.
pub fn place<'a>(report: &Report<'a>, d: &'a Diagnostic) -> Place<'a> {
    match &d.object {
        Some(o) => Place::Object(o),
        None => {
            let file = report.files[d.file];
            let (line, column, end_line, end_column) = positions(file, d);
            Place::File { file, line, column, end_line, end_column }
        }
    }
}

/// A short location: `path:line:column`, or the object's name.
pub fn location_text(report: &Report<'_>, d: &Diagnostic) -> String {
    match place(report, d) {
        Place::File { file, line, column, .. } => format!("{}:{line}:{column}", visible(&file.path)),
        Place::Object(o) => visible(o).into_owned(),
    }
}

/// Each file's path relative to the repository root (what CI services and baselines use),
/// computed once per file rather than once per finding.
pub fn repo_paths(files: &[&SourceFile]) -> Vec<String> {
    files.iter().map(|f| crate::source::repo_relative(&f.path)).collect()
}

/// 1-based positions of a finding: (line, column, end line, end column); the end is exclusive.
pub fn positions(file: &SourceFile, d: &Diagnostic) -> (usize, usize, usize, usize) {
    let (l, c) = file.position(d.span.start);
    let (el, ec) = file.position(d.span.end.max(d.span.start));
    (l, c, el, ec)
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

pub fn counts(diags: &[Diagnostic]) -> Counts {
    let mut c = Counts::default();
    for d in diags {
        match d.severity {
            Severity::Error => c.errors += 1,
            Severity::Warning => c.warnings += 1,
            Severity::Info => c.infos += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Terminal escapes, CR, BEL and bidi controls from the input are written visibly (issue 15).
    #[test]
    fn hidden_characters_are_made_visible() {
        assert_eq!(visible("plain ünïcode\ttab"), "plain ünïcode\ttab");
        assert!(matches!(visible("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(visible("a\u{1b}[2Jb\u{7}c\rd\ne"), "a\\u{1b}[2Jb\\u{7}c\\u{d}d\\u{a}e");
        assert_eq!(
            visible("x\u{202a}\u{202e}\u{2066}\u{2069}\u{200f}\u{61c}\u{9b}y"),
            "x\\u{202a}\\u{202e}\\u{2066}\\u{2069}\\u{200f}\\u{61c}\\u{9b}y"
        );
        assert_eq!(visible_lines("a\r\nb\nc\rd\u{1b}"), "a\r\nb\nc\\u{d}d\\u{1b}");
    }
}
