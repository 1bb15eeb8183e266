use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{columns, list, pct};
use crate::rules::Sink;
use crate::explain::plan::condition_columns;
use crate::explain::{count, ms};

pub struct IndexScanDiscardsRows;

impl PlanRule for IndexScanDiscardsRows {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let c = ctx.config;
        let hits: Vec<String> = ctx
            .executed()
            .filter(|n| matches!(n.node_type.as_str(), "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan"))
            .filter_map(|n| {
                let removed = n.total_removed_by_filter();
                let read = removed + n.total_rows();
                if removed < c.index_scan_discard_min_rows || removed < c.index_scan_discard_fraction * read {
                    return None;
                }
                let cols = n.filter.as_deref().map(condition_columns).unwrap_or_default();
                Some(format!(
                    "{} fetched {} rows and discarded {} ({}) by its filter on {} in {}: the index condition does not cover the filter",
                    n.describe(),
                    count(read),
                    count(removed),
                    pct(removed, read),
                    columns(&cols),
                    ms(n.inclusive_ms)
                ))
            })
            .collect();
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
