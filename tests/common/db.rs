//! Throwaway databases on the test server (`DBWARDEN_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`). In CI (`CI=true`) a test that cannot connect
//! fails; elsewhere it is skipped with a note.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use dbwarden::db::Target;

pub struct TestDb {
    pub name: String,
    pub target: Target,
    admin: Target,
}

pub fn server_url() -> String {
    std::env::var("DBWARDEN_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    /// A new, empty database, or `None` (skip) when the server is unreachable outside CI.
    pub fn create(prefix: &str) -> Option<Self> {
        static N: AtomicU32 = AtomicU32::new(0);
        let admin = Target::resolve(Some(&server_url())).expect("DBWARDEN_TEST_DATABASE_URL");
        let mut client = match admin.connect() {
            Ok(c) => c,
            Err(e) => {
                assert!(std::env::var("CI").as_deref() != Ok("true"), "database tests need a server in CI: {e}");
                eprintln!("note: skipping database test ({e})");
                return None;
            }
        };
        let name = format!(
            "dbwarden_{prefix}_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
        );
        client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create test database");
        let target = admin.with_dbname(&name);
        Some(Self { name, target, admin })
    }

    pub fn client(&self) -> postgres::Client {
        self.target.connect().expect("connect to test database")
    }

    /// The URL of this database (same server and user as the admin URL).
    pub fn url(&self) -> String {
        let base = server_url();
        match base.rfind('/') {
            Some(p) if base[..p].contains("://") && base[..p].len() > base.find("://").unwrap_or(0) + 3 => {
                let (head, tail) = base.split_at(p);
                let query = tail.find('?').map_or("", |q| &tail[q..]);
                format!("{head}/{}{query}", self.name)
            }
            _ => format!("{base}/{}", self.name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = self.admin.connect() {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// Waits (up to 5 s) until no other session (but the one whose application_name is `keep`) is
/// connected to `c`'s database: a client's backend ends shortly after the client exits.
pub fn wait_for_other_sessions(c: &mut postgres::Client, keep: Option<&str>) {
    for _ in 0..100 {
        let n: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND ($1::text IS NULL OR application_name <> $1)",
                &[&keep],
            )
            .unwrap()
            .get(0);
        if n == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Runs a psql-style script statement by statement (as `psql -f` does, without stopping at
/// errors), expanding `\ir FILE` relative to the script. Returns the statements that failed, as
/// `first line: error`. After each statement the session's statistics are flushed, so the
/// counters the audit reads are exact.
pub fn run_script(client: &mut postgres::Client, text: &str, dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let mut sql = String::new();
    let flush = |client: &mut postgres::Client, sql: &mut String, failures: &mut Vec<String>| {
        let split = dbwarden::parse::split::split(sql);
        for stmt in &split.stmts {
            let s = &sql[stmt.range.clone()];
            if let Err(e) = client.batch_execute(s) {
                let msg = e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned());
                failures.push(format!("{}: {msg}", s.lines().next().unwrap_or_default()));
            }
            // Fails inside an aborted transaction block; harmless then.
            let _ = client.batch_execute("SELECT pg_stat_force_next_flush()");
        }
        sql.clear();
    };
    for line in text.lines() {
        if let Some(file) = line.strip_prefix("\\ir ") {
            flush(client, &mut sql, &mut failures);
            let path = dir.join(file.trim());
            let inner = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            failures.extend(run_script(client, &inner, path.parent().unwrap_or(dir)));
        } else {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    flush(client, &mut sql, &mut failures);
    failures
}
