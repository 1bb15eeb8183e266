use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{columns};
use crate::rules::Sink;
use crate::explain::ms;
use crate::explain::plan::condition_columns;

pub struct OverBudget;

impl PlanRule for OverBudget {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let Some(t) = ctx.timing else { return };
        let measured = if ctx.config.budget_includes_planning { t.median_ms + t.planning_ms } else { t.median_ms };
        if measured <= ctx.budget_ms {
            return;
        }
        let what = ctx.name.map_or_else(|| "the query".to_owned(), |n| format!("`{n}`"));
        let planning = if ctx.config.budget_includes_planning { "including" } else { "plus" };
        let mut msg = format!(
            "{what} took {} (median of {} runs; min {}, max {}; {planning} planning {}), over the {} budget",
            ms(measured),
            t.runs,
            ms(t.min_ms),
            ms(t.max_ms),
            ms(t.planning_ms),
            ms(ctx.budget_ms)
        );
        // The slowest parts: plan nodes by exclusive time, and triggers (outside the plan tree).
        let mut parts: Vec<(f64, String)> = ctx
            .explain
            .slowest(3)
            .into_iter()
            .filter(|n| n.exclusive_ms >= 0.05 * t.median_ms)
            .map(|n| {
                let mut d = format!("{} {}", n.describe(), ms(n.exclusive_ms));
                if n.is_seq_scan()
                    && let (Some(table), Some(filter)) = (&n.relation, &n.filter)
                {
                    let unindexed = ctx.facts.unindexed_columns(table, &condition_columns(filter));
                    if !unindexed.is_empty() {
                        d.push_str(&format!(" (no index on `{table}` leads with {})", columns(&unindexed)));
                    }
                }
                (n.exclusive_ms, d)
            })
            .collect();
        for tr in &ctx.explain.triggers {
            if tr.time_ms < 0.05 * t.median_ms {
                continue;
            }
            let name = tr.constraint.as_deref().unwrap_or(&tr.name);
            let mut d = format!("trigger for `{name}` {}", ms(tr.time_ms));
            if let Some(fk) = ctx.facts.unindexed_fks.get(name) {
                d.push_str(&format!(
                    " (foreign key `{} ({})` has no index: unindexed-foreign-key)",
                    fk.table,
                    fk.columns.join(", ")
                ));
            }
            parts.push((tr.time_ms, d));
        }
        parts.sort_by(|a, b| b.0.total_cmp(&a.0));
        parts.truncate(3);
        if !parts.is_empty() {
            msg.push_str("; slowest: ");
            msg.push_str(&parts.into_iter().map(|p| p.1).collect::<Vec<_>>().join(", "));
        }
        sink.report(None, msg);
    }
}
