use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list};
use crate::rules::Sink;
use crate::explain::count;
use crate::explain::plan::Node;

pub struct RowMisestimate;

/// Whether `n` is off by the configured factor and row count (per loop, over all loops).
fn misestimated(n: &Node, factor: f64, min_rows: f64) -> bool {
    let (actual, est) = (n.actual_rows, n.plan_rows);
    let ratio = actual.max(est) / actual.min(est).max(1.0);
    ratio >= factor && (actual - est).abs() * n.loops.max(1.0) >= min_rows
}

impl PlanRule for RowMisestimate {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        if !ctx.explain.analyzed {
            return;
        }
        let (factor, min_rows) = (ctx.config.misestimate_factor, ctx.config.misestimate_min_rows);
        let mut hits = Vec::new();
        walk(&ctx.explain.root, false, factor, min_rows, &mut hits);
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}

/// Reports the nodes where a misestimate starts (none of their children is misestimated), outside
/// subtrees that stopped early: below a `Limit` that reached its count, the inner side of a semi
/// or anti join, and the inputs of a merge join (which stops reading one side when the other ends).
fn walk(n: &Node, stopped_early: bool, factor: f64, min_rows: f64, hits: &mut Vec<String>) {
    if n.never_executed() {
        return;
    }
    let limit_reached = n.node_type == "Limit" && n.actual_rows >= n.plan_rows && n.plan_rows > 0.0;
    let semi = matches!(n.join_type.as_deref(), Some("Semi" | "Anti"));
    let merge = n.node_type == "Merge Join";
    for (i, c) in n.plans.iter().enumerate() {
        let inner = i == 1 || c.parent_relationship.as_deref() == Some("Inner");
        walk(c, stopped_early || limit_reached || merge || (semi && inner), factor, min_rows, hits);
    }
    if stopped_early && n.actual_rows < n.plan_rows {
        // Fewer rows than estimated is what stopping early looks like.
        return;
    }
    if !misestimated(n, factor, min_rows) {
        return;
    }
    let child_off = n.plans.iter().any(|c| !c.never_executed() && misestimated(c, factor, min_rows));
    if child_off {
        return;
    }
    let (actual, est) = (n.actual_rows, n.plan_rows);
    let per_loop = if n.loops > 1.0 { " per loop" } else { "" };
    hits.push(format!(
        "{}: estimated {} rows{per_loop}, got {} ({:.0}x {})",
        n.describe(),
        count(est),
        count(actual),
        actual.max(est) / actual.min(est).max(1.0),
        if actual > est { "more" } else { "fewer" }
    ));
}
