//! What every subcommand that reports findings shares: writing the report in the format asked
//! for ([`emit`]) and the exit status ([`exit_status`]), so that `lint`, `pre-commit`, `audit`
//! and `explain` print and exit alike.

use std::io::Write;
use std::path::Path;

use super::{CliError, FailOn, Format};
use crate::diagnostic::{Diagnostic, Severity};
use crate::render;
use crate::rules::RuleId;

/// No finding at or above `--fail-on` (or `--exit-zero`), or a command that reports none.
pub const EXIT_CLEAN: u8 = 0;
/// A reported finding at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// The command could not do its job (bad input, a failed connection, a panic), or a finding is an
/// `internal-error`.
pub const EXIT_ERROR: u8 = 2;

/// What some formats need beyond the report.
#[derive(Default)]
pub(super) struct Extras<'a> {
    /// Per rule: enabled (SARIF describes the enabled rules).
    pub enabled: &'a [bool],
    /// The HTML page's title, target, time, schema and query timings.
    pub html: render::HtmlContext<'a>,
    /// With `json`: a `queries` member to add to the findings (explain's per-query outcomes).
    pub json_queries: Option<&'a dyn Fn() -> serde_json::Value>,
    /// With `github`: also append the step summary to the file in `GITHUB_STEP_SUMMARY`.
    pub step_summary: bool,
}

/// The format asked for; without one, `github` when `GITHUB_ACTIONS=true`, else `human`.
pub(super) fn format_or_default(format: Option<Format>) -> Format {
    format.unwrap_or_else(|| {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") { Format::Github } else { Format::Human }
    })
}

/// Writes `report` in `format` to the file `output`, or to standard output. An error writing
/// the file names it.
pub(super) fn emit(
    format: Format,
    report: &render::Report<'_>,
    output: Option<&Path>,
    extras: &Extras<'_>,
) -> Result<(), CliError> {
    let output_err = |e: std::io::Error| match output {
        Some(path) => CliError::OutputFile { path: path.display().to_string(), source: e },
        None => CliError::Output(e),
    };
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path).map_err(output_err)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    write(&mut *out, format, report, extras).and_then(|()| out.flush()).map_err(output_err)
}

fn write(out: &mut dyn Write, format: Format, report: &render::Report<'_>, extras: &Extras<'_>) -> std::io::Result<()> {
    match format {
        Format::Human => render::human(out, report),
        Format::Json => match extras.json_queries {
            Some(queries) => json_with_queries(out, report, queries()),
            None => render::json(out, report),
        },
        Format::Github => {
            render::github(out, report)?;
            if extras.step_summary {
                append_step_summary(report);
            }
            Ok(())
        }
        Format::Sarif => render::sarif(out, report, extras.enabled),
        Format::Gitlab => render::gitlab(out, report),
        Format::Html => render::html(out, report, &extras.html),
    }
}

/// The findings exactly as `lint --format json` prints them, plus `queries`.
fn json_with_queries(
    out: &mut dyn Write,
    report: &render::Report<'_>,
    queries: serde_json::Value,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    render::json(&mut buf, report)?;
    let mut v: serde_json::Value = serde_json::from_slice(&buf).map_err(std::io::Error::other)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("queries".into(), queries);
    }
    serde_json::to_writer(&mut *out, &v).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// Appends the step summary to `GITHUB_STEP_SUMMARY`, if set. The summary is a courtesy: failing
/// to write it is a warning, not a failed run.
fn append_step_summary(report: &render::Report<'_>) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(render::step_summary(report).as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "dbwarden: warning: cannot write the step summary to {} (GITHUB_STEP_SUMMARY): {e}",
            Path::new(&path).display()
        );
    }
}

/// The exit status of a run that found `all` and reported `reported` of them (a baseline or
/// `--report-only` hides the others): [`EXIT_ERROR`] when any finding, reported or not, is an
/// `internal-error`; else [`EXIT_FINDINGS`] when a reported finding is at or above `fail_on`,
/// unless `exit_zero`; else [`EXIT_CLEAN`].
pub(super) fn exit_status(all: &[Diagnostic], reported: &[Diagnostic], fail_on: FailOn, exit_zero: bool) -> u8 {
    let threshold = match fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    if all.iter().any(|d| d.rule == RuleId::InternalError) {
        EXIT_ERROR
    } else if !exit_zero && reported.iter().any(|d| d.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// The current time for reports, `YYYY-MM-DD HH:MM:SS UTC`.
pub(super) fn now_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    render::html::format_utc(secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Sink;

    fn finding(rule: RuleId, severity: Severity) -> Diagnostic {
        let mut out = Vec::new();
        Sink::new(rule, 0, 0..1, &mut out).report(None, "m");
        let mut d = out.remove(0);
        d.severity = severity;
        d
    }

    #[test]
    fn an_internal_error_exits_2_whatever_else() {
        let internal = [finding(RuleId::InternalError, Severity::Info)];
        assert_eq!(exit_status(&internal, &internal, FailOn::Error, false), EXIT_ERROR);
        assert_eq!(exit_status(&internal, &internal, FailOn::Error, true), EXIT_ERROR);
        // Even when a baseline or `--report-only` hid it.
        assert_eq!(exit_status(&internal, &[], FailOn::Info, false), EXIT_ERROR);
    }

    #[test]
    fn a_reported_finding_at_or_above_the_threshold_exits_1() {
        let warning = [finding(RuleId::SyntaxError, Severity::Warning)];
        assert_eq!(exit_status(&warning, &warning, FailOn::Warning, false), EXIT_FINDINGS);
        assert_eq!(exit_status(&warning, &warning, FailOn::Info, false), EXIT_FINDINGS);
        assert_eq!(exit_status(&warning, &warning, FailOn::Error, false), EXIT_CLEAN);
        assert_eq!(exit_status(&warning, &[], FailOn::Info, false), EXIT_CLEAN);
        assert_eq!(exit_status(&[], &[], FailOn::Info, false), EXIT_CLEAN);
    }

    #[test]
    fn exit_zero_keeps_findings_from_failing_the_run() {
        let error = [finding(RuleId::SyntaxError, Severity::Error)];
        assert_eq!(exit_status(&error, &error, FailOn::Error, true), EXIT_CLEAN);
    }
}
