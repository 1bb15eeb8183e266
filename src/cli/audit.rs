//! `dbwarden audit`: the logic is in [`crate::audit`]; this adds the captured queries' findings,
//! renders the report and decides the exit status.

use super::explain;
use super::input::{load_config, warn_skipped};
use super::report::{Extras, emit, exit_status, now_utc};
use super::{AuditArgs, CliError};
use crate::diagnostic::Stats;
use crate::render;
use crate::rules::Settings;
use crate::source;

/// `dbwarden audit`.
pub(super) fn audit(args: &AuditArgs) -> Result<u8, CliError> {
    let config = load_config(args.config.as_ref())?;
    let settings = Settings::new(&config);
    let target = crate::db::Target::resolve(args.database_url.as_deref()).map_err(crate::audit::AuditError::from)?;
    let opts = crate::audit::AuditOptions { schemas: args.schemas.clone(), migrations: args.migrations.clone() };
    let mut output = crate::audit::run(&target, &opts, &settings)?;
    warn_skipped(&output.skipped);
    if let Some(w) = &output.privilege_warning {
        eprintln!("warning: {w}");
    }
    let mut files: Vec<&source::SourceFile> =
        output.migrations.as_ref().map(|m| m.files.iter().map(|f| &f.source).collect()).unwrap_or_default();
    // Captured queries run on the same database; their findings point into their own files,
    // which follow the migration files.
    let (query_files, timings) = if args.queries.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let (qfiles, mut qdiags, timings) = explain::run_for_audit(&target, &args.queries, &config, &settings)?;
        for d in &mut qdiags {
            d.file += files.len();
        }
        output.diagnostics.extend(qdiags);
        (qfiles, timings)
    };
    files.extend(query_files.iter());
    let stats = Stats { files: files.len(), ..Stats::default() };
    let report = render::Report { files, diagnostics: &output.diagnostics, stats: &stats, baseline_fixed: 0 };
    emit_audit(args, &report, &output, &target, &timings, &settings)?;
    Ok(exit_status(&output.diagnostics, &output.diagnostics, args.fail_on, false))
}

/// Writes the audit report in the format asked for, to `--output` or standard output.
fn emit_audit(
    args: &AuditArgs,
    report: &render::Report<'_>,
    output: &crate::audit::AuditOutput,
    target: &crate::db::Target,
    timings: &[render::QueryTiming],
    settings: &Settings,
) -> Result<(), CliError> {
    let at = now_utc();
    let live = output.schema.live.as_ref();
    let info = render::TargetInfo {
        name: target.display().to_owned(),
        version: live.map(|l| l.server_version.clone()),
        size_bytes: live.map(|l| l.size_bytes),
    };
    let extras = Extras {
        enabled: &settings.enabled,
        html: render::HtmlContext {
            title: "dbwarden audit",
            target: Some(&info),
            generated_at: Some(&at),
            schema: Some(&output.schema),
            queries: timings,
        },
        ..Extras::default()
    };
    emit(args.format, report, args.output.as_deref(), &extras)
}
