//! `dbwarden lint` and `dbwarden pre-commit`: lint the migration files (and captured queries
//! against the schema they build), then report the findings that the baseline and
//! `--report-only` / `--changed-only` leave.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::input::{load_config, warn_inputs, warn_skipped};
use super::report::{EXIT_CLEAN, Extras, emit, exit_status, format_or_default, now_utc};
use super::{CliError, LintArgs, PreCommitArgs};
use crate::config::Config;
use crate::diagnostic::baseline::Baseline;
use crate::diagnostic::{Diagnostic, Stats};
use crate::pipeline::{self, LintOutput};
use crate::queries::QuerySet;
use crate::render;
use crate::rules::{self, Settings};
use crate::source::{self, SourceFile};

/// A finding's baseline key: its object or file, and its fingerprint.
type Key = (String, String);

/// `dbwarden lint`.
pub(super) fn lint(args: &LintArgs) -> Result<u8, CliError> {
    let config = config(args)?;
    let settings = Settings::new(&config);
    let (mut sources, not_migrations) = load_sources(args, &config)?;
    mark_undeployed(args, &mut sources)?;
    let mut output = pipeline::lint(sources, &settings);
    if args.list_files {
        print_files(args, &output, &settings, &not_migrations);
        std::mem::forget(output);
        return Ok(EXIT_CLEAN);
    }
    output.stats.not_migrations =
        not_migrations.iter().map(|s| (source::repo_relative(&s.path.to_string_lossy()), s.reason)).collect();
    if args.statistics {
        print_statistics(&output.stats);
    }
    let captured = read_captured(args)?;
    if let Some(set) = &captured {
        lint_captured(set, &config, &settings, args.show_values, &mut output);
    }
    // Captured queries' files follow the migration files, as their findings' file indices do.
    let files: Vec<&SourceFile> =
        output.files.iter().map(|f| &f.source).chain(captured.iter().flat_map(|s| s.files.iter())).collect();
    let keys = keys(args, &files, &output.diagnostics);
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &output.diagnostics, &keys);
    }
    let (diagnostics, baseline_fixed) = reported(args, &files, &output.diagnostics, &keys)?;
    let code = exit_status(&output.diagnostics, &diagnostics, args.report.fail_on, args.exit_zero);
    let report = render::Report { files, diagnostics: &diagnostics, stats: &output.stats, baseline_fixed };
    emit_lint(args, &report, &settings, &output)?;
    // The process ends after this: freeing every parsed file, AST-derived statement and the
    // model piece by piece costs about as much as rendering them (3 % of linting the corpus);
    // the operating system takes the memory back at once.
    std::mem::forget(diagnostics);
    std::mem::forget(output);
    Ok(code)
}

/// `dbwarden pre-commit FILE...`: `dbwarden lint --report-only FILE...` over the config's paths.
pub(super) fn pre_commit(args: PreCommitArgs) -> Result<u8, CliError> {
    if args.files.is_empty() {
        return Ok(EXIT_CLEAN);
    }
    let lint_args = LintArgs { report: args.report, report_only: args.files, pre_commit: true, ..LintArgs::default() };
    match lint(&lint_args) {
        // No `[lint] paths` to replay: lint the given files on their own.
        Err(CliError::NoPaths) => lint(&LintArgs { paths: lint_args.report_only.clone(), ..lint_args }),
        other => other,
    }
}

/// The configuration, with `--pg-version` applied.
fn config(args: &LintArgs) -> Result<Config, CliError> {
    let mut config = load_config(args.report.config.as_ref())?;
    if let Some(v) = args.report.pg_version {
        if !(9..=40).contains(&v) {
            return Err(CliError::PgVersion(v));
        }
        config.lint.pg_version = v;
    }
    Ok(config)
}

/// Whether the run judges captured queries.
fn captures_queries(args: &LintArgs) -> bool {
    !args.queries.is_empty() || args.from_pg_stat_statements
}

