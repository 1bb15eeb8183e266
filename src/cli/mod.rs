//! Command line: the clap definitions and [`run`], which alone turns a subcommand's result into
//! the exit status. The subcommands: `lint` (lint, pre-commit), `audit`, `explain`, `rules`
//! (rules, rule). Those that print findings write them with [`report::emit`] and take their exit
//! status from [`report::exit_status`]; `input` holds what they read alike.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod audit;
mod explain;
mod input;
mod lint;
mod report;
mod rules;

use crate::render;
use crate::source;

pub use report::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

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
    /// Print the files found, in migration order, each with its migration tool, whether it is
    /// judged (a migration) or only replayed (a dump or baseline), and how the tool runs it (in one
    /// transaction, as one query string, or statement by statement); files that are not
    /// migrations are listed with the reason. Nothing is linted. With `--format json`, as JSON.
    #[arg(long, conflicts_with_all = ["write_baseline", "queries", "from_pg_stat_statements"])]
    pub list_files: bool,
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
    /// Set by `dbwarden pre-commit`: files new since `HEAD` are undeployed.
    #[arg(skip)]
    pub pre_commit: bool,
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
        Command::Lint(args) => lint::lint(&args),
        Command::PreCommit(args) => lint::pre_commit(args),
        Command::Audit(args) => audit::audit(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Rules => rules::list_rules(),
        Command::Rule { name } => rules::show_rule(&name),
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
