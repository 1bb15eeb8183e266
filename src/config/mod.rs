//! `dbwarden.toml`: loading, validation and rule selection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::RegexSet;
use serde::Deserialize;

use crate::diagnostic::Severity;

pub const FILE_NAME: &str = "dbwarden.toml";

/// The default PHI table-name patterns (replaced, not extended, by `[phi] patterns`).
pub const DEFAULT_PHI_PATTERNS: &[&str] = &[
    "(?i)patient",
    "(?i)diagnos",
    "(?i)prescri",
    "(?i)medical",
    "(?i)clinical",
    "(?i)health_?record",
    "(?i)lab_?result",
    "(?i)insurance",
    "(?i)medication",
    "(?i)allerg",
    "(?i)immuni[sz]ation",
    "(?i)symptom",
    "(?i)treatment",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub lint: LintConfig,
    pub phi: PhiConfig,
    pub soft_delete: SoftDeleteConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintConfig {
    pub paths: Vec<PathBuf>,
    pub pg_version: u32,
    pub assume_in_transaction: bool,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhiConfig {
    pub tables: Vec<String>,
    pub patterns: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    All,
    Phi,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoftDeleteConfig {
    pub column: String,
    pub require: Require,
}

impl Default for LintConfig {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            pg_version: 15,
            assume_in_transaction: false,
            select: vec!["all".into()],
            ignore: Vec::new(),
            severity: BTreeMap::new(),
        }
    }
}

impl Default for SoftDeleteConfig {
    fn default() -> Self {
        Self { column: "deleted_at".into(), require: Require::Phi }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration in {path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Parses a configuration file's text. `path` is used in error messages only.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Invalid { path: path.into(), message: e.to_string() })?;
        config.validate(path)?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), source: e })?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        // Paths in the config are relative to the config file's folder.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            for p in &mut config.lint.paths {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(config)
    }

    /// Looks for `dbwarden.toml` from `start` upwards.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        for name in self.lint.select.iter().chain(&self.lint.ignore) {
            if !crate::rules::is_selector(name) {
                return Err(invalid(format!("unknown rule or category `{name}` in [lint] select/ignore")));
            }
        }
        for name in self.lint.severity.keys() {
            if crate::rules::lookup(name).is_none() {
                return Err(invalid(format!("unknown rule `{name}` in [lint.severity]")));
            }
        }
        if let Some(patterns) = &self.phi.patterns {
            RegexSet::new(patterns).map_err(|e| invalid(format!("invalid regex in [phi] patterns: {e}")))?;
        }
        if self.lint.pg_version < 9 || self.lint.pg_version > 40 {
            return Err(invalid(format!(
                "[lint] pg_version {} is not a PostgreSQL major version",
                self.lint.pg_version
            )));
        }
        Ok(())
    }

    /// Compiled PHI table-name patterns.
    pub fn phi_patterns(&self) -> RegexSet {
        match &self.phi.patterns {
            Some(p) => RegexSet::new(p).unwrap_or_else(|_| RegexSet::empty()),
            None => RegexSet::new(DEFAULT_PHI_PATTERNS).unwrap_or_else(|_| RegexSet::empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse("[lint]\npathz = []\n", "x.toml").unwrap_err().to_string();
        assert!(err.contains("pathz"), "{err}");
        let err = Config::parse("[lint.severity]\nnot-a-rule = \"error\"\n", "x.toml").unwrap_err().to_string();
        assert!(err.contains("not-a-rule"), "{err}");
    }

    #[test]
    fn full_example_parses() {
        let c = Config::parse(
            r#"
[lint]
paths = ["db/migrations"]
pg_version = 15
assume_in_transaction = false
select = ["all"]
ignore = []
[lint.severity]
drop-column = "error"
[phi]
tables = ["patients", "care.notes"]
patterns = ["(?i)patient"]
[soft_delete]
column = "deleted_at"
require = "phi"
"#,
            "x.toml",
        )
        .unwrap();
        assert_eq!(c.lint.severity["drop-column"], Severity::Error);
        assert_eq!(c.soft_delete.require, Require::Phi);
    }
}
