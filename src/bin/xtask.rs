//! Development tasks: `cargo xtask new-rule NAME --kind KIND` (the alias is in .cargo/config.toml;
//! built only with the `xtask` feature, so it is never installed with dbwarden).
//!
//! `new-rule` writes everything a rule needs and nothing else: its catalogue entry
//! `rules/NAME.toml`, its file `src/rules/KIND/NAME.rs`, its line in `src/rules/list.rs`, and a
//! `fail_` and a `pass_` fixture in `fixtures/rules/NAME/`. The tests then say what is left.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const KINDS: &[&str] = &["statement", "schema", "live", "query", "plan"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: cargo xtask new-rule NAME --kind statement|schema|live|query|plan";
    let (name, kind) = match args.as_slice() {
        [cmd, name, flag, kind] if cmd == "new-rule" && flag == "--kind" => (name, kind),
        [cmd, flag, kind, name] if cmd == "new-rule" && flag == "--kind" => (name, kind),
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    match new_rule(&root, name, kind) {
        Ok(written) => {
            for f in written {
                println!("wrote {}", f.strip_prefix(&root).unwrap_or(&f).display());
            }
            println!("now: write the rule's logic and fixtures, fill in its catalogue entry, then `cargo test`");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

/// `rule-name` -> (`rule_name`, `RuleName`).
fn idents(name: &str) -> (String, String) {
    let module = name.replace('-', "_");
    let camel = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    (module, camel)
}

/// Writes the rule's files and its list line under `root`; returns the files written.
fn new_rule(root: &Path, name: &str, kind: &str) -> Result<Vec<PathBuf>, String> {
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        return Err(format!("`{name}` is not a kebab-case rule name (e.g. `index-not-concurrent`)"));
    }
    if ["ban-", "no-", "prefer-"].iter().any(|p| name.starts_with(p)) {
        return Err(format!("`{name}`: name the pattern being flagged, without ban-/no-/prefer- (see GUIDE.md)"));
    }
    if !KINDS.contains(&kind) {
        return Err(format!("unknown kind `{kind}`: one of {}", KINDS.join(", ")));
    }
    let (module, camel) = idents(name);
    let toml = root.join("rules").join(format!("{name}.toml"));
    let code = root.join("src/rules").join(kind).join(format!("{module}.rs"));
    let list = root.join("src/rules/list.rs");
    for p in [&toml, &code] {
        if p.exists() {
            return Err(format!("{} exists already", p.display()));
        }
    }
    let list_text = fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    if list_text.contains(&format!("\"{name}\"")) {
        return Err(format!("`{name}` is in src/rules/list.rs already"));
    }
    let list_text = add_to_list(&list_text, kind, &format!("{camel} {module} \"{name}\","))?;

    let mut written = Vec::new();
    let mut write = |path: PathBuf, text: String| -> Result<(), String> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
        Ok(())
    };
    write(toml, catalogue_entry(name, kind))?;
    write(code, rule_file(kind, &camel))?;
    write(list.clone(), list_text)?;
    if let Some((ext, fail, pass)) = fixtures(kind) {
        let dir = root.join("fixtures/rules").join(name);
        write(dir.join(format!("fail_example.{ext}")), fail.to_owned())?;
        write(dir.join(format!("pass_example.{ext}")), pass.to_owned())?;
    }
    Ok(written)
}

/// The list with `line` added at the end of `kind`'s group.
fn add_to_list(list: &str, kind: &str, line: &str) -> Result<String, String> {
    let open = format!("{kind} {{");
    let start = list
        .lines()
        .position(|l| l.trim() == open)
        .ok_or_else(|| format!("src/rules/list.rs has no `{open}` group"))?;
    let lines: Vec<&str> = list.lines().collect();
    let close = lines[start..]
        .iter()
        .position(|l| l.trim() == "}")
        .map(|p| start + p)
        .ok_or_else(|| format!("src/rules/list.rs: the `{kind}` group is not closed"))?;
    let indent: String = lines[start].chars().take_while(|c| c.is_whitespace()).collect();
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i == close {
            let _ = writeln!(out, "{indent}    {line}");
        }
        let _ = writeln!(out, "{l}");
    }
    Ok(out)
}

fn category(kind: &str) -> &'static str {
    match kind {
        "statement" => "locking",
        "schema" => "schema",
        "live" => "live",
        "query" => "query",
        _ => "performance",
    }
}

fn catalogue_entry(name: &str, kind: &str) -> String {
    let example = match kind {
        "plan" => "sql = \"SELECT ...\"\nplan = \"NAME/fail_example.json\"".replace("NAME", name),
        _ => "sql = \"\"\"\n-- what the rule reports\n\"\"\"".to_owned(),
    };
    let clean = match kind {
        "plan" => "sql = \"SELECT ...\"\nplan = \"NAME/pass_example.json\"".replace("NAME", name),
        _ => "sql = \"\"\"\n-- the safe way, which the rule leaves alone\n\"\"\"".to_owned(),
    };
    format!(
        r#"name = "{name}"
category = "{category}"
severity = "warning"
# One line, no trailing period: what the rule flags.
summary = ""
pg_versions = "all"
# The one line printed with each finding: what to do instead.
help = ""
why = """
What goes wrong, for whom, and from which PostgreSQL version; cite the docs below.
"""
instead = """
What to write instead, with SQL.
"""
references = [
    "https://www.postgresql.org/docs/current/",
]

[[examples]]
kind = "diagnostic"
{example}

[[examples]]
kind = "clean"
{clean}
"#,
        category = category(kind),
    )
}

