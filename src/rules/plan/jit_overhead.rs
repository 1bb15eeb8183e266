use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{pct};
use crate::rules::Sink;
use crate::explain::ms;

pub struct JitOverhead;

impl PlanRule for JitOverhead {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let Some(jit) = ctx.explain.jit else { return };
        let exec = ctx.explain.execution_ms.unwrap_or(0.0);
        let c = ctx.config;
        if jit.total_ms < c.jit_min_ms || jit.total_ms < c.jit_fraction * exec {
            return;
        }
        sink.report(
            None,
            format!(
                "JIT compilation of {} functions took {} of the {} execution ({})",
                jit.functions,
                ms(jit.total_ms),
                ms(exec),
                pct(jit.total_ms, exec)
            ),
        );
    }
}
