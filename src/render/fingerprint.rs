//! Stable finding fingerprints: rule, repository-relative file and the normalised text of the finding's span, plus
//! an occurrence number for repeats. They survive edits elsewhere in the file and line shifts.
//! Used by SARIF `partialFingerprints`, GitLab `fingerprint` and baselines.

use std::collections::HashMap;

use super::Report;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Whitespace-collapsed text.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One fingerprint per diagnostic of the report, as 16 hex digits.
pub fn fingerprints(report: &Report<'_>) -> Vec<String> {
    fingerprints_of(&report.files, report.diagnostics)
}

/// One fingerprint per diagnostic, as 16 hex digits.
pub fn fingerprints_of(files: &[&SourceFile], diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut seen: HashMap<u64, u32> = HashMap::new();
    diagnostics
        .iter()
        .map(|d| {
            let file = files[d.file];
            let text = file.text.get(d.span.clone()).unwrap_or("");
            let path = crate::source::repo_relative(&file.path);
            let base = fnv1a(&[d.rule.as_bytes(), path.as_bytes(), normalise(text).as_bytes()]);
            let n = seen.entry(base).or_insert(0);
            *n += 1;
            format!("{:016x}", fnv1a(&[&base.to_le_bytes(), &n.to_le_bytes()]))
        })
        .collect()
}
