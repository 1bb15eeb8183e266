use crate::rules::{PlanCtx, PlanRule};
use crate::rules::util::{list};
use crate::rules::Sink;
use crate::explain::ms;

pub struct HashSpill;

impl PlanRule for HashSpill {
    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {
        let mut hits = Vec::new();
        for n in ctx.executed() {
            if n.node_type == "Hash" && n.hash_batches > 1.0 {
                let planned = if n.original_hash_batches > 0.0 && n.original_hash_batches < n.hash_batches {
                    format!(", planned {}", n.original_hash_batches)
                } else {
                    String::new()
                };
                hits.push(format!("{} built its table in {} batches{planned} on disk", n.describe(), n.hash_batches));
            } else if n.hashagg_batches > 1.0 {
                hits.push(format!(
                    "{} spilled to disk in {} batches ({} kB) in {}",
                    n.describe(),
                    n.hashagg_batches,
                    n.disk_usage_kb.round(),
                    ms(n.inclusive_ms)
                ));
            }
        }
        if !hits.is_empty() {
            sink.report(None, list(&hits));
        }
    }
}
