//! The rule harness: every rule has a catalogue entry, fixtures that fail without it, docs;
//! catalogue examples behave as they say; docs are fresh.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use dbwarden::rules::catalogue::ExampleKind;
use dbwarden::rules::{self, Kind, RULES};

#[test]
fn catalogue_entries_are_complete() {
    let dir = common::root().join("rules");
    let files: BTreeSet<String> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().trim_end_matches(".toml").to_owned())
        .collect();
    let registered: BTreeSet<String> = RULES.iter().map(|r| r.name.to_owned()).collect();
    assert_eq!(files, registered, "rules/*.toml and the registration list differ");
    for (i, r) in RULES.iter().enumerate() {
        let text = fs::read_to_string(dir.join(format!("{}.toml", r.name))).unwrap();
        let e =
            dbwarden::rules::catalogue::Entry::parse(&text).unwrap_or_else(|e| panic!("rules/{}.toml: {e}", r.name));
        assert_eq!(e.name, r.name);
        let e = rules::entry(i);
        assert!(!e.summary.ends_with('.'), "{}: summary ends with a period", r.name);
        assert!(
            !e.summary.is_empty() && !e.why.is_empty() && !e.instead.is_empty() && !e.help.is_empty(),
            "{}: empty prose",
            r.name
        );
        assert!(
            dbwarden::rules::catalogue::CATEGORIES.iter().any(|(c, _)| *c == e.category),
            "{}: unknown category",
            r.name
        );
        assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}: not kebab-case", r.name);
        if !matches!(r.kind, Kind::Builtin) {
            assert!(!e.references.is_empty(), "{}: no references", r.name);
            assert!(e.examples.iter().any(|x| x.kind == ExampleKind::Diagnostic), "{}: no diagnostic example", r.name);
            assert!(e.examples.iter().any(|x| x.kind == ExampleKind::Clean), "{}: no clean example", r.name);
        }
    }
}

/// Every rule the code can report (the registry is the one list `RuleId` is made from, so a rule
/// cannot be reported without being registered) has a catalogue entry whose references cite the
/// PostgreSQL documentation, its generated page, and cases that exercise it: `fail_` and `pass_`
/// fixtures in `fixtures/rules/NAME/` (plans for plan rules, SQL run on a database for live
/// rules), or, for what the pipeline itself reports, a test of the binary that names it.
#[test]
fn every_rule_has_an_entry_docs_and_cases() {
    let root = common::root();
    let mut tests = String::new();
    for f in fs::read_dir(root.join("tests")).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rs") && name != "fixtures.rs" && name != "rules.rs" {
            tests.push_str(&fs::read_to_string(f.path()).unwrap());
        }
    }
    let mut missing = Vec::new();
    for (i, r) in RULES.iter().enumerate() {
        let e = rules::entry(i);
        if !root.join(format!("rules/{}.toml", r.name)).is_file() {
            missing.push(format!("{}: no rules/{}.toml", r.name, r.name));
        }
        if !root.join(format!("docs/rules/{}.md", r.name)).is_file() {
            missing.push(format!("{}: no docs/rules/{}.md", r.name, r.name));
        }
        // internal-error is about dbwarden itself: PostgreSQL has nothing to say about it.
        if r.id != rules::RuleId::InternalError && !e.references.iter().any(|u| u.contains("www.postgresql.org/docs/"))
        {
            missing.push(format!("{}: no reference to the PostgreSQL documentation", r.name));
        }
        let dir = root.join("fixtures/rules").join(r.name);
        let cases: Vec<String> = fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let fixtures = cases.iter().any(|c| c.starts_with("fail_")) && cases.iter().any(|c| c.starts_with("pass_"));
        let tested = matches!(r.kind, Kind::Builtin) && tests.contains(&format!("\"{}\"", r.name));
        if !fixtures && !tested {
            missing.push(format!(
                "{}: no fail_ and pass_ cases in fixtures/rules/{} (nor, for a rule the pipeline reports, a test in tests/ naming it)",
                r.name, r.name
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn catalogue_examples_behave_as_documented() {
    let mut failures = Vec::new();
    for (i, r) in RULES.iter().enumerate() {
        // Live-only rules' examples are SQL run on a database: tests/audit.rs executes them.
        // Plan rules' examples name captured plans: tests/plans.rs checks them.
        // Query rules' examples are queries against an example schema: tests/queries.rs runs them.
        if matches!(r.kind, Kind::Live(_) | Kind::Plan(_) | Kind::Query(_)) {
            continue;
        }
        for (k, ex) in rules::entry(i).examples.iter().enumerate() {
            let out = common::lint_sql(&ex.sql, ex.config.as_deref());
            let hit = out.diagnostics.iter().any(|d| d.rule == r.name);
            let want = ex.kind == ExampleKind::Diagnostic;
            if hit != want {
                failures.push(format!(
                    "{} example {k} ({:?}): got\n{}",
                    r.name,
                    ex.kind,
                    common::listing(&out, Path::new(""))
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn docs_are_generated_and_fresh() {
    let dir = common::root().join("docs/rules");
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut index = String::from(
        "<!-- generated from rules/*.toml by `UPDATE_DOCS=1 cargo test`; do not edit -->\n# Rules\n\n| rule | category | default severity | summary |\n|---|---|---|---|\n",
    );
    let mut stale = Vec::new();
    for (i, r) in RULES.iter().enumerate() {
        let e = rules::entry(i);
        index.push_str(&format!("| [{}]({}.md) | {} | {} | {} |\n", r.name, r.name, e.category, e.severity, e.summary));
        let path = dir.join(format!("{}.md", r.name));
        let want = e.to_markdown();
        if update {
            fs::create_dir_all(&dir).unwrap();
            fs::write(&path, &want).unwrap();
        } else if fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let path = dir.join("README.md");
    if update {
        fs::write(&path, &index).unwrap();
    } else if fs::read_to_string(&path).ok().as_deref() != Some(index.as_str()) {
        stale.push(path.display().to_string());
    }
    for f in fs::read_dir(&dir).unwrap().flatten() {
        let n = f.file_name().to_string_lossy().trim_end_matches(".md").to_owned();
        assert!(n == "README" || rules::lookup(&n).is_some(), "docs/rules/{n}.md has no rule");
    }
    assert!(stale.is_empty(), "stale docs (run `UPDATE_DOCS=1 cargo test`): {stale:?}");
}

/// Help and severity are data: a rule's file neither repeats its catalogue help (the pipeline
/// adds it) nor names a severity (it reports impact; the pipeline derives the severity).
#[test]
fn rule_bodies_leave_help_and_severity_to_the_catalogue() {
    let mut failures = Vec::new();
    for r in RULES.iter().filter(|r| !matches!(r.kind, Kind::Builtin)) {
        let kind = match r.kind {
            Kind::Statement(_) => "statement",
            Kind::Schema(_) => "schema",
            Kind::Live(_) => "live",
            Kind::Query(_) => "query",
            Kind::Plan(_) => "plan",
            Kind::Builtin => unreachable!(),
        };
        let path = common::root().join(format!("src/rules/{kind}/{}.rs", r.name.replace('-', "_")));
        let body = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Rust source may wrap a long string with `\` line continuations.
        let flat = body.replace("\\\n", "").split_whitespace().collect::<Vec<_>>().join(" ");
        let help = r.id.entry().help.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.contains(&format!("\"{help}\"")) {
            failures.push(format!("{}: repeats its catalogue help", path.display()));
        }
        if body.contains("Severity::") {
            failures.push(format!("{}: sets a severity (report an Impact instead)", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
