//! Database connections for `explain` and `audit`: the target from a URL, `DATABASE_URL` or the
//! libpq variables, TLS by `sslmode` (rustls), and errors that never contain the password.

mod tls;

use std::str::FromStr;

use postgres::Client;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database: give --database-url, or set DATABASE_URL or the PG* variables")]
    NoTarget,
    #[error(
        "--database-url is empty: give a connection string, or leave the option out to use DATABASE_URL or the PG* variables"
    )]
    EmptyUrl,
    #[error("invalid connection string {target}: {message}")]
    Config { target: String, message: String },
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("{message}")]
    Query { message: String },
}

/// Where to connect, with the password kept out of every message.
#[derive(Clone)]
pub struct Target {
    config: postgres::Config,
    ssl: SslMode,
    root_cert: Option<String>,
    /// The connection string with the password replaced by `***`.
    redacted: String,
    password: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("target", &self.redacted).field("sslmode", &self.ssl).finish_non_exhaustive()
    }
}

/// What [`redact`] prints for a connection string it cannot parse: none of it.
pub const UNPARSEABLE: &str = "<unparseable connection string>";

/// The connection string for messages, with every password (`password`, `sslpassword`, the
/// userinfo of a URL) replaced by `***`. It is parsed as libpq and the driver parse it and
/// rebuilt from the parts; a string that cannot be parsed is not printed at all
/// ([`UNPARSEABLE`]).
pub fn redact(conn: &str) -> String {
    let parsed = if let Some(rest) = conn.strip_prefix("postgres://").or_else(|| conn.strip_prefix("postgresql://")) {
        redact_uri(&conn[..conn.len() - rest.len()], rest)
    } else {
        redact_key_values(conn)
    };
    parsed.unwrap_or_else(|| UNPARSEABLE.to_owned())
}

/// Whether a parameter holds a secret (`password`, `sslpassword`, any spelling of either).
fn is_secret_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

/// `%XX` decoded (bytes, lossily as UTF-8), as libpq decodes URI parts.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `scheme://[user[:password]@][hosts][/dbname][?key=value&...]`. The userinfo ends at the last
/// `@` before the first `/` (libpq), or at the first `@` anywhere when that is later (the
/// driver reads `u:pa/ss@h` so): either way no part of a password is left outside it.
fn redact_uri(scheme: &str, rest: &str) -> Option<String> {
    let first_slash = rest.find('/').unwrap_or(rest.len());
    let libpq_at = rest[..first_slash].rfind('@');
    let driver_at = rest.find('@');
    let at = libpq_at.max(driver_at);
    let mut out = scheme.to_owned();
    let after = match at {
        Some(at) => {
            let userinfo = &rest[..at];
            // An `@` after a `?` may be in a query value (`?password=a@b`), where libpq reads it
            // and the driver does not: too ambiguous to print any of it.
            if userinfo.contains('?') {
                return None;
            }
            let (user, password) = match userinfo.split_once(':') {
                Some((u, _)) => (u, true),
                None => (userinfo, false),
            };
            // A "user" that holds URI punctuation is a misread query string: print none of it.
            if user.contains(['/', '?', '&', '=']) || is_secret_key(&percent_decode(user)) {
                out.push_str("***");
            } else {
                out.push_str(user);
                if password {
                    out.push_str(":***");
                }
            }
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    let (path, query) = match after.find('?') {
        Some(q) => (&after[..q], Some(&after[q + 1..])),
        None => (after, None),
    };
    out.push_str(path);
    if let Some(query) = query {
        out.push('?');
        for (n, pair) in query.split('&').enumerate() {
            let (key, _) = pair.split_once('=')?;
            if n > 0 {
                out.push('&');
            }
            out.push_str(key);
            out.push('=');
            if is_secret_key(&percent_decode(key)) {
                out.push_str("***");
            } else {
                out.push_str(&pair[key.len() + 1..]);
            }
        }
    }
    Some(out)
}

/// One `key = value` of a key/value connection string: byte ranges of the key, of the value as
/// written (with its quotes), and of the whole pair.
struct KvPair {
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

/// `key = value ...` as libpq reads it: spaces around `=` allowed, values single-quoted (with
/// `\'` and `\\` escapes) or bare up to the next space (with `\` escapes). `None` when the
/// string is not one.
fn kv_pairs(s: &str) -> Option<Vec<KvPair>> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i == b.len() {
            break;
        }
        let key_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let key = key_start..i;
        skip_ws(&mut i);
        if key.is_empty() || b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        skip_ws(&mut i);
        let value_start = i;
        if b.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'\\') => i += 2,
                    Some(b'\'') => break,
                    Some(_) => i += 1,
                }
            }
            i += 1;
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            if i == value_start {
                return None;
            }
        }
        // A backslash at the very end, or one before a multi-byte character: not a string libpq
        // and the driver agree on.
        s.get(value_start..i).filter(|_| i <= b.len())?;
        out.push(KvPair { key, value: value_start..i });
    }
    Some(out)
}

