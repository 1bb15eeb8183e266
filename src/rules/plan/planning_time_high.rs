use crate::rules::{PlanCtx, PlanRule};

use crate::rules::Sink;
use crate::explain::ms;

pub struct PlanningTimeHigh;

impl PlanRule for PlanningTimeHigh {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let planning = ctx.timing.map_or_else(|| ctx.explain.planning_ms.unwrap_or(0.0), |t| t.planning_ms);
        let exec = ctx.execution_ms();
        let c = ctx.config;
        if !ctx.explain.analyzed || planning < c.planning_min_ms || planning < c.planning_execution_ratio * exec {
            return;
        }
        sink.report(None, format!("planning took {}, more than the {} execution", ms(planning), ms(exec)));
    }
}
