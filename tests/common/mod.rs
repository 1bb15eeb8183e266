#![allow(dead_code)]

pub mod db;

use std::path::{Path, PathBuf};

use dbwarden::config::Config;
use dbwarden::pipeline::{LintOutput, lint};
use dbwarden::rules::Settings;
use dbwarden::source::{self, SourceFile};

/// Runs `dbwarden explain --database-url URL ARGS...` from the project root, without the
/// environment variables that would change it: (exit status, stdout, stderr).
pub fn explain<S: AsRef<std::ffi::OsStr>>(url: &str, args: &[S]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dbwarden"))
        .current_dir(root())
        .args(["explain", "--database-url", url])
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run dbwarden");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lints files or folders with an optional config (TOML text).
pub fn lint_paths(paths: &[PathBuf], config: Option<&str>) -> LintOutput {
    let config = config.map_or_else(Config::default, |c| Config::parse(c, "test").expect("test config"));
    let files = source::discover(paths).expect("discover");
    let sources = files.iter().map(|f| source::load(f).expect("load")).collect();
    lint(sources, &Settings::new(&config))
}

/// Lints one SQL text as one file.
pub fn lint_sql(sql: &str, config: Option<&str>) -> LintOutput {
    let config = config.map_or_else(Config::default, |c| Config::parse(c, "test").expect("test config"));
    lint(vec![SourceFile::new("example.sql", sql)], &Settings::new(&config))
}

/// `file:line:col rule: message` per finding, file names relative to `base`.
pub fn listing(out: &LintOutput, base: &Path) -> String {
    let mut s = String::new();
    for d in &out.diagnostics {
        let f = &out.files[d.file].source;
        let (l, c) = f.position(d.span.start);
        let p = Path::new(&f.path);
        let rel = p.strip_prefix(base).unwrap_or(p).display().to_string().replace('\\', "/");
        s.push_str(&format!("{rel}:{l}:{c} {} [{}]: {}\n", d.severity, d.rule, d.message));
    }
    s
}
