//! `dbwarden explain` against the real server: the example schema filled by
//! fixtures/perf/generate.sql, the captured queries of fixtures/queries/example.sql, the hostile
//! capture of fixtures/queries/hostile.sql, and connection errors.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};

use common::db::TestDb;
use serde_json::Value;

/// Applies the example migrations statement by statement (autocommit: one builds an index
/// CONCURRENTLY, which refuses a transaction block), then the data generator.
fn build_example(db: &TestDb) -> postgres::Client {
    let mut c = db.client();
    let root = common::root();
    let mut files: Vec<_> =
        std::fs::read_dir(root.join("fixtures/example/migrations")).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files.push(root.join("fixtures/perf/generate.sql"));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for s in dbwarden::parse::split::split(&text).stmts {
            let sql = text[s.range.clone()].trim().trim_end_matches(';');
            let first = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            if sql.is_empty() || matches!(first.as_str(), "BEGIN" | "COMMIT") {
                continue;
            }
            let sql = sql.replace("SET LOCAL", "SET");
            c.batch_execute(&sql).unwrap_or_else(|e| panic!("{}: {sql}: {e}", f.display()));
        }
    }
    // A user function that writes, for the volatility check.
    c.batch_execute(
        "CREATE FUNCTION hostile_bump() RETURNS int LANGUAGE sql VOLATILE AS
         $$ UPDATE organizations SET name = name || '!' WHERE id = 1 RETURNING 1 $$",
    )
    .unwrap();
    c
}

fn explain(url: &str, args: &[&str]) -> (i32, String, String) {
    common::explain(url, args)
}

/// Rules reported per query name (from `--format json`).
fn rules_by_query(json: &Value) -> BTreeMap<String, Vec<String>> {
    let queries = json["queries"].as_array().unwrap();
    let mut lines: BTreeMap<usize, String> = BTreeMap::new();
    for q in queries {
        let origin = q["origin"].as_str().unwrap();
        let line: usize = origin.rsplit(':').next().unwrap().parse().unwrap();
        lines.insert(line, q["name"].as_str().unwrap_or(origin).to_owned());
    }
    let mut out: BTreeMap<String, Vec<String>> = lines.values().map(|n| (n.clone(), Vec::new())).collect();
    for f in json["findings"].as_array().unwrap() {
        let line = f["line"].as_u64().unwrap() as usize;
        let name = lines.range(..=line).next_back().map(|(_, n)| n.clone()).unwrap();
        out.get_mut(&name).unwrap().push(f["rule"].as_str().unwrap().to_owned());
    }
    out
}

