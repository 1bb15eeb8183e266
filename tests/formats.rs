//! Every output format over one shared set of findings (snapshots), GitHub's workflow-command
//! escaping, and SARIF checked by the official validator (`@microsoft/sarif-multitool`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use dbwarden::config::Config;
use dbwarden::diagnostic::{Diagnostic, Severity};
use dbwarden::pipeline::{LintOutput, lint};
use dbwarden::render;
use dbwarden::rules::{RULES, Settings};
use dbwarden::source::SourceFile;

/// A path with spaces and non-ASCII characters.
const PATIENTS_PATH: &str = "migrations/ünïcode dir/0001 add patients.sql";
const PATIENTS_SQL: &str = "\
CREATE TABLE patients (
  id bigint PRIMARY KEY,
  name text
);
CREATE TABLE visits (
  id bigint PRIMARY KEY,
  patient_id bigint REFERENCES patients (id) ON DELETE CASCADE,
  amount numeric
);
";
/// A path with a comma, which GitHub workflow-command properties must escape.
const VISITS_PATH: &str = "migrations/0002 visits, amounts.sql";
const VISITS_SQL: &str = "\
CREATE INDEX visits_amount_idx
  ON visits (amount);
ALTER TABLE visits ADD CONSTRAINT visits_amount_check
  CHECK (amount > 0);
ALTER TABLE visits ALTER COLUMN amount SET NOT NULL;
SELEC 1;
";
/// The rules whose findings make up the shared set (so rules added later do not change it), with
/// `missing-soft-delete` lowered to info, so every severity occurs.
const CONFIG: &str = r#"
[lint]
select = ["missing-soft-delete", "unindexed-foreign-key", "index-not-concurrent", "missing-lock-timeout",
          "check-without-not-valid", "set-not-null", "syntax-error", "unused-suppression"]
[lint.severity]
missing-soft-delete = "info"
"#;

struct Shared {
    out: LintOutput,
    diagnostics: Vec<Diagnostic>,
    settings: Settings,
}

impl Shared {
    fn report(&self) -> render::Report<'_> {
        render::Report {
            files: self.out.files.iter().map(|f| &f.source).collect(),
            diagnostics: &self.diagnostics,
            stats: &self.out.stats,
            baseline_fixed: 0,
        }
    }
}

fn span_of(text: &str, from: &str, to: &str) -> std::ops::Range<usize> {
    let start = text.find(from).expect("start of span");
    let end = start + text[start..].find(to).expect("end of span") + to.len();
    start..end
}

/// Real findings of two files, plus two constructed ones whose messages carry the characters
/// each format has to escape (`%`, `,`, `:`, `::`, newlines, a literal `%0A`).
fn shared() -> Shared {
    let config = Config::parse(CONFIG, "test").expect("config");
    let settings = Settings::new(&config);
    let out =
        lint(vec![SourceFile::new(PATIENTS_PATH, PATIENTS_SQL), SourceFile::new(VISITS_PATH, VISITS_SQL)], &settings);
    let mut diagnostics = out.diagnostics.clone();
    // Built from a real finding, so fields added to `Diagnostic` later keep their defaults.
    let constructed = |rule, severity, file, span, message: &str, help: Option<&str>| {
        let mut d = out.diagnostics[0].clone();
        (d.rule, d.severity, d.file, d.span) = (rule, severity, file, span);
        d.message = message.to_owned();
        d.help = help.map(str::to_owned);
        (d.fix, d.object) = (None, None);
        d
    };
    diagnostics.push(constructed(
        dbwarden::rules::RuleId::SyntaxError,
        Severity::Warning,
        0,
        span_of(PATIENTS_SQL, "CREATE TABLE visits", ");"),
        "constructed: 100% of `visits`, every row: rewritten\nsecond line, with a literal %0A and ::",
        Some("split it: one change per statement, 50% less locking"),
    ));
    diagnostics.push(constructed(
        dbwarden::rules::RuleId::UnusedSuppression,
        Severity::Info,
        1,
        span_of(VISITS_SQL, "SELEC", "1"),
        "constructed: a::b, c:d\n\nafter an empty line",
        None,
    ));
    Shared { out, diagnostics, settings }
}

fn render(format: &str) -> String {
    colored::control::set_override(false);
    let shared = shared();
    let report = shared.report();
    let mut buf = Vec::new();
    match format {
        "human" => render::human(&mut buf, &report),
        "json" => render::json(&mut buf, &report),
        "github" => render::github(&mut buf, &report),
        "sarif" => render::sarif(&mut buf, &report, &shared.settings.enabled),
        "gitlab" => render::gitlab(&mut buf, &report),
        other => panic!("unknown format {other}"),
    }
    .expect("render");
    String::from_utf8(buf).expect("UTF-8")
}