/// The migration files, read in migration order: the paths given, else the config's.
fn load_sources(args: &LintArgs, config: &Config) -> Result<(Vec<SourceFile>, Vec<source::Skipped>), CliError> {
    let paths = if args.paths.is_empty() { &config.lint.paths } else { &args.paths };
    if paths.is_empty() && !captures_queries(args) {
        return Err(CliError::NoPaths);
    }
    let layout = super::input::layout_options(config).map_err(|message| {
        CliError::Config(crate::config::ConfigError::Invalid { path: "the configuration".into(), message })
    })?;
    let found =
        source::discover_files(paths, &source::DiscoverOptions { follow_symlinks: args.follow_symlinks, layout })?;
    warn_skipped(&found.skipped);
    // Reading files is I/O and UTF-8 checking: done in parallel, in migration order.
    Ok((found.load()?, found.not_migrations))
}

/// With `--changed-only --base REF` (and in the pre-commit hook, against `HEAD`), the migration
/// files that are not on the base have never been deployed: what they create is new to each
/// other (a table created in one and indexed in the next locks nothing anyone waits for).
fn mark_undeployed(args: &LintArgs, sources: &mut [SourceFile]) -> Result<(), CliError> {
    let base = match (&args.base, args.changed_only, args.pre_commit) {
        (Some(base), true, _) => base.as_str(),
        (_, _, true) => "HEAD",
        _ => return Ok(()),
    };
    // Outside a git work tree nothing is known to be undeployed.
    let Ok(new) = files_since(base, true) else { return Ok(()) };
    if new.is_empty() {
        return Ok(());
    }
    let new: HashSet<PathBuf> = new.into_iter().collect();
    for f in sources.iter_mut() {
        if f.path != "-" && new.contains(&same_file(Path::new(&f.path))) {
            f.plan.fresh_group = Some(UNDEPLOYED);
        }
    }
    Ok(())
}

/// The install-script group of the migrations not yet deployed.
const UNDEPLOYED: u32 = u32::MAX;

/// The captured queries of `--queries` and `--from-pg-stat-statements`, if any were asked for.
fn read_captured(args: &LintArgs) -> Result<Option<QuerySet>, CliError> {
    if !captures_queries(args) {
        return Ok(None);
    }
    let opts = crate::queries::ReadOptions { format: args.queries_format, show_values: args.show_values };
    let target = match args.from_pg_stat_statements {
        true => {
            Some(crate::db::Target::resolve(args.database_url.as_deref()).map_err(crate::queries::InputError::from)?)
        }
        false => None,
    };
    let set = crate::queries::read_inputs(&args.queries, &opts, target.as_ref())?;
    warn_inputs(&set);
    for path in set.empty_inputs() {
        eprintln!("dbwarden: note: no queries found in {path} (check --queries-format and the server's log settings)");
    }
    Ok(Some(set))
}

/// Judges the captured queries against the schema the migrations built; their findings point
/// into the query files, which follow the migration files.
fn lint_captured(set: &QuerySet, config: &Config, settings: &Settings, show_values: bool, output: &mut LintOutput) {
    output.stats.files += set.files.len();
    let qopts = rules::QueryOptions::from_config(&config.queries, show_values);
    let base = output.files.len();
    output.diagnostics.extend(pipeline::lint_queries(set, &output.schema, settings, &qopts).into_iter().map(
        |mut d| {
            d.file += base;
            d
        },
    ));
}

/// Each finding's baseline key. Only computed when a baseline or a filter is in play (they cost
/// a hash per finding), and over every finding, so that fingerprints do not depend on what is
/// filtered out.
fn keys(args: &LintArgs, files: &[&SourceFile], diagnostics: &[Diagnostic]) -> Vec<Key> {
    let filtered = args.report.baseline.is_some() || !args.report_only.is_empty() || args.changed_only;
    if !filtered && args.write_baseline.is_none() {
        return Vec::new();
    }
    let fingerprints = render::fingerprint::fingerprints_of(files, diagnostics);
    diagnostics
        .iter()
        .zip(fingerprints)
        .map(|(d, fp)| (d.object.clone().unwrap_or_else(|| source::repo_relative(&files[d.file].path)), fp))
        .collect()
}

