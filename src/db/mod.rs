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

/// Replaces the password of a connection URL (`postgres://user:PASSWORD@host`) or key/value
/// string (`password=PASSWORD`) with `***`.
pub fn redact(conn: &str) -> String {
    if let Some(rest) = conn.strip_prefix("postgres://").or_else(|| conn.strip_prefix("postgresql://")) {
        let scheme = &conn[..conn.len() - rest.len()];
        let (auth_end, rest_start) = match rest.find('@') {
            Some(at) if rest[..at].find('/').is_none() => (at, at),
            _ => return redact_params(conn),
        };
        let userinfo = &rest[..auth_end];
        let userinfo = match userinfo.find(':') {
            Some(c) => format!("{}:***", &userinfo[..c]),
            None => userinfo.to_owned(),
        };
        return redact_params(&format!("{scheme}{userinfo}{}", &rest[rest_start..]));
    }
    redact_params(conn)
}

/// `password=...` in a query string or key/value string.
fn redact_params(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = find_ci(rest, "password=") {
        let boundary = p == 0 || matches!(rest.as_bytes()[p - 1], b'?' | b'&' | b' ' | b'\t');
        out.push_str(&rest[..p + "password=".len()]);
        rest = &rest[p + "password=".len()..];
        if boundary {
            let end = if let Some(quoted) = rest.strip_prefix('\'') {
                quoted.find('\'').map_or(rest.len(), |q| q + 2)
            } else {
                rest.find(['&', ' ', '\t']).unwrap_or(rest.len())
            };
            out.push_str("***");
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// Removes `name=value` from a URL query string or key/value string; returns the value.
fn take_param(conn: &mut String, name: &str) -> Option<String> {
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
                message: scrub(&e.to_string(), None, &conn),
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
        assert!(Target::resolve(Some("postgres://a:pw@h/d?sslmode=verify-full")).is_ok());
        let err = Target::resolve(Some("postgres://a:pw@h/d?sslmode=bogus")).unwrap_err().to_string();
        assert!(err.contains("bogus") && !err.contains("pw@"), "{err}");
    }
}