/// A value as written, without its quotes and escapes.
fn kv_unquote(raw: &str) -> String {
    let inner = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap_or(c) } else { c });
    }
    out
}

/// The key/value string rebuilt with every password masked.
fn redact_key_values(s: &str) -> Option<String> {
    let pairs = kv_pairs(s)?;
    let mut out = String::with_capacity(s.len());
    for p in pairs {
        if !out.is_empty() {
            out.push(' ');
        }
        let key = &s[p.key];
        out.push_str(key);
        out.push('=');
        out.push_str(if is_secret_key(key) { "***" } else { &s[p.value] });
    }
    Some(out)
}

/// Removes `name=value` from a URL query string or key/value string; returns the value.
fn take_param(conn: &mut String, name: &str) -> Option<String> {
    // Key/value strings are parsed as libpq parses them (`sslmode = require` has spaces), so
    // that the sslmode asked for is the one used.
    if !conn.starts_with("postgres://") && !conn.starts_with("postgresql://") {
        let pairs = kv_pairs(conn)?;
        let p = pairs.iter().rev().find(|p| conn[p.key.clone()].eq_ignore_ascii_case(name))?;
        let value = kv_unquote(&conn[p.value.clone()]);
        conn.replace_range(p.key.start..p.value.end, "");
        return Some(value);
    }
    let key = format!("{name}=");
    let lower = conn.to_ascii_lowercase();
    let mut p = 0;
    while let Some(found) = lower[p..].find(&key) {
        let at = p + found;
        let boundary = at == 0 || matches!(conn.as_bytes()[at - 1], b'?' | b'&' | b' ' | b'\t');
        if !boundary {
            p = at + key.len();
            continue;
        }
        let vstart = at + key.len();
        let vend = conn[vstart..].find(['&', ' ', '\t']).map_or(conn.len(), |e| vstart + e);
        let value = conn[vstart..vend].trim_matches('\'').to_owned();
        // Remove the pair and one separator.
        let (rs, re) = if vend < conn.len() && conn.as_bytes()[vend] == b'&' {
            (at, vend + 1)
        } else if at > 0 && matches!(conn.as_bytes()[at - 1], b'&' | b'?') {
            let sep = conn.as_bytes()[at - 1];
            if sep == b'?' && vend == conn.len() { (at - 1, vend) } else { (at - 1 + usize::from(sep == b'?'), vend) }
        } else {
            (at, vend)
        };
        conn.replace_range(rs..re, "");
        return Some(value);
    }
    None
}

