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

/// What every renderer needs: the files (for positions and snippets) and the findings.
pub struct Report<'a> {
    pub files: Vec<&'a SourceFile>,
    pub diagnostics: &'a [Diagnostic],
    pub stats: &'a crate::rules::engine::Stats,
    /// Baseline entries that matched no finding (fixed since the baseline was written).
    pub baseline_fixed: usize,
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
        Place::File { file, line, column, .. } => format!("{}:{line}:{column}", file.path),
        Place::Object(o) => o.to_owned(),
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
