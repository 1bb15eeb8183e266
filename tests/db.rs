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
    // Debian's default server certificate ("snakeoil") names `localhost` only, so from
    // 127.0.0.1 verification must fail (whether or not its store trusts the certificate).
    let t = Target::resolve(Some(&with_param(&server_url(), "sslmode=verify-full"))).unwrap();
    let err = t.connect().err().expect("connection must fail").to_string();
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn verify_ca_trusts_the_chain_and_ignores_the_host_name() {
    let Some(_db) = TestDb::create("tlsca") else { return };
    let mut admin = Target::resolve(Some(&server_url())).unwrap().connect().unwrap();
    let ssl_on: String = admin.query_one("SHOW ssl", &[]).unwrap().get(0);
    let cert: String = admin.query_one("SHOW ssl_cert_file", &[]).unwrap().get(0);
    let cert = std::path::Path::new(&cert);
    let cert = if cert.is_absolute() {
        cert.to_path_buf()
    } else {
        let data: String = admin.query_one("SHOW data_directory", &[]).unwrap().get(0);
        std::path::Path::new(&data).join(cert)
    };
    if ssl_on != "on" || std::fs::read(&cert).is_err() {
        eprintln!("note: server has no TLS or its certificate is not readable; verify-ca not exercised");
        return;
    }
    let url = |mode: &str, root: Option<&std::path::Path>| {
        let mut u = with_param(&server_url(), &format!("sslmode={mode}"));
        if let Some(r) = root {
            u = with_param(&u, &format!("sslrootcert={}", r.display()));
        }
        Target::resolve(Some(&u)).unwrap()
    };
    // The server's own (self-signed) certificate as the root: the chain is trusted. Debian's
    // certificate names the machine or `localhost`, not 127.0.0.1, so only the name differs.
    let mut c = url("verify-ca", Some(&cert)).connect().expect("verify-ca with the server's certificate as root");
    let encrypted: bool = c.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0);
    assert!(encrypted);
    if server_url().contains("127.0.0.1") {
        let err =
            url("verify-full", Some(&cert)).connect().err().expect("the name 127.0.0.1 is not in the certificate");
        assert!(err.to_string().contains("cannot connect"), "{err}");
    }
    // With another root (a public CA from the system's bundle), the chain is not trusted.
    // (Without sslrootcert the system's store is used, and Debian links its self-signed server
    // certificate into /etc/ssl/certs, so that would be trusted, as by OpenSSL.)
    let bundle = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    if let Some(end) = bundle.find("-----END CERTIFICATE-----") {
        let other = std::env::temp_dir().join(format!("dbwarden-other-root-{}.pem", std::process::id()));
        std::fs::write(&other, &bundle[..end + "-----END CERTIFICATE-----\n".len()]).unwrap();
        let err = url("verify-ca", Some(&other)).connect().err().expect("verify-ca must check the chain");
        assert!(err.to_string().contains("cannot connect"), "{err}");
        let _ = std::fs::remove_file(&other);
    }
}
