//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning, streamed.

use std::io::Write;

use serde_json::json;

use super::{Report, fingerprint, positions};
use crate::diagnostic::Severity;
use crate::rules::{self, RULES};

pub const INFORMATION_URI: &str = "https://github.com/dbwarden/dbwarden";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encodes a relative path for a URI reference (keeps `/` and unreserved characters).
pub fn uri_path(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The rule's display name: `index-not-concurrent` -> `IndexNotConcurrent`. SARIF wants `name`
/// to differ from the opaque `id` (validator rule SARIF1001).
fn display_name(rule: &str) -> String {
    rule.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn rule_descriptor(i: usize) -> serde_json::Value {
    let e = rules::entry(i);
    json!({
        "id": RULES[i].name,
        "name": display_name(RULES[i].name),
        "shortDescription": { "text": e.summary },
        "fullDescription": { "text": e.why.trim() },
        "help": { "text": e.help, "markdown": e.to_markdown() },
        "helpUri": format!("{INFORMATION_URI}/blob/main/docs/rules/{}.md", RULES[i].name),
        "defaultConfiguration": { "level": level(e.severity) },
        "properties": { "tags": [e.category] },
    })
}

pub fn sarif(out: &mut dyn Write, report: &Report<'_>, enabled: &[bool]) -> std::io::Result<()> {
    let root = crate::source::repo_root();
    let rule_ids: Vec<usize> = (0..RULES.len()).filter(|&i| enabled.get(i).copied().unwrap_or(true)).collect();
    let driver = json!({
        "name": "dbwarden",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "informationUri": INFORMATION_URI,
        "rules": rule_ids.iter().map(|&i| rule_descriptor(i)).collect::<Vec<_>>(),
    });
    out.write_all(b"{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":")?;
    serde_json::to_writer(&mut *out, &driver)?;
    out.write_all(b"},\"columnKind\":\"unicodeCodePoints\",")?;
    if let Some(root) = &root {
        let mut uri = uri_path(&root.to_string_lossy());
        if !uri.ends_with('/') {
            uri.push('/');
        }
        let base =
            json!({ "%SRCROOT%": { "uri": format!("file://{}{uri}", if uri.starts_with('/') { "" } else { "/" }) } });
        out.write_all(b"\"originalUriBaseIds\":")?;
        serde_json::to_writer(&mut *out, &base)?;
        out.write_all(b",")?;
    }
    out.write_all(b"\"results\":[")?;
    let fps = fingerprint::fingerprints(report);
    for (k, d) in report.diagnostics.iter().enumerate() {
        let file = report.files[d.file];
        let (line, col, end_line, end_col) = positions(file, d);
        let uri = uri_path(&crate::source::repo_relative(&file.path));
        let mut location = json!({ "uri": uri });
        if root.is_some() {
            location["uriBaseId"] = json!("%SRCROOT%");
        }
        let region = json!({ "startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col });
        let mut text = d.message.clone();
        if let Some(h) = &d.help {
            text.push_str(&format!("\nhelp: {h}"));
        }
        if let (Some(fix), None) = (&d.fix, &d.fix_replaces) {
            text.push_str(&format!("\nfix: {fix}"));
        }
        let mut result = json!({
            "ruleId": d.rule,
            "level": level(d.severity),
            "message": { "text": text },
            "locations": [{ "physicalLocation": { "artifactLocation": location.clone(), "region": region.clone() } }],
            "partialFingerprints": { "dbwarden/v1": fps[k] },
        });
        if let Some(i) = rule_ids.iter().position(|&i| RULES[i].name == d.rule) {
            result["ruleIndex"] = json!(i);
        }
        if let (Some(fix), Some(range)) = (&d.fix, &d.fix_replaces) {
            let (sl, sc) = file.position(range.start);
            let (el, ec) = file.position(range.end);
            let region = json!({ "startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec });
            result["fixes"] = json!([{
                "description": { "text": "replace with the safe statement(s)" },
                "artifactChanges": [{
                    "artifactLocation": location,
                    "replacements": [{ "deletedRegion": region, "insertedContent": { "text": fix } }],
                }],
            }]);
        }
        if k > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &result)?;
    }
    out.write_all(b"\n]}]}\n")
}
