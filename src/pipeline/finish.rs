//! The one step after every runner: suppressions, severity (catalogue, config, impact), the
//! catalogue's help, rule selection, order; and the one panic policy of the runners.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::suppress::Suppressions;
use crate::diagnostic::Diagnostic;
use crate::rules::{RuleId, Settings, Sink};

/// Finishes a runner's findings: drops suppressed ones (reporting unused suppressions of rules
/// that `ran`), sets each finding's severity (the configured one, as its impact
/// sets it), fills in the catalogue's help, drops disabled rules' findings, and sorts.
pub fn finish(
    mut out: Vec<Diagnostic>,
    settings: &Settings,
    suppressions: Suppressions,
    ran: &dyn Fn(RuleId) -> bool,
) -> Vec<Diagnostic> {
    suppressions.apply(settings, ran, &mut out);
    out.retain(|d| settings.enabled[d.rule.index()]);
    for d in &mut out {
        d.severity = d.impact.severity(settings.severity[d.rule.index()]);
        if d.help.is_none() {
            let help = &d.rule.entry().help;
            if !help.is_empty() {
                d.help = Some(help.clone());
            }
        }
    }
    out.sort_by(order);
    out.dedup_by(|a, b| {
        a.file == b.file && a.span == b.span && a.object == b.object && a.rule == b.rule && a.message == b.message
    });
    out
}

/// Findings in file order and position; findings on live objects after them, by object.
fn order(a: &Diagnostic, b: &Diagnostic) -> std::cmp::Ordering {
    (a.object.is_some(), &a.object, a.file, a.span.start, a.rule.name()).cmp(&(
        b.object.is_some(),
        &b.object,
        b.file,
        b.span.start,
        b.rule.name(),
    ))
}

/// Runs one rule on one input. A panic drops what the rule reported on this input and becomes
/// an `internal-error` finding there (which makes the run exit 2): never a silent drop, never
/// an abort of the run.
pub fn guarded(
    out: &mut Vec<Diagnostic>,
    rule: RuleId,
    file: usize,
    span: Range<usize>,
    check: impl FnOnce(&mut Sink<'_>),
) {
    let start = out.len();
    let result = {
        let mut sink = Sink::new(rule, file, span.clone(), out);
        catch_unwind(AssertUnwindSafe(|| check(&mut sink)))
    };
    if let Err(p) = result {
        out.truncate(start);
        internal_error(out, file, span, format!("internal error in rule {rule}: {}", panic_message(&*p)));
    }
}

/// Reports an internal error at `span` of `file`.
pub fn internal_error(out: &mut Vec<Diagnostic>, file: usize, span: Range<usize>, message: String) {
    Sink::new(RuleId::InternalError, file, span, out).report(None, message);
}

/// The message of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_rule_becomes_an_internal_error_where_it_ran() {
        let mut out = Vec::new();
        guarded(&mut out, RuleId::SelectStar, 0, 5..9, |sink| {
            sink.report(None, "kept");
        });
        guarded(&mut out, RuleId::NPlusOne, 1, 10..20, |sink| {
            sink.report(None, "dropped with the panic");
            panic!("boom");
        });
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].rule, RuleId::InternalError);
        assert_eq!((out[1].file, out[1].span.clone()), (1, 10..20));
        assert_eq!(out[1].message, "internal error in rule n-plus-one: boom");
    }

    #[test]
    fn severity_and_help_come_from_the_catalogue_and_config() {
        let mut config = crate::config::Config::default();
        config.lint.severity.insert("select-star".into(), crate::diagnostic::Severity::Error);
        let settings = Settings::new(&config);
        let mut out = Vec::new();
        guarded(&mut out, RuleId::SelectStar, 0, 0..1, |sink| {
            sink.report(None, "a");
            sink.report(Some(2..3), "b").impact(crate::diagnostic::Impact::Lower);
        });
        let out = finish(out, &settings, Suppressions::default(), &|_| true);
        assert_eq!(out[0].severity, crate::diagnostic::Severity::Error);
        assert_eq!(out[1].severity, crate::diagnostic::Severity::Warning);
        assert_eq!(out[0].help.as_deref(), Some(RuleId::SelectStar.entry().help.as_str()));
    }
}
