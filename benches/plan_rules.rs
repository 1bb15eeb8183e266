//! Plan-rule throughput on large plans: the captured 400-partition plan
//! (fixtures/rules/planning-time-high/fail_many_partitions.json, 401 nodes, 368 kB of JSON) and a
//! synthetic 20,000-node plan made by repeating its partitions. Measures parsing the JSON into
//! the typed tree and running every plan rule on it.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dbwarden::config::Config;
use dbwarden::explain::plan::Explain;
use dbwarden::explain::{ExplainConfig, Facts, Timing};
use dbwarden::rules::PlanCtx;
use dbwarden::rules::Settings;
use serde_json::Value;

fn plans() -> Vec<(&'static str, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rules/planning-time-high/fail_many_partitions.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut big: Value = serde_json::from_str(&text).expect("json");
    let children = big[0]["Plan"]["Plans"].as_array().cloned().unwrap_or_default();
    let mut many = Vec::new();
    while many.len() < 20_000 {
        many.extend(children.iter().cloned());
    }
    many.truncate(19_999);
    big[0]["Plan"]["Plans"] = Value::Array(many);
    vec![("partitions_401_nodes", text), ("synthetic_20000_nodes", big.to_string())]
}

fn benches(c: &mut Criterion) {
    let settings = Settings::new(&Config::default());
    let config = ExplainConfig::default();
    let facts = Facts::default();
    let mut g = c.benchmark_group("plan_rules");
    g.sample_size(20);
    for (name, text) in plans() {
        let explain = Explain::parse_str(&text).expect("plan");
        let nodes = explain.nodes().len() as u64;
        let timing = Timing::from_runs(&[(explain.execution_ms.unwrap_or(0.0), explain.planning_ms.unwrap_or(0.0))]);
        g.throughput(Throughput::Elements(nodes));
        g.bench_function(format!("{name}/rules"), |b| {
            b.iter(|| {
                let ctx = PlanCtx {
                    explain: &explain,
                    timing: timing.as_ref(),
                    budget_ms: 50.0,
                    name: None,
                    config: &config,
                    facts: &facts,
                };
                dbwarden::pipeline::plans::plan_findings(&ctx, &settings, 0, 0..1).len()
            });
        });
        g.bench_function(format!("{name}/parse_and_rules"), |b| {
            b.iter(|| {
                let explain = Explain::parse_str(&text).expect("plan");
                let ctx = PlanCtx {
                    explain: &explain,
                    timing: timing.as_ref(),
                    budget_ms: 50.0,
                    name: None,
                    config: &config,
                    facts: &facts,
                };
                dbwarden::pipeline::plans::plan_findings(&ctx, &settings, 0, 0..1).len()
            });
        });
    }
    g.finish();
}

criterion_group!(plan_benches, benches);
criterion_main!(plan_benches);