/// `--write-baseline`: every current finding (a baseline written with `--baseline` or
/// `--report-only` in effect must not forget what those options hid).
fn write_baseline(path: &Path, diagnostics: &[Diagnostic], keys: &[Key]) -> Result<u8, CliError> {
    Baseline::from_findings(diagnostics, keys).save(path)?;
    eprintln!("dbwarden: wrote {} findings to {}", diagnostics.len(), path.display());
    Ok(EXIT_CLEAN)
}

/// The findings to report, those in the `--report-only` / `--changed-only` files and not in the
/// baseline, and how many baseline entries matched no finding. They keep the fingerprints of
/// the whole run, so SARIF and GitLab say the same as the baseline whatever was hidden.
fn reported(
    args: &LintArgs,
    files: &[&SourceFile],
    diagnostics: &[Diagnostic],
    keys: &[Key],
) -> Result<(Vec<Diagnostic>, usize), CliError> {
    let mut keep = in_reported_files(args, files, diagnostics)?;
    let mut baseline_fixed = 0;
    if let Some(path) = &args.report.baseline {
        let (known, fixed) = Baseline::load(path)?.apply(diagnostics, keys);
        for (k, known) in keep.iter_mut().zip(known) {
            *k &= !known;
        }
        baseline_fixed = fixed;
    }
    let kept = diagnostics
        .iter()
        .zip(&keep)
        .enumerate()
        .filter(|(_, (_, k))| **k)
        .map(|(i, (d, _))| {
            let mut d = d.clone();
            d.fingerprint = keys.get(i).map(|(_, fp)| fp.clone());
            d
        })
        .collect();
    Ok((kept, baseline_fixed))
}

/// Per finding: whether it is in a file `--report-only` / `--changed-only` report on (all are,
/// without them).
fn in_reported_files(
    args: &LintArgs,
    files: &[&SourceFile],
    diagnostics: &[Diagnostic],
) -> Result<Vec<bool>, CliError> {
    let Some(only) = report_only_set(args)? else {
        return Ok(vec![true; diagnostics.len()]);
    };
    let wanted: Vec<bool> = files.iter().map(|f| only.contains(&same_file(Path::new(&f.path)))).collect();
    Ok(diagnostics.iter().map(|d| wanted[d.file]).collect())
}

/// Writes the lint report in the format asked for (the GitHub format also writes the step
/// summary).
fn emit_lint(
    args: &LintArgs,
    report: &render::Report<'_>,
    settings: &Settings,
    output: &LintOutput,
) -> Result<(), CliError> {
    let at = now_utc();
    let extras = Extras {
        enabled: &settings.enabled,
        html: render::HtmlContext {
            title: "dbwarden lint",
            generated_at: Some(&at),
            schema: Some(&output.schema),
            ..render::HtmlContext::default()
        },
        step_summary: true,
        ..Extras::default()
    };
    emit(format_or_default(args.report.format), report, None, &extras)
}

