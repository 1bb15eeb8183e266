use std::collections::HashMap;

use crate::rules::{CaptureCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct NPlusOne;

impl QueryRule for NPlusOne {
    fn check_all(&self, ctx: &CaptureCtx<'_>, sink: &mut Sink<'_>) {
        let threshold = ctx.options.n_plus_one_threshold;
        // (input file, scope, fingerprint) -> executions, in capture order. The scope is a
        // session's transaction or a sqlcommenter trace.
        let mut groups: HashMap<(usize, String, &str), Vec<usize>> = HashMap::new();
        let mut order = Vec::new();
        for (i, q) in ctx.queries.queries.iter().enumerate() {
            let mut scopes = Vec::new();
            if let (Some(s), Some(t)) = (&q.session, &q.transaction) {
                scopes.push(format!("transaction {t} of session {s}"));
            }
            if let Some(tp) = &q.traceparent {
                scopes.push(format!("trace {tp}"));
            }
            for scope in scopes {
                let key = (q.anchor.file, scope, q.fingerprint.as_str());
                let e = groups.entry(key.clone()).or_default();
                if e.is_empty() {
                    order.push(key);
                }
                e.push(i);
            }
        }
        let mut reported: Vec<usize> = Vec::new();
        for key in order {
            let runs = &groups[&key];
            // `calls` is 1 per log entry; an export row's calls are not per transaction.
            if runs.len() < threshold || reported.contains(&runs[0]) {
                continue;
            }
            reported.push(runs[0]);
            let q = &ctx.queries.queries[runs[0]];
            sink.report_in(
                q.anchor.file,
                Some(q.anchor.span.clone()),
                format!(
                    "the same query ran {} times in {}: an N+1 pattern, one round trip per row of an earlier result",
                    runs.len(),
                    key.1
                ),
            );
        }
    }
}
