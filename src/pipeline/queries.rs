//! The query run (`dbwarden lint --queries`): the query rules on each captured query (once per
//! fingerprint and log file), then on the whole capture, then [`finish`].
//!
//! Each query is parsed with sqlparser (PostgreSQL dialect); a rule sees the parsed statement
//! (or `None` when sqlparser cannot parse it: token-level rules still run), the schema and the
//! settings. Findings are anchored at the query's [`crate::queries::Anchor`]. Messages never
//! quote a value from a log: rules name tables, columns and the normalised query only.

use crate::diagnostic::Impact;
use std::collections::{HashMap, HashSet};

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::finish::{finish, guarded};
use super::suppress::{Scope, Suppressions};
use crate::diagnostic::Diagnostic;
use crate::queries::QuerySet;
use crate::rules::{CaptureCtx, Kind, QueryCtx, QueryOptions, RULES, RuleId, Settings, Sink};
use crate::schema::Schema;

/// The longest query text parsed into a syntax tree, bytes.
pub const AST_LIMIT: usize = 256 << 10;

/// Parses one query; `None` when sqlparser cannot, or when the text holds other than one statement.
pub fn parse(text: &str) -> Option<Statement> {
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, text).ok()?;
    (stmts.len() == 1).then(|| stmts.remove(0))
}

/// Runs the enabled query rules over `set`. Findings' `file` indexes `set.files`; the caller adds
/// the number of files that come before them in its report. Severity, help and enabled rules are
/// applied as for migrations.
pub fn lint_queries(set: &QuerySet, schema: &Schema, settings: &Settings, options: &QueryOptions) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: HashSet<(usize, &str)> = HashSet::new();
    for q in &set.queries {
        // Repeats in one log or export are judged once; every statement of a .sql file is judged.
        if q.origin.is_sensitive() && !seen.insert((q.anchor.file, q.fingerprint.as_str())) {
            continue;
        }
        // sqlparser needs about 100 bytes per token: a query of megabytes (a logged IN list of
        // millions of ids) is parsed in its normalised form, where such lists are one `$n`,
        // and not at all when even that is too large.
        let text = if q.text.len() <= AST_LIMIT {
            Some(q.text.as_str())
        } else {
            (q.normalised.len() <= AST_LIMIT).then_some(q.normalised.as_str())
        };
        if text.is_none() {
            Sink::new(RuleId::SyntaxError, q.anchor.file, q.anchor.span.clone(), &mut out)
                .report(
                    None,
                    format!(
                        "the query is {} bytes ({} normalised), over the {AST_LIMIT} bytes dbwarden parses; only token-level query rules judged it",
                        q.text.len(),
                        q.normalised.len()
                    ),
                )
                .impact(Impact::Lower);
        }
        let parsed = text.and_then(parse);
        if text.is_some() && parsed.is_none() {
            let mut sink = Sink::new(RuleId::SyntaxError, q.anchor.file, q.anchor.span.clone(), &mut out);
            let r = sink.report(None, "cannot parse this query; only token-level query rules judged it");
            if q.origin.is_sensitive() {
                // Logs hold what the server accepted: sqlparser's gap, not the application's.
                r.impact(Impact::Lower).help("if PostgreSQL accepts it, suppress this finding with `[lint] ignore`");
            } else {
                r.help("fix the query, or suppress this finding if PostgreSQL accepts it");
            }
        }
        let ctx = QueryCtx { query: q, stmt: parsed.as_ref(), schema, settings, options };
        for rule in RULES {
            let Kind::Query(r) = rule.kind else { continue };
            if settings.enabled[rule.id.index()] {
                guarded(&mut out, rule.id, q.anchor.file, q.anchor.span.clone(), |sink| r.check(&ctx, sink));
            }
        }
    }
    let ctx = CaptureCtx { queries: set, schema, settings, options };
    for rule in RULES {
        let Kind::Query(r) = rule.kind else { continue };
        if settings.enabled[rule.id.index()] {
            guarded(&mut out, rule.id, 0, 0..0, |sink| r.check_all(&ctx, sink));
        }
    }
    let ran = |r: RuleId| matches!(r.def().kind, Kind::Query(_) | Kind::Builtin);
    let mut out = finish(out, settings, suppressions(set), &ran);
    attach_query_info(set, options.show_values, &mut out);
    out
}

/// The suppressions of the capture's `.sql` files (logs and exports hold what the application
/// sent, not annotations).
pub(super) fn suppressions(set: &QuerySet) -> Suppressions {
    let mut sups = Suppressions::default();
    let mut seen = HashSet::new();
    for q in set.queries.iter().filter(|q| !q.origin.is_sensitive()) {
        if !seen.insert(q.anchor.file) {
            continue;
        }
        let text = &set.files[q.anchor.file].text;
        let split = crate::parse::split::split(text);
        let scopes: Vec<Scope> = split
            .stmts
            .iter()
            .map(|s| Scope { range: s.range.clone(), leading_comments: s.leading_comments.clone() })
            .collect();
        sups.add_file(q.anchor.file, text, &split.comments, &scopes);
    }
    sups
}

/// Every finding on a query carries its fingerprint, calls and total time (summed over the
/// repeats in its file) and its display text.
fn attach_query_info(set: &QuerySet, show_values: bool, out: &mut [Diagnostic]) {
    let mut first: HashMap<(usize, usize), usize> = HashMap::new();
    // (file, fingerprint) -> (calls, total ms)
    type Totals<'q> = HashMap<(usize, &'q str), (Option<u64>, Option<f64>)>;
    let mut totals: Totals<'_> = HashMap::new();
    for (i, q) in set.queries.iter().enumerate() {
        first.entry((q.anchor.file, q.anchor.span.start)).or_insert(i);
        let t = totals.entry((q.anchor.file, q.fingerprint.as_str())).or_insert((None, None));
        if let Some(c) = q.calls {
            t.0 = Some(t.0.unwrap_or(0) + c);
        }
        if let Some(ms) = q.total_ms {
            t.1 = Some(t.1.unwrap_or(0.0) + ms);
        }
    }
    for d in out {
        let Some(&i) = first.get(&(d.file, d.span.start)) else { continue };
        let q = &set.queries[i];
        let (calls, total_ms) = totals[&(q.anchor.file, q.fingerprint.as_str())];
        d.query = Some(Box::new(crate::diagnostic::QueryInfo {
            fingerprint: q.fingerprint.clone(),
            name: q.name.clone(),
            calls,
            total_ms: total_ms.map(|t| (t * 1000.0).round() / 1000.0),
            text: bounded(q.display(show_values)),
        }));
    }
}

/// The most of a query's text a finding carries (the whole query is in its file).
pub const QUERY_TEXT_LIMIT: usize = 4096;

/// `text`, cut at [`QUERY_TEXT_LIMIT`] bytes on a character boundary, with `…` where cut.
fn bounded(text: &str) -> String {
    if text.len() <= QUERY_TEXT_LIMIT {
        return text.to_owned();
    }
    let mut end = QUERY_TEXT_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
