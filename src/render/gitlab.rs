//! `--format gitlab`: GitLab Code Quality report (a JSON array), streamed.

use std::io::Write;

use super::{Report, fingerprint, positions};
use crate::diagnostic::Severity;

pub fn gitlab(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    let fps = fingerprint::fingerprints(report);
    out.write_all(b"[")?;
    for (i, d) in report.diagnostics.iter().enumerate() {
        let file = report.files[d.file];
        let (line, _, end_line, _) = positions(file, d);
        let severity = match d.severity {
            Severity::Error => "major",
            Severity::Warning => "minor",
            Severity::Info => "info",
        };
        let description = match &d.help {
            Some(h) => format!("{} (help: {h})", d.message),
            None => d.message.clone(),
        };
        let v = serde_json::json!({
            "description": description,
            "check_name": d.rule,
            "fingerprint": fps[i],
            "severity": severity,
            "location": { "path": file.path, "lines": { "begin": line, "end": end_line } },
        });
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &v)?;
    }
    out.write_all(b"\n]\n")
}
