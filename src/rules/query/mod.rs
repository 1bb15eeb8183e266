//! Query rules: judge captured queries ([`crate::queries`]) against the schema from the migrations.
//!
//! Each query is parsed with sqlparser (PostgreSQL dialect); a rule sees the parsed statement
//! (or `None` when sqlparser cannot parse it: token-level rules still run), the schema and the
//! settings. Findings are anchored at the query's [`crate::queries::Anchor`]. Repeats of a query in
//! a log (same fingerprint, same file) are judged once. Messages never quote a value from a log:
//! rules name tables, columns and the normalised query only.

pub(crate) mod ast_walk;
pub(crate) mod delete_without_where;
pub(crate) mod hard_delete_on_soft_delete_table;
pub(crate) mod large_offset;
pub(crate) mod leading_wildcard_like;
pub(crate) mod missing_soft_delete_filter;
pub(crate) mod n_plus_one;
pub(crate) mod non_sargable_predicate;
pub(crate) mod not_in_subquery;
pub(crate) mod order_by_random;
pub(crate) mod pooler_incompatible;
pub(crate) mod select_star;
pub(crate) mod unindexed_predicate;
pub(crate) mod update_without_where;

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::{Kind, RULES, Settings, lookup};
use crate::diagnostic::{Diagnostic, Sink};
use crate::queries::{CapturedQuery, QuerySet};
use crate::schema::Schema;

/// A rule on captured queries.
pub trait QueryRule: Sync {
    /// Judges one query (once per fingerprint and input file).
    fn check(&self, _ctx: &QueryCtx<'_>, _sink: &mut Sink<'_>) {}
    /// Judges the whole capture (e.g. repeats across queries).
    fn check_all(&self, _ctx: &CaptureCtx<'_>, _sink: &mut Sink<'_>) {}
}

/// Options of a query lint run (`[queries]` in dbwarden.toml, and `--show-values`).
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// `n-plus-one`: executions of one query within one transaction or trace.
    pub n_plus_one_threshold: usize,
    /// `large-offset`: the largest `OFFSET` not reported.
    pub large_offset: u64,
    /// Print values (literals, parameters) from logs in messages.
    pub show_values: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self { n_plus_one_threshold: 10, large_offset: 1000, show_values: false }
    }
}

impl QueryOptions {
    pub fn from_config(c: &crate::queries::QueriesConfig, show_values: bool) -> Self {
        Self { n_plus_one_threshold: c.n_plus_one_threshold.max(2), large_offset: c.large_offset, show_values }
    }
}

/// What a query rule sees.
pub struct QueryCtx<'a> {
    pub query: &'a CapturedQuery,
    /// The parsed statement; `None` when sqlparser cannot parse the query.
    pub stmt: Option<&'a Statement>,
    pub schema: &'a Schema,
    pub settings: &'a Settings,
    pub options: &'a QueryOptions,
}

impl QueryCtx<'_> {
    /// Values may be printed: the query comes from a `.sql` file, or `--show-values`.
    pub fn values_visible(&self) -> bool {
        self.options.show_values || !self.query.origin.is_sensitive()
    }
}

/// What a rule on the whole capture sees.
pub struct CaptureCtx<'a> {
    pub queries: &'a QuerySet,
    pub schema: &'a Schema,
    pub settings: &'a Settings,
    pub options: &'a QueryOptions,
}

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
            Sink::new("syntax-error", q.anchor.file, q.anchor.span.clone(), &mut out)
                .report(
                    None,
                    format!(
                        "the query is {} bytes ({} normalised), over the {AST_LIMIT} bytes dbwarden parses; only token-level query rules judged it",
                        q.text.len(),
                        q.normalised.len()
                    ),
                )
                .lesser();
        }
        let parsed = text.and_then(parse);
        if text.is_some() && parsed.is_none() {
            let mut sink = Sink::new("syntax-error", q.anchor.file, q.anchor.span.clone(), &mut out);
            let r = sink.report(None, "cannot parse this query; only token-level query rules judged it");
            if q.origin.is_sensitive() {
                // Logs hold what the server accepted: sqlparser's gap, not the application's.
                r.lesser().help("if PostgreSQL accepts it, suppress this finding with `[lint] ignore`");
            } else {
                r.help("fix the query, or suppress this finding if PostgreSQL accepts it");
            }
        }
        let ctx = QueryCtx { query: q, stmt: parsed.as_ref(), schema, settings, options };
        for (ri, rule) in RULES.iter().enumerate() {
            let Kind::Query(r) = rule.kind else { continue };
            if !settings.enabled[ri] {
                continue;
            }
            let start = out.len();
            let mut sink = Sink::new(rule.name, q.anchor.file, q.anchor.span.clone(), &mut out);
            if catch_unwind(AssertUnwindSafe(|| r.check(&ctx, &mut sink))).is_err() {
                out.truncate(start);
                Sink::new("internal-error", q.anchor.file, q.anchor.span.clone(), &mut out)
                    .report(None, format!("internal error in rule {} on this query", rule.name));
            }
        }
    }
    let ctx = CaptureCtx { queries: set, schema, settings, options };
    for (ri, rule) in RULES.iter().enumerate() {
        let Kind::Query(r) = rule.kind else { continue };
        if !settings.enabled[ri] {
            continue;
        }
        let start = out.len();
        let mut sink = Sink::new(rule.name, 0, 0..0, &mut out);
        if catch_unwind(AssertUnwindSafe(|| r.check_all(&ctx, &mut sink))).is_err() {
            out.truncate(start);
        }
    }
    apply_suppressions(set, &mut out);
    attach_query_info(set, options.show_values, &mut out);
    for d in &mut out {
        let i = lookup(d.rule).unwrap_or(0);
        d.severity = if d.lesser { settings.severity[i].lower() } else { settings.severity[i] };
        if d.help.is_none() {
            let help = &super::entry(i).help;
            if !help.is_empty() {
                d.help = Some(help.clone());
            }
        }
    }
    out.retain(|d| lookup(d.rule).is_some_and(|i| settings.enabled[i]));
    out.sort_by(|a, b| (a.file, a.span.start, a.rule).cmp(&(b.file, b.span.start, b.rule)));
    out
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

/// `-- dbwarden-ignore: RULE -- reason` before a query of a `.sql` file suppresses RULE for it.
fn apply_suppressions(set: &QuerySet, out: &mut Vec<Diagnostic>) {
    // (file, query start, suppressed rules)
    let mut ignored: Vec<(usize, usize, Vec<String>)> = Vec::new();
    for q in &set.queries {
        if q.origin.is_sensitive() {
            continue;
        }
        let text = &set.files[q.anchor.file].text;
        let split = crate::parse::split::split(text);
        for stmt in split.stmts.iter().filter(|s| s.range.start == q.anchor.span.start) {
            for c in stmt.leading_comments.clone() {
                let r = split.comments[c].clone();
                if let Some(s) = crate::parse::suppress::parse(&text[r.clone()], r) {
                    ignored.push((q.anchor.file, q.anchor.span.start, s.rules));
                }
            }
        }
    }
    out.retain(|d| {
        !ignored
            .iter()
            .any(|(f, start, rules)| *f == d.file && *start == d.span.start && rules.iter().any(|r| r == d.rule))
    });
}
