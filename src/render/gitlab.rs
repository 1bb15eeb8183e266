//! `--format gitlab`: GitLab Code Quality report (a JSON array), streamed.

use std::io::Write;

use serde::Serialize;

use super::{Place, Report, fingerprint, place};
use crate::diagnostic::Severity;

// Fields in alphabetical order, as the report has always been written.
#[derive(Serialize)]
struct Issue<'a> {
    check_name: &'a str,
    description: &'a str,
    fingerprint: &'a str,
    location: Location<'a>,
    severity: &'static str,
}

#[derive(Serialize)]
struct Location<'a> {
    lines: Lines,
    path: &'a str,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

pub fn gitlab(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    let fps = fingerprint::fingerprints(report);
    let paths = super::repo_paths(&report.files);
    out.write_all(b"[")?;
    for (i, d) in report.diagnostics.iter().enumerate() {
        // GitLab needs a path: a live object is reported under its name.
        let (path, line, end_line) = match place(report, d) {
            // Relative to the repository root, as GitLab resolves it.
            Place::File { line, end_line, .. } => (paths[d.file].as_str(), line, end_line),
            Place::Object(o) => (o, 1, 1),
        };
        let severity = match d.severity {
            Severity::Error => "major",
            Severity::Warning => "minor",
            Severity::Info => "info",
        };
        let description = match &d.help {
            Some(h) => format!("{} (help: {h})", d.message),
            None => d.message.clone(),
        };
        let v = Issue {
            check_name: d.rule.name(),
            description: &description,
            fingerprint: &fps[i],
            location: Location { lines: Lines { begin: line, end: end_line }, path },
            severity,
        };
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &v)?;
    }
    out.write_all(b"\n]\n")
}
