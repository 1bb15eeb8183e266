//! Criterion benches of the pipeline stages on the reference workload: `../shared/corpus` when it
//! is present (the real-world migrations), else the bundled example project.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use dbwarden::config::Config;
use dbwarden::parse::{self, split};
use dbwarden::pipeline as engine;
use dbwarden::rules::Settings;
use dbwarden::source::{self, SourceFile};

fn workload() -> Vec<SourceFile> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus");
    let dir = if corpus.is_dir() { corpus } else { root.join("fixtures/example/migrations") };
    let files = source::discover(&[dir]).expect("workload");
    files.iter().filter_map(|f| source::load(f).ok()).collect()
}

fn benches(c: &mut Criterion) {
    let sources = workload();
    let bytes: usize = sources.iter().map(|s| s.text.len()).sum();
    eprintln!("workload: {} files, {} bytes", sources.len(), bytes);
    let settings = Settings::new(&Config::default());

    let mut g = c.benchmark_group("corpus");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Bytes(bytes as u64));
    g.bench_function("split", |b| {
        b.iter(|| sources.iter().map(|s| split::split(&s.text).stmts.len()).sum::<usize>());
    });
    g.bench_function("parse (one core)", |b| {
        b.iter(|| sources.iter().map(|s| parse::parse_source(s).0.len()).sum::<usize>());
    });
    // Replay and statement rules on already-parsed files: the sequential part of a run.
    let parsed: Vec<_> =
        sources.iter().map(|s| SourceFile::new(s.path.clone(), s.text.clone())).map(parse::parse_file).collect();
    g.bench_function("replay + rules", |b| {
        b.iter(|| engine::analyse(&parsed, &settings).diagnostics.len());
    });
    g.bench_function("lint (parallel parse + replay + rules)", |b| {
        b.iter_batched(
            || sources.iter().map(|s| SourceFile::new(s.path.clone(), s.text.clone())).collect::<Vec<_>>(),
            |s| engine::lint(s, &settings).diagnostics.len(),
            criterion::BatchSize::LargeInput,
        );
    });
    g.finish();
}

/// A generator of `n` statements.
type Shape = fn(usize) -> String;

/// Inputs that were quadratic (issue 15): many indexes on one table, many tables referencing
/// one, many suppressions. Each at 10,000 and 20,000 statements: the time per statement must
/// stay flat.
fn adversarial(c: &mut Criterion) {
    let settings = Settings::new(&Config::default());
    let shapes: [(&str, Shape); 3] = [
        ("indexes on one table", |n| {
            let mut s = "CREATE TABLE t (id int PRIMARY KEY, a int);\n".to_owned();
            s.extend((0..n).map(|i| format!("CREATE INDEX CONCURRENTLY i{i} ON t (a);\n")));
            s
        }),
        ("tables referencing one", |n| {
            let mut s = "CREATE TABLE p (id int PRIMARY KEY);\n".to_owned();
            s.extend((0..n).map(|i| format!("CREATE TABLE c{i} (id int, p int REFERENCES p (id));\n")));
            s
        }),
        ("suppressions", |n| {
            (0..n).map(|i| format!("-- dbwarden-ignore: drop-table -- old\nDROP TABLE IF EXISTS t{i};\n")).collect()
        }),
    ];
    let mut g = c.benchmark_group("adversarial");
    g.sample_size(10);
    for (name, make) in shapes {
        for n in [10_000, 20_000] {
            let text = make(n);
            g.throughput(criterion::Throughput::Elements(n as u64));
            g.bench_function(format!("{name}/{n}"), |b| {
                b.iter_batched(
                    || vec![SourceFile::new("a.sql", text.clone())],
                    |s| engine::lint(s, &settings).diagnostics.len(),
                    criterion::BatchSize::LargeInput,
                );
            });
        }
    }
    g.finish();
}

criterion_group!(lint, benches, adversarial);
criterion_main!(lint);
