//! The lint run: parse files in parallel, replay them in order running statement rules, then
//! schema rules, then apply suppressions and severities.

use std::collections::HashMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;

use super::{Kind, RULES, SchemaCtx, Settings, StmtCtx, lookup};
use crate::diagnostic::{Diagnostic, Sink};
use crate::parse::ir::Action;
use crate::parse::suppress::{self, Suppression};
use crate::parse::{self, ParsedFile, Status};
use crate::schema::{self, FileInfo, Schema};
use crate::source::SourceFile;

/// Counts for `--statistics` and the corpus report.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub files: usize,
    pub statements: usize,
    pub parsed: usize,
    pub recognised: usize,
    pub failed: usize,
    /// Statements understood by the recogniser only, by kind.
    pub recognised_kinds: std::collections::BTreeMap<&'static str, usize>,
}

pub struct LintOutput {
    pub files: Vec<ParsedFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub schema: Schema,
    pub stats: Stats,
}

/// Findings in file order and position; findings on live objects after them, by object.
fn order(a: &Diagnostic, b: &Diagnostic) -> std::cmp::Ordering {
    (a.object.is_some(), &a.object, a.file, a.span.start, a.rule).cmp(&(
        b.object.is_some(),
        &b.object,
        b.file,
        b.span.start,
        b.rule,
    ))
}

fn rule_index(name: &str) -> usize {
    lookup(name).unwrap_or(0)
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Lints `sources`, which are in migration order. Files are parsed in parallel while the
/// replay, which must go in migration order, judges each file as soon as it and all files
/// before it are parsed.
pub fn lint(sources: Vec<SourceFile>, settings: &Settings) -> LintOutput {
    let n = sources.len();
    let mut analyzer = Analyzer::new(settings, n);
    let mut files: Vec<ParsedFile> = Vec::with_capacity(n);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        scope.spawn(move || {
            sources.into_par_iter().enumerate().for_each_with(tx, |tx, (i, source)| {
                let _ = tx.send((i, parse_one(source)));
            });
        });
        let mut pending = std::collections::BTreeMap::new();
        for (i, item) in rx {
            pending.insert(i, item);
            while let Some((file, panic)) = pending.remove(&files.len()) {
                let index = files.len();
                if let Some(msg) = panic {
                    internal_error(&mut analyzer.diagnostics, index, &msg);
                }
                analyzer.file(index, &file);
                files.push(file);
            }
        }
    });
    let analysis = analyzer.finish(&files);
    LintOutput { files, diagnostics: analysis.diagnostics, schema: analysis.schema, stats: analysis.stats }
}

/// Parses one file; a panic leaves the file without statements, and its message.
fn parse_one(source: SourceFile) -> (ParsedFile, Option<String>) {
    let text = AssertUnwindSafe(&source);
    match catch_unwind(|| parse_parts(&text)) {
        Ok((stmts, comments, no_transaction)) => (ParsedFile { source, stmts, comments, no_transaction }, None),
        Err(p) => (
            ParsedFile { source, stmts: Vec::new(), comments: Vec::new(), no_transaction: false },
            Some(panic_message(&*p)),
        ),
    }
}

/// The result of judging parsed files.
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    pub schema: Schema,
    pub stats: Stats,
}

/// Replays parsed files (in migration order) running statement rules, then schema rules, then
/// applies suppressions and severities.
pub fn analyse(files: &[ParsedFile], settings: &Settings) -> Analysis {
    let mut analyzer = Analyzer::new(settings, files.len());
    for (i, file) in files.iter().enumerate() {
        analyzer.file(i, file);
    }
    analyzer.finish(files)
}

/// The replay, one file at a time in migration order.
pub struct Analyzer<'s> {
    settings: &'s Settings,
    schema: Schema,
    diagnostics: Vec<Diagnostic>,
    stats: Stats,
}

impl<'s> Analyzer<'s> {
    pub fn new(settings: &'s Settings, files: usize) -> Self {
        Self {
            settings,
            schema: Schema::default(),
            diagnostics: Vec::new(),
            stats: Stats { files, ..Stats::default() },
        }
    }

