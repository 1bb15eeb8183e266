//! Output formats: pure functions over diagnostics, streaming to a writer.

pub mod fingerprint;
mod github;
mod gitlab;
mod human;
mod json;
mod sarif;

pub use github::{escape_data, escape_property, github, step_summary};
pub use gitlab::gitlab;
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
