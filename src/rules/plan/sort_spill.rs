use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list};
use crate::rules::Sink;
use crate::explain::ms;

pub struct SortSpill;

impl PlanRule for SortSpill {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let hits: Vec<String> = ctx
            .executed()
            .filter(|n| n.sort_space_type.as_deref() == Some("Disk") || n.sort_on_disk_in_workers)
            .map(|n| {
                format!(
                    "{} spilled to disk ({}, {} kB) in {}",
                    n.describe(),
                    n.sort_method.as_deref().unwrap_or("external sort"),
                    n.sort_space_kb.round(),
                    ms(n.inclusive_ms)
                )
            })
            .collect();
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