/// Every table's row count and content hash, every sequence's state, the schema, and the state a
/// session could leave behind.
fn checksum(c: &mut postgres::Client) -> BTreeMap<String, String> {
    common::db::wait_for_other_sessions(c, None);
    let mut out = BTreeMap::new();
    let tables: Vec<String> = c
        .query(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for t in tables {
        let row = c
            .query_one(
                &format!(
                    "SELECT count(*)::text || ':' || coalesce(sum(hashtext(x::text)::bigint), 0)::text FROM {t} x"
                ),
                &[],
            )
            .unwrap();
        out.insert(format!("table {t}"), row.get(0));
    }
    for r in c
        .query(
            "SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value::text, 'null') FROM pg_sequences",
            &[],
        )
        .unwrap()
    {
        out.insert(format!("sequence {}", r.get::<_, String>(0)), r.get(1));
    }
    for (k, q) in [
        ("schema", "SELECT md5(string_agg(format('%s.%s:%s', c.relname, a.attname, a.atttypid), ',' ORDER BY c.relname, a.attnum))
                    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"),
        ("functions", "SELECT count(*)::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"),
        ("comments", "SELECT count(*)::text FROM pg_description"),
        ("large objects", "SELECT count(*)::text FROM pg_largeobject_metadata"),
        ("prepared transactions", "SELECT count(*)::text FROM pg_prepared_xacts"),
        ("role and database settings", "SELECT count(*)::text FROM pg_db_role_setting"),
        ("other sessions", "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"),
        ("advisory locks", "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'"),
        ("relation locks of other sessions", "SELECT count(*)::text FROM pg_locks l WHERE l.pid <> pg_backend_pid() AND l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
    ] {
        out.insert(k.to_owned(), c.query_one(q, &[]).unwrap().get::<_, Option<String>>(0).unwrap_or_default());
    }
    out
}

#[test]
fn explain_on_the_example_database() {
    let Some(db) = TestDb::create("explain") else { return };
    let mut client = build_example(&db);
    let url = db.url();

    // 1. Read-only: the slow queries are over budget with the plan rules that say why; the fast
    // ones are not. The budget is 5 ms rather than 50 so that the test does not depend on the
    // machine's load: the slow ones take 9-80 ms (reviews_for_appointment, a parallel scan of
    // 300,000 rows, was measured at 17 ms on an idle 2-core machine, under 10 ms once in CI with
    // a warm cache, and 70 ms on a busy one) and 20-200 ms for the others; the fast ones take
    // under 1 ms.
    let (code, out, err) = explain(
        &url,
        &["--queries", "fixtures/queries/example.sql", "--format", "json", "--budget-ms", "5", "--runs", "3"],
    );
    assert_eq!(code, 1, "{err}\n{out}");
    // The test server's user is a superuser: the one line on stderr says so (no progress bar:
    // stderr is not a terminal).
    assert!(
        err.lines().count() == 1 && err.starts_with("warning: running as `") && err.contains("a superuser"),
        "{err}"
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    let by = rules_by_query(&json);
    let has = |q: &str, r: &str| by[q].iter().any(|x| x == r);
    for fast in ["get_appointment", "provider_week", "appointment_by_public_id", "patient_by_mrn", "recent_notes"] {
        assert!(by[fast].is_empty(), "{fast}: {:?}", by[fast]);
    }
    for slow in ["reviews_for_appointment", "patient_by_phone", "provider_ratings"] {
        assert!(has(slow, "over-budget"), "{slow}: {:?}", by[slow]);
    }
    assert!(has("reviews_for_appointment", "seq-scan-discards-rows"), "{:?}", by["reviews_for_appointment"]);
    assert!(has("patient_by_phone", "seq-scan-discards-rows"), "{:?}", by["patient_by_phone"]);
    assert!(has("overdue_bookings", "index-scan-discards-rows"), "{:?}", by["overdue_bookings"]);
    for unmeasured in ["cancel_appointment", "delete_appointment", "patients_by_last_name"] {
        assert_eq!(by[unmeasured], vec!["budget-not-measured"], "{unmeasured}");
    }
    let generic = json["queries"].as_array().unwrap().iter().find(|q| q["name"] == "patients_by_last_name").unwrap();
    assert_eq!((&generic["status"], &generic["parameters"]), (&"planned".into(), &"generic".into()), "{generic}");
    assert!(generic["plan"][0]["Plan"]["Node Type"].is_string(), "{generic}");
    let findings = json["findings"].as_array().unwrap();
    let over = findings
        .iter()
        .find(|f| f["rule"] == "over-budget" && f["message"].as_str().unwrap().contains("reviews_for_appointment"))
        .unwrap();
    let m = over["message"].as_str().unwrap();
    assert!(m.contains("median of 3 runs") && m.contains("min ") && m.contains("max "), "{m}");
    assert!(
        m.contains("Seq Scan on reviews") && m.contains("no index on `reviews` leads with `appointment_id`"),
        "{m}"
    );
    // Every query carries its full plan.
    let q = json["queries"].as_array().unwrap().iter().find(|q| q["name"] == "reviews_for_appointment").unwrap();
    assert_eq!(q["status"], "measured");
    assert!(q["plan"][0]["Plan"]["Node Type"].is_string(), "{q}");
    // Its timing is over the 5 ms budget (that is what over-budget said) and consistent.
    let t = |k: &str| q["timing"][k].as_f64().unwrap();
    assert!(t("median_ms") > 5.0 && t("min_ms") <= t("median_ms") && t("median_ms") <= t("max_ms"), "{q}");

    // 2. With --allow-writes, the delete runs (and is rolled back): its time is in the trigger of
    // the unindexed foreign key reviews.appointment_id.
    let before = checksum(&mut client);
    let (code, out, err) = explain(
        &url,
        &[
            "--queries",
            "fixtures/queries/example.sql",
            "--format",
            "json",
            "--budget-ms",
            "10",
            "--allow-writes",
            "--jobs",
            "2",
            "--sample-values",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let by = rules_by_query(&json);
    assert!(by["delete_appointment"].iter().any(|r| r == "fk-trigger-slow"), "{:?}", by["delete_appointment"]);
    let fk = json["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "fk-trigger-slow").unwrap();
    assert!(fk["message"].as_str().unwrap().contains("`reviews (appointment_id)` has no index"), "{fk}");
    assert_eq!(
        fk["fix"],
        "DROP INDEX CONCURRENTLY IF EXISTS reviews_appointment_id_idx;\nCREATE INDEX CONCURRENTLY reviews_appointment_id_idx ON reviews (appointment_id);"
    );
    let sampled = json["queries"].as_array().unwrap().iter().find(|q| q["name"] == "patients_by_last_name").unwrap();
    assert_eq!((&sampled["status"], &sampled["parameters"]), (&"measured".into(), &"sampled".into()), "{sampled}");
    // Sampled values come from the data: the plan shows them redacted.
    let plan = sampled["plan"].to_string();
    assert!(!plan.contains("Last") && plan.contains("'?'"), "{plan}");
    assert_eq!(before, checksum(&mut client), "the example capture changed the database");
    // The fix runs where it is meant to run, on the database, each new statement on its own;
    // it builds a valid index, and run again (a retry) it builds it again.
    let edits = fk["fix_edits"]["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2, "{fk}");
    for _ in 0..2 {
        for e in edits {
            assert_eq!(e["new"], true, "{e}");
            client.batch_execute(e["text"].as_str().unwrap()).unwrap_or_else(|err| panic!("{e}: {err}"));
        }
        let valid: bool = client
            .query_one("SELECT indisvalid FROM pg_index WHERE indexrelid = 'reviews_appointment_id_idx'::regclass", &[])
            .unwrap()
            .get(0);
        assert!(valid);
    }
    client.batch_execute("DROP INDEX CONCURRENTLY reviews_appointment_id_idx").unwrap();

    // 3. The hostile capture changes nothing, in both modes.
    let _ = std::fs::remove_file("/tmp/dbwarden-hostile-copy");
    for allow_writes in [false, true] {
        let before = checksum(&mut client);
        let mut args =
            vec!["--queries", "fixtures/queries/hostile.sql", "--format", "json", "--runs", "1", "--warmup", "0"];
        if allow_writes {
            args.push("--allow-writes");
        }
        let (code, out, err) = explain(&url, &args);
        assert_eq!(code, 1, "{err}\n{out}");
        let json: Value = serde_json::from_str(&out).unwrap();
        let mut after = checksum(&mut client);
        let findings = json["findings"].as_array().unwrap();
        // The documented exception: sequences an analysed INSERT consumed, reported as warnings.
        if allow_writes {
            let consumed: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "sequence-consumed").collect();
            assert_eq!(consumed.len(), 1, "{findings:?}");
            assert!(consumed[0]["message"].as_str().unwrap().contains("organizations_id_seq"));
            assert_eq!(consumed[0]["severity"], "warning");
            after.insert(
                "sequence public.organizations_id_seq".into(),
                before["sequence public.organizations_id_seq"].clone(),
            );
        }
        assert_eq!(before, after, "allow_writes={allow_writes}: the hostile capture changed the database");
        assert!(!std::path::Path::new("/tmp/dbwarden-hostile-copy").exists());
        let statuses: BTreeMap<String, String> = json["queries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| (q["query"].as_str().unwrap().to_owned(), q["status"].as_str().unwrap().to_owned()))
            .collect();
        let refused = statuses.values().filter(|s| *s == "refused").count();
        assert!(refused >= 45, "{statuses:#?}");
        assert_eq!(statuses["SELECT hostile_bump()"], if allow_writes { "measured" } else { "refused" });
        assert_eq!(
            statuses["SELECT count(*) FROM appointments a, reviews r WHERE a.id < 2000 AND r.rating = 1"],
            "timed_out"
        );
        for never in ["SELECT nextval('organizations_id_seq')", "SELECT pg_advisory_lock(42)", "SELECT pg_sleep(30)"] {
            assert_eq!(statuses[never], "refused", "{never}");
        }
        let writes = ["DELETE FROM audit_log", "UPDATE patients SET last_name = 'X' WHERE org_id = 3"];
        for w in writes {
            assert_eq!(statuses[w], if allow_writes { "measured" } else { "planned" }, "{w}");
        }
        // A read-only transaction stops a data-modifying CTE the static check let through.
        assert!(findings.iter().all(|f| f["rule"] != "internal-error"));
    }

    // The server itself refuses several statements in one extended-protocol round trip, the
    // runner's second line of defence behind its own check.
    assert!(client.query_typed("SELECT 1; SELECT 2", &[]).is_err());
    let v = dbwarden::explain::safety::classify("SELECT 1; DELETE FROM patients", 50.0);
    assert!(matches!(v.class, dbwarden::explain::safety::Class::Refused(_)));

    // 4. A server log: parameters from the log are used; patient data never reaches the output.
    let before = checksum(&mut client);
    let (code, out, err) = explain(
        &url,
        &["--queries", "fixtures/queries/logs/duration.log", "--format", "json", "--runs", "1", "--warmup", "0"],
    );
    assert!(code == 0 || code == 1, "{err}");
    for secret in ["900-12-3456", "Fakename"] {
        assert!(!out.contains(secret) && !err.contains(secret), "{secret} leaked");
    }
    let json: Value = serde_json::from_str(&out).unwrap();
    assert!(json["queries"].as_array().unwrap().iter().any(|q| q["parameters"] == "log"), "{out}");
    assert_eq!(before, checksum(&mut client));
}

/// A server that asks for a cleartext password and answers with an error quoting it, the way a
/// careless proxy might: the password must not reach the output.
fn fake_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else { return };
        let read_message = |s: &mut std::net::TcpStream, typed: bool| -> Vec<u8> {
            let mut head = vec![0u8; if typed { 5 } else { 4 }];
            s.read_exact(&mut head).unwrap();
            let len = u32::from_be_bytes(head[head.len() - 4..].try_into().unwrap()) as usize;
            let mut body = vec![0u8; len - 4];
            s.read_exact(&mut body).unwrap();
            body
        };
        let mut startup = read_message(&mut s, false);
        if startup.starts_with(&80_877_103u32.to_be_bytes()) {
            s.write_all(b"N").unwrap();
            startup = read_message(&mut s, false);
        }
        let _ = startup;
        s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).unwrap();
        let password = read_message(&mut s, true);
        let password = String::from_utf8_lossy(&password[..password.len() - 1]).into_owned();
        let mut fields = Vec::new();
        for (k, v) in [(b'S', "FATAL"), (b'C', "28P01")] {
            fields.push(k);
            fields.extend_from_slice(v.as_bytes());
            fields.push(0);
        }
        fields.push(b'M');
        fields.extend_from_slice(format!("password authentication failed (got \"{password}\")").as_bytes());
        fields.push(0);
        fields.push(0);
        let mut msg = vec![b'E'];
        msg.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
        msg.extend_from_slice(&fields);
        s.write_all(&msg).unwrap();
    });
    (port, handle)
}

#[test]
fn connection_errors_exit_2_without_the_password() {
    let (port, server) = fake_server();
    let url = format!("postgres://app:Sup3rSecretPw@127.0.0.1:{port}/clinic?sslmode=disable");
    let (code, out, err) = explain(&url, &["--queries", "fixtures/queries/example.sql"]);
    server.join().unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot connect to postgres://app:***@127.0.0.1"), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("Sup3rSecretPw") && !out.contains("Sup3rSecretPw"), "{err}");

    // Nothing listens on port 1.
    let (code, out, err) =
        explain("postgres://app:Sup3rSecretPw@127.0.0.1:1/clinic", &["--queries", "fixtures/queries/example.sql"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot connect to postgres://app:***@127.0.0.1:1/clinic"), "{err}");
    assert!(!err.contains("Sup3rSecretPw") && !out.contains("Sup3rSecretPw"), "{err}");
}

/// A query the target refuses while it runs (here a division by zero in its data) is reported
/// as `query-failed`, with the server's message, and the other queries of the capture still run.
#[test]
fn a_query_that_fails_on_the_target_is_reported() {
    let Some(db) = TestDb::create("failing") else { return };
    db.client()
        .batch_execute("CREATE TABLE readings (id int PRIMARY KEY, value int); INSERT INTO readings VALUES (1, 0);")
        .unwrap();
    let dir = std::env::temp_dir().join(format!("{}_q", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("q.sql");
    std::fs::write(
        &file,
        "-- name: ratio\nSELECT 100 / value FROM readings;\n-- name: plain\nSELECT id FROM readings;\n",
    )
    .unwrap();
    let (code, out, err) = common::explain(
        &db.url(),
        &["--format", "json", "--runs", "1", "--warmup", "0", "--queries", file.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let failed: Vec<&Value> =
        json["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == "query-failed").collect();
    assert_eq!(failed.len(), 1, "{out}");
    assert!(failed[0]["message"].as_str().unwrap().contains("division by zero"), "{failed:?}");
    let statuses: BTreeMap<String, String> = json["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["name"].as_str().unwrap().to_owned(), q["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(statuses["plain"], "measured", "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
