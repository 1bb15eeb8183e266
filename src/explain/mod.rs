//! `dbwarden explain`: runs captured queries safely on a target database, measures them against a
//! time budget, and judges their plans.
//!
//! - [`safety`]: what may run at all (static: statement kinds, denied functions).
//! - [`runner`]: connections, `BEGIN ... ROLLBACK`, timeouts, volatility look-ups, parameters,
//!   warm-up and measured runs.
//! - [`plan`]: the JSON plan as a typed tree with per-loop arithmetic.
//! - [`report`]: the runner's outcomes and the plan rules' findings as diagnostics.

pub mod plan;
pub mod report;
pub mod runner;
pub mod safety;

use std::collections::HashMap;

use serde::Deserialize;

/// `[explain]` in `dbwarden.toml`: the budget, the runs, and the plan rules' thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExplainConfig {
    /// The budget for a query's median execution time, ms (`--budget-ms`; a query's own
    /// `-- dbwarden: budget=20ms` wins).
    pub budget_ms: f64,
    /// Measured runs (`--runs`).
    pub runs: u32,
    /// Warm-up runs before them (`--warmup`).
    pub warmup: u32,
    /// The budget applies to planning plus execution (`--budget-includes-planning`).
    pub budget_includes_planning: bool,
    /// `statement_timeout` is this multiple of the budget (at least 1 s).
    pub statement_timeout_factor: f64,
    /// `lock_timeout` for every query, ms.
    pub lock_timeout_ms: u64,
    /// No statement timeout above this, ms, whatever a budget asks for (a capture's
    /// `-- dbwarden: budget=` cannot raise it).
    pub max_statement_timeout_ms: f64,
    /// `seq-scan-discards-rows`: fraction of the rows read that the filter removes ...
    pub seq_scan_discard_fraction: f64,
    /// ... and at least this many rows removed.
    pub seq_scan_discard_min_rows: f64,
    /// `index-scan-discards-rows`: fraction removed by the filter ...
    pub index_scan_discard_fraction: f64,
    /// ... and at least this many rows removed.
    pub index_scan_discard_min_rows: f64,
    /// `row-misestimate`: actual and estimated rows differ by this factor ...
    pub misestimate_factor: f64,
    /// ... and by at least this many rows.
    pub misestimate_min_rows: f64,
    /// `nested-loop-inner-scan`: the inner side runs at least this many times ...
    pub nested_loop_min_loops: f64,
    /// ... and is a sequential scan or takes at least this fraction of the execution time.
    pub nested_loop_time_fraction: f64,
    /// `index-only-heap-fetches`: heap fetches as a fraction of the rows returned ...
    pub heap_fetch_fraction: f64,
    /// ... and at least this many.
    pub heap_fetch_min: f64,
    /// `fk-trigger-slow`: a foreign-key trigger taking this fraction of the execution time ...
    pub fk_trigger_fraction: f64,
    /// ... (and at least `fk_trigger_floor_ms`), or at least this many ms.
    pub fk_trigger_min_ms: f64,
    /// The least time a foreign-key trigger must take to be reported at all, ms.
    pub fk_trigger_floor_ms: f64,
    /// `jit-overhead`: JIT time as a fraction of the execution time ...
    pub jit_fraction: f64,
    /// ... and at least this many ms.
    pub jit_min_ms: f64,
    /// `planning-time-high`: planning takes at least this many ms ...
    pub planning_min_ms: f64,
    /// ... and at least this multiple of the execution time.
    pub planning_execution_ratio: f64,
}

impl Default for ExplainConfig {
    fn default() -> Self {
        Self {
            budget_ms: 50.0,
            runs: 5,
            warmup: 1,
            budget_includes_planning: false,
            statement_timeout_factor: 20.0,
            lock_timeout_ms: 200,
            max_statement_timeout_ms: 300_000.0,
            seq_scan_discard_fraction: 0.9,
            seq_scan_discard_min_rows: 10_000.0,
            index_scan_discard_fraction: 0.5,
            index_scan_discard_min_rows: 1_000.0,
            misestimate_factor: 10.0,
            misestimate_min_rows: 100.0,
            nested_loop_min_loops: 1_000.0,
            nested_loop_time_fraction: 0.2,
            heap_fetch_fraction: 0.05,
            heap_fetch_min: 100.0,
            fk_trigger_fraction: 0.1,
            fk_trigger_min_ms: 10.0,
            fk_trigger_floor_ms: 1.0,
            jit_fraction: 0.2,
            jit_min_ms: 10.0,
            planning_min_ms: 10.0,
            planning_execution_ratio: 1.0,
        }
    }
}

/// Measured times of one query, ms.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Timing {
    pub runs: usize,
    /// Median, minimum and maximum `Execution Time`.
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// Median `Planning Time`.
    pub planning_ms: f64,
}

impl Timing {
    /// From per-run (execution, planning) times; `None` when empty.
    pub fn from_runs(runs: &[(f64, f64)]) -> Option<Self> {
        if runs.is_empty() {
            return None;
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            if n % 2 == 1 { v[n / 2] } else { f64::midpoint(v[n / 2 - 1], v[n / 2]) }
        };
        let exec: Vec<f64> = runs.iter().map(|r| r.0).collect();
        Some(Self {
            runs: runs.len(),
            median_ms: median(exec.clone()),
            min_ms: exec.iter().copied().fold(f64::INFINITY, f64::min),
            max_ms: exec.iter().copied().fold(0.0, f64::max),
            planning_ms: median(runs.iter().map(|r| r.1).collect()),
        })
    }
}

/// A foreign key whose referencing columns no index leads with.
#[derive(Debug, Clone)]
pub struct FkFact {
    pub table: String,
    pub columns: Vec<String>,
    pub referenced: String,
}

/// What the plan rules know about the target's schema (read from its catalog once per run), to
/// say *why* a node is slow: the unindexed foreign key behind a slow cascade, the missing index
/// behind a sequential scan.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// By constraint name.
    pub unindexed_fks: HashMap<String, FkFact>,
    /// By table name (unqualified): the leading column of each of its indexes.
    pub index_leads: HashMap<String, Vec<String>>,
}

impl Facts {
    /// The filtered columns of a scan on `table` that no index leads with.
    pub fn unindexed_columns(&self, table: &str, columns: &[String]) -> Vec<String> {
        // A table the catalog did not describe (offline, or another schema): nothing is known.
        let Some(leads) = self.index_leads.get(table) else { return Vec::new() };
        columns.iter().filter(|c| !leads.contains(c)).cloned().collect()
    }
}

/// Formats milliseconds for messages: `132 ms`, `4.2 ms`, `0.04 ms`.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// Formats a row count with thousands separators: `300,000`.
pub fn count(v: f64) -> String {
    let n = v.round().max(0.0) as u64;
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
