//! The configuration, resolved for a run: what rules are on, their severities, and the
//! conventions (patient data, soft delete, tenancy, audit logs) rules judge by.

use regex::RegexSet;

use super::{RULES, RuleId, entry, lookup, util};
use crate::config::{Config, ConfigError, Require};
use crate::diagnostic::Severity;
use crate::schema::{QualName, Table};

/// The configuration, resolved for a run.
pub struct Settings {
    pub pg_version: u32,
    pub assume_in_transaction: bool,
    /// Per rule (index into `RULES`): enabled.
    pub enabled: Vec<bool>,
    pub severity: Vec<Severity>,
    pub phi_patterns: RegexSet,
    pub phi_tables: Vec<QualName>,
    pub soft_delete_column: String,
    pub soft_delete_require: Require,
    /// `[tenancy] column`.
    pub tenant_column: String,
    pub audit_tables: Vec<QualName>,
    pub audit_patterns: RegexSet,
    /// `[audit]` thresholds for `dbwarden audit`.
    pub audit: crate::config::AuditConfig,
    /// `[lint.placeholders]`: the values of template placeholders in migrations.
    pub placeholders: crate::parse::placeholder::Placeholders,
}

impl Settings {
    pub fn new(config: &Config) -> Self {
        let matches = |sel: &str, i: usize| {
            sel == "all"
                || sel == RULES[i].name
                || entry(i).category == sel
                || lookup(sel).map(RuleId::index) == Some(i)
        };
        let enabled = (0..RULES.len())
            .map(|i| {
                config.lint.select.iter().any(|s| matches(s, i)) && !config.lint.ignore.iter().any(|s| matches(s, i))
            })
            .collect();
        let severity = (0..RULES.len())
            .map(|i| {
                config
                    .lint
                    .severity
                    .iter()
                    .find(|(k, _)| lookup(k).map(RuleId::index) == Some(i))
                    .map_or(entry(i).severity, |(_, v)| *v)
            })
            .collect();
        let qualify = |t: &String| match t.split_once('.') {
            Some((s, n)) => QualName { schema: s.to_owned(), name: n.to_owned() },
            None => QualName { schema: "public".into(), name: t.clone() },
        };
        let phi_tables = config.phi.tables.iter().map(qualify).collect();
        Self {
            pg_version: config.lint.pg_version,
            assume_in_transaction: config.lint.assume_in_transaction,
            enabled,
            severity,
            phi_patterns: config.phi_patterns(),
            phi_tables,
            soft_delete_column: config.soft_delete.column.clone(),
            soft_delete_require: config.soft_delete.require,
            tenant_column: config.tenancy.column.clone(),
            audit_tables: config.audit.tables.iter().map(qualify).collect(),
            audit_patterns: config.audit_patterns(),
            audit: config.audit.clone(),
            placeholders: crate::parse::placeholder::Placeholders::new(config.lint.placeholders.clone()),
        }
    }

    pub fn is_enabled(&self, rule: RuleId) -> bool {
        self.enabled[rule.index()]
    }

    /// Whether the table holds patient data (config, name pattern, comment or annotation).
    pub fn is_phi(&self, table: &Table) -> bool {
        table.phi_marked
            || self.phi_tables.contains(&table.name)
            || self.phi_patterns.is_match(&table.name.name)
            || table.comment.as_deref().is_some_and(util::mentions_phi)
    }

    /// Whether the table is an audit log (`[audit] tables` / `patterns`).
    pub fn is_audit_table(&self, table: &QualName) -> bool {
        self.audit_tables.contains(table) || self.audit_patterns.is_match(&table.name)
    }
}

/// Checks the rule names of a configuration read from `path`: `[lint] select` / `ignore` name
/// rules, aliases or categories, `[lint.severity]` rules or aliases.
pub fn check_names(config: &Config, path: &str) -> Result<(), ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    for name in config.lint.select.iter().chain(&config.lint.ignore) {
        if !super::is_selector(name) {
            return Err(invalid(format!("unknown rule or category `{name}` in [lint] select/ignore")));
        }
    }
    for name in config.lint.severity.keys() {
        if lookup(name).is_none() {
            return Err(invalid(format!("unknown rule `{name}` in [lint.severity]")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_rule_names_are_named() {
        let config = Config::parse("[lint.severity]\nnot-a-rule = \"error\"\n", "x.toml").unwrap();
        let err = check_names(&config, "x.toml").unwrap_err().to_string();
        assert!(err.contains("not-a-rule") && err.contains("x.toml"), "{err}");
        let config = Config::parse("[lint]\nignore = [\"locking\", \"select-star\"]\n", "x.toml").unwrap();
        assert!(check_names(&config, "x.toml").is_ok());
    }
}
