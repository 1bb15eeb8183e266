//! The per-query JSON of `dbwarden explain --format json`.

use serde_json::{Value, json};

use super::plan::redact_values;
use super::runner::{Event, Options, Outcome};
use super::safety::Class;
use crate::queries::CapturedQuery;

/// One query's entry in `--format json`'s `queries` array. The plan's literal values are
/// replaced by `?` when they may be patient data (from a log, pg_stat_statements, logged or
/// sampled parameters) unless `--show-values`.
pub fn query_json(q: &CapturedQuery, o: &Outcome, opts: &Options) -> Value {
    let sensitive = q.origin.is_sensitive() || matches!(o.params, "log" | "sampled");
    let status = if o.events.iter().any(|e| matches!(e, Event::Refused(_))) {
        "refused"
    } else if o.events.iter().any(|e| matches!(e, Event::Failed(_))) {
        "failed"
    } else if o.events.iter().any(|e| matches!(e, Event::TimedOut(_))) {
        "timed_out"
    } else if o.timing.is_some() {
        "measured"
    } else {
        "planned"
    };
    let plan = o.plan_json.as_ref().map(|p| if sensitive && !opts.show_values { redact_values(p) } else { p.clone() });
    json!({
        "origin": q.origin.display(),
        "name": q.name,
        "fingerprint": q.fingerprint,
        "calls": q.calls,
        "total_ms": q.total_ms,
        "query": q.display(opts.show_values),
        "kind": match o.class { Some(Class::Read) => "read", Some(Class::Write) => "write", _ => "refused" },
        "status": status,
        "parameters": o.params,
        "budget_ms": o.budget_ms,
        "timing": o.timing,
        "plan": plan,
    })
}
