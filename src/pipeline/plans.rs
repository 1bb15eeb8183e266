//! The plan run (`dbwarden explain`): the runner's outcomes as findings (refused, failed, timed
//! out, not measured, sequences consumed), the plan rules on each plan, then [`finish`], with
//! the suppressions of the queries' `.sql` files.

use super::finish::{finish, guarded};
use super::queries::suppressions;
use super::suppress::Suppressions;
use crate::diagnostic::Diagnostic;
use crate::explain::runner::{Event, Outcome};
use crate::explain::{ExplainConfig, Facts, ms};
use crate::queries::QuerySet;
use crate::rules::{Kind, PlanCtx, RULES, RuleId, Settings, Sink};

/// Findings for every outcome: the runner's own (refused, failed, timed out, not measured,
/// sequences consumed) and the plan rules'. Severities come from the catalogue and the config.
pub fn findings(
    set: &QuerySet,
    outcomes: &[Outcome],
    facts: &Facts,
    config: &ExplainConfig,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for o in outcomes {
        let q = &set.queries[o.query];
        let (file, span) = (q.anchor.file, q.anchor.span.clone());
        for e in &o.events {
            let (rule, message) = match e {
                Event::Refused(why) => (RuleId::QueryRefused, format!("not run: {why}")),
                Event::Failed(why) => (RuleId::QueryFailed, format!("the query failed on the target: {why}")),
                Event::TimedOut(t) => (
                    RuleId::OverBudget,
                    format!(
                        "{} did not finish within the statement timeout of {} (budget {}); cancelled",
                        q.name.as_deref().map_or_else(|| "the query".to_owned(), |n| format!("`{n}`")),
                        ms(*t),
                        ms(o.budget_ms)
                    ),
                ),
                Event::NotMeasured(why) => (RuleId::BudgetNotMeasured, format!("the budget was not measured: {why}")),
                Event::SequencesConsumed(seqs) => (
                    RuleId::SequenceConsumed,
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
        run_plan_rules(&ctx, settings, file, span.clone(), &mut out);
    }
    let ran = |r: RuleId| matches!(r.def().kind, Kind::Plan(_) | Kind::Builtin);
    finish(out, settings, suppressions(set), &ran)
}

/// The enabled plan rules' findings on one plan, anchored at `file` and `span`.
fn run_plan_rules(
    ctx: &PlanCtx<'_>,
    settings: &Settings,
    file: usize,
    span: std::ops::Range<usize>,
    out: &mut Vec<Diagnostic>,
) {
    for rule in RULES {
        let Kind::Plan(r) = rule.kind else { continue };
        if settings.enabled[rule.id.index()] {
            guarded(out, rule.id, file, span.clone(), |sink| r.check(ctx, sink));
        }
    }
}

/// The enabled plan rules' findings on one plan, finished (severity, help, order), anchored at
/// `file` and `span`: for benches and tests that judge captured plans without a database.
pub fn plan_findings(
    ctx: &PlanCtx<'_>,
    settings: &Settings,
    file: usize,
    span: std::ops::Range<usize>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    run_plan_rules(ctx, settings, file, span, &mut out);
    let ran = |r: RuleId| matches!(r.def().kind, Kind::Plan(_));
    finish(out, settings, Suppressions::default(), &ran)
}
