use crate::rules::{PlanCtx, PlanRule};
use crate::rules::Sink;
use crate::rules::util::{discarded_by_filter, list};

pub struct IndexScanDiscardsRows;

impl PlanRule for IndexScanDiscardsRows {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let c = ctx.config;
        let hits: Vec<String> = ctx
            .executed()
            .filter(|n| matches!(n.node_type.as_str(), "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan"))
            .filter_map(|n| {
                discarded_by_filter(n, "fetched", c.index_scan_discard_min_rows, c.index_scan_discard_fraction)
                    .map(|(m, _)| format!("{m}: the index condition does not cover the filter"))
            })
            .collect();
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
