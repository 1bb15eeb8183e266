//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning, streamed.

use std::collections::HashMap;
use std::io::Write;

use serde::Serialize;
use serde_json::json;

use super::{Place, Report, fingerprint, place};
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
    // Linear in the findings: fingerprints, URIs and rule indexes are computed once.
    let fps = fingerprint::fingerprints(report);
    let uris: Vec<String> = super::repo_paths(&report.files).iter().map(|p| uri_path(p)).collect();
    let rule_index: HashMap<&str, usize> = rule_ids.iter().enumerate().map(|(k, &i)| (RULES[i].name, k)).collect();
    let uri_base_id = root.is_some().then_some("%SRCROOT%");
    for (k, d) in report.diagnostics.iter().enumerate() {
        let mut text = d.message.clone();
        if let Some(h) = &d.help {
            text.push_str("\nhelp: ");
            text.push_str(h);
        }
        // A fix that only adds statements has no replacement to offer: it is part of the text.
        if d.fix.as_ref().is_some_and(|f| !f.edits_source())
            && let Some(preview) = report.fix_preview(d)
        {
            text.push_str("\nfix: ");
            text.push_str(&preview);
        }
        let (location, fixes) = match place(report, d) {
            // A live database object: a logical location, no file.
            Place::Object(o) => (
                Location::Logical { logical_locations: [LogicalLocation { fully_qualified_name: o, kind: "object" }] },
                None,
            ),
            Place::File { file, line, column, end_line, end_column } => {
                let artifact_location = ArtifactLocation { uri: &uris[d.file], uri_base_id };
                let region = Region { start_line: line, start_column: column, end_line, end_column };
                let fixes = d.fix.as_ref().filter(|f| f.edits_source()).map(|fix| {
                    let replacements = fix
                        .edits
                        .iter()
                        .filter_map(|e| match e {
                            crate::diagnostic::Edit::Replace { range, text } => Some((range, text.as_str())),
                            crate::diagnostic::Edit::New { .. } => None,
                        })
                        .map(|(range, text)| {
                            let (start_line, start_column) = file.position(range.start);
                            let (end_line, end_column) = file.position(range.end);
                            Replacement {
                                deleted_region: Region { start_line, start_column, end_line, end_column },
                                inserted_content: Text { text },
                            }
                        })
                        .collect();
                    [Fix {
                        description: Text { text: &fix.title },
                        artifact_changes: [ArtifactChange { artifact_location, replacements }],
                    }]
                });
                (Location::Physical { physical_location: PhysicalLocation { artifact_location, region } }, fixes)
            }
        };
        let result = SarifResult {
            rule_id: d.rule.name(),
            rule_index: rule_index.get(d.rule.name()).copied(),
            level: level(d.severity),
            message: Text { text: &text },
            locations: [location],
            partial_fingerprints: Fingerprints { v1: &fps[k] },
            fixes,
        };
        if k > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut *out, &result)?;
    }
    out.write_all(b"\n]}]}\n")
}

// A result, serialised straight from borrowed data (no intermediate `serde_json::Value`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text<'a>,
    locations: [Location<'a>; 1],
    partial_fingerprints: Fingerprints<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fixes: Option<[Fix<'a>; 1]>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "dbwarden/v1")]
    v1: &'a str,
}

#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum Location<'a> {
    Physical { physical_location: PhysicalLocation<'a> },
    Logical { logical_locations: [LogicalLocation<'a>; 1] },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    artifact_location: ArtifactLocation<'a>,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    fully_qualified_name: &'a str,
    kind: &'static str,
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation<'a> {
    uri: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fix<'a> {
    description: Text<'a>,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation<'a>,
    replacements: Vec<Replacement<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    inserted_content: Text<'a>,
}
