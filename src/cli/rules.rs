//! `dbwarden rules` and `dbwarden rule NAME`: the catalogue, as a table and as Markdown.

use std::io::Write;

use super::CliError;
use super::report::EXIT_CLEAN;
use crate::rules::{self, RULES};

/// Lists every rule: name, category, default severity, summary.
pub(super) fn list_rules() -> Result<u8, CliError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(10);
    writeln!(out, "{:<width$}  {:<13}  {:<8}  summary", "rule", "category", "severity")?;
    for (i, r) in RULES.iter().enumerate() {
        let e = rules::entry(i);
        writeln!(out, "{:<width$}  {:<13}  {:<8}  {}", r.name, e.category, e.severity.as_str(), e.summary)?;
    }
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// Prints a rule's documentation (by its name or an alias) as Markdown.
pub(super) fn show_rule(name: &str) -> Result<u8, CliError> {
    let i = rules::lookup(name).ok_or_else(|| CliError::UnknownRule(name.to_owned()))?;
    let mut out = std::io::stdout().lock();
    out.write_all(i.entry().to_markdown().as_bytes())?;
    Ok(EXIT_CLEAN)
}
