//! `dbwarden audit` against the real server: the catalog loader, the live-only rules (their
//! catalogue examples run on a database), the audit target in `fixtures/audit/` with its exact
//! findings, a least-privilege role, and the command line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use common::db::{TestDb, server_url};
use dbwarden::audit::{self, AuditOptions};
use dbwarden::config::Config;
use dbwarden::db::Target;
use dbwarden::rules::catalogue::ExampleKind;
use dbwarden::rules::{self, Kind, RULES, Settings};
use dbwarden::schema::catalog::{self, LoadOptions};
use dbwarden::source::SourceFile;

fn settings(config: Option<&str>) -> Settings {
    let config = config.map_or_else(Config::default, |c| Config::parse(c, "test").expect("test config"));
    Settings::new(&config)
}

fn example_config() -> String {
    std::fs::read_to_string(common::root().join("fixtures/example/dbwarden.toml")).unwrap()
}

/// `rule object` per finding, sorted.
fn listing(diagnostics: &[dbwarden::diagnostic::Diagnostic]) -> Vec<String> {
    let mut v: Vec<String> = diagnostics
        .iter()
        .map(|d| format!("{} {} {}", d.severity, d.rule, d.object.as_deref().unwrap_or("<no object>")))
        .collect();
    v.sort();
    v
}

/// A URL of the test database for another user.
fn url_as(db: &TestDb, user: &str) -> String {
    let url = db.url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("postgres://{user}@{host}")
}

