//! `dbwarden explain`: run captured queries on a target database under the safety contract,
//! measure them against the budget, and report the plan rules' findings.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::input::{load_config, warn_inputs};
use super::report::{Extras, emit, exit_status, format_or_default};
use super::{CliError, FailOn, Format};
use crate::diagnostic::Stats;
use crate::explain::report;
use crate::explain::runner::{self, Options};
use crate::queries::{self, ReadOptions};
use crate::render;
use crate::rules::Settings;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The database (default: DATABASE_URL, else the libpq variables PGHOST, PGUSER, ...)
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Captured queries: .sql files, server logs (stderr, csvlog, jsonlog), pg_stat_statements
    /// exports (repeatable)
    #[arg(long, value_name = "PATH", required_unless_present = "from_pg_stat_statements")]
    pub queries: Vec<PathBuf>,
    /// Also run the queries of the target's pg_stat_statements view (needs the extension)
    #[arg(long)]
    pub from_pg_stat_statements: bool,
    /// The format of every --queries file (default: detected per file)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub queries_format: Option<queries::Format>,
    /// The budget for a query's median execution time, in ms (a query's own
    /// `-- dbwarden: budget=20ms` wins) [default: 50, or `[explain] budget_ms`]
    #[arg(long, value_name = "MS")]
    pub budget_ms: Option<f64>,
    /// Measured runs per query [default: 5, or `[explain] runs`]
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Warm-up runs before them [default: 1, or `[explain] warmup`]
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,
    /// Execute INSERT, UPDATE, DELETE, MERGE and volatile functions (each run is rolled back;
    /// sequence values they consume are not)
    #[arg(long)]
    pub allow_writes: bool,
    /// Run the queries as this role (`SET LOCAL ROLE` in every transaction): a role with only
    /// SELECT makes the safety contract hold twice
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Connections to run queries on at once (parallel runs disturb each other's timings)
    #[arg(long, value_name = "N", default_value = "1")]
    pub jobs: usize,
    /// For queries with `$n` and no logged values: measure with values drawn from the target's
    /// pg_stats (most common values, histogram bounds) instead of planning generically
    #[arg(long)]
    pub sample_values: bool,
    /// The budget applies to planning plus execution time
    #[arg(long)]
    pub budget_includes_planning: bool,
    /// Print literal and parameter values from logs in messages and plans (they may be patient data)
    #[arg(long)]
    pub show_values: bool,
    /// Configuration file (default: dbwarden.toml, looked up from the current directory upwards)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format [default: human, or github when GITHUB_ACTIONS=true]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Exit with status 1 when a finding is at or above this severity
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
}

