//! Command line: clap definitions and the subcommands. Only `run` decides the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::diagnostic::Severity;
use crate::render;
use crate::rules::{self, RULES, Settings, engine};
use crate::source;

pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

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
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Migration files or folders (searched recursively for *.sql); `-` reads standard input.
    /// Without paths, the config's `[lint] paths` are used.
    pub paths: Vec<PathBuf>,
    /// Configuration file (default: dbwarden.toml, looked up from the current directory upwards)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Target PostgreSQL major version (overrides the config)
    #[arg(long, value_name = "N")]
    pub pg_version: Option<u32>,
    /// Exit with status 1 when a finding is at or above this severity
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Print parse statistics (statements parsed, recognised, not understood) to stderr
    #[arg(long)]
    pub statistics: bool,
}

/// Parses the command line, runs the command, and returns the exit status.
pub fn run() -> u8 {
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
        Command::Rules => list_rules().map(|()| EXIT_CLEAN),
        Command::Rule { name } => show_rule(&name),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dbwarden: error: {e}");
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
    #[error("no paths to lint: give a path or set `[lint] paths` in dbwarden.toml")]
    NoPaths,
    #[error("unknown rule `{0}` (see `dbwarden rules`)")]
    UnknownRule(String),
    #[error("--pg-version {0} is not a PostgreSQL major version")]
    PgVersion(u32),
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, CliError> {
    let found = match path {
        Some(p) => Some(p.clone()),
        None => std::env::current_dir().ok().and_then(|d| Config::find(&d)),
    };
    Ok(match found {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    })
}

fn lint(args: &LintArgs) -> Result<u8, CliError> {
    let mut config = load_config(args.config.as_ref())?;
    if let Some(v) = args.pg_version {
        if !(9..=40).contains(&v) {
            return Err(CliError::PgVersion(v));
        }
        config.lint.pg_version = v;
    }
    let paths = if args.paths.is_empty() { config.lint.paths.clone() } else { args.paths.clone() };
    if paths.is_empty() {
        return Err(CliError::NoPaths);
    }
    let files = source::discover(&paths)?;
    let mut sources = Vec::with_capacity(files.len());
    for f in &files {
        sources.push(source::load(f)?);
    }
    let settings = Settings::new(&config);
    let output = engine::lint(sources, &settings);
    let report = render::Report {
        files: output.files.iter().map(|f| &f.source).collect(),
        diagnostics: &output.diagnostics,
        stats: &output.stats,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Human => render::human(&mut out, &report)?,
        Format::Json => render::json(&mut out, &report)?,
    }
    out.flush()?;
    if args.statistics {
        let s = &output.stats;
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
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    let internal = output.diagnostics.iter().any(|d| d.rule == "internal-error");
    Ok(if internal {
        EXIT_ERROR
    } else if output.diagnostics.iter().any(|d| d.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
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
    out.write_all(rules::entry(i).to_markdown().as_bytes())?;
    Ok(EXIT_CLEAN)
}
