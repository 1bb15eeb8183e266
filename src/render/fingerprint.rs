//! Stable finding fingerprints: rule, repository-relative file and the normalised text of the finding's span, plus
//! an occurrence number for repeats. They survive edits elsewhere in the file and line shifts.
//! Used by SARIF `partialFingerprints`, GitLab `fingerprint` and baselines.

use std::collections::HashMap;

use super::Report;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// FNV-1a, 64 bit: stable across Rust versions and platforms (unlike `DefaultHasher`). Each part
/// is followed by a `0xff` byte, which cannot occur in UTF-8 text.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = Fnv::new();
    for p in parts {
        h.part(p);
    }
    h.0
}

/// Streaming [`fnv1a`].
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn end_part(&mut self) {
        self.bytes(&[0xff]);
    }

    fn part(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
        self.end_part();
    }

    /// The part [`normalise`]`(text)`, without building it.
    fn normalised_part(&mut self, text: &str) {
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                self.bytes(b" ");
            }
            self.bytes(word.as_bytes());
        }
        self.end_part();
    }
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
                    h.normalised_part(text);
                    h.0
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
        h.normalised_part(text);
        assert_eq!(h.0, fnv1a(&[b"rule", b"db/1.sql", normalise(text).as_bytes()]));
    }
}
