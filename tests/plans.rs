//! Plan rules, offline: captured plans in `fixtures/rules/RULE/` (`fail_*.json`
//! must produce the rule, `pass_*.json` must not), its catalogue examples name plans that behave
//! as documented, and the per-loop arithmetic and cross-references hold on real plans.
//! The plans were captured from PostgreSQL 15 by `fixtures/capture-plans.sh`; tests/fixtures.rs
//! runs each rule on its own fail_/pass_ plans.

mod common;

use std::fs;
use std::path::Path;

use dbwarden::config::Config;
use dbwarden::diagnostic::Diagnostic;
use dbwarden::explain::plan::Explain;
use dbwarden::explain::{ExplainConfig, Facts, FkFact, Timing};
use dbwarden::rules::catalogue::ExampleKind;
use dbwarden::rules::{self, Kind, RULES, Settings};

fn load(path: &Path) -> Explain {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Explain::parse_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs every plan rule on a plan, as `dbwarden explain` would with one measured run.
fn judge(explain: &Explain, facts: &Facts) -> Vec<Diagnostic> {
    let config = ExplainConfig::default();
    let settings = Settings::new(&Config::default());
    let timing = explain
        .analyzed
        .then(|| Timing::from_runs(&[(explain.execution_ms.unwrap_or(0.0), explain.planning_ms.unwrap_or(0.0))]))
        .flatten();
    let ctx = rules::PlanCtx {
        explain,
        timing: timing.as_ref(),
        budget_ms: config.budget_ms,
        name: Some("fixture"),
        config: &config,
        facts,
    };
    dbwarden::pipeline::plans::plan_findings(&ctx, &settings, 0, 0..1)
}

fn listing(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| format!("  [{}] {}\n", d.rule, d.message)).collect()
}

#[test]
fn catalogue_examples_name_plans_that_behave() {
    let base = common::root().join("fixtures/rules");
    let mut failures = Vec::new();
    for (i, r) in RULES.iter().enumerate() {
        if !matches!(r.kind, Kind::Plan(_)) {
            continue;
        }
        for ex in &rules::entry(i).examples {
            let plan = ex.plan.as_deref().unwrap_or_else(|| panic!("{}: an example without `plan`", r.name));
            let diags = judge(&load(&base.join(plan)), &Facts::default());
            let hit = diags.iter().any(|d| d.rule == r.name);
            if hit != (ex.kind == ExampleKind::Diagnostic) {
                failures.push(format!("{} example {plan} ({:?}):\n{}", r.name, ex.kind, listing(&diags)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn message(diags: &[Diagnostic], rule: &str) -> String {
    diags.iter().find(|d| d.rule == rule).map(|d| d.message.clone()).unwrap_or_default()
}

#[test]
fn per_loop_arithmetic_on_real_plans() {
    let base = common::root().join("fixtures/rules");
    // A parallel sequential scan: 3 processes, `Rows Removed by Filter` 100,000 per loop.
    let e = load(&base.join("seq-scan-discards-rows/fail_parallel.json"));
    let scan = e.nodes().into_iter().find(|n| n.is_seq_scan()).unwrap();
    assert_eq!(scan.loops, 3.0);
    assert_eq!(scan.total_removed_by_filter(), 300_000.0);
    // Its wall time is the per-loop time, not three times it.
    assert!((scan.inclusive_ms - scan.total_ms).abs() < 1e-9);
    let m = message(&judge(&e, &Facts::default()), "seq-scan-discards-rows");
    // 1 row over 3 loops is printed as 0 per loop: the totals are exact to the rounding PostgreSQL does.
    assert!(m.contains("read 300,000 rows and discarded 300,000"), "{m}");

    // The inner side of a nested loop: 2,000 loops of a scan returning 1 row and removing 49.
    let e = load(&base.join("nested-loop-inner-scan/fail_inner_seq_scan.json"));
    let inner = &e.root.plans[1];
    assert_eq!(inner.loops, 2000.0);
    assert_eq!(inner.total_rows(), 2000.0);
    assert_eq!(inner.total_removed_by_filter(), 98_000.0);
    let m = message(&judge(&e, &Facts::default()), "nested-loop-inner-scan");
    assert!(m.contains("2,000 times"), "{m}");

    // Heap Fetches is a total: 37,538 fetches for 20,000 rows in one loop.
    let e = load(&base.join("index-only-heap-fetches/fail_after_update.json"));
    let m = message(&judge(&e, &Facts::default()), "index-only-heap-fetches");
    assert!(m.contains("for 37,538 of 20,000 rows"), "{m}");
}

#[test]
fn over_budget_names_slow_nodes_and_cross_references_the_schema() {
    let base = common::root().join("fixtures/rules");
    let mut facts = Facts::default();
    facts.index_leads.insert("reviews".into(), vec!["id".into(), "provider_id".into(), "org_id".into()]);
    facts.unindexed_fks.insert(
        "reviews_appointment_id_fkey".into(),
        FkFact {
            schema: "public".into(),
            table: "reviews".into(),
            columns: vec!["appointment_id".into()],
            referenced: "appointments".into(),
        },
    );
    let d = judge(&load(&base.join("over-budget/fail_seq_scan.json")), &facts);
    let m = message(&d, "over-budget");
    assert!(m.contains("over the 50.0 ms budget"), "{m}");
    assert!(
        m.contains("Seq Scan on reviews") && m.contains("no index on `reviews` leads with `appointment_id`"),
        "{m}"
    );
    let fix =
        d.iter().find(|d| d.rule == "seq-scan-discards-rows").and_then(|d| d.fix.as_ref().map(|f| f.preview(None)));
    assert_eq!(
        fix.as_deref(),
        Some(
            "DROP INDEX CONCURRENTLY IF EXISTS reviews_appointment_id_idx;\nCREATE INDEX CONCURRENTLY reviews_appointment_id_idx ON reviews (appointment_id);"
        )
    );

    // A delete whose time is in the foreign-key trigger of an unindexed foreign key.
    let mut e = load(&base.join("fk-trigger-slow/fail_unindexed_fk.json"));
    e.execution_ms = Some(80.0);
    for t in &mut e.triggers {
        if t.constraint.as_deref() == Some("reviews_appointment_id_fkey") {
            t.time_ms = 75.0;
        }
    }
    let d = judge(&e, &facts);
    let m = message(&d, "over-budget");
    assert!(m.contains("trigger for `reviews_appointment_id_fkey`") && m.contains("unindexed-foreign-key"), "{m}");
    let m = message(&d, "fk-trigger-slow");
    assert!(m.contains("`reviews (appointment_id)` has no index"), "{m}");
}

#[test]
fn messages_carry_no_values() {
    // Filters in these plans hold literals ('no_show', 4242, 'cardiology'): no message repeats them.
    let base = common::root().join("fixtures/rules");
    for dir in fs::read_dir(&base).unwrap().flatten().filter(|d| d.path().is_dir()) {
        for p in
            fs::read_dir(dir.path()).unwrap().flatten().filter(|p| p.path().extension().is_some_and(|x| x == "json"))
        {
            for d in judge(&load(&p.path()), &Facts::default()) {
                for v in ["4242", "no_show", "cardiology", "'"] {
                    assert!(!d.message.contains(v), "{}: {}", p.path().display(), d.message);
                }
            }
        }
    }
}