#[test]
fn shared_findings_cover_every_case() {
    let shared = shared();
    let d = &shared.diagnostics;
    for s in [Severity::Error, Severity::Warning, Severity::Info] {
        assert!(d.iter().any(|d| d.severity == s), "no {s} finding");
    }
    let files: Vec<&SourceFile> = shared.out.files.iter().map(|f| &f.source).collect();
    let multi_line = |d: &Diagnostic| {
        let (l, _, el, _) = render::positions(files[d.file], d);
        el > l
    };
    assert!(d.iter().any(multi_line), "no multi-line span");
    assert!(d.iter().any(|d| !multi_line(d)), "no single-line span");
    assert!(d.iter().any(|d| d.fix.as_ref().is_some_and(dbwarden::diagnostic::Fix::edits_source)), "no replacing fix");
    assert!(d.iter().any(|d| d.fix.as_ref().is_some_and(|f| !f.edits_source())), "no additive fix");
    assert!(d.iter().any(|d| d.file == 0) && d.iter().any(|d| d.file == 1), "findings in both files");
    for c in ['%', ',', ':', '\n'] {
        assert!(d.iter().any(|d| d.message.contains(c)), "no message with {c:?}");
    }
    assert!(d.iter().all(|d| d.span.start < d.span.end), "empty span");
}

#[test]
fn human_output() {
    insta::assert_snapshot!(render("human"));
}

