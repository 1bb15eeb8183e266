use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list, pct};
use crate::rules::Sink;
use crate::explain::{count, ms};

pub struct NestedLoopInnerScan;

impl PlanRule for NestedLoopInnerScan {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let c = ctx.config;
        let exec = ctx.execution_ms();
        let mut hits = Vec::new();
        for n in ctx.executed().filter(|n| n.node_type == "Nested Loop") {
            let Some(inner) = n.plans.get(1) else { continue };
            if inner.loops < c.nested_loop_min_loops {
                continue;
            }
            // A sequential scan re-run for each outer row (not one under a Materialize, which runs once).
            let seq = inner.walk().into_iter().find(|x| x.is_seq_scan() && x.loops >= c.nested_loop_min_loops);
            let share = exec > 0.0 && inner.inclusive_ms >= c.nested_loop_time_fraction * exec;
            if seq.is_none() && !share {
                continue;
            }
            let what = seq.map_or_else(|| inner.describe(), |s| s.describe());
            hits.push(format!(
                "{} runs its inner side ({what}) {} times, {} in all ({} of execution)",
                n.describe(),
                count(inner.loops),
                ms(inner.inclusive_ms),
                pct(inner.inclusive_ms, exec)
            ));
        }
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
