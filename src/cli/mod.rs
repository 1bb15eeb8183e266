//! Command line: clap definitions and the subcommands. Only `run` decides the exit status.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

mod explain;
mod report;

use crate::config::Config;
use crate::diagnostic::Stats;
use crate::diagnostic::baseline::Baseline;
use crate::pipeline;
use crate::render;
use crate::rules::{self, RULES, Settings};
use crate::source;

pub use report::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use report::{Extras, emit, exit_status, format_or_default, now_utc};

#[derive(Parser, Debug)]
#[command(name = "dbwarden", version, about = "PostgreSQL migration linter and query-plan auditor")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint migration files (replayed in migration order into one schema model)
    Lint(LintArgs),
    /// Lint the configured migrations, reporting only the given files (for pre-commit hooks)
    ///
    /// The config's `[lint] paths` are replayed in full, so findings that need the whole schema
    /// (an unindexed foreign key on an older table) are found; only findings in FILE... are
    /// reported. Equivalent to `dbwarden lint --report-only FILE...`.
    PreCommit(PreCommitArgs),
    /// Audit a live database: the schema rules on its catalog, plus invalid, duplicate and unused
    /// indexes, sequences near overflow, stale statistics and drift from the migrations
    Audit(AuditArgs),
    /// Run captured queries on a database (safely: read-only, rolled back, with timeouts),
    /// measure them against a time budget, and judge their plans
    Explain(explain::ExplainArgs),
    /// List every rule: name, category, default severity, summary
    Rules,
    /// Print a rule's documentation as Markdown
    Rule {
        /// The rule's name (or an alias)
        name: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    /// GitHub Actions annotations (default when GITHUB_ACTIONS=true)
    Github,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// GitLab Code Quality
    Gitlab,
    /// One self-contained HTML page (summary, sortable findings, per-table view, plots)
    Html,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Info,
}

/// The options `lint` and `pre-commit` share.
#[derive(clap::Args, Debug, Default)]
pub struct ReportArgs {
    /// Configuration file (default: dbwarden.toml, looked up from the current directory upwards)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format [default: human, or github when GITHUB_ACTIONS=true]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Target PostgreSQL major version (overrides the config)
    #[arg(long, value_name = "N")]
    pub pg_version: Option<u32>,
    /// Exit with status 1 when a finding is at or above this severity
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Do not report findings recorded in this baseline file (nor count them for the exit status)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Default)]
pub struct LintArgs {
    /// Migration files or folders (searched recursively for *.sql); `-` reads standard input.
    /// Without paths, the config's `[lint] paths` are used.
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print parse statistics (statements parsed, recognised, not understood) to stderr
    #[arg(long)]
    pub statistics: bool,
    /// Write the current findings to this baseline file (and exit 0)
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings in files changed since `--base` (git); the whole history is still replayed
    #[arg(long, requires = "base")]
    pub changed_only: bool,
    /// The git revision `--changed-only` compares with (e.g. origin/main, HEAD~1)
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Report only findings in these files (repeatable); the whole history is still replayed
    #[arg(long, value_name = "FILE")]
    pub report_only: Vec<PathBuf>,
    /// Always exit 0 when linting succeeded (report-only runs)
    #[arg(long)]
    pub exit_zero: bool,
    /// Read `.sql` symlinks in the folders given even when they point outside them (special
    /// files such as FIFOs, devices and /proc are never read)
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Captured queries to judge against the migrations' schema (repeatable): `.sql` files,
    /// server logs (stderr, csvlog, jsonlog), pg_stat_statements exports, or folders of them
    #[arg(long = "queries", value_name = "PATH")]
    pub queries: Vec<PathBuf>,
    /// The format of every `--queries` file [default: detected from its name and content]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub queries_format: Option<crate::queries::Format>,
    /// Also judge the queries in the target database's pg_stat_statements view
    #[arg(long)]
    pub from_pg_stat_statements: bool,
    /// The database of `--from-pg-stat-statements` (default: DATABASE_URL, else the PG* variables)
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Show literals and parameter values from logs in the output (they may be patient data)
    #[arg(long)]
    pub show_values: bool,
}

