use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list, pct};
use crate::rules::Sink;
use crate::explain::count;

pub struct IndexOnlyHeapFetches;

impl PlanRule for IndexOnlyHeapFetches {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let c = ctx.config;
        let hits: Vec<String> = ctx
            .executed()
            .filter(|n| n.node_type == "Index Only Scan")
            .filter_map(|n| {
                // `Heap Fetches` is a total over all loops; `Actual Rows` is per loop.
                let fetches = n.heap_fetches?;
                let rows = n.total_rows();
                (fetches >= c.heap_fetch_min && fetches >= c.heap_fetch_fraction * rows).then(|| {
                    format!(
                        "{} visited the table for {} of {} rows ({}): the visibility map is out of date",
                        n.describe(),
                        count(fetches),
                        count(rows),
                        pct(fetches, rows)
                    )
                })
            })
            .collect();
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
