//! `dbwarden audit`: load a live database's catalog into the schema model, optionally replay
//! the migrations for drift, and run the schema rules and the live-only rules on it.
//!
//! Findings are located by object (`schema.table[.constraint_or_index]`) and carry the table's
//! estimated rows and size.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::db::{DbError, Target};
use crate::diagnostic::Diagnostic;
use crate::pipeline::{self, LintOutput};
use crate::rules::Settings;
use crate::schema::catalog::{self, LoadOptions};
use crate::schema::{Schema, Table};
use crate::source::{self, SourceError};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("no migrations found in {0}")]
    NoMigrations(String),
}

/// What to audit.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Only these schemas (empty: every non-system schema).
    pub schemas: Vec<String>,
    /// Migration files or folders to compare with the live schema (`schema-drift`).
    pub migrations: Vec<PathBuf>,
}

pub struct AuditOutput {
    /// The live model.
    pub schema: Schema,
    /// The replayed migrations, when `--migrations` was given (their files, for reports).
    pub migrations: Option<LintOutput>,
    pub diagnostics: Vec<Diagnostic>,
    /// The connected role could do more than read (superuser, or a member of a role that can
    /// end sessions or touch server files).
    pub privilege_warning: Option<String>,
    /// Migration files found in the folders given and not read (see [`source::discover_files`]).
    pub skipped: Vec<source::Skipped>,
}

/// Connects, reads the catalog, replays the migrations if asked, and judges.
pub fn run(target: &Target, opts: &AuditOptions, settings: &Settings) -> Result<AuditOutput, AuditError> {
    // Read the migrations first: a bad path is reported before connecting.
    let mut skipped = Vec::new();
    let migrations = if opts.migrations.is_empty() {
        None
    } else {
        let found = source::discover_files(&opts.migrations, &source::DiscoverOptions::default())?;
        skipped = found.skipped.clone();
        if found.files.is_empty() {
            let list = opts.migrations.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            return Err(AuditError::NoMigrations(list));
        }
        let sources = found.load()?;
        Some(pipeline::lint(sources, settings))
    };
    let mut client = target.connect()?;
    let privilege_warning = crate::db::privilege_warning(&mut client, None)?;
    let load_opts =
        LoadOptions { schemas: opts.schemas.clone(), statement_timeout: settings.audit.statement_timeout.clone() };
    let schema =
        catalog::load(&mut client, &load_opts).map_err(|e| DbError::Query { message: target.scrub(&e.to_string()) })?;
    let diagnostics = judge(&schema, migrations.as_ref().map(|m| &m.schema), settings);
    Ok(AuditOutput { schema, migrations, diagnostics, privilege_warning, skipped })
}

/// Runs the schema and live-only rules on a loaded model (and the drift check against
/// `migrations`), with each finding's table statistics attached.
pub fn judge(schema: &Schema, migrations: Option<&Schema>, settings: &Settings) -> Vec<Diagnostic> {
    // Drift compares only the schemas that were read.
    let scoped;
    let migrations = match (migrations, &schema.live) {
        (Some(m), Some(live)) if !live.schemas.is_empty() => {
            scoped = scope(m, &live.schemas);
            Some(&scoped)
        }
        (m, _) => m,
    };
    let mut diagnostics = pipeline::judge_live(schema, migrations, settings);
    attach_table_stats(schema, &mut diagnostics);
    diagnostics
}

/// The migrations' model restricted to `schemas`.
fn scope(m: &Schema, schemas: &[String]) -> Schema {
    let mut s = m.clone();
    s.tables.retain(|k, _| schemas.contains(&k.schema));
    s.indexes.retain(|k, _| schemas.contains(&k.schema));
    s.seal();
    s
}

/// Sets `table_stats` (estimated rows, total bytes) on findings about a table or one of its
/// constraints or indexes.
fn attach_table_stats(schema: &Schema, diagnostics: &mut [Diagnostic]) {
    let by_object: HashMap<String, &Table> =
        schema.tables.values().map(|t| (format!("{}.{}", t.name.schema, t.name.name), t)).collect();
    for d in diagnostics.iter_mut() {
        let Some(object) = &d.object else { continue };
        // `schema.table`, or `schema.table.name`: try the whole name, then shorter prefixes.
        let mut candidates = vec![object.as_str()];
        candidates.extend(object.rmatch_indices('.').map(|(i, _)| &object[..i]));
        if let Some(stats) = candidates.iter().find_map(|c| by_object.get(*c)).and_then(|t| t.stats.as_ref()) {
            d.table_stats = Some((stats.estimated_rows(), stats.total_bytes));
        }
    }
}