#[derive(clap::Args, Debug)]
pub struct PreCommitArgs {
    /// The files to report on (pre-commit passes the staged `*.sql` files). Files outside the
    /// config's `[lint] paths` have no findings; without `[lint] paths`, these files alone are linted.
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// The database (default: DATABASE_URL, else the libpq variables PGHOST, PGUSER, ...)
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Audit only this schema (repeatable; default: every schema but the system ones)
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Migration files or folders to compare with the live schema (`schema-drift`; repeatable)
    #[arg(long, value_name = "PATH")]
    pub migrations: Vec<PathBuf>,
    /// Captured queries to run on the database with the EXPLAIN runner (as `dbwarden explain`,
    /// with the config's `[explain]` settings): their findings join the audit's, and the HTML
    /// report plots each query's median time against its budget (repeatable)
    #[arg(long, value_name = "PATH")]
    pub queries: Vec<PathBuf>,
    /// Configuration file (default: dbwarden.toml, looked up from the current directory upwards)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when a finding is at or above this severity
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
}

/// Parses the command line, runs the command, and returns the exit status. A panic anywhere is
/// an internal error (exit 2), never a crash; panics while linting a file are reported as
/// `internal-error` findings for that file by the engine.
pub fn run() -> u8 {
    // Panics are reported as findings or as one error line, not as a backtrace dump.
    std::panic::set_hook(Box::new(|_| {}));
    match std::panic::catch_unwind(run_inner) {
        Ok(code) => code,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("dbwarden: internal error: {msg} (please report this bug)");
            EXIT_ERROR
        }
    }
}