    /// Replays the next file (its index in the run is `i`), running statement rules.
    pub fn file(&mut self, i: usize, file: &ParsedFile) {
        let start = self.diagnostics.len();
        let result = catch_unwind(AssertUnwindSafe(|| {
            lint_file(i, file, &mut self.schema, self.settings, &mut self.diagnostics, &mut self.stats);
        }));
        if let Err(p) = result {
            self.diagnostics.truncate(start);
            internal_error(&mut self.diagnostics, i, &panic_message(&*p));
        }
    }

    /// Runs the schema rules on the final model, then suppressions and severities.
    pub fn finish(self, files: &[ParsedFile]) -> Analysis {
        let Self { settings, mut schema, mut diagnostics, stats } = self;
        schema.seal();
        let ctx = SchemaCtx { schema: &schema, settings, migrations: None };
        run_schema_rules(&ctx, false, &mut diagnostics);
        apply_suppressions(files, settings, &mut diagnostics);
        apply_severities(settings, &mut diagnostics);
        diagnostics.sort_by(order);
        diagnostics.dedup_by(|a, b| {
            a.file == b.file && a.span == b.span && a.object == b.object && a.rule == b.rule && a.message == b.message
        });
        Analysis { diagnostics, schema, stats }
    }
}

/// Runs the schema rules (and, with `live`, the live-only rules) on a model.
fn run_schema_rules(ctx: &SchemaCtx<'_>, live: bool, diagnostics: &mut Vec<Diagnostic>) {
    for (ri, rule) in RULES.iter().enumerate() {
        let r = match rule.kind {
            Kind::Schema(r) => r,
            Kind::Live(r) if live => r,
            _ => continue,
        };
        if !ctx.settings.enabled[ri] {
            continue;
        }
        let start = diagnostics.len();
        let mut sink = Sink::new(rule.name, 0, 0..0, diagnostics);
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| r.check(ctx, &mut sink))) {
            diagnostics.truncate(start);
            internal_error(diagnostics, 0, &format!("rule {}: {}", rule.name, panic_message(&*p)));
        }
    }
}

/// Severity from the configuration (one level lower for `lesser` findings, capped by
/// `at_most`), the catalogue's help where the rule gave none; findings of disabled rules dropped.
fn apply_severities(settings: &Settings, diagnostics: &mut Vec<Diagnostic>) {
    for d in diagnostics.iter_mut() {
        let i = rule_index(d.rule);
        d.severity = if d.lesser { settings.severity[i].lower() } else { settings.severity[i] };
        if let Some(cap) = d.at_most {
            d.severity = d.severity.min(cap);
        }
        if d.help.is_none() {
            let help = &super::entry(i).help;
            if !help.is_empty() {
                d.help = Some(help.clone());
            }
        }
    }
    diagnostics.retain(|d| settings.enabled[rule_index(d.rule)]);
}

/// Judges a model loaded from a live database (`dbwarden audit`): the schema rules and the
/// live-only rules; `migrations` is the replayed migrations' model, for `schema-drift`.
pub fn judge_live(schema: &Schema, migrations: Option<&Schema>, settings: &Settings) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let ctx = SchemaCtx { schema, settings, migrations };
    run_schema_rules(&ctx, true, &mut diagnostics);
    // Every live finding names an object; an internal error names the database.
    for d in diagnostics.iter_mut().filter(|d| d.object.is_none()) {
        d.object = Some(schema.live.as_ref().map_or_else(|| "database".to_owned(), |l| l.database.clone()));
        d.span = 0..0;
    }
    apply_severities(settings, &mut diagnostics);
    diagnostics.sort_by(order);
    diagnostics.dedup_by(|a, b| a.object == b.object && a.rule == b.rule && a.message == b.message);
    diagnostics
}

fn parse_parts(source: &SourceFile) -> (Vec<parse::Stmt>, Vec<Range<usize>>, bool) {
    parse::parse_source(source)
}