impl Target {
    /// The target from `url`, else `DATABASE_URL`, else the libpq variables (`PGHOST`, `PGPORT`,
    /// `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`, `PGSSLROOTCERT`).
    pub fn resolve(url: Option<&str>) -> Result<Self, DbError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        // An empty string would connect to the defaults (localhost) without a word.
        if url.is_some_and(|u| u.trim().is_empty()) {
            return Err(DbError::EmptyUrl);
        }
        let (mut conn, from_env) = match url.map(str::to_owned).or_else(|| env("DATABASE_URL")) {
            Some(u) => (u, false),
            None => {
                let vars = ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"];
                if vars.iter().all(|v| env(v).is_none()) {
                    return Err(DbError::NoTarget);
                }
                (String::new(), true)
            }
        };
        let ssl_param = take_param(&mut conn, "sslmode");
        let root_param = take_param(&mut conn, "sslrootcert");
        let redacted = if from_env {
            let user = env("PGUSER").unwrap_or_else(|| "postgres".into());
            let pw = if env("PGPASSWORD").is_some() { ":***" } else { "" };
            format!(
                "postgres://{user}{pw}@{}:{}/{}",
                env("PGHOST").unwrap_or_else(|| "localhost".into()),
                env("PGPORT").unwrap_or_else(|| "5432".into()),
                env("PGDATABASE").unwrap_or_else(|| user.clone())
            )
        } else {
            redact(&conn)
        };
        let mut config = if from_env {
            postgres::Config::new()
        } else {
            postgres::Config::from_str(&conn).map_err(|e| DbError::Config {
                target: redacted.clone(),
                message: config_error_text(&error_text(&e), &conn),
            })?
        };
        // libpq variables fill what the string leaves out.
        if config.get_hosts().is_empty() {
            config.host(&env("PGHOST").unwrap_or_else(|| "localhost".into()));
        }
        if config.get_ports().is_empty()
            && let Some(p) = env("PGPORT")
        {
            let port = p.parse().map_err(|_| DbError::Config {
                target: redacted.clone(),
                message: format!("PGPORT {p} is not a port"),
            })?;
            config.port(port);
        }
        if config.get_user().is_none() {
            config.user(&env("PGUSER").unwrap_or_else(|| "postgres".into()));
        }
        if config.get_dbname().is_none()
            && let Some(d) = env("PGDATABASE")
        {
            config.dbname(&d);
        }
        if config.get_password().is_none()
            && let Some(p) = env("PGPASSWORD")
        {
            config.password(&p);
        }
        config.application_name("dbwarden");
        let ssl_text = ssl_param.or_else(|| env("PGSSLMODE")).unwrap_or_else(|| "prefer".into());
        let ssl = SslMode::parse(&ssl_text).ok_or_else(|| DbError::Config {
            target: redacted.clone(),
            message: format!("unknown sslmode `{ssl_text}`"),
        })?;
        let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
        Ok(Self { config, ssl, root_cert: root_param.or_else(|| env("PGSSLROOTCERT")), redacted, password })
    }

    /// The target with the password replaced by `***`, for messages.
    pub fn display(&self) -> &str {
        &self.redacted
    }

    pub fn ssl_mode(&self) -> SslMode {
        self.ssl
    }

    /// The connection string of another database on the same server (for tests and tools).
    pub fn with_dbname(&self, dbname: &str) -> Self {
        let mut t = self.clone();
        t.config.dbname(dbname);
        t
    }

    /// Removes the password from an error message, in case a driver or server echoes it.
    pub fn scrub(&self, message: &str) -> String {
        scrub(message, self.password.as_deref(), "")
    }

    /// Connects, with TLS as `sslmode` asks.
    pub fn connect(&self) -> Result<Client, DbError> {
        let connect_err = |e: String| DbError::Connect { target: self.redacted.clone(), message: self.scrub(&e) };
        let mut config = self.config.clone();
        match self.ssl {
            SslMode::Disable => {
                config.ssl_mode(postgres::config::SslMode::Disable);
                config.connect(postgres::NoTls).map_err(|e| connect_err(error_text(&e)))
            }
            mode => {
                let pg_mode = match mode {
                    SslMode::Allow | SslMode::Prefer => postgres::config::SslMode::Prefer,
                    _ => postgres::config::SslMode::Require,
                };
                config.ssl_mode(pg_mode);
                let tls = tls::connector(mode, self.root_cert.as_deref()).map_err(connect_err)?;
                config.connect(tls).map_err(|e| connect_err(error_text(&e)))
            }
        }
    }
}