fn run_inner() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_CLEAN };
        }
    };
    if !std::io::stdout().is_terminal() || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        colored::control::set_override(false);
    }
    let result = match cli.command {
        Command::Lint(args) => lint(&args),
        Command::PreCommit(args) => pre_commit(args),
        Command::Audit(args) => audit(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Rules => list_rules().map(|()| EXIT_CLEAN),
        Command::Rule { name } => show_rule(&name),
    };
    match result {
        Ok(code) => code,
        // The reader went away (e.g. `| head`): nothing more to say.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_CLEAN,
        // Paths and names in errors come from the input: no raw control characters on stderr.
        Err(e) => {
            eprintln!("dbwarden: error: {}", render::visible_lines(&e.to_string()));
            EXIT_ERROR
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Source(#[from] source::SourceError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    #[error("cannot write output to {path}: {source}")]
    OutputFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no paths to lint: give a path or set `[lint] paths` in dbwarden.toml")]
    NoPaths,
    #[error("unknown rule `{0}` (see `dbwarden rules`)")]
    UnknownRule(String),
    #[error("--pg-version {0} is not a PostgreSQL major version")]
    PgVersion(u32),
    #[error(transparent)]
    Baseline(#[from] crate::diagnostic::baseline::BaselineError),
    #[error("git: {0}")]
    Git(String),
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    #[error(transparent)]
    Queries(#[from] crate::queries::InputError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("{0}")]
    Explain(String),
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, CliError> {
    let found = match path {
        Some(p) => Some(p.clone()),
        // Found in the current folder: keep it relative, so that its `[lint] paths` and so every
        // file name in the output are relative too (`db/1.sql`, not `/home/ci/repo/db/1.sql`),
        // as GitLab Code Quality reports and readers expect.
        None => std::env::current_dir()
            .ok()
            .and_then(|d| Config::find(&d).map(|p| p.strip_prefix(&d).map(Path::to_path_buf).unwrap_or(p))),
    };
    Ok(match found {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    })
}

fn lint(args: &LintArgs) -> Result<u8, CliError> {
    let mut config = load_config(args.report.config.as_ref())?;
    if let Some(v) = args.report.pg_version {
        if !(9..=40).contains(&v) {
            return Err(CliError::PgVersion(v));
        }
        config.lint.pg_version = v;
    }
    let paths = if args.paths.is_empty() { config.lint.paths.clone() } else { args.paths.clone() };
    let capture = !args.queries.is_empty() || args.from_pg_stat_statements;
    if paths.is_empty() && !capture {
        return Err(CliError::NoPaths);
    }
    let found = source::discover_files(&paths, &source::DiscoverOptions { follow_symlinks: args.follow_symlinks })?;
    warn_skipped(&found.skipped);
    let files = found.files;
    // Reading files is I/O and UTF-8 checking: done in parallel, in migration order.
    let sources = {
        use rayon::prelude::*;
        files.par_iter().map(|f| source::load(f)).collect::<Result<Vec<_>, _>>()?
    };
    let settings = Settings::new(&config);
    let mut output = pipeline::lint(sources, &settings);
    if args.statistics {
        print_statistics(&output.stats);
    }
    // Captured queries, judged against the schema the migrations built; their files follow the
    // migration files in the report.
    let captured = if capture {
        let opts = crate::queries::ReadOptions { format: args.queries_format, show_values: args.show_values };
        let target = match args.from_pg_stat_statements {
            true => Some(
                crate::db::Target::resolve(args.database_url.as_deref()).map_err(crate::queries::InputError::from)?,
            ),
            false => None,
        };
        let set = crate::queries::read_inputs(&args.queries, &opts, target.as_ref())?;
        warn_inputs(&set);
        for path in set.empty_inputs() {
            eprintln!(
                "dbwarden: note: no queries found in {path} (check --queries-format and the server's log settings)"
            );
        }
        output.stats.files += set.files.len();
        let qopts = rules::QueryOptions::from_config(&config.queries, args.show_values);
        let base = output.files.len();
        output.diagnostics.extend(pipeline::lint_queries(&set, &output.schema, &settings, &qopts).into_iter().map(
            |mut d| {
                d.file += base;
                d
            },
        ));
        Some(set)
    } else {
        None
    };
    let files: Vec<&source::SourceFile> =
        output.files.iter().map(|f| &f.source).chain(captured.iter().flat_map(|s| s.files.iter())).collect();
    // Baseline keys (and fingerprints that must not depend on what is filtered out) are only
    // computed when a baseline or a filter is in play: they cost a hash per finding.
    let filtered = args.report.baseline.is_some() || !args.report_only.is_empty() || args.changed_only;
    let keys: Vec<(String, String)> = if filtered || args.write_baseline.is_some() {
        let fingerprints = render::fingerprint::fingerprints_of(&files, &output.diagnostics);
        output
            .diagnostics
            .iter()
            .zip(fingerprints)
            .map(|(d, fp)| (d.object.clone().unwrap_or_else(|| source::repo_relative(&files[d.file].path)), fp))
            .collect()
    } else {
        Vec::new()
    };
    if let Some(path) = &args.write_baseline {
        // Every current finding: a baseline written with `--baseline` or `--report-only` in effect
        // must not forget what those options hid.
        Baseline::from_findings(&output.diagnostics, &keys).save(path)?;
        eprintln!("dbwarden: wrote {} findings to {}", output.diagnostics.len(), path.display());
        return Ok(EXIT_CLEAN);
    }
    let mut keep = vec![true; output.diagnostics.len()];
    if let Some(only) = report_only_set(args)? {
        let wanted: Vec<bool> = files.iter().map(|f| only.contains(&same_file(Path::new(&f.path)))).collect();
        for (k, d) in keep.iter_mut().zip(&output.diagnostics) {
            *k &= wanted[d.file];
        }
    }
    let mut baseline_fixed = 0;
    if let Some(path) = &args.report.baseline {
        let (known, fixed) = Baseline::load(path)?.apply(&output.diagnostics, &keys);
        for (k, known) in keep.iter_mut().zip(known) {
            *k &= !known;
        }
        baseline_fixed = fixed;
    }
    // The reported findings keep the fingerprints of the whole run, so SARIF and GitLab say the
    // same as the baseline whatever `--baseline` / `--report-only` hid.
    let diagnostics: Vec<_> = output
        .diagnostics
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
    let report = render::Report { files, diagnostics: &diagnostics, stats: &output.stats, baseline_fixed };
    let code = exit_status(&output.diagnostics, &diagnostics, args.report.fail_on, args.exit_zero);
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
    emit(format_or_default(args.report.format), &report, None, &extras)?;
    // The process ends after this: freeing every parsed file, AST-derived statement and the
    // model piece by piece costs about as much as rendering them (3 % of linting the corpus);
    // the operating system takes the memory back at once.
    std::mem::forget(diagnostics);
    std::mem::forget(output);
    Ok(code)
}

/// Says on stderr which files found in folders were not read, and why.
fn warn_skipped(skipped: &[source::Skipped]) {
    for s in skipped {
        eprintln!("dbwarden: {}", render::visible(&s.to_string()));
    }
}

/// Says on stderr what of the captured queries' inputs was skipped or read only in part.
fn warn_inputs(set: &crate::queries::QuerySet) {
    warn_skipped(&set.skipped);
    for w in &set.warnings {
        eprintln!("dbwarden: warning: {}", render::visible(w));
    }
}

/// `dbwarden audit`: the logic is in [`crate::audit`]; this renders and decides the exit status.
fn audit(args: &AuditArgs) -> Result<u8, CliError> {
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
            queries: &timings,
        },
        ..Extras::default()
    };
    emit(args.format, &report, args.output.as_deref(), &extras)?;
    Ok(exit_status(&output.diagnostics, &output.diagnostics, args.fail_on, false))
}

/// `dbwarden pre-commit FILE...`: `dbwarden lint --report-only FILE...` over the config's paths.
fn pre_commit(args: PreCommitArgs) -> Result<u8, CliError> {
    if args.files.is_empty() {
        return Ok(EXIT_CLEAN);
    }
    let lint_args = LintArgs { report: args.report, report_only: args.files, ..LintArgs::default() };
    match lint(&lint_args) {
        // No `[lint] paths` to replay: lint the given files on their own.
        Err(CliError::NoPaths) => lint(&LintArgs { paths: lint_args.report_only.clone(), ..lint_args }),
        other => other,
    }
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
        let base = args.base.as_deref().unwrap_or("HEAD");
        // git would read `--base=--output=FILE` as its own option (and write FILE): a revision
        // never starts with `-`.
        if base.is_empty() || base.starts_with('-') {
            return Err(CliError::Git(format!("--base `{base}` is not a revision")));
        }
        let git = |dir: &Path, git_args: &[&str]| -> Result<String, CliError> {
            let out = std::process::Command::new("git")
                .current_dir(dir)
                .args(git_args)
                .output()
                .map_err(|e| CliError::Git(format!("cannot run git: {e}")))?;
            if !out.status.success() {
                return Err(CliError::Git(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        // Run from the top of the work tree, so that both lists hold every changed file, named
        // relative to the top, whichever folder dbwarden runs in.
        let top = PathBuf::from(git(Path::new("."), &["rev-parse", "--show-toplevel"])?.trim_end_matches(['\n', '\r']));
        // Committed and uncommitted changes since the base, plus new untracked files.
        let changed = git(&top, &["diff", "--name-only", "-z", "--no-renames", base, "--"])?;
        let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?;
        set.extend(
            changed.split('\0').chain(untracked.split('\0')).filter(|s| !s.is_empty()).map(|s| same_file(&top.join(s))),
        );
    }
    Ok(Some(set))
}

fn print_statistics(s: &Stats) {
    {
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
        let mut kinds: Vec<_> = s.recognised_kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1));
        let kinds: Vec<String> = kinds.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        eprintln!("recognised by kind: {}", kinds.join(", "));
    }
}

fn list_rules() -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(10);
    writeln!(out, "{:<width$}  {:<13}  {:<8}  summary", "rule", "category", "severity")?;
    for (i, r) in RULES.iter().enumerate() {
        let e = rules::entry(i);
        writeln!(out, "{:<width$}  {:<13}  {:<8}  {}", r.name, e.category, e.severity.as_str(), e.summary)?;
    }
    out.flush()?;
    Ok(())
}

fn show_rule(name: &str) -> Result<u8, CliError> {
    let i = rules::lookup(name).ok_or_else(|| CliError::UnknownRule(name.to_owned()))?;
    let mut out = std::io::stdout().lock();
    out.write_all(i.entry().to_markdown().as_bytes())?;
    Ok(EXIT_CLEAN)
}