/// A path as `--report-only` and `--changed-only` compare files: canonical where the file exists,
/// so `db/1.sql`, `./db/1.sql` and `/repo/db/1.sql` are one file, inside a git repository or not.
fn same_file(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The files to report on, from `--report-only` and `--changed-only` (see [`same_file`]).
fn report_only_set(args: &LintArgs) -> Result<Option<HashSet<PathBuf>>, CliError> {
    if args.report_only.is_empty() && !args.changed_only {
        return Ok(None);
    }
    let mut set: HashSet<PathBuf> = args.report_only.iter().map(|p| same_file(p)).collect();
    if args.changed_only {
        set.extend(files_since(args.base.as_deref().unwrap_or("HEAD"), false)?);
    }
    Ok(Some(set))
}

/// The files changed since the git revision `base` (committed, staged or not) plus new untracked
/// files (see [`same_file`]); with `added_only`, only those added since `base` and the untracked
/// ones: the migrations `base` has never deployed.
fn files_since(base: &str, added_only: bool) -> Result<Vec<PathBuf>, CliError> {
    // git would read `--base=--output=FILE` as its own option (and write FILE): a revision
    // never starts with `-`.
    if base.is_empty() || base.starts_with('-') {
        return Err(CliError::Git(format!("--base `{base}` is not a revision")));
    }
    // Run from the top of the work tree, so that both lists hold every changed file, named
    // relative to the top, whichever folder dbwarden runs in.
    let top = PathBuf::from(git(Path::new("."), &["rev-parse", "--show-toplevel"])?.trim_end_matches(['\n', '\r']));
    let mut diff = vec!["diff", "--name-only", "-z", "--no-renames"];
    if added_only {
        diff.push("--diff-filter=A");
    }
    diff.extend([base, "--"]);
    let changed = git(&top, &diff)?;
    let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
    Ok(changed
        .split('\0')
        .chain(untracked.split('\0'))
        .filter(|s| !s.is_empty())
        .map(|s| same_file(&top.join(s)))
        .collect())
}

/// Runs git in `dir` and returns its standard output; its standard error when it fails.
fn git(dir: &Path, git_args: &[&str]) -> Result<String, CliError> {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(git_args)
        .output()
        .map_err(|e| CliError::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(CliError::Git(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `--list-files`: each file in migration order, its tool, its role and how the tool runs it;
/// then the files that are not migrations, with the reason.
fn print_files(args: &LintArgs, output: &LintOutput, settings: &Settings, skipped: &[source::Skipped]) {
    use crate::source::layout::Role;
    struct Row {
        path: String,
        tool: &'static str,
        role: &'static str,
        runs_as: Option<&'static str>,
        reason: Option<&'static str>,
    }
    let mut rows: Vec<Row> = output
        .files
        .iter()
        .map(|f| {
            let (role, reason) = match f.source.plan.role {
                Role::Forward => ("migration", None),
                Role::Baseline(why) => ("baseline", Some(why)),
            };
            Row {
                path: f.source.path.clone(),
                tool: f.source.plan.tool.name(),
                role,
                runs_as: Some(pipeline::migrations::runs_as(f, settings).name()),
                reason,
            }
        })
        .collect();
    rows.extend(skipped.iter().map(|s| Row {
        path: s.path.to_string_lossy().into_owned(),
        tool: "",
        role: "skipped",
        runs_as: None,
        reason: Some(s.reason),
    }));
    if matches!(args.report.format, Some(super::Format::Json)) {
        let files: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "path": r.path,
                    "tool": (!r.tool.is_empty()).then_some(r.tool),
                    "role": r.role,
                    "runs_as": r.runs_as,
                    "reason": r.reason,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "version": 1, "files": files }));
        return;
    }
    let tool_w = rows.iter().map(|r| r.tool.len()).max().unwrap_or(0).max(4);
    let runs_w = rows.iter().map(|r| r.runs_as.map_or(1, str::len)).max().unwrap_or(0).max(7);
    println!("{:9} {:tool_w$} {:runs_w$} path", "role", "tool", "runs as");
    for r in &rows {
        let reason = r.reason.map(|why| format!("  ({why})")).unwrap_or_default();
        println!("{:9} {:tool_w$} {:runs_w$} {}{reason}", r.role, r.tool, r.runs_as.unwrap_or("-"), r.path);
    }
}

/// `--statistics`: parse statistics on stderr.
fn print_statistics(s: &Stats) {
    let pct = |n: usize| if s.statements == 0 { 0.0 } else { n as f64 * 100.0 / s.statements as f64 };
    eprintln!(
        "files: {}, statements: {}, parsed: {} ({:.2}%), recognised: {} ({:.2}%), not understood: {} ({:.2}%)",
        s.files,
        s.statements,
        s.parsed,
        pct(s.parsed),
        s.recognised,
        pct(s.recognised),
        s.failed,
        pct(s.failed)
    );
    eprintln!("layout: {}", s.layout_line());
    if let Some(line) = s.not_migrations_line() {
        eprintln!("not migrations (skipped): {line}");
    }
    let mut kinds: Vec<_> = s.recognised_kinds.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1));
    let kinds: Vec<String> = kinds.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    eprintln!("recognised by kind: {}", kinds.join(", "));
}