fn internal_error(out: &mut Vec<Diagnostic>, file: usize, msg: &str) {
    Sink::new("internal-error", file, 0..0, out).report(None, format!("internal error while linting this file: {msg}"));
}

fn lint_file(
    fi: usize,
    file: &ParsedFile,
    schema: &mut Schema,
    settings: &Settings,
    out: &mut Vec<Diagnostic>,
    stats: &mut Stats,
) {
    let text = file.source.text.as_str();
    let assumed = settings.assume_in_transaction && !file.no_transaction;
    let mut in_block = false;
    // `SET lock_timeout` for the session, and `SET LOCAL` for the current transaction block.
    let mut session_timeout = false;
    let mut local_timeout = false;
    let mut reported_once: Vec<&'static str> = Vec::new();
    for stmt in &file.stmts {
        if !stmt.inner {
            stats.statements += 1;
            match &stmt.status {
                Status::Parsed => stats.parsed += 1,
                Status::Recognised => {
                    stats.recognised += 1;
                    *stats.recognised_kinds.entry(stmt.action.kind_name()).or_default() += 1;
                    if std::env::var("DBWARDEN_DEBUG_RECOGNISED").is_ok_and(|k| k == stmt.action.kind_name()) {
                        let t = &file.source.text[stmt.range.clone()];
                        eprintln!("{}: {}", file.source.path, t.chars().take(300).collect::<String>());
                    }
                }
                Status::Failed { .. } => stats.failed += 1,
            }
        }
        if let Status::Failed { message, at } = &stmt.status {
            let end = text[*at..stmt.range.end]
                .char_indices()
                .find(|(_, c)| c.is_whitespace())
                .map_or(stmt.range.end, |(p, _)| at + p)
                .max(*at + text[*at..].chars().next().map_or(0, char::len_utf8));
            let mut sink = Sink::new("syntax-error", fi, stmt.range.clone(), out);
            sink.report(Some(*at..end), format!("cannot parse this statement: {}", lowercase_first(message)))
                .help("fix the statement, or suppress this finding if PostgreSQL accepts it");
            continue;
        }
        let ctx = StmtCtx {
            stmt,
            text,
            schema,
            file: fi,
            in_transaction: in_block || assumed || stmt.inner,
            lock_timeout_set: session_timeout || local_timeout,
            settings,
            new_tables: Default::default(),
        };
        for (ri, rule) in RULES.iter().enumerate() {
            let Kind::Statement(r) = rule.kind else { continue };
            if !settings.enabled[ri] || (rule.once_per_file && reported_once.contains(&rule.name)) {
                continue;
            }
            let before = out.len();
            let mut sink = Sink::new(rule.name, fi, stmt.range.clone(), out);
            r.check(&ctx, &mut sink);
            if rule.once_per_file && out.len() > before {
                out.truncate(before + 1);
                reported_once.push(rule.name);
            }
        }
        match &stmt.action {
            Action::Begin => in_block = true,
            Action::Commit | Action::Rollback => {
                in_block = false;
                local_timeout = false;
            }
            Action::Set { name, value, local } if name == "lock_timeout" => {
                let on = !is_zero_duration(value);
                if !*local {
                    session_timeout = on;
                } else if in_block || assumed {
                    // Outside a transaction block `SET LOCAL` only warns and has no effect.
                    local_timeout = on;
                }
            }
            _ => {}
        }
        let phi_marked = stmt.leading_comments.clone().any(|c| suppress::is_phi_annotation(file.comment_text(c)));
        schema::apply(schema, &stmt.action, &FileInfo { file: fi, span: stmt.range.clone(), phi_marked });
    }
}

