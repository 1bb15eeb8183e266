//! The connection layer against the real server: sslmode, errors without the password.

mod common;

use common::db::{TestDb, server_url};
use dbwarden::db::Target;

fn with_param(url: &str, kv: &str) -> String {
    if url.contains('?') { format!("{url}&{kv}") } else { format!("{url}?{kv}") }
}

#[test]
fn connects_with_sslmode_disable_and_require() {
    let Some(db) = TestDb::create("conn") else { return };
    let mut c = db.client();
    let one: i32 = c.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(one, 1);
    let t = Target::resolve(Some(&with_param(&server_url(), "sslmode=disable"))).unwrap();
    t.connect().expect("sslmode=disable");
    // The local server may or may not have TLS on; `require` must either encrypt or say why.
    let t = Target::resolve(Some(&with_param(&server_url(), "sslmode=require"))).unwrap();
    let mut admin = Target::resolve(Some(&server_url())).unwrap().connect().unwrap();
    let ssl_on: String = admin.query_one("SHOW ssl", &[]).unwrap().get(0);
    match t.connect() {
        Ok(mut c) => {
            assert_eq!(ssl_on, "on");
            let encrypted: bool =
                c.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0);
            assert!(encrypted, "sslmode=require must encrypt");
        }
        Err(e) => assert_eq!(ssl_on, "off", "require failed although the server has TLS: {e}"),
    }
}

#[test]
fn wrong_password_and_unreachable_host_never_show_the_password() {
    let Some(_db) = TestDb::create("pw") else { return };
    let mut admin = Target::resolve(Some(&server_url())).unwrap().connect().unwrap();
    admin.batch_execute("DO $$ BEGIN CREATE ROLE dbwarden_pw_test LOGIN PASSWORD 'right-horse'; EXCEPTION WHEN duplicate_object THEN NULL; END $$").unwrap();
    // Trust auth may accept any password locally; an unreachable port never does.
    let url = "postgres://dbwarden_pw_test:Sup3rS3cret!@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2";
    let t = Target::resolve(Some(url)).unwrap();
    assert!(!t.display().contains("Sup3rS3cret"));
    let err = t.connect().err().expect("connection must fail").to_string();
    assert!(!err.contains("Sup3rS3cret"), "{err}");
    assert!(err.contains("cannot connect") && err.contains("***"), "{err}");
    let _ = admin.batch_execute("DROP ROLE IF EXISTS dbwarden_pw_test");
}

#[test]
fn verify_full_rejects_an_untrusted_certificate() {
    let Some(_db) = TestDb::create("tls") else { return };
    let mut admin = Target::resolve(Some(&server_url())).unwrap().connect().unwrap();
    let ssl_on: String = admin.query_one("SHOW ssl", &[]).unwrap().get(0);
    if ssl_on != "on" {
        eprintln!("note: server has no TLS; verify-full not exercised");
        return;
    }
    // Debian's default server certificate is self-signed ("snakeoil"): verification must fail.
    let t = Target::resolve(Some(&with_param(&server_url(), "sslmode=verify-full"))).unwrap();
    let err = t.connect().err().expect("connection must fail").to_string();
    assert!(err.contains("cannot connect"), "{err}");
}
