use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct PoolerIncompatible;

/// Session-level advisory lock functions (the `_xact_` variants end with the transaction).
const SESSION_LOCKS: &[&str] = &[
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
];

/// Whether `text` calls `name(`: preceded by a non-identifier character (or a schema dot).
fn calls<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let mut from = 0;
    while let Some(p) = text[from..].find(name) {
        let at = from + p;
        let before_ok = text[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = &text[at + name.len()..];
        if before_ok && let Some(args) = after.strip_prefix('(') {
            return Some(args);
        }
        from = at + name.len();
    }
    None
}

/// The arguments up to the matching parenthesis, split at top-level commas.
fn args(after_paren: &str) -> Vec<&str> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in after_paren.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                out.push(after_paren[start..i].trim());
                return out;
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(after_paren[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out
}

/// What in the query keeps state on the server connection, if anything.
pub(crate) fn session_state(normalised: &str) -> Option<String> {
    let words: Vec<String> = normalised
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    match w(0) {
        "SET" if !matches!(w(1), "LOCAL" | "TRANSACTION" | "CONSTRAINTS") => {
            let name = if w(1) == "SESSION" { w(2) } else { w(1) };
            return Some(format!("session-level `SET {}` (not `SET LOCAL`)", name.to_ascii_lowercase()));
        }
        "LISTEN" => return Some("`LISTEN`".into()),
        "PREPARE" => return Some("SQL-level `PREPARE`".into()),
        "DEALLOCATE" => return Some("SQL-level `DEALLOCATE`".into()),
        "LOAD" => return Some("`LOAD`".into()),
        "DECLARE" => {
            let until_for = words.iter().position(|x| x == "FOR").unwrap_or(words.len());
            if words[..until_for].windows(2).any(|p| p[0] == "WITH" && p[1] == "HOLD") {
                return Some("a cursor `WITH HOLD`".into());
            }
        }
        "CREATE" => {
            let temp = words.iter().take(4).any(|x| x == "TEMP" || x == "TEMPORARY");
            let table = words.iter().take(5).any(|x| x == "TABLE");
            let drop = words.windows(3).any(|p| p[0] == "ON" && p[1] == "COMMIT" && p[2] == "DROP");
            if temp && table && !drop {
                return Some("a temporary table without `ON COMMIT DROP`".into());
            }
        }
        _ => {}
    }
    let lower = normalised.to_ascii_lowercase();
    for f in SESSION_LOCKS {
        if calls(&lower, f).is_some() {
            return Some(format!("the session-level advisory lock function `{f}`"));
        }
    }
    if let Some(a) = calls(&lower, "set_config")
        && args(a).get(2).is_some_and(|x| *x == "false")
    {
        return Some("`set_config(..., false)` (session scope)".into());
    }
    None
}

impl QueryRule for PoolerIncompatible {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        if let Some(what) = session_state(&ctx.query.normalised) {
            sink.report(
                None,
                format!("{what} keeps state on the server connection, which a transaction-mode pooler (PgBouncer) gives to other clients"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::session_state;
    use crate::queries::normalise;

    fn s(q: &str) -> Option<String> {
        session_state(&normalise(q))
    }

    #[test]
    fn shapes() {
        assert!(s("SET search_path = app").is_some());
        assert!(s("set session statement_timeout to '5s'").is_some());
        assert!(s("SET LOCAL statement_timeout = '5s'").is_none());
        assert!(s("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").is_none());
        assert!(s("LISTEN jobs").is_some());
        assert!(s("PREPARE q (int) AS SELECT $1").is_some());
        assert!(s("DEALLOCATE ALL").is_some());
        assert!(s("DECLARE c CURSOR WITH HOLD FOR SELECT 1").is_some());
        assert!(s("DECLARE c CURSOR FOR SELECT 1").is_none());
        assert!(s("CREATE TEMP TABLE t (id int)").is_some());
        assert!(s("CREATE TEMP TABLE t (id int) ON COMMIT DROP").is_none());
        assert!(s("LOAD 'auto_explain'").is_some());
        assert!(s("SELECT pg_advisory_lock(42)").is_some());
        assert!(s("SELECT pg_advisory_xact_lock(42)").is_none());
        assert!(s("SELECT set_config('app.tenant', '7', false)").is_some());
        assert!(s("SELECT set_config('app.tenant', '7', true)").is_none());
        assert!(s("SELECT my_set_config('a', 'b', false)").is_none());
    }
}
