//! End-to-end tests of adopting dbwarden on an existing repository, run against the binary in
//! scratch git repositories: baselines, `--changed-only`, `--report-only`, `pre-commit`,
//! `--exit-zero`. Git is configured here (identity, no global or system config), so the tests
//! pass on a fresh machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch repository in a temporary folder, removed when the test ends.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    /// A new folder with `dbwarden.toml` replaying `db/migrations`; a git repository when `git`.
    fn new(name: &str, git: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("dbwarden-adoption-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("db/migrations")).unwrap();
        // Canonical, so that the paths dbwarden prints compare equal on systems where the
        // temporary folder is behind a symbolic link.
        let repo = Repo { dir: dir.canonicalize().unwrap() };
        repo.write("dbwarden.toml", CONFIG);
        if git {
            repo.git(&["init", "-q"]);
        }
        repo
    }

    fn write(&self, path: &str, text: &str) {
        std::fs::write(self.dir.join(path), text).unwrap();
    }

    fn git(&self, args: &[&str]) {
        let out = isolated(Command::new("git"))
            .args([
                "-c",
                "user.name=dbwarden tests",
                "-c",
                "user.email=tests@dbwarden.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("run git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// Runs dbwarden in the repository (or in `sub`, a folder inside it).
    fn run_in(&self, sub: &str, args: &[&str]) -> Output {
        isolated(Command::new(env!("CARGO_BIN_EXE_dbwarden")))
            .args(args)
            .current_dir(self.dir.join(sub))
            .output()
            .expect("run dbwarden")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in("", args)
    }

    /// Runs dbwarden with `--format json` and returns the exit code and the parsed output.
    fn json(&self, args: &[&str]) -> (i32, Json) {
        self.json_in("", args)
    }

    fn json_in(&self, sub: &str, args: &[&str]) -> (i32, Json) {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.run_in(sub, &all);
        let text = String::from_utf8_lossy(&out.stdout);
        let v = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{e}: {text}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().expect("exit code"), Json(v))
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The environment of a child process without what would change its behaviour: the user's git
/// configuration, and the CI variables that switch dbwarden to GitHub output.
fn isolated(mut cmd: Command) -> Command {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", if cfg!(windows) { "NUL" } else { "/dev/null" })
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("NO_COLOR");
    cmd
}

struct Json(serde_json::Value);

impl Json {
    /// `(rule, file, line)` per finding, file names as printed.
    fn findings(&self) -> Vec<(String, String, u64)> {
        self.0["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["file"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    fn rules_in(&self, file: &str) -> Vec<String> {
        self.findings().into_iter().filter(|(_, f, _)| f.ends_with(file)).map(|(r, _, _)| r).collect()
    }

    fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.findings().into_iter().map(|(_, f, _)| f).collect();
        files.dedup();
        files
    }

    fn summary(&self, key: &str) -> u64 {
        self.0["summary"][key].as_u64().unwrap_or_else(|| panic!("summary.{key} in {}", self.0))
    }
}

/// The rules these tests are about, so that rules added later do not change the findings.
const CONFIG: &str = "[lint]\npaths = [\"db/migrations\"]\n\
                      select = [\"index-not-concurrent\", \"unindexed-foreign-key\", \"missing-lock-timeout\"]\n";
const INIT: &str = "CREATE TABLE orgs (id bigint PRIMARY KEY, name text);\n\
                    CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);\n";
const INDEXES: &str = "CREATE INDEX users_email_idx ON users (email);\n\
                       CREATE INDEX users_name_idx ON users (name);\n";
/// A foreign key on `users` (created in another file) with no index: found only from the
/// whole schema.
const FOREIGN_KEY: &str = "SET lock_timeout = '5s';\n\
                           ALTER TABLE users ADD COLUMN org_id bigint REFERENCES orgs (id);\n";

#[test]
fn baseline_hides_recorded_findings_across_edits_and_counts_fixed_ones() {
    let repo = Repo::new("baseline", true);
    repo.write("db/migrations/1_init.sql", INIT);
    repo.write("db/migrations/2_indexes.sql", INDEXES);
    repo.commit_all("existing migrations");

    let (code, before) = repo.json(&["lint"]);
    assert_eq!(code, 1, "{:?}", before.findings());
    assert_eq!(before.findings().len(), 2, "{:?}", before.findings());

    let out = repo.run(&["lint", "--write-baseline", "dbwarden-baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let baseline: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.dir.join("dbwarden-baseline.json")).unwrap()).unwrap();
    let entries = baseline["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{baseline}");
    // Repository-relative names, so the baseline works from any folder and on any machine.
    for e in entries {
        assert_eq!(e["file"], "db/migrations/2_indexes.sql", "{e}");
        assert_eq!(e["rule"], "index-not-concurrent", "{e}");
    }

    // Nothing new: clean, from the root or from a folder below it.
    let (code, clean) = repo.json(&["lint", "--baseline", "dbwarden-baseline.json"]);
    assert_eq!((code, clean.findings().len(), clean.summary("baseline_fixed")), (0, 0, 0), "{:?}", clean.findings());
    let (code, clean) = repo.json_in("db", &["lint", "--baseline", "../dbwarden-baseline.json"]);
    assert_eq!((code, clean.findings().len()), (0, 0), "{:?}", clean.findings());

    // Lines inserted above the recorded findings, one of them fixed, and a new statement.
    repo.write(
        "db/migrations/2_indexes.sql",
        "-- Indexes for the user search page.\n\
         -- Reviewed by the DBA.\n\
         \n\
         CREATE INDEX users_email_idx ON users (email);\n\
         CREATE INDEX CONCURRENTLY users_name_idx ON users (name);\n\
         CREATE INDEX users_name_email_idx ON users (name, email);\n",
    );
    let (code, after) = repo.json(&["lint", "--baseline", "dbwarden-baseline.json"]);
    assert_eq!(code, 1, "the new finding is an error: {:?}", after.findings());
    assert_eq!(
        after.findings(),
        [("index-not-concurrent".to_owned(), "db/migrations/2_indexes.sql".to_owned(), 6)],
        "only the new statement (line 6) is reported; the recorded one moved to line 4 and stays hidden"
    );
    assert_eq!(after.summary("baseline_fixed"), 1, "users_name_idx is built CONCURRENTLY now");
    let human = repo.run(&["lint", "--baseline", "dbwarden-baseline.json"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("fixed"), "the human summary mentions the fixed entry: {text}");

    // Without the baseline everything is reported again.
    let (_, all) = repo.json(&["lint"]);
    assert_eq!(all.findings().len(), 2, "{:?}", all.findings());

    // Rewriting the baseline while it is in use records every current finding, including the
    // ones the old baseline hid: the known one and the new one, not the fixed one.
    let out = repo.run(&["lint", "--baseline", "dbwarden-baseline.json", "--write-baseline", "dbwarden-baseline.json"]);
    assert_eq!(out.status.code(), Some(0));
    let (code, clean) = repo.json(&["lint", "--baseline", "dbwarden-baseline.json"]);
    assert_eq!((code, clean.findings().len(), clean.summary("baseline_fixed")), (0, 0, 0), "{:?}", clean.findings());
}

#[test]
fn baseline_errors_exit_2() {
    let repo = Repo::new("baseline-errors", false);
    repo.write("db/migrations/1_init.sql", INIT);
    assert_eq!(repo.run(&["lint", "--baseline", "missing.json"]).status.code(), Some(2));
    repo.write("bad.json", "{\"version\": 1, \"findings\": [], \"extra\": true}");
    let out = repo.run(&["lint", "--baseline", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

/// Two committed migrations with one old finding; a third adds a foreign key on a table from
/// the first.
fn history(name: &str) -> Repo {
    let repo = Repo::new(name, true);
    repo.write("db/migrations/1_init.sql", INIT);
    repo.write("db/migrations/2_indexes.sql", "CREATE INDEX users_email_idx ON users (email);\n");
    repo.commit_all("existing migrations");
    repo.write("db/migrations/3_org.sql", FOREIGN_KEY);
    repo
}

#[test]
fn changed_only_reports_new_files_judged_against_the_whole_history() {
    let repo = history("changed-only");
    let (code, all) = repo.json(&["lint"]);
    assert_eq!(code, 1);
    assert_eq!(all.files(), ["db/migrations/2_indexes.sql", "db/migrations/3_org.sql"], "{:?}", all.findings());

    // Uncommitted (untracked) migration, compared with HEAD; from the root and from a folder
    // below it (untracked files elsewhere in the work tree count too).
    for sub in ["", "db/migrations"] {
        let (code, changed) = repo.json_in(sub, &["lint", "--changed-only", "--base", "HEAD"]);
        assert_eq!(code, 1, "in {sub:?}: {:?}", changed.findings());
        assert!(
            changed.files().iter().all(|f| f.ends_with("db/migrations/3_org.sql")),
            "in {sub:?}: {:?}",
            changed.findings()
        );
        assert_eq!(changed.rules_in("3_org.sql"), ["unindexed-foreign-key"], "in {sub:?}");
        // The whole history was replayed.
        assert_eq!(changed.summary("files"), 3);
    }

    // Committed: the pull-request case, compared with the commit before.
    repo.commit_all("add users.org_id");
    let (code, changed) = repo.json(&["lint", "--changed-only", "--base", "HEAD~1"]);
    assert_eq!(code, 1);
    assert_eq!(changed.findings(), [("unindexed-foreign-key".to_owned(), "db/migrations/3_org.sql".to_owned(), 2)]);

    // A modified file counts as changed; an unchanged tree reports nothing.
    let (code, nothing) = repo.json(&["lint", "--changed-only", "--base", "HEAD"]);
    assert_eq!((code, nothing.findings().len()), (0, 0), "{:?}", nothing.findings());
    repo.write("db/migrations/2_indexes.sql", "-- comment\nCREATE INDEX users_email_idx ON users (email);\n");
    let (_, modified) = repo.json(&["lint", "--changed-only", "--base", "HEAD"]);
    assert_eq!(modified.files(), ["db/migrations/2_indexes.sql"]);

    // A bad revision or a folder outside git is an error, not a clean run.
    assert_eq!(repo.run(&["lint", "--changed-only", "--base", "no-such-ref"]).status.code(), Some(2));
    let outside = Repo::new("changed-only-no-git", false);
    outside.write("db/migrations/1_init.sql", INIT);
    assert_eq!(outside.run(&["lint", "--changed-only", "--base", "HEAD"]).status.code(), Some(2));
    // --base is required.
    assert_eq!(repo.run(&["lint", "--changed-only"]).status.code(), Some(2));
}

#[test]
fn report_only_limits_the_report_not_the_replay() {
    // Inside a git repository and outside one: the given names are matched as files, however written.
    for git in [true, false] {
        let repo = history(if git { "report-only-git" } else { "report-only" });
        for name in ["db/migrations/3_org.sql", "./db/migrations/3_org.sql"] {
            let (code, only) = repo.json(&["lint", "--report-only", name]);
            assert_eq!(code, 1, "{name}");
            assert_eq!(only.rules_in("3_org.sql"), ["unindexed-foreign-key"], "git: {git}, {name}");
            assert_eq!(only.files().len(), 1, "git: {git}, {name}: {:?}", only.findings());
        }
        let absolute = repo.dir.join("db/migrations/3_org.sql");
        let (_, only) = repo.json(&["lint", "--report-only", absolute.to_str().unwrap()]);
        assert_eq!(only.rules_in("3_org.sql"), ["unindexed-foreign-key"]);
        // From a folder below the config.
        let (_, only) = repo.json_in("db", &["lint", "--report-only", "migrations/3_org.sql"]);
        assert_eq!(only.rules_in("3_org.sql"), ["unindexed-foreign-key"]);

        // Repeatable.
        let (_, both) = repo.json(&[
            "lint",
            "--report-only",
            "db/migrations/1_init.sql",
            "--report-only",
            "db/migrations/2_indexes.sql",
        ]);
        assert_eq!(both.files(), ["db/migrations/2_indexes.sql"], "{:?}", both.findings());
        // A clean file: exit 0.
        let (code, clean) = repo.json(&["lint", "--report-only", "db/migrations/1_init.sql"]);
        assert_eq!((code, clean.findings().len()), (0, 0));
    }
}

#[test]
fn pre_commit_reports_the_given_files_against_the_configured_history() {
    let repo = history("pre-commit");
    // As pre-commit runs it: from the root, the staged files appended.
    let (code, staged) = repo.json(&["pre-commit", "db/migrations/3_org.sql"]);
    assert_eq!(code, 1);
    assert_eq!(staged.rules_in("3_org.sql"), ["unindexed-foreign-key"]);
    assert_eq!(staged.files().len(), 1);
    assert_eq!(staged.summary("files"), 3, "the whole history is replayed");
    // Files outside the configured paths, or down migrations, have nothing to report.
    repo.write("notes.sql", "CREATE INDEX i ON users (name);\n");
    let (code, outside) = repo.json(&["pre-commit", "notes.sql"]);
    assert_eq!((code, outside.findings().len()), (0, 0), "{:?}", outside.findings());
    // No files: nothing to do.
    assert_eq!(repo.run(&["pre-commit"]).status.code(), Some(0));
    // The fix: an index on the new foreign key.
    repo.write(
        "db/migrations/3_org.sql",
        &format!("{FOREIGN_KEY}CREATE INDEX CONCURRENTLY users_org_id_idx ON users (org_id);\n"),
    );
    let (code, fixed) = repo.json(&["pre-commit", "db/migrations/3_org.sql"]);
    assert_eq!((code, fixed.findings().len()), (0, 0), "{:?}", fixed.findings());

    // Without `[lint] paths`, the given files are linted on their own.
    repo.write("dbwarden.toml", &CONFIG.replace("paths = [\"db/migrations\"]\n", ""));
    let (code, alone) = repo.json(&["pre-commit", "db/migrations/2_indexes.sql"]);
    assert_eq!(code, 1);
    assert_eq!(alone.summary("files"), 1);
    assert_eq!(alone.rules_in("2_indexes.sql"), ["index-not-concurrent"]);
}

#[test]
fn exit_zero_reports_but_does_not_fail() {
    let repo = history("exit-zero");
    let (code, all) = repo.json(&["lint", "--exit-zero"]);
    assert_eq!(code, 0);
    assert!(all.summary("errors") >= 2, "{:?}", all.findings());
    let out = repo.run(&["lint", "--exit-zero", "--fail-on", "info"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("error[unindexed-foreign-key]"));
    // Errors other than findings still exit 2.
    assert_eq!(repo.run(&["lint", "--exit-zero", "--baseline", "missing.json"]).status.code(), Some(2));
    repo.write("dbwarden.toml", "[lint]\npathz = []\n");
    assert_eq!(repo.run(&["lint", "--exit-zero"]).status.code(), Some(2));
}

#[test]
fn github_format_is_the_default_in_github_actions_and_writes_a_step_summary() {
    let repo = history("github");
    let summary = repo.dir.join("summary.md");
    let out = isolated(Command::new(env!("CARGO_BIN_EXE_dbwarden")))
        .args(["lint", "--changed-only", "--base", "HEAD"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .current_dir(&repo.dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=db/migrations/3_org.sql,line=2,")
                && l.contains("unindexed-foreign-key")),
        "{text}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("unindexed-foreign-key"), "{md}");
}

#[test]
fn paths_in_reports_are_relative_to_the_config_found_in_the_current_folder() {
    let repo = history("relative");
    let (_, all) = repo.json(&["lint"]);
    for f in all.files() {
        assert!(Path::new(&f).is_relative(), "{f}");
    }
}

/// Migrations not on the base have never been deployed: a table created in one and indexed in
/// the next is new and empty (issue 11). A table from a deployed migration is live.
#[test]
fn migrations_added_since_the_base_create_new_tables_for_each_other() {
    let repo = Repo::new("undeployed", true);
    repo.write("db/migrations/1_init.sql", INIT);
    repo.commit_all("deployed");
    repo.write("db/migrations/2_visits.sql", "CREATE TABLE visits (id bigint PRIMARY KEY, note text);\n");
    repo.write("db/migrations/3_visits_idx.sql", "CREATE INDEX visits_note_idx ON visits (note);\n");
    repo.write(
        "db/migrations/4_users_idx.sql",
        "SET lock_timeout = '5s';\nCREATE INDEX users_name_idx ON users (name);\n",
    );
    let rules = |j: &Json| -> Vec<(String, String)> {
        j.findings().into_iter().map(|(r, f, _)| (r, f.rsplit('/').next().unwrap().to_owned())).collect()
    };
    // Without a base, a table created in another file is judged live.
    let (_, all) = repo.json(&["lint"]);
    assert!(rules(&all).contains(&("index-not-concurrent".into(), "3_visits_idx.sql".into())), "{:?}", all.findings());
    // Against the base: visits is new (created by an undeployed migration); users is not.
    let (_, changed) = repo.json(&["lint", "--changed-only", "--base", "HEAD"]);
    let got = rules(&changed);
    assert!(!got.iter().any(|(_, f)| f == "3_visits_idx.sql"), "{got:?}");
    assert!(got.contains(&("index-not-concurrent".into(), "4_users_idx.sql".into())), "{got:?}");
    // The pre-commit hook compares with HEAD the same way.
    repo.git(&["add", "-A"]);
    let out = repo.run(&[
        "pre-commit",
        "--format",
        "json",
        "db/migrations/3_visits_idx.sql",
        "db/migrations/4_users_idx.sql",
    ]);
    let hook = Json(serde_json::from_slice(&out.stdout).expect("json"));
    let got = rules(&hook);
    assert!(!got.iter().any(|(_, f)| f == "3_visits_idx.sql"), "{got:?}");
    assert!(got.contains(&("index-not-concurrent".into(), "4_users_idx.sql".into())), "{got:?}");
}