fn rule_file(kind: &str, camel: &str) -> String {
    let (imports, body) = match kind {
        "statement" => (
            "use crate::rules::{Sink, StatementRule, StmtCtx};",
            format!(
                "impl StatementRule for {camel} {{\n    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {{\n        // Match `ctx.stmt.action`; `ctx.schema` is the schema before the statement.\n        let _ = (ctx, sink);\n    }}\n}}\n"
            ),
        ),
        "schema" | "live" => (
            "use crate::rules::{SchemaCtx, SchemaRule, Sink};",
            format!(
                "impl SchemaRule for {camel} {{\n    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {{\n        // Walk `ctx.schema`; report with `sink.report_at(&object.origin, ...)`.\n        let _ = (ctx, sink);\n    }}\n}}\n"
            ),
        ),
        "query" => (
            "use crate::rules::{QueryCtx, QueryRule, Sink};",
            format!(
                "impl QueryRule for {camel} {{\n    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {{\n        // `ctx.stmt` is the parsed query (`None` when sqlparser cannot parse it).\n        let _ = (ctx, sink);\n    }}\n}}\n"
            ),
        ),
        _ => (
            "use crate::rules::{PlanCtx, PlanRule, Sink};",
            format!(
                "impl PlanRule for {camel} {{\n    fn check(&self, ctx: &PlanCtx<'_>, sink: &mut Sink<'_>) {{\n        // Walk `ctx.executed()`; thresholds belong in `[explain]` (config::ExplainConfig).\n        let _ = (ctx, sink);\n    }}\n}}\n"
            ),
        ),
    };
    format!("{imports}\n\npub(crate) struct {camel};\n\n{body}")
}

/// (extension, fail case, pass case) per kind.
fn fixtures(kind: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match kind {
        "statement" | "schema" => {
            Some(("sql", "-- A migration the rule must report.\n", "-- The safe way: the rule must stay silent.\n"))
        }
        "live" => Some((
            "sql",
            "-- SQL run on a new database, whose catalog the rule must report.\n",
            "-- SQL run on a new database, whose catalog the rule must leave alone.\n",
        )),
        "query" => Some((
            "sql",
            "-- A query the rule must report.\nSELECT 1;\n",
            "-- A query it must leave alone.\nSELECT 1;\n",
        )),
        "plan" => {
            Some(("json", "[{\"Plan\": {\"Node Type\": \"Result\"}}]\n", "[{\"Plan\": {\"Node Type\": \"Result\"}}]\n"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch copy of the files new-rule reads and writes.
    fn scratch(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("dbwarden-xtask-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("src/rules")).unwrap();
        let real = Path::new(env!("CARGO_MANIFEST_DIR"));
        fs::copy(real.join("src/rules/list.rs"), root.join("src/rules/list.rs")).unwrap();
        root
    }

    #[test]
    fn new_rule_writes_the_entry_the_file_the_list_line_and_fixtures() {
        for kind in KINDS {
            let root = scratch(kind);
            let name = format!("example-{kind}-rule");
            let written = new_rule(&root, &name, kind).unwrap();
            let (module, camel) = idents(&name);
            let list = fs::read_to_string(root.join("src/rules/list.rs")).unwrap();
            // The line sits in its kind's group, before the group's closing brace.
            let group = list.split(&format!("{kind} {{")).nth(1).unwrap().split('}').next().unwrap();
            assert!(group.contains(&format!("{camel} {module} \"{name}\",")), "{kind}: {group}");
            let entry = dbwarden::rules::catalogue::Entry::parse(
                &fs::read_to_string(root.join(format!("rules/{name}.toml"))).unwrap(),
            )
            .unwrap();
            assert_eq!(entry.name, name);
            let code = fs::read_to_string(root.join(format!("src/rules/{kind}/{module}.rs"))).unwrap();
            assert!(code.contains(&format!("pub(crate) struct {camel};")));
            let fixtures = written.iter().filter(|p| p.starts_with(root.join("fixtures"))).count();
            assert_eq!(fixtures, 2, "{kind}");
            // Nothing else is touched.
            assert_eq!(written.len(), 3 + fixtures);
            assert!(new_rule(&root, &name, kind).is_err(), "a second run must not overwrite");
            let _ = fs::remove_dir_all(&root);
        }
    }

    #[test]
    fn names_and_kinds_are_checked() {
        let root = scratch("names");
        for bad in ["Bad", "no-index", "a--b", "trailing-", "", "1x"] {
            assert!(new_rule(&root, bad, "statement").is_err(), "{bad}");
        }
        assert!(new_rule(&root, "fine-name", "nonsense").is_err());
        assert!(new_rule(&root, "select-star", "query").is_err(), "an existing rule");
        let _ = fs::remove_dir_all(&root);
    }
}
