//! The rule catalogue: `rules/NAME.toml`, embedded in the binary.

use serde::Deserialize;

use crate::diagnostic::Severity;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub category: String,
    pub severity: Severity,
    /// One line, no trailing period.
    pub summary: String,
    pub why: String,
    /// What to do instead (Markdown).
    pub instead: String,
    /// The one-line help printed with each finding.
    pub help: String,
    /// The PostgreSQL versions the rule's judgement depends on, e.g. "all", "11+".
    pub pg_versions: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// `diagnostic` (the rule reports it) or `clean` (it does not).
    pub kind: ExampleKind,
    #[serde(default)]
    pub title: Option<String>,
    pub sql: String,
    /// Extra configuration (TOML) the example needs, e.g. `[lint]\npg_version = 10`.
    #[serde(default)]
    pub config: Option<String>,
    /// Query rules: the migrations (SQL) the example query runs against.
    #[serde(default)]
    pub schema: Option<String>,
    /// Plan rules: the captured `EXPLAIN` JSON of `sql`, a file name in `fixtures/rules/`.
    #[serde(default)]
    pub plan: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExampleKind {
    Diagnostic,
    Clean,
}

pub const CATEGORIES: &[(&str, &str)] = &[
    ("locking", "Operations that take strong locks or rewrite a table while the application runs"),
    ("compatibility", "Changes that break the application version still running during a deploy"),
    ("schema", "Schema design defects judged on the whole schema"),
    ("phi", "Protection of patient data"),
    ("security", "Tenant isolation, row-level security and tamper-resistant audit logs"),
    ("soft-delete", "Soft-delete conventions"),
    ("performance", "Query plans and times measured on a target database by `dbwarden explain`"),
    ("live", "Defects only a live database shows (`dbwarden audit`): validity, statistics, sequences, drift"),
    ("query", "Captured application queries judged against the schema (`dbwarden lint --queries`)"),
    ("meta", "Problems with the input or with dbwarden's own annotations"),
];

impl Entry {
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The rule's documentation as Markdown (also `docs/rules/NAME.md`).
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ =
            writeln!(s, "<!-- generated from rules/{}.toml by `UPDATE_DOCS=1 cargo test`; do not edit -->", self.name);
        let _ = writeln!(s, "# {}\n", self.name);
        let _ = writeln!(s, "{}.\n", self.summary);
        let _ = writeln!(s, "| category | default severity | PostgreSQL versions |");
        let _ = writeln!(s, "|---|---|---|");
        let _ = writeln!(s, "| {} | {} | {} |\n", self.category, self.severity, self.pg_versions);
        if !self.aliases.is_empty() {
            let _ = writeln!(
                s,
                "Also known as: {}.\n",
                self.aliases.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            );
        }
        let _ = writeln!(s, "## Why it matters\n\n{}\n", self.why.trim());
        let _ = writeln!(s, "## What to do instead\n\n{}\n", self.instead.trim());
        if !self.examples.is_empty() {
            let _ = writeln!(s, "## Examples\n");
            for e in &self.examples {
                let label = match e.kind {
                    ExampleKind::Diagnostic => "Reported",
                    ExampleKind::Clean => "Not reported",
                };
                match &e.title {
                    Some(t) => {
                        let _ = writeln!(s, "{label}: {t}\n");
                    }
                    None => {
                        let _ = writeln!(s, "{label}:\n");
                    }
                }
                if let Some(cfg) = &e.config {
                    let _ = writeln!(s, "With this configuration:\n\n```toml\n{}\n```\n", cfg.trim());
                }
                if let Some(schema) = &e.schema {
                    let _ = writeln!(s, "With this schema:\n\n```sql\n{}\n```\n", schema.trim());
                }
                let _ = writeln!(s, "```sql\n{}\n```\n", e.sql.trim());
                if let Some(plan) = &e.plan {
                    let _ = writeln!(s, "Plan: [`fixtures/rules/{plan}`](../../fixtures/rules/{plan})\n");
                }
            }
        }
        let _ = writeln!(s, "## Configuration\n");
        if self.category == "live" {
            // Live findings are about database objects: there is no statement to annotate.
            let _ = writeln!(
                s,
                "Change the severity with `[lint.severity] {} = \"warning\"`, or turn the rule off with `[lint] ignore = [\"{}\"]`. The rule runs in `dbwarden audit` only (see [docs/audit.md](../audit.md)).\n",
                self.name, self.name
            );
        } else {
            let _ = writeln!(
                s,
                "Change the severity with `[lint.severity] {} = \"warning\"`, turn the rule off with `[lint] ignore = [\"{}\"]`, or suppress one statement with `-- dbwarden-ignore: {} -- reason` on the line before it.\n",
                self.name, self.name, self.name
            );
        }
        if !self.references.is_empty() {
            let _ = writeln!(s, "## References\n");
            for r in &self.references {
                let _ = writeln!(s, "- <{r}>");
            }
        }
        s
    }
}
