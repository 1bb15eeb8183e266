//! Plan rules: judge one `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` result of a captured query.
//! Their fixtures are captured plans in `fixtures/plans/` (tests/plans.rs), not migrations.

pub mod fk_trigger_slow;
pub mod hash_spill;
pub mod index_only_heap_fetches;
pub mod index_scan_discards_rows;
pub mod jit_overhead;
pub mod lossy_bitmap;
pub mod nested_loop_inner_scan;
pub mod over_budget;
pub mod planning_time_high;
pub mod row_misestimate;
pub mod seq_scan_discards_rows;
pub mod sort_spill;

use crate::diagnostic::Sink;
use crate::explain::plan::{Explain, Node};
use crate::explain::{ExplainConfig, Facts, Timing};

/// A rule that judges a query's plan (and its measured times).
pub trait PlanRule: Sync {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>);
}

/// What a plan rule sees.
pub struct PlanCtx<'a> {
    pub explain: &'a Explain,
    /// Median, min and max over the measured runs; `None` when the query was not measured
    /// (planned only).
    pub timing: Option<&'a Timing>,
    /// The budget that applies to this query, ms.
    pub budget_ms: f64,
    /// The query's name (`-- name:`), for messages.
    pub name: Option<&'a str>,
    pub config: &'a ExplainConfig,
    pub facts: &'a Facts,
}

impl PlanCtx<'_> {
    /// Execution time: the measured median, else this plan's own.
    pub fn execution_ms(&self) -> f64 {
        self.timing.map_or_else(|| self.explain.execution_ms.unwrap_or(0.0), |t| t.median_ms)
    }

    /// Analysed nodes that ran at least once.
    pub fn executed(&self) -> impl Iterator<Item = &Node> {
        let analysed = self.explain.analyzed;
        self.explain.nodes().into_iter().filter(move |n| analysed && !n.never_executed())
    }
}

/// `` `a`, `b` `` for messages.
pub(crate) fn columns(cols: &[String]) -> String {
    cols.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

/// Up to three items, then "and N more".
pub(crate) fn list(items: &[String]) -> String {
    let mut s = items.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 3 {
        s.push_str(&format!("; and {} more", items.len() - 3));
    }
    s
}

pub(crate) fn pct(part: f64, whole: f64) -> String {
    if whole <= 0.0 { "0%".into() } else { format!("{:.0}%", 100.0 * part / whole) }
}
