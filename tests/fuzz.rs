//! Fuzz targets, run as property tests (the stable toolchain has no `cargo fuzz`): random
//! mutations of seed texts with a dictionary of the tokens that confuse SQL lexers (quotes,
//! backslashes, `E'`, `U&'`, dollar tags, comment markers, `;`, calls of never-run functions).
//! Each target runs for `DBWARDEN_FUZZ_SECS` seconds (default 3; CI sets more) and prints its
//! executions and what it found; a failure prints the input that caused it.
//!
//! 1. `classifier_agrees_with_the_server`: the safety check's static layers (sqlparser's tree,
//!    the catalog look-ups) against PostgreSQL's own reading. For every input the check allows,
//!    the server's `EXPLAIN (VERBOSE)` (nothing executed) must show only functions the same
//!    policy allows: otherwise dbwarden and the server read the text differently. Run with
//!    `standard_conforming_strings` on and off.
//! 2. `scanners_never_panic`: the lexer, the classifier, the plan-expression reader and the
//!    splitter on arbitrary text: no panic, no hang.
//! 3. `lint_never_panics`: the whole lint pipeline on mutated rule fixtures: no panic, no
//!    internal error, spans inside the text.

mod common;

use std::time::{Duration, Instant};

use common::db::TestDb;
use dbwarden::explain::runner::{Options, Session};
use dbwarden::explain::safety::{self, Denied};
use dbwarden::parse::lex::{self, Mode};
use serde_json::Value;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn budget() -> Duration {
    let secs = std::env::var("DBWARDEN_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

const DICTIONARY: &[&str] = &[
    "'",
    "\\",
    "E'",
    "e'",
    "U&'",
    "U&\"",
    "$$",
    "$q$",
    "$a$",
    "$",
    "/*",
    "*/",
    "--",
    "\n",
    "\"",
    ";",
    "(",
    ")",
    ",",
    "::text",
    " OPERATOR(pg_catalog.=) ",
    " UESCAPE '!' ",
    "'\\''",
    "''",
    "\"\"",
    "b'",
    "x'",
    "n'",
    " pg_terminate_backend(0) ",
    " pg_cancel_backend(0) ",
    " nextval('s') ",
    " pg_advisory_lock(1) ",
    " lower(b) ",
    " AS ",
    " FROM t ",
    " WHERE ",
    " AND ",
    " || ",
    "\\'",
    "E'\\\\'",
    "1",
    " ",
    "pg_catalog.",
    "\"pg_terminate_backend\"",
    "/* /* */",
    "*/ */",
];

const SEEDS: &[&str] = &[
    "SELECT 'x', lower('y'), 1",
    "SELECT E'x', $q$y$q$, \"a\" FROM t",
    "SELECT a FROM t WHERE b = 'z' /* c */ AND a > 1 -- d\n",
    "SELECT U&'\\0041' UESCAPE '\\', a FROM t",
    "WITH w AS (SELECT a FROM t) SELECT * FROM w WHERE a IN (1, 2)",
    "SELECT 'a\\', pg_terminate_backend(0), 'b'",
    "SELECT count(*) FILTER (WHERE a > 0) OVER () FROM t",
    "SELECT coalesce(b, 'x') || upper(b) FROM t ORDER BY 1 LIMIT 3",
    "SELECT $a$ $b$ $a$, 1, $b$ x $b$",
    "SELECT 1 /* /* */ pg_cancel_backend(0) */",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s = seed.to_owned();
    for _ in 0..=rng.below(4) {
        let at = {
            let mut p = rng.below(s.len() + 1);
            while !s.is_char_boundary(p) {
                p -= 1;
            }
            p
        };
        match rng.below(4) {
            0 | 1 => s.insert_str(at, DICTIONARY[rng.below(DICTIONARY.len())]),
            2 => {
                let mut end = (at + rng.below(6)).min(s.len());
                while !s.is_char_boundary(end) {
                    end += 1;
                }
                s.replace_range(at..end, "");
            }
            _ => {
                let other = SEEDS[rng.below(SEEDS.len())];
                let mut cut = rng.below(other.len() + 1);
                while !other.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.insert_str(at, &other[cut..]);
            }
        }
    }
    s
}

/// The server's reading: `EXPLAIN (VERBOSE, FORMAT JSON)` in a rolled-back read-only
/// transaction (nothing is executed). `None` when the server rejects the text.
fn server_plan(c: &mut postgres::Client, sql: &str) -> Option<Value> {
    c.batch_execute("BEGIN READ ONLY; SET LOCAL statement_timeout = 2000").ok()?;
    let r = c.query_typed(format!("EXPLAIN (VERBOSE, FORMAT JSON) {sql}").as_str(), &[]);
    let _ = c.batch_execute("ROLLBACK");
    r.ok()?.first().and_then(|row| row.try_get::<_, Value>(0).ok())
}

#[test]
fn classifier_agrees_with_the_server() {
    let Some(db) = TestDb::create("fuzz") else { return };
    db.client()
        .batch_execute("CREATE TABLE t (a int, b text); CREATE SEQUENCE s; INSERT INTO t VALUES (1, 'x')")
        .unwrap();
    let opts = Options { budget_ms: 50.0, ..Options::from_config(&dbwarden::explain::ExplainConfig::default()) };
    let deadline = budget();
    let (mut runs, mut allowed, mut planned) = (0u64, 0u64, 0u64);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for scs in ["on", "off"] {
        db.client()
            .batch_execute(&format!("ALTER DATABASE \"{}\" SET standard_conforming_strings = {scs}", db.name))
            .unwrap();
        let mut session = Session::connect(&db.target, false).unwrap();
        assert_eq!(session.mode().standard_conforming_strings, scs == "on");
        let mut oracle = db.client();
        let start = Instant::now();
        let mut i = 0usize;
        while start.elapsed() < deadline / 2 || i < SEEDS.len() {
            let sql = if i < SEEDS.len() {
                SEEDS[i].to_owned()
            } else {
                let seed = SEEDS[rng.below(SEEDS.len())];
                mutate(&mut rng, seed)
            };
            i += 1;
            runs += 1;
            let verdict = match session.check_text(&sql, &opts) {
                Ok(v) => v,
                Err(Denied::Refused(_)) => continue,
                Err(Denied::Failed(e)) => panic!("the check failed on the server: {e}\ninput: {sql:?}"),
            };
            allowed += 1;
            let Some(plan) = server_plan(&mut oracle, &sql) else { continue };
            planned += 1;
            let refs = safety::plan_refs(&plan, session.mode());
            if let Err(d) = session.check_calls(&refs.calls, &opts) {
                panic!(
                    "standard_conforming_strings={scs}: the check allowed a text whose server reading it refuses\n\
                     input: {sql:?}\nstatic reading: {:?}\nserver reading: {d:?}",
                    verdict.functions
                );
            }
        }
    }
    db.client().batch_execute(&format!("ALTER DATABASE \"{}\" RESET standard_conforming_strings", db.name)).unwrap();
    eprintln!(
        "classifier fuzz: {runs} inputs, {allowed} allowed by the check, {planned} planned by the server, no disagreement"
    );
}

#[test]
fn scanners_never_panic() {
    let deadline = budget();
    let start = Instant::now();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut runs = 0u64;
    let mut slowest = Duration::ZERO;
    while start.elapsed() < deadline {
        let sql = if rng.below(3) == 0 {
            // Arbitrary bytes made valid UTF-8.
            let bytes: Vec<u8> = (0..rng.below(300)).map(|_| (rng.next() & 0xff) as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())];
            mutate(&mut rng, seed)
        };
        let t = Instant::now();
        for mode in [Mode::default(), Mode { standard_conforming_strings: false }] {
            let toks = lex::tokens(&sql, mode);
            for tok in &toks {
                assert!(tok.range.start < tok.range.end && tok.range.end <= sql.len(), "{tok:?} in {sql:?}");
                let _ = lex::ident(&sql, tok);
            }
            let _ = safety::expression_refs(&sql, mode, true);
            let _ = safety::reads_alike(&sql, mode);
        }
        let _ = safety::classify(&sql, 50.0);
        let _ = safety::plan_refs(&Value::String(sql.clone()), Mode::default());
        let _ = safety::params(&sql);
        let _ = safety::compared_columns(&sql);
        let _ = dbwarden::parse::split::split(&sql);
        slowest = slowest.max(t.elapsed());
        runs += 1;
    }
    // Inputs are under 1 KB: anything near a second is a hang or a quadratic path.
    assert!(slowest < Duration::from_secs(2), "an input took {slowest:?}");
    eprintln!("scanner fuzz: {runs} inputs, slowest {slowest:?}");
}
#[test]
fn lint_never_panics() {
    // Seeds: every rule fixture.
    let mut seeds = Vec::new();
    for dir in std::fs::read_dir(common::root().join("fixtures/rules")).unwrap().flatten() {
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "sql") {
                seeds.push(std::fs::read_to_string(f.path()).unwrap());
            }
        }
    }
    assert!(seeds.len() > 100);
    let deadline = budget();
    let start = Instant::now();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut runs, mut bytes) = (0u64, 0usize);
    let mut slowest = Duration::ZERO;
    while start.elapsed() < deadline {
        let seed = &seeds[rng.below(seeds.len())];
        let mut sql = seed.clone();
        for _ in 0..=rng.below(3) {
            sql = mutate(&mut rng, &sql);
        }
        let t = Instant::now();
        let out = common::lint_sql(&sql, None);
        slowest = slowest.max(t.elapsed());
        assert!(!out.diagnostics.iter().any(|d| d.rule == "internal-error"), "internal error on {sql:?}");
        for d in &out.diagnostics {
            assert!(d.span.start <= d.span.end && d.span.end <= sql.len(), "bad span {:?} on {sql:?}", d.span);
        }
        runs += 1;
        bytes += sql.len();
    }
    assert!(slowest < Duration::from_secs(2), "an input took {slowest:?}");
    eprintln!("lint fuzz: {runs} inputs ({bytes} bytes), slowest {slowest:?}");
}