/// The error with its cause chain (postgres errors keep the useful part in the source).
pub fn error_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_owned();
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    s
}

/// The driver's message about a connection string it cannot parse, without the character it
/// quotes (`expected `=` but got `h``: a character of the string, maybe of the password).
fn config_error_text(message: &str, conn: &str) -> String {
    let message = message.split_once(" but got").map_or(message, |(head, _)| head);
    scrub(message, None, conn)
}

fn scrub(message: &str, password: Option<&str>, conn: &str) -> String {
    let mut m = message.to_owned();
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        m = m.replace(p, "***");
    }
    if !conn.is_empty() {
        m = m.replace(conn, &redact(conn));
    }
    m
}

/// Roles whose members can act outside any transaction: end sessions, write or read server
/// files, run server programs.
const POWERFUL_ROLES: &[&str] =
    &["pg_signal_backend", "pg_write_server_files", "pg_read_server_files", "pg_execute_server_program"];

/// What the connected role (or `role`, which the session will `SET ROLE` to) may do beyond
/// reading: a warning to print, or `None` for a least-privilege role. Errors when `role` does not
/// exist or the session cannot switch to it.
pub fn privilege_warning(client: &mut Client, role: Option<&str>) -> Result<Option<String>, DbError> {
    let q = |e: postgres::Error| DbError::Query { message: error_text(&e) };
    let row = client
        .query_opt(
            "SELECT r.rolname::text, r.rolsuper, pg_has_role(current_user, r.oid, 'MEMBER'),
                    array(SELECT g FROM unnest($2::text[]) g WHERE pg_has_role(r.oid, g, 'MEMBER'))
             FROM pg_roles r WHERE r.rolname = coalesce($1, current_user)",
            &[&role, &POWERFUL_ROLES],
        )
        .map_err(q)?;
    let Some(row) = row else {
        return Err(DbError::Query { message: format!("role `{}` does not exist", role.unwrap_or_default()) });
    };
    let (name, superuser, can_switch, groups): (String, bool, bool, Vec<String>) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if role.is_some() && !can_switch {
        return Err(DbError::Query {
            message: format!("the connected role is not a member of `{name}`, so it cannot SET ROLE to it"),
        });
    }
    let what = if superuser {
        "a superuser".to_owned()
    } else if groups.is_empty() {
        return Ok(None);
    } else {
        format!("a member of {}", groups.iter().map(|g| format!("`{g}`")).collect::<Vec<_>>().join(", "))
    };
    Ok(Some(format!(
        "running as `{name}`, {what}: a mistake or a bug could reach beyond the database's rows; use a role with only SELECT and pg_read_all_stats (docs/explain.md, \"A least-privilege role\"){}",
        if role.is_none() { ", or --role" } else { "" }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cr3t@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require"
        );
        assert_eq!(redact("postgresql://app@db/x"), "postgresql://app@db/x");
        assert_eq!(redact("host=db password=s3cr3t user=app"), "host=db password=*** user=app");
        assert_eq!(redact("host=db password='s 3' user=app"), "host=db password=*** user=app");
        assert_eq!(redact("postgres://db/x?user=app&password=s3cr3t"), "postgres://db/x?user=app&password=***");
    }

    /// Each spelling libpq or the driver accepts, and what neither can parse (issue 15).
    #[test]
    fn passwords_are_redacted_in_every_spelling() {
        let cases = [
            // Key/value: spaces around `=`, a space after it, `sslpassword`.
            ("host=db password = 'hunter2' user=app", "host=db password=*** user=app"),
            ("host=db password= hunter2 user=app", "host=db password=*** user=app"),
            ("host=db password =hunter2", "host=db password=***"),
            ("host=db sslpassword=hunter2 sslmode=require", "host=db sslpassword=*** sslmode=require"),
            ("  host = db\tpassword\t=\t'hun ter2'  ", "host=db password=***"),
            // Quoted values with escapes: `\'` does not end the value.
            ("password='it\\'s hunter2' host=db", "password=*** host=db"),
            ("password='a\\\\' host=db", "password=*** host=db"),
            ("password=hun\\ ter2 host=db", "password=*** host=db"),
            // URLs: the userinfo runs to the last `@` (a password with `@`), or holds a `/`.
            ("postgres://u:pa@ss@db/x", "postgres://u:***@db/x"),
            ("postgresql://u:p%40ss@db:5/x", "postgresql://u:***@db:5/x"),
            ("postgres://u:pa/ss@db/x", "postgres://u:***@db/x"),
            ("postgres://db/x?sslpassword=hunter2&password=hunter2", "postgres://db/x?sslpassword=***&password=***"),
            ("postgres://db/x?pass%77ord=hunter2", "postgres://db/x?pass%77ord=***"),
        ];
        for (conn, want) in cases {
            let got = redact(conn);
            assert_eq!(got, want, "{conn}");
            assert!(!got.contains("hun") && !got.contains("ter2") && !got.contains("ss@"), "{conn} -> {got}");
        }
        for conn in [
            "mysql://u:hunter2@db/x",
            "password='hunter2",
            "password=",
            "host=db hunter2",
            "hunter2",
            "postgres://u:hunter2@db/x?password",
            "password='hunter2\\",
            "postgres://db/x?password=hun@ter2",
            "postgres://db:5/x?password=hun@ter2",
            "postgres://u:hun?ter2@db/x",
        ] {
            assert_eq!(redact(conn), UNPARSEABLE, "{conn}");
        }
        // The whole error, not only the target, keeps the password out.
        for conn in ["host=db password = 'hunter2' port=notaport", "postgres://u:hunter2@db:notaport/x", "hunter2 x"] {
            let err = Target::resolve(Some(conn)).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn sslmode_is_taken_out_of_the_url() {
        let mut u = "postgres://a:b@h/d?sslmode=verify-full&application_name=x".to_owned();
        assert_eq!(take_param(&mut u, "sslmode").as_deref(), Some("verify-full"));
        assert_eq!(u, "postgres://a:b@h/d?application_name=x");
        let mut u = "postgres://a:b@h/d?sslmode=require".to_owned();
        assert_eq!(take_param(&mut u, "sslmode").as_deref(), Some("require"));
        assert_eq!(u, "postgres://a:b@h/d");
        let mut u = "host=h sslmode=disable user=u".to_owned();
        assert_eq!(take_param(&mut u, "sslmode").as_deref(), Some("disable"));
        // Spaces around `=` and quotes, as libpq allows: the mode is still taken (before, it was
        // left to the driver and `prefer` replaced `require`).
        for (conn, mode) in [
            ("host=h sslmode = require user=u", "require"),
            ("host=h sslmode= 'verify-full' password='a sslmode=disable'", "verify-full"),
            ("sslmode =disable", "disable"),
        ] {
            let mut u = conn.to_owned();
            assert_eq!(take_param(&mut u, "sslmode").as_deref(), Some(mode), "{conn}");
            assert!(kv_pairs(&u).is_some_and(|p| p.iter().all(|p| &u[p.key.clone()] != "sslmode")), "{u}");
        }
        let t = Target::resolve(Some("host=h sslmode = require user=u")).unwrap();
        assert_eq!(t.ssl_mode(), SslMode::Require);
        let t = Target::resolve(Some("host=h password='x sslmode=disable' sslmode = verify-full")).unwrap();
        assert_eq!(t.ssl_mode(), SslMode::VerifyFull);
        assert!(Target::resolve(Some("postgres://a:pw@h/d?sslmode=verify-full")).is_ok());
        let err = Target::resolve(Some("postgres://a:pw@h/d?sslmode=bogus")).unwrap_err().to_string();
        assert!(err.contains("bogus") && !err.contains("pw@"), "{err}");
    }
}
