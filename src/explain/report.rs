//! The runner's outcomes as findings (anchored at each query's origin), and the per-query JSON.

use serde_json::{Value, json};

use super::plan::redact_values;
use super::runner::{Event, Options, Outcome};
use super::safety::Class;
use super::{ExplainConfig, Facts, ms};
use crate::diagnostic::{Diagnostic, Sink};
use crate::queries::CapturedQuery;
use crate::rules::plan::PlanCtx;
use crate::rules::{Kind, RULES, Settings, entry, lookup};

/// Findings for every outcome: the runner's own (refused, failed, timed out, not measured,
/// sequences consumed) and the plan rules'. Severities come from the catalogue and the config.
pub fn findings(
    queries: &[CapturedQuery],
    outcomes: &[Outcome],
    facts: &Facts,
    config: &ExplainConfig,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for o in outcomes {
        let q = &queries[o.query];
        let (file, span) = (q.anchor.file, q.anchor.span.clone());
        for e in &o.events {
            let (rule, message) = match e {
                Event::Refused(why) => ("query-refused", format!("not run: {why}")),
                Event::Failed(why) => ("query-failed", format!("the query failed on the target: {why}")),
                Event::TimedOut(t) => (
                    "over-budget",
                    format!(
                        "{} did not finish within the statement timeout of {} (budget {}); cancelled",
                        q.name.as_deref().map_or_else(|| "the query".to_owned(), |n| format!("`{n}`")),
                        ms(*t),
                        ms(o.budget_ms)
                    ),
                ),
                Event::NotMeasured(why) => ("budget-not-measured", format!("the budget was not measured: {why}")),
                Event::SequencesConsumed(seqs) => (
                    "sequence-consumed",
                    format!(
                        "running the query advanced {}; sequences are not rolled back, so their values were consumed",
                        seqs.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                    ),
                ),
            };
            Sink::new(rule, file, span.clone(), &mut out).report(None, message);
        }
        let Some(explain) = &o.explain else { continue };
        let ctx = PlanCtx {
            explain,
            timing: o.timing.as_ref(),
            budget_ms: o.budget_ms,
            name: q.name.as_deref(),
            config,
            facts,
        };
        out.extend(plan_findings(&ctx, settings, file, span.clone()));
    }
    for d in &mut out {
        let i = lookup(d.rule).unwrap_or(0);
        d.severity = if d.lesser { settings.severity[i].lower() } else { settings.severity[i] };
        if d.help.is_none() && !entry(i).help.is_empty() {
            d.help = Some(entry(i).help.clone());
        }
    }
    out.retain(|d| settings.enabled[lookup(d.rule).unwrap_or(0)]);
    out.sort_by(|a, b| (a.file, a.span.start, a.rule).cmp(&(b.file, b.span.start, b.rule)));
    out
}

/// The enabled plan rules' findings on one plan, anchored at `file` and `span` (severities are
/// still the rules' defaults: [`findings`] applies the configured ones).
pub fn plan_findings(
    ctx: &PlanCtx<'_>,
    settings: &Settings,
    file: usize,
    span: std::ops::Range<usize>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (ri, rule) in RULES.iter().enumerate() {
        let Kind::Plan(r) = rule.kind else { continue };
        if settings.enabled[ri] {
            r.check(ctx, &mut Sink::new(rule.name, file, span.clone(), &mut out));
        }
    }
    out
}

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
