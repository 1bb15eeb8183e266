use crate::diagnostic::{Applicability, Edit};
use crate::rules::{PlanCtx, PlanRule};
use crate::rules::Sink;
use crate::rules::util::plan_index_build;
use crate::rules::util::{columns, discarded_by_filter, list};

pub struct SeqScanDiscardsRows;

impl PlanRule for SeqScanDiscardsRows {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let c = ctx.config;
        let mut hits = Vec::new();
        let mut fix = None;
        for n in ctx.executed().filter(|n| n.is_seq_scan()) {
            let Some((mut h, cols)) =
                discarded_by_filter(n, "read", c.seq_scan_discard_min_rows, c.seq_scan_discard_fraction)
            else {
                continue;
            };
            let table = n.relation.clone().unwrap_or_default();
            let unindexed = ctx.facts.unindexed_columns(&table, &cols);
            if !unindexed.is_empty() {
                h.push_str(&format!(" (no index on `{table}` leads with {})", columns(&unindexed)));
                if fix.is_none() && unindexed.len() == 1 {
                    fix = Some(plan_index_build(ctx.facts, n.schema.as_deref(), &table, &unindexed[..1]));
                }
            }
            hits.push(h);
        }
        if hits.is_empty() {
            return;
        }
        let r = sink
            .report(None, list(&hits));
        if let Some([drop, create]) = fix {
            r.help("index the filtered column, `CONCURRENTLY`, each statement on its own: `DROP INDEX CONCURRENTLY IF EXISTS` first removes the invalid index a failed build leaves behind, so the pair can be run again".to_owned())
                .fix(
                    "drop any invalid index a failed build left, then index the filtered column `CONCURRENTLY`",
                    Applicability::Safe,
                    vec![Edit::New { text: drop }, Edit::New { text: create }],
                );
        }
    }
}
