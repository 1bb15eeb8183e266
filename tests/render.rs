//! Snapshot tests of the rendered output over one shared set of findings.

mod common;

use dbwarden::render;

const SQL: &str = "-- dbwarden: phi\nCREATE TABLE patient_notes (\n\tid bigint PRIMARY KEY,\n  patient_id bigint REFERENCES patients (id) ON DELETE CASCADE,\n  body text\n);\nALTER TABLE visits RENAME COLUMN \"ümlaut\" TO umlaut;\nALTER TABLE visits\n  ADD CONSTRAINT visits_amount_check\n    CHECK (amount > 0);\nSELEC 1;\n";

fn render(format: &str) -> String {
    colored::control::set_override(false);
    let out = common::lint_sql(SQL, Some("[soft_delete]\nrequire = \"all\"\n"));
    let report = render::Report {
        files: out.files.iter().map(|f| &f.source).collect(),
        diagnostics: &out.diagnostics,
        stats: &out.stats,
        baseline_fixed: 0,
    };
    let mut buf = Vec::new();
    match format {
        "human" => render::human(&mut buf, &report).unwrap(),
        _ => render::json(&mut buf, &report).unwrap(),
    }
    String::from_utf8(buf).unwrap()
}

#[test]
fn human_output() {
    insta::assert_snapshot!(render("human"));
}

#[test]
fn json_output() {
    let text = render("json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    insta::assert_json_snapshot!(v);
}
