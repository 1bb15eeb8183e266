//! Stable finding fingerprints: rule, repository-relative file and the normalised text of the finding's span, plus
//! an occurrence number for repeats. They survive edits elsewhere in the file and line shifts.
//! Used by SARIF `partialFingerprints`, GitLab `fingerprint` and baselines.

use std::collections::HashMap;

use super::Report;
use crate::diagnostic::Diagnostic;
use crate::queries::fingerprint::{Fnv, fnv1a};
use crate::source::SourceFile;

/// The part [`normalise`]`(text)` of a hash, without building it.
fn normalised_part(h: &mut Fnv, text: &str) {
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            h.bytes(b" ");
        }
        h.bytes(word.as_bytes());
    }
    h.end_part();
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
/// Linear in the findings and the text of their spans: paths are made relative once per file.
pub fn fingerprints_of(files: &[&SourceFile], diagnostics: &[Diagnostic]) -> Vec<String> {
    let paths = super::repo_paths(files);
    let mut seen: HashMap<u64, u32> = HashMap::with_capacity(diagnostics.len());
    diagnostics
        .iter()
        .map(|d| {
            let base = match &d.object {
                Some(o) => fnv1a(&[d.rule.name().as_bytes(), o.as_bytes()]),
                None => {
                    let text = files[d.file].text.get(d.span.clone()).unwrap_or("");
                    let mut h = Fnv::new();
                    h.part(d.rule.name().as_bytes());
                    h.part(paths[d.file].as_bytes());
                    normalised_part(&mut h, text);
                    h.finish()
                }
            };
            let n = seen.entry(base).or_insert(0);
            *n += 1;
            match &d.fingerprint {
                Some(given) => given.clone(),
                None => format!("{:016x}", fnv1a(&[&base.to_le_bytes(), &n.to_le_bytes()])),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable() {
        // Baselines store these values: a change here invalidates every baseline.
        assert_eq!(fnv1a(&[b"rule", b"db/1.sql", b"CREATE INDEX i ON t (a);"]), 0xa9e6_89d7_1737_0293);
        let text = "CREATE INDEX i\n\tON t   (a);";
        let mut h = Fnv::new();
        h.part(b"rule");
        h.part(b"db/1.sql");
        normalised_part(&mut h, text);
        assert_eq!(h.finish(), fnv1a(&[b"rule", b"db/1.sql", normalise(text).as_bytes()]));
    }
}