#[test]
fn json_output() {
    let text = render("json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v["version"], 1);
    let keys =
        ["rule", "severity", "file", "line", "column", "end_line", "end_column", "message", "help", "fix", "fix_edits"];
    for f in v["findings"].as_array().expect("findings") {
        for k in f.as_object().expect("object").keys() {
            assert!(keys.contains(&k.as_str()), "unexpected key {k}");
        }
    }
    insta::assert_snapshot!(text);
}

#[test]
fn github_output() {
    let text = render("github");
    // One workflow command per finding, each on one line.
    assert_eq!(text.lines().count(), shared().diagnostics.len());
    for line in text.lines() {
        let (props, data) =
            line.split_once("::").and_then(|(_, rest)| rest.split_once("::")).expect("::cmd props::data");
        assert!(!props.contains('\r') && !data.contains('\r'));
        // Properties: the runner splits on `,` and ends them at the first `::`.
        for p in props.split_once(' ').expect("properties").1.split(',') {
            let (_, value) = p.split_once('=').expect("key=value");
            assert!(!value.contains(':'), "unescaped `:` in property {p}");
        }
    }
    insta::assert_snapshot!(text);
}

#[test]
fn github_annotations_omit_columns_of_multi_line_spans() {
    let text = render("github");
    let shared = shared();
    let files: Vec<&SourceFile> = shared.out.files.iter().map(|f| &f.source).collect();
    for (d, line) in shared.diagnostics.iter().zip(text.lines()) {
        let (l, c, el, ec) = render::positions(files[d.file], d);
        if el > l {
            assert!(line.contains(&format!("line={l},endLine={el},title=")), "{line}");
            assert!(!line.contains("col="), "{line}");
        } else {
            assert!(line.contains(&format!("line={l},endLine={l},col={c},endColumn={ec},")), "{line}");
        }
    }
}

#[test]
fn github_escaping_follows_the_runner() {
    // The runner unescapes data %0D, %0A then %25; properties also %3A and %2C.
    assert_eq!(render::escape_data("50% done\r\nnext: a, b %0A"), "50%25 done%0D%0Anext: a, b %250A");
    assert_eq!(render::escape_property("dir: a, b\n50%"), "dir%3A a%2C b%0A50%25");
    let text = render("github");
    assert!(text.contains("file=migrations/0002 visits%2C amounts.sql,"), "{text}");
    assert!(text.contains("file=migrations/ünïcode dir/0001 add patients.sql,"), "{text}");
    assert!(
        text.contains(
            "constructed: 100%25 of `visits`, every row: rewritten%0Asecond line, with a literal %250A and ::"
        )
    );
}

#[test]
fn github_step_summary() {
    let shared = shared();
    insta::assert_snapshot!(render::step_summary(&shared.report()));
}

#[test]
fn github_step_summary_is_appended_to_the_file_in_github_step_summary() {
    let dir = temp_dir("summary");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .args(["lint", "--config", "fixtures/example/dbwarden.toml", "--format", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .current_dir(common::root())
        .output()
        .expect("run dbwarden");
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.starts_with("earlier step\n## dbwarden\n"), "{text}");
    assert!(text.contains("| rule | findings |"), "{text}");
}

/// SARIF with the parts that depend on the machine or on the catalogue's prose replaced, and the
/// rule list reduced to ids (checked here instead: every result's `ruleIndex` names its rule).
fn sarif_for_snapshot(text: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    let run = &mut v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules").clone();
    for r in &rules {
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(!r[field]["text"].as_str().unwrap_or("").is_empty(), "{} has no {field}", r["id"]);
        }
        assert!(!r["help"]["markdown"].as_str().unwrap_or("").is_empty());
        assert!(
            r["helpUri"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/docs/rules/{}.md", r["id"].as_str().unwrap())))
        );
        assert_ne!(r["id"], r["name"]);
    }
    for res in run["results"].as_array().expect("results") {
        let i = usize::try_from(res["ruleIndex"].as_u64().expect("ruleIndex")).unwrap();
        assert_eq!(rules[i]["id"], res["ruleId"]);
    }
    run["tool"]["driver"]["rules"] = rules.iter().map(|r| r["id"].clone()).collect();
    run["tool"]["driver"]["version"] = "[version]".into();
    run["tool"]["driver"]["semanticVersion"] = "[version]".into();
    if run.get("originalUriBaseIds").is_some() {
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file:///[repository root]/".into();
    }
    v
}

#[test]
fn sarif_output() {
    let text = render("sarif");
    assert_eq!(text.lines().count(), shared().diagnostics.len() + 2, "one line per result");
    insta::assert_json_snapshot!(sarif_for_snapshot(&text));
}

#[test]
fn gitlab_output() {
    let text = render("gitlab");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let issues = v.as_array().expect("array");
    assert_eq!(issues.len(), shared().diagnostics.len());
    let mut fps: Vec<&str> = issues.iter().map(|i| i["fingerprint"].as_str().expect("fingerprint")).collect();
    fps.sort_unstable();
    fps.dedup();
    assert_eq!(fps.len(), issues.len(), "fingerprints are unique");
    insta::assert_snapshot!(text);
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dbwarden-formats-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The validator, installed by `.ci/run` with `npm install --prefix target/tools @microsoft/sarif-multitool`.
fn sarif_validator() -> Option<PathBuf> {
    let tool = common::root().join("target/tools/node_modules/.bin/sarif-multitool");
    if tool.exists() {
        return Some(tool);
    }
    let hint = "install it with `npm install --prefix target/tools @microsoft/sarif-multitool`";
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "the SARIF validator is missing at {} (CI=true): {hint}",
        tool.display()
    );
    eprintln!("note: SARIF validator not found at {}; skipping validation ({hint})", tool.display());
    None
}

/// Runs the official validator (SARIF and GitHub code-scanning rules) on each file and asserts
/// it finds nothing. Its exit status is 0 whatever it finds, so its output is read. Each file is
/// validated twice: as written, and as a canary copy without `$schema`, which must draw the
/// missing-`$schema` findings and no other. The canary proves the validator analysed the file:
/// on some invalid input (an unknown `level`, for one) it reports nothing at all.
fn validate(tool: &Path, dir: &Path, files: &[(&str, &str)]) {
    // The npm wrapper runs the tool through a shell, so the `;` list is quoted for it.
    let mut args: Vec<String> = vec!["validate".into(), "--rule-kind".into(), "\"Sarif;Gh\"".into()];
    for (name, text) in files {
        std::fs::write(dir.join(format!("{name}.sarif")), text).expect("write SARIF");
        let mut canary: serde_json::Value = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        if let Some(o) = canary.as_object_mut() {
            o.remove("$schema");
        }
        std::fs::write(dir.join(format!("{name}.canary.sarif")), canary.to_string()).expect("write canary");
        // Plain names, relative to `dir`: the npm wrapper passes arguments through a shell.
        args.push(format!("{name}.sarif"));
        args.push(format!("{name}.canary.sarif"));
    }
    let out = Command::new(tool).args(&args).current_dir(dir).output().expect("run the SARIF validator");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "validator failed ({}):\n{stdout}\n{stderr}", out.status);
    // Its exit status is 0 even when it reports errors: read its findings.
    let findings: Vec<&str> =
        stdout.lines().chain(stderr.lines()).filter(|l| l.contains(": error ") || l.contains(": warning ")).collect();
    let of = |file: &str| -> Vec<String> {
        let at = format!("{file}(");
        findings.iter().filter(|l| l.contains(&at)).map(|l| (*l).to_owned()).collect()
    };
    let mut problems = Vec::new();
    for (name, _) in files {
        problems.extend(of(&format!("{name}.sarif")));
        let canary = of(&format!("{name}.canary.sarif"));
        // SARIF2008 and, with the GitHub rules, GH1013: both say `$schema` is missing.
        let expected = |l: &String| l.contains(" SARIF2008: ") || l.contains(" GH1013: ");
        if !canary.iter().any(|l| l.contains(" SARIF2008: ")) || !canary.iter().all(expected) {
            problems.push(format!(
                "{name}: the copy without `$schema` did not draw just the missing-`$schema` findings, so the \
                 validator did not analyse the file (it reports nothing on some invalid input){}",
                canary.iter().map(|l| format!("\n  {l}")).collect::<String>()
            ));
        }
    }
    // Findings of the validator itself (e.g. ERR997, no valid analysis targets).
    problems.extend(
        findings
            .iter()
            .filter(|l| {
                !files
                    .iter()
                    .any(|(n, _)| l.contains(&format!("{n}.sarif(")) || l.contains(&format!("{n}.canary.sarif(")))
            })
            .map(|l| (*l).to_owned()),
    );
    assert!(
        problems.is_empty(),
        "SARIF validation failed:\n{}\n\nfull output:\n{stdout}\n{stderr}",
        problems.join("\n")
    );
}

#[test]
fn sarif_passes_the_official_validator() {
    let Some(tool) = sarif_validator() else { return };
    let root = common::root();
    let example = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .args(["lint", "--config", "fixtures/example/dbwarden.toml", "--format", "sarif"])
        .current_dir(&root)
        .output()
        .expect("run dbwarden");
    assert_eq!(example.status.code(), Some(1), "{}", String::from_utf8_lossy(&example.stderr));
    let example = String::from_utf8(example.stdout).expect("UTF-8");
    assert!(example.contains("\"ruleId\""), "the example has findings");
    let dir = temp_dir("sarif");
    validate(&tool, &dir, &[("shared", &render("sarif")), ("example", &example)]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_rule_has_a_sarif_descriptor_when_enabled() {
    let shared = shared();
    let text = render("sarif");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let enabled = shared.settings.enabled.iter().filter(|e| **e).count();
    assert_eq!(v["runs"][0]["tool"]["driver"]["rules"].as_array().map(Vec::len), Some(enabled));
    assert!(enabled <= RULES.len());
}

/// Copies `from` (a folder of files and folders) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The examples of docs/output-formats.md are real output, not written by hand: the project of
/// `fixtures/output-formats` (two migrations and a `dbwarden.toml`), linted from its root in a
/// copy that is a repository of its own, in every format, exits 1 and prints what the page shows
/// (SARIF trimmed there to one rule and one result: those are compared field by field).
#[test]
fn output_formats_page_shows_real_output() {
    let page = std::fs::read_to_string(common::root().join("docs/output-formats.md")).unwrap();
    let dir = temp_dir("page");
    copy_tree(&common::root().join("fixtures/output-formats"), &dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let summary = dir.join("summary.md");
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_dbwarden"))
            .current_dir(&dir)
            .args(["lint", "--format", format])
            .env("NO_COLOR", "1")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let mut stale = Vec::new();
    for format in ["human", "json", "github", "gitlab"] {
        let out = run(format);
        if !page.contains(out.trim_end()) {
            stale.push(format!("--format {format}:\n{out}"));
        }
    }
    let md = std::fs::read_to_string(&summary).unwrap();
    if !page.contains(md.trim_end()) {
        stale.push(format!("job summary:\n{md}"));
    }
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let start = page.find("```json\n{\n  \"$schema\"").expect("the SARIF example") + "```json\n".len();
    let shown: serde_json::Value = serde_json::from_str(&page[start..start + page[start..].find("```").unwrap()])
        .expect("the SARIF example parses");
    let result = &shown["runs"][0]["results"][0];
    let real = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == result["ruleId"]);
    if real != Some(result) {
        stale.push(format!("SARIF result:\n{}", serde_json::to_string_pretty(&real).unwrap()));
    }
    let rule = &shown["runs"][0]["tool"]["driver"]["rules"][0];
    let real = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().iter().find(|r| r["id"] == rule["id"]);
    for field in ["id", "name", "defaultConfiguration", "helpUri", "properties", "shortDescription"] {
        if real.map(|r| &r[field]) != Some(&rule[field]) {
            stale.push(format!("SARIF rule {field}: {}", real.map_or(serde_json::Value::Null, |r| r[field].clone())));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(stale.is_empty(), "docs/output-formats.md does not show the real output:\n{}", stale.join("\n\n"));
}
