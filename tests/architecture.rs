//! The import layering of docs/architecture.md: each module of `src/` imports only the modules
//! the table there allows (data flows one way: no circles, no arrow back up the pipeline).

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Module -> the `crate::` paths it may use (a path is allowed when it starts with one of them).
const ALLOWED: &[(&str, &[&str])] = &[
    ("source", &[]),
    ("db", &[]),
    ("diagnostic", &["rules::list"]),
    ("config", &["diagnostic"]),
    ("parse", &["source"]),
    ("schema", &["parse", "source", "db"]),
    ("queries", &["parse", "source", "db", "config"]),
    ("explain", &["parse", "queries", "source", "db", "config"]),
    ("rules", &["config", "diagnostic", "explain", "parse", "queries", "schema", "source"]),
    ("pipeline", &["config", "diagnostic", "explain", "parse", "queries", "rules", "schema", "source", "db"]),
    ("audit", &["config", "diagnostic", "explain", "parse", "queries", "rules", "schema", "source", "db", "pipeline"]),
    ("render", &["diagnostic", "rules", "parse", "queries", "schema", "source"]),
    ("cli", &["*"]),
];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for e in fs::read_dir(path).unwrap().flatten() {
            rust_files(&e.path(), out);
        }
    } else if path.extension().is_some_and(|x| x == "rs") {
        out.push(path.to_owned());
    }
}

/// Every `crate::a::b` path the code names (comments left out), groups expanded one level:
/// `crate::{a, b::c}` gives `a` and `b::c`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(p) = rest.find("crate::") {
        let after = &rest[p + 7..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    out.insert(item.split_whitespace().next().unwrap_or(item).to_owned());
                }
            }
        } else {
            let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(after.len());
            out.insert(after[..end].trim_end_matches(':').to_owned());
        }
        rest = after;
    }
    out
}

#[test]
fn modules_import_only_what_the_architecture_allows() {
    let src = common::root().join("src");
    let mut modules: Vec<String> = fs::read_dir(&src)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().trim_end_matches(".rs").to_owned())
        // Binaries (main.rs, bin/) use the library through its public paths, not crate::.
        .filter(|m| m != "lib" && m != "main" && m != "bin")
        .collect();
    modules.sort();
    let mut violations = Vec::new();
    for m in &modules {
        let allowed = ALLOWED
            .iter()
            .find(|(name, _)| name == m)
            .unwrap_or_else(|| panic!("src/{m} is not in docs/architecture.md's table (and ALLOWED here)"))
            .1;
        let mut files = Vec::new();
        let dir = src.join(m);
        rust_files(if dir.is_dir() { &dir } else { &src }, &mut files);
        if !dir.is_dir() {
            files.retain(|f| f.file_stem().is_some_and(|s| s == m.as_str()));
        }
        for f in files {
            for path in crate_paths(&fs::read_to_string(&f).unwrap()) {
                let target = path.split("::").next().unwrap_or("");
                let ok = target == m
                    || !modules.contains(&target.to_owned())
                    || allowed
                        .iter()
                        .any(|a| *a == "*" || path == *a || path.starts_with(&format!("{a}::")) || *a == target);
                if !ok {
                    violations.push(format!("{}: crate::{path}", f.strip_prefix(&src).unwrap().display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "imports that break docs/architecture.md:\n{}", violations.join("\n"));
}

#[test]
fn nothing_imports_cli() {
    let src = common::root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for f in files.iter().filter(|f| !f.starts_with(src.join("cli")) && !f.ends_with("main.rs")) {
        let paths = crate_paths(&fs::read_to_string(f).unwrap());
        assert!(!paths.iter().any(|p| p == "cli" || p.starts_with("cli::")), "{} imports cli", f.display());
    }
}

#[test]
fn the_path_reader_sees_groups_and_skips_comments() {
    let paths =
        crate_paths("use crate::{rules::list::RuleId, parse};\n// crate::cli\nlet x = crate::schema::free_name(a);");
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), ["parse", "rules::list::RuleId", "schema::free_name"]);
}
