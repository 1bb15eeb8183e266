use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list};
use crate::rules::Sink;
use crate::explain::count;

pub struct LossyBitmap;

impl PlanRule for LossyBitmap {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let hits: Vec<String> = ctx
            .executed()
            .filter(|n| n.node_type == "Bitmap Heap Scan" && n.lossy_heap_blocks > 0.0)
            .map(|n| {
                format!(
                    "{}: {} of {} heap blocks were lossy, so every row on them was rechecked ({} removed by the recheck)",
                    n.describe(),
                    count(n.lossy_heap_blocks),
                    count(n.lossy_heap_blocks + n.exact_heap_blocks),
                    count(n.total_removed_by_recheck())
                )
            })
            .collect();
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