/// `0`, `'0s'`, `0ms`, `DEFAULT` (the server default is 0): no timeout.
fn is_zero_duration(value: &str) -> bool {
    let v = value.trim().trim_matches('\'').trim();
    if v.is_empty() || v.eq_ignore_ascii_case("default") {
        return true;
    }
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    digits.parse::<f64>().is_ok_and(|n| n == 0.0)
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

struct Scoped {
    sup: Suppression,
    file: usize,
    /// Per rule of the suppression: it suppressed a finding.
    used: Vec<bool>,
}

/// Linear in comments, statements, suppressions and findings: each comment finds its statement
/// through one table, each finding its suppressions through one binary search (statement scopes
/// do not overlap) plus the few file-level ones.
fn apply_suppressions(files: &[ParsedFile], settings: &Settings, out: &mut Vec<Diagnostic>) {
    let mut sups: Vec<Scoped> = Vec::new();
    // Per file: the file-level suppressions, and (scope start, scope end, suppression) of the
    // statement-level ones, sorted by scope.
    let mut file_level: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    let mut by_scope: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); files.len()];
    for (fi, file) in files.iter().enumerate() {
        let mut statement_of: HashMap<usize, Range<usize>> = HashMap::new();
        for s in file.stmts.iter().filter(|s| !s.inner) {
            for ci in s.leading_comments.clone() {
                statement_of.entry(ci).or_insert_with(|| s.range.clone());
            }
        }
        for (ci, c) in file.comments.iter().enumerate() {
            let Some(sup) = suppress::parse(file.comment_text(ci), c.clone()) else { continue };
            let k = sups.len();
            if sup.file_level {
                file_level[fi].push(k);
            } else if let Some(r) = statement_of.get(&ci) {
                by_scope[fi].push((r.start, r.end, k));
            }
            // Otherwise not before a statement: it suppresses nothing.
            let used = vec![false; sup.rules.len()];
            sups.push(Scoped { sup, file: fi, used });
        }
        by_scope[fi].sort_unstable();
    }
    if sups.is_empty() {
        return;
    }
    let meta = ["unused-suppression", "suppression-without-reason", "internal-error"];
    out.retain(|d| {
        if meta.contains(&d.rule) || d.object.is_some() || d.file >= files.len() {
            return true;
        }
        let pos = d.span.start;
        let scoped = &by_scope[d.file];
        // The statement scope holding `pos`: the last starting at or before it (scopes are
        // disjoint; several suppressions may share one scope).
        let end = scoped.partition_point(|&(start, _, _)| start <= pos);
        let mut first = end;
        if let Some(&(start, stop, _)) = end.checked_sub(1).map(|i| &scoped[i])
            && pos < stop
        {
            first = scoped[..end].partition_point(|&(s, e, _)| (s, e) < (start, stop));
        }
        let candidates = scoped[first..end].iter().map(|&(_, _, k)| k).chain(file_level[d.file].iter().copied());
        let mut suppressed = false;
        for k in candidates.collect::<Vec<_>>() {
            let s = &mut sups[k];
            for (j, r) in s.sup.rules.iter().enumerate() {
                if r == d.rule || lookup(r).is_some_and(|i| RULES[i].name == d.rule) {
                    s.used[j] = true;
                    suppressed = true;
                }
            }
        }
        !suppressed
    });
    for s in &sups {
        if s.sup.reason.is_none() {
            Sink::new("suppression-without-reason", s.file, s.sup.span.clone(), out)
                .report(None, "suppression without a reason")
                .help("add the reason after the rule names: `-- dbwarden-ignore: RULE -- why this is safe`");
        }
        for (k, r) in s.sup.rules.iter().enumerate() {
            match lookup(r) {
                None => {
                    Sink::new("unused-suppression", s.file, s.sup.span.clone(), out)
                        .report(None, format!("suppression names `{r}`, which is not a rule"))
                        .help("use a rule name from `dbwarden rules`");
                }
                Some(i) if settings.enabled[i] && !s.used[k] => {
                    Sink::new("unused-suppression", s.file, s.sup.span.clone(), out)
                        .report(None, format!("suppression of `{r}` suppresses nothing"))
                        .help("remove the suppression, or move it to the line right before the statement it is for");
                }
                Some(_) => {}
            }
        }
    }
}
