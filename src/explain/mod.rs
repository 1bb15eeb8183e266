//! `dbwarden explain`: runs captured queries safely on a target database, measures them against a
//! time budget, and judges their plans.
//!
//! - [`safety`]: what may run at all (static: statement kinds, denied functions).
//! - [`runner`]: connections, `BEGIN ... ROLLBACK`, timeouts, volatility look-ups, parameters,
//!   warm-up and measured runs.
//! - [`plan`]: the JSON plan as a typed tree with per-loop arithmetic.
//! - [`report`]: each query's entry in `--format json` (its findings come from
//!   [`crate::pipeline::plans`]).

pub mod plan;
pub mod report;
pub mod runner;
pub mod safety;

use std::collections::HashMap;

pub use crate::config::ExplainConfig;

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
    /// The referencing table's schema.
    pub schema: String,
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
    /// The relations (tables, indexes, ...) of each schema, by (schema, name): the names an
    /// index a fix proposes must not take.
    pub relations: std::collections::HashSet<(String, String)>,
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