pub(super) fn run(args: &ExplainArgs) -> Result<u8, CliError> {
    let config = load_config(args.config.as_ref())?;
    let settings = Settings::new(&config);
    let mut opts = Options::from_config(&config.explain);
    if let Some(b) = args.budget_ms {
        opts.budget_ms = b;
    }
    opts.runs = args.runs.unwrap_or(opts.runs).max(1);
    opts.warmup = args.warmup.unwrap_or(opts.warmup);
    opts.allow_writes = args.allow_writes;
    opts.role.clone_from(&args.role);
    opts.jobs = args.jobs.max(1);
    opts.sample_values = args.sample_values;
    opts.budget_includes_planning |= args.budget_includes_planning;
    opts.show_values = args.show_values;
    validate(&opts).map_err(CliError::Explain)?;
    let mut explain_config = config.explain.clone();
    explain_config.budget_includes_planning = opts.budget_includes_planning;

    let read = ReadOptions { format: args.queries_format, show_values: args.show_values };
    let target = crate::db::Target::resolve(args.database_url.as_deref())?;
    let pgss = args.from_pg_stat_statements.then_some(&target);
    let set = crate::queries::read_inputs(&args.queries, &read, pgss).map_err(|e| CliError::Explain(e.to_string()))?;
    warn_inputs(&set);

    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(set.queries.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} queries {wide_bar} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let result = runner::run_all(&target, &set.queries, &opts, &tick);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let (outcomes, facts, warnings) = result?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let diagnostics = crate::pipeline::plans::findings(&set, &outcomes, &facts, &explain_config, &settings);

    let files: Vec<&crate::source::SourceFile> = set.files.iter().collect();
    let stats = Stats { files: files.len(), statements: set.queries.len(), ..Stats::default() };
    let rep = render::Report { files, diagnostics: &diagnostics, stats: &stats, baseline_fixed: 0 };
    let timings = query_timings(&set.queries, &outcomes);
    let info = render::TargetInfo { name: target.display().to_owned(), ..render::TargetInfo::default() };
    // With `json`, every query's outcome and plan follow the findings.
    let per_query = || {
        serde_json::Value::Array(outcomes.iter().map(|o| report::query_json(&set.queries[o.query], o, &opts)).collect())
    };
    let extras = Extras {
        enabled: &settings.enabled,
        html: render::HtmlContext {
            title: "dbwarden explain",
            target: Some(&info),
            queries: &timings,
            ..render::HtmlContext::default()
        },
        json_queries: Some(&per_query),
        ..Extras::default()
    };
    emit(format_or_default(args.format), &rep, None, &extras)?;
    Ok(exit_status(&diagnostics, &diagnostics, args.fail_on, false))
}

/// The budget and timeouts from the command line and `[explain]`: finite, positive, bounded.
fn validate(opts: &Options) -> Result<(), String> {
    let max = crate::queries::read::MAX_BUDGET_MS;
    let checks = [
        ("--budget-ms (or [explain] budget_ms)", opts.budget_ms, max),
        ("[explain] statement_timeout_factor", opts.statement_timeout_factor, 1000.0),
        ("[explain] max_statement_timeout_ms", opts.max_statement_timeout_ms, max),
    ];
    for (what, v, limit) in checks {
        if !(v.is_finite() && v > 0.0 && v <= limit) {
            return Err(format!("{what} must be a number greater than 0 and at most {limit}, not {v}"));
        }
    }
    Ok(())
}

/// The captured queries' files, findings and timings.
pub(super) type AuditQueries =
    (Vec<crate::source::SourceFile>, Vec<crate::diagnostic::Diagnostic>, Vec<render::QueryTiming>);

/// For `dbwarden audit --queries`: runs the captured queries on the audited database with the
/// config's `[explain]` settings. Returns their files, the findings (file indices into those
/// files) and each measured query's timing for the HTML report.
pub(super) fn run_for_audit(
    target: &crate::db::Target,
    paths: &[PathBuf],
    config: &crate::config::Config,
    settings: &Settings,
) -> Result<AuditQueries, CliError> {
    let opts = Options::from_config(&config.explain);
    validate(&opts).map_err(CliError::Explain)?;
    let read = ReadOptions { format: None, show_values: false };
    let set = crate::queries::read_inputs(paths, &read, None).map_err(|e| CliError::Explain(e.to_string()))?;
    warn_inputs(&set);
    // The audit already warned about the role.
    let (outcomes, facts, _) = runner::run_all(target, &set.queries, &opts, &|| {})?;
    let diagnostics = crate::pipeline::plans::findings(&set, &outcomes, &facts, &config.explain, settings);
    let timings = query_timings(&set.queries, &outcomes);
    Ok((set.files, diagnostics, timings))
}

/// Each measured query's median time and budget, for the HTML report's plot.
fn query_timings(queries: &[crate::queries::CapturedQuery], outcomes: &[runner::Outcome]) -> Vec<render::QueryTiming> {
    outcomes
        .iter()
        .filter_map(|o| {
            let q = &queries[o.query];
            let t = o.timing?;
            Some(render::QueryTiming {
                name: q.name.clone().unwrap_or_else(|| q.origin.display()),
                median_ms: t.median_ms,
                budget_ms: Some(o.budget_ms),
            })
        })
        .collect()
}
