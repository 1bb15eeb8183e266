//! Baselines: adopt dbwarden on a repository with existing findings. A baseline records each
//! finding by rule, repository-relative file and fingerprint (not line), so entries survive edits
//! elsewhere in the file and line shifts.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Diagnostic;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    pub file: String,
    pub fingerprint: String,
    /// For people reading the file; not used for matching.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid baseline {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot write baseline {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read { path: p.clone(), source: e })?;
        let b: Baseline = serde_json::from_str(&text)
            .map_err(|e| BaselineError::Invalid { path: p.clone(), message: e.to_string() })?;
        if b.version != 1 {
            return Err(BaselineError::Invalid { path: p, message: format!("unsupported version {}", b.version) });
        }
        Ok(b)
    }

    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        std::fs::write(path, text).map_err(|e| BaselineError::Write { path: path.display().to_string(), source: e })
    }

    /// Builds a baseline from findings; `keys[i]` is (file, fingerprint) of `diags[i]`.
    pub fn from_findings(diags: &[Diagnostic], keys: &[(String, String)]) -> Self {
        let findings = diags
            .iter()
            .zip(keys)
            .map(|(d, (file, fp))| Entry {
                rule: d.rule.name().to_owned(),
                file: file.clone(),
                fingerprint: fp.clone(),
                message: d.message.clone(),
            })
            .collect();
        Baseline { version: 1, findings }
    }

    /// Which findings the baseline covers (`true` = known, not reported), and how many baseline
    /// entries matched nothing (fixed since).
    pub fn apply(&self, diags: &[Diagnostic], keys: &[(String, String)]) -> (Vec<bool>, usize) {
        let mut remaining: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for e in &self.findings {
            *remaining.entry((e.rule.as_str(), e.file.as_str(), e.fingerprint.as_str())).or_default() += 1;
        }
        let known = diags
            .iter()
            .zip(keys)
            .map(|(d, (file, fp))| match remaining.get_mut(&(d.rule.name(), file.as_str(), fp.as_str())) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            })
            .collect();
        (known, remaining.values().sum())
    }
}