#[test]
fn live_rule_examples_behave_as_documented() {
    let mut failures = Vec::new();
    for (i, r) in RULES.iter().enumerate() {
        if !matches!(r.kind, Kind::Live(_)) {
            continue;
        }
        for (k, ex) in rules::entry(i).examples.iter().enumerate() {
            let Some(db) = TestDb::create("live_example") else { return };
            let mut client = db.client();
            // schema-drift examples: the migrations, then `-- the database:` and what it holds.
            let (migrations, database) = match ex.sql.split_once("-- the database:") {
                Some((m, d)) => (Some(m.to_owned()), d.to_owned()),
                None => (None, ex.sql.clone()),
            };
            let failed = common::db::run_script(&mut client, &database, Path::new("."));
            let expected_failures = database.matches("-- fails").count();
            assert_eq!(failed.len(), expected_failures, "{} example {k}: statements failed: {failed:?}", r.name);
            let settings = settings(ex.config.as_deref());
            let schema = catalog::load(&mut client, &LoadOptions::default()).expect("load catalog");
            let replayed = migrations
                .map(|m| dbwarden::pipeline::lint(vec![SourceFile::new("migrations.sql", &m)], &settings).schema);
            let diagnostics = audit::judge(&schema, replayed.as_ref(), &settings);
            let hit = diagnostics.iter().any(|d| d.rule == r.name);
            if hit != (ex.kind == ExampleKind::Diagnostic) {
                failures.push(format!("{} example {k} ({:?}): got {:#?}", r.name, ex.kind, listing(&diagnostics)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The findings on `fixtures/audit/build_target.sql`, audited with the example's configuration
/// and `--migrations fixtures/example/migrations`: `severity rule object`. Planted and not
/// reported: the composite foreign key of `shift_assignments` (indexed in the other column order),
/// `referrals.referred_by` (indexed `WHERE referred_by IS NOT NULL`). The example's own defects
/// are here too (`reviews`, `audit_log`, cascades into PHI, ...), as `dbwarden lint` reports them,
/// except `visit_summaries`' soft-delete column: it is PHI by a `-- dbwarden: phi` annotation in
/// its migration, which the catalog does not have.
const EXPECTED: &[&str] = &[
    "error cascade-on-phi public.appointments.appointments_patient_id_fkey",
    "error cascade-on-phi public.intake_forms.intake_forms_appointment_id_fkey",
    "error cascade-on-phi public.patient_notes.patient_notes_patient_id_fkey",
    "error invalid-index public.rooms.rooms_code_key",
    "error missing-soft-delete public.prescriptions",
    "error sequence-near-overflow public.device_readings_id_seq",
    "info phi-without-audit-trigger public.appointments",
    "info phi-without-audit-trigger public.intake_forms",
    "info phi-without-audit-trigger public.patient_notes",
    "info phi-without-audit-trigger public.patients",
    "info phi-without-audit-trigger public.prescriptions",
    "info stale-statistics public.portal_events",
    "info unindexed-foreign-key public.equipment_loans.equipment_loans_provider_id_fkey",
    "info unindexed-foreign-key public.reviews.reviews_appointment_id_fkey",
    "info unused-index public.portal_events.portal_events_ref_idx",
    "warning duplicate-index public.shift_assignments.shift_assignments_starts_at_idx1",
    "warning missing-primary-key public.audit_log",
    "warning mutable-audit-log public.audit_log",
    "warning mutable-audit-log public.billing_audit",
    "warning not-valid-constraint public.payments.payments_currency_check",
    "warning rls-without-policy public.staff_messages",
    "warning schema-drift public.<img src=x onerror=alert(1)>",
    "warning schema-drift public.billing_audit",
    "warning schema-drift public.device_readings",
    "warning schema-drift public.equipment_loans",
    "warning schema-drift public.patients.patients_lower_email_idx",
    "warning schema-drift public.portal_events",
    "warning schema-drift public.provider_clinics",
    "warning schema-drift public.referrals",
    "warning schema-drift public.rooms",
    "warning schema-drift public.shift_assignments",
    "warning schema-drift public.sms_messages",
    "warning schema-drift public.staff_messages",
    "warning sequence-near-overflow public.sms_messages_id_seq",
    "warning tenant-table-without-rls public.audit_log",
    "warning tenant-table-without-rls public.intake_forms",
    "warning tenant-table-without-rls public.payments",
    "warning tenant-table-without-rls public.prescriptions",
    "warning tenant-table-without-rls public.providers",
    "warning tenant-table-without-rls public.reviews",
    "warning tenant-table-without-rls public.visit_summaries",
    "warning unindexed-foreign-key public.portal_events.portal_events_room_id_fkey",
    "warning unique-ignores-soft-delete public.providers.providers_email_key",
];

/// Findings that need `SELECT` on the sequences (the least-privilege role without it skips them).
const NEEDS_SEQUENCE_GRANT: &[&str] = &["sequence-near-overflow"];

fn build_target(db: &TestDb) {
    let mut client = db.client();
    let script = common::root().join("fixtures/audit/build_target.sql");
    let failures =
        common::db::run_script(&mut client, &std::fs::read_to_string(&script).unwrap(), script.parent().unwrap());
    assert_eq!(
        failures,
        [
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS patients_lower_email_idx ON patients (lower(email));: CREATE INDEX CONCURRENTLY cannot run inside a transaction block",
            "CREATE UNIQUE INDEX CONCURRENTLY rooms_code_key ON rooms (code);: could not create unique index \"rooms_code_key\"",
        ],
        "the target's build must fail exactly where planned"
    );
}

fn audit_target(url: &str, config: &str) -> Vec<String> {
    let target = Target::resolve(Some(url)).unwrap();
    let opts =
        AuditOptions { schemas: Vec::new(), migrations: vec![common::root().join("fixtures/example/migrations")] };
    let out = audit::run(&target, &opts, &settings(Some(config))).expect("audit");
    for d in &out.diagnostics {
        assert!(d.object.is_some(), "{} without an object: {}", d.rule, d.message);
    }
    listing(&out.diagnostics)
}

#[test]
fn audit_target_has_exactly_the_planted_findings() {
    let Some(db) = TestDb::create("audit_target") else { return };
    build_target(&db);
    let config = example_config();
    let got = audit_target(&db.url(), &config);
    let want: Vec<String> = EXPECTED.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(got, want, "findings:\n{}", got.join("\n"));

    // A role with only CONNECT and pg_read_all_stats: the same findings, except what needs the
    // sequences' values; with SELECT on the sequences, exactly the same.
    static N: AtomicU32 = AtomicU32::new(0);
    let role = format!("dbwarden_auditor_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let guard = RoleGuard { role: role.clone(), db: Some(db) };
    let db = guard.db.as_ref().unwrap();
    db.client()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; GRANT pg_read_all_stats TO {role}; \
             REVOKE CONNECT ON DATABASE \"{db}\" FROM PUBLIC; GRANT CONNECT ON DATABASE \"{db}\" TO {role};",
            db = db.name
        ))
        .unwrap();
    let as_role = url_as(db, &role);
    let got = audit_target(&as_role, &config);
    let want_limited: Vec<String> =
        want.iter().filter(|l| !NEEDS_SEQUENCE_GRANT.iter().any(|r| l.split(' ').nth(1) == Some(r))).cloned().collect();
    assert_eq!(got, want_limited, "least privilege, no sequence grant:\n{}", got.join("\n"));
    db.client().batch_execute(&format!("GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")).unwrap();
    let got = audit_target(&as_role, &config);
    assert_eq!(got, want, "least privilege with SELECT on sequences:\n{}", got.join("\n"));
    // The role can read no table's rows.
    let mut c = Target::resolve(Some(&as_role)).unwrap().connect().unwrap();
    let err = c.query("SELECT * FROM prescriptions", &[]).expect_err("the audit role must not read rows");
    assert!(
        err.to_string().contains("permission denied") || format!("{err:?}").contains("permission denied"),
        "{err:?}"
    );
}

/// Drops the test database, then the role (which has privileges in it).
struct RoleGuard {
    role: String,
    db: Option<TestDb>,
}

impl Drop for RoleGuard {
    fn drop(&mut self) {
        drop(self.db.take());
        if let Ok(mut c) = Target::resolve(Some(&server_url())).unwrap().connect() {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.role));
        }
    }
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dbwarden"))
}

#[test]
fn command_line_reports_objects_and_exit_codes() {
    let Some(db) = TestDb::create("audit_cli") else { return };
    let mut c = db.client();
    c.batch_execute(
        "CREATE TABLE parents (id bigint PRIMARY KEY);
         CREATE TABLE children (id bigint PRIMARY KEY, parent_id bigint REFERENCES parents (id));
         CREATE TABLE notes (body text);
         CREATE SCHEMA nothing_here;",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(bin()).arg("audit").args(args).env_remove("DATABASE_URL").output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let url = db.url();
    // children is empty: the unindexed foreign key is info; notes has no primary key: warning.
    let (code, stdout, stderr) = run(&["--database-url", &url, "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let fk = findings.iter().find(|f| f["rule"] == "unindexed-foreign-key").expect("fk finding");
    assert_eq!(fk["object"], "public.children.children_parent_id_fkey");
    assert_eq!(fk["severity"], "info");
    assert!(fk.get("file").is_none() && fk.get("line").is_none(), "{fk}");
    assert!(fk["table_rows"].is_number() && fk["table_bytes"].is_number(), "{fk}");
    let (code, ..) = run(&["--database-url", &url, "--fail-on", "warning"]);
    assert_eq!(code, Some(1));
    // --schema limits what is read; --output writes the report to a file.
    let out = std::env::temp_dir().join(format!("dbwarden_audit_{}.json", std::process::id()));
    let (code, stdout, _) = run(&[
        "--database-url",
        &url,
        "--schema",
        "nothing_here",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
        "--fail-on",
        "info",
    ]);
    assert_eq!(code, Some(0));
    assert!(stdout.is_empty());
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["findings"].as_array().unwrap().len(), 0);
    let _ = std::fs::remove_file(&out);
    // A schema that does not exist is an error naming it, not a clean audit of nothing.
    for (schema, why) in [("no_such_schema", "does not exist"), ("pg_catalog", "is a system schema")] {
        let (code, stdout, stderr) = run(&["--database-url", &url, "--schema", "public", "--schema", schema]);
        assert_eq!(code, Some(2), "{stdout}{stderr}");
        assert!(stderr.contains(&format!("schema `{schema}` {why}")) && stdout.is_empty(), "{stderr}");
    }
    // A connection error is exit 2, and the password never appears.
    let (code, stdout, stderr) =
        run(&["--database-url", "postgres://auditor:Hunter2Secret@127.0.0.1:1/db?connect_timeout=2&sslmode=disable"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("cannot connect") && !stderr.contains("Hunter2Secret") && !stdout.contains("Hunter2Secret"),
        "{stderr}"
    );
}

#[test]
fn catalog_model_matches_the_migration_model() {
    // The same schema, replayed from migrations and read from the catalog, gives the same rules.
    let Some(db) = TestDb::create("audit_same") else { return };
    let sql = "CREATE TABLE orgs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE members (
    org_id bigint NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id bigint NOT NULL,
    email text NOT NULL,
    deleted_at timestamptz,
    CONSTRAINT members_email_key UNIQUE (email)
);
CREATE TABLE patients (id bigint PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id));
CREATE INDEX patients_org_idx ON patients (org_id);
";
    let mut c = db.client();
    c.batch_execute(sql).unwrap();
    let config = "[tenancy]\ncolumn = \"none\"\n";
    let settings = settings(Some(config));
    let offline = dbwarden::pipeline::lint(vec![SourceFile::new("m.sql", sql)], &settings);
    let mut offline_rules: Vec<&str> = offline
        .diagnostics
        .iter()
        .filter(|d| matches!(d.rule.def().kind, Kind::Schema(_)))
        .map(|d| d.rule.name())
        .collect();
    let schema = catalog::load(&mut c, &LoadOptions::default()).unwrap();
    let live = audit::judge(&schema, None, &settings);
    let mut live_rules: Vec<&str> =
        live.iter().filter(|d| matches!(d.rule.def().kind, Kind::Schema(_))).map(|d| d.rule.name()).collect();
    offline_rules.sort_unstable();
    live_rules.sort_unstable();
    assert_eq!(offline_rules, live_rules);
    assert!(live_rules.contains(&"unindexed-foreign-key") && live_rules.contains(&"missing-primary-key"));
    // The loaded model: columns, types, constraints.
    let members = &schema.tables[&dbwarden::schema::QualName { schema: "public".into(), name: "members".into() }];
    assert_eq!(
        members.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["org_id", "user_id", "email", "deleted_at"]
    );
    assert_eq!(members.columns[3].ty.text, "timestamp with time zone");
    assert!(members.columns[0].not_null && !members.columns[3].not_null);
    assert!(members.stats.is_some());
    assert_eq!(schema.live.as_ref().unwrap().database, db.name);
}

#[test]
fn live_rules_leave_sound_objects_alone() {
    let Some(db) = TestDb::create("audit_negative") else { return };
    let mut c = db.client();
    let failed = common::db::run_script(
        &mut c,
        "CREATE TABLE parents (id bigint PRIMARY KEY);
-- the only index of a foreign key, never scanned: not unused (it serves parent deletes)
CREATE TABLE children (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, parent_id bigint REFERENCES parents (id), code text, deleted_at timestamptz);
INSERT INTO parents SELECT generate_series(1, 10);
INSERT INTO children (parent_id, code) SELECT 1 + g % 10, 'c' || g FROM generate_series(1, 20000) g;
CREATE INDEX children_parent_id_idx ON children (parent_id);
-- a unique index whose column is a prefix of another index: it enforces something
CREATE UNIQUE INDEX children_code_key ON children (code);
CREATE INDEX children_code_parent_idx ON children (code, parent_id);
-- same columns, different predicates or methods: not duplicates
CREATE INDEX children_live_code_idx ON children (code) WHERE deleted_at IS NULL;
CREATE INDEX children_code_hash_idx ON children USING hash (code);
-- another collation is another key
CREATE INDEX children_code_c_idx ON children (code COLLATE \"C\", parent_id);
-- a bigint identity far into its range; a validated constraint
SELECT setval(pg_get_serial_sequence('children', 'id'), 5000000000);
ALTER TABLE children ADD CONSTRAINT children_code_check CHECK (code <> '') NOT VALID;
ALTER TABLE children VALIDATE CONSTRAINT children_code_check;
ANALYZE;
",
        Path::new("."),
    );
    assert!(failed.is_empty(), "{failed:?}");
    let settings = settings(Some("[audit]\nunused_index_min_bytes = 0\n"));
    let schema = catalog::load(&mut c, &LoadOptions::default()).unwrap();
    let diagnostics = audit::judge(&schema, None, &settings);
    let live: Vec<String> = listing(&diagnostics)
        .into_iter()
        .filter(|l| {
            let rule = l.split(' ').nth(1).unwrap_or_default();
            RULES.iter().any(|r| r.name == rule && matches!(r.kind, Kind::Live(_)))
        })
        .collect();
    // Never scanned and not unique: the only report expected is the unused (two-column and
    // partial and hash) indexes; nothing else.
    assert_eq!(
        live,
        [
            "info unused-index public.children.children_code_c_idx",
            "info unused-index public.children.children_code_hash_idx",
            "info unused-index public.children.children_code_parent_idx",
            "info unused-index public.children.children_live_code_idx",
        ],
        "{live:#?}"
    );
    // The index model: the collated key is an expression, INCLUDE-free keys, the predicate.
    let idx = |n: &str| &schema.indexes[&dbwarden::schema::QualName { schema: "public".into(), name: n.into() }];
    assert_eq!(
        idx("children_code_c_idx").keys,
        [
            dbwarden::parse::ir::IndexKey::Expr("code COLLATE \"C\"".into()),
            dbwarden::parse::ir::IndexKey::Column("parent_id".into())
        ]
    );
    assert_eq!(idx("children_live_code_idx").predicate.as_deref(), Some("deleted_at IS NULL"));
    assert_eq!(idx("children_code_hash_idx").method, "hash");
    // Offline, live-only rules say nothing: an index built `ON ONLY` a partitioned table is
    // invalid in the model too, but only the live catalog judges validity.
    let offline = dbwarden::pipeline::lint(
        vec![SourceFile::new(
            "m.sql",
            "CREATE TABLE m (id bigint, at date) PARTITION BY RANGE (at);\nCREATE INDEX m_at_idx ON ONLY m (at);\nALTER TABLE m ADD CONSTRAINT m_id_check CHECK (id > 0) NOT VALID;\n",
        )],
        &settings,
    );
    assert!(
        !offline.diagnostics.iter().any(|d| matches!(d.rule.def().kind, Kind::Live(_))),
        "{:?}",
        offline.diagnostics.iter().map(|d| d.rule).collect::<Vec<_>>()
    );
}
