use crate::diagnostic::{Applicability, Edit};
use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list, pct};
use crate::rules::Sink;
use crate::rules::util::plan_index_build;
use crate::explain::ms;

pub struct FkTriggerSlow;

impl PlanRule for FkTriggerSlow {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let c = ctx.config;
        let exec = ctx.explain.execution_ms.unwrap_or_else(|| ctx.execution_ms());
        let mut hits = Vec::new();
        let mut fix = None;
        for t in ctx.explain.triggers.iter().filter(|t| t.is_foreign_key()) {
            let share = t.time_ms >= c.fk_trigger_fraction * exec && t.time_ms >= c.fk_trigger_floor_ms;
            if t.time_ms < c.fk_trigger_min_ms && !share {
                continue;
            }
            let constraint = t.constraint.as_deref().unwrap_or(&t.name);
            let mut h = format!(
                "the trigger of foreign key `{constraint}` took {} over {} call(s) ({} of execution)",
                ms(t.time_ms),
                t.calls,
                pct(t.time_ms, exec)
            );
            if let Some(fk) = ctx.facts.unindexed_fks.get(constraint) {
                let cols = fk.columns.join(", ");
                h.push_str(&format!(
                    ": `{} ({cols})` has no index, so each check scans `{}` (unindexed-foreign-key)",
                    fk.table, fk.table
                ));
                if fix.is_none() {
                    fix = Some(plan_index_build(ctx.facts, Some(&fk.schema), &fk.table, &fk.columns));
                }
            }
            hits.push(h);
        }
        if hits.is_empty() {
            return;
        }
        let r = sink.report(None, list(&hits));
        if let Some([drop, create]) = fix {
            r.help("index the referencing columns, `CONCURRENTLY`, each statement on its own: `DROP INDEX CONCURRENTLY IF EXISTS` first removes the invalid index a failed build leaves behind, so the pair can be run again".to_owned())
                .fix(
                    "drop any invalid index a failed build left, then index the referencing columns `CONCURRENTLY`",
                    Applicability::Safe,
                    vec![Edit::New { text: drop }, Edit::New { text: create }],
                );
        }
    }
}
