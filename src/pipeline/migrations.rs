//! The migration run: parse files in parallel, replay them in order running statement rules,
//! then schema rules, then [`finish`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;

use super::finish::{finish, guarded, internal_error, panic_message};
use super::suppress::{Scope, Suppressions};
use super::txn::TxnState;
use crate::diagnostic::{Diagnostic, Stats};
use crate::parse::ir::Action;
use crate::parse::suppress;
use crate::parse::{self, ParsedFile, Status};
use crate::rules::{Kind, RULES, RuleId, RunsIn, SchemaCtx, Settings, Sink, StmtCtx};
use crate::schema::{self, FileInfo, Schema};
use crate::source::SourceFile;
use crate::source::layout::{Role, Tool, TxnMode};

pub struct LintOutput {
    pub files: Vec<ParsedFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub schema: Schema,
    pub stats: Stats,
}

/// Lints `sources`, which are in migration order. Files are parsed in parallel while the
/// replay, which must go in migration order, judges each file as soon as it and all files
/// before it are parsed.
pub fn lint(sources: Vec<SourceFile>, settings: &Settings) -> LintOutput {
    let n = sources.len();
    let mut analyzer = Analyzer::new(settings, n);
    let mut files: Vec<ParsedFile> = Vec::with_capacity(n);
    let placeholders = &settings.placeholders;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        scope.spawn(move || {
            sources.into_par_iter().enumerate().for_each_with(tx, |tx, (i, source)| {
                let _ = tx.send((i, parse_one(source, placeholders)));
            });
        });
        let mut pending = std::collections::BTreeMap::new();
        for (i, item) in rx {
            pending.insert(i, item);
            while let Some((file, panic)) = pending.remove(&files.len()) {
                let index = files.len();
                if let Some(msg) = panic {
                    file_panicked(&mut analyzer.diagnostics, index, &msg);
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
fn parse_one(source: SourceFile, placeholders: &parse::placeholder::Placeholders) -> (ParsedFile, Option<String>) {
    let text = AssertUnwindSafe(&source);
    match catch_unwind(|| parse::parse_source_with(&text, placeholders)) {
        Ok((stmts, comments, no_transaction)) => (ParsedFile { source, stmts, comments, no_transaction }, None),
        Err(p) => (
            ParsedFile { source, stmts: Vec::new(), comments: Vec::new(), no_transaction: false },
            Some(panic_message(&*p)),
        ),
    }
}

fn file_panicked(out: &mut Vec<Diagnostic>, file: usize, msg: &str) {
    internal_error(out, file, 0..0, format!("internal error while linting this file: {msg}"));
}

/// The result of judging parsed files.
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    pub schema: Schema,
    pub stats: Stats,
}

/// Replays parsed files (in migration order) running statement rules, then schema rules, then
/// [`finish`].
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
    /// Per file replayed so far: its install-script group (see [`Plan::fresh_group`]).
    fresh_groups: Vec<Option<u32>>,
    /// Per file replayed so far: how each judged statement runs, by where it starts.
    runs: Vec<Vec<(usize, RunsIn)>>,
}

impl<'s> Analyzer<'s> {
    pub fn new(settings: &'s Settings, files: usize) -> Self {
        Self {
            settings,
            schema: Schema::default(),
            diagnostics: Vec::new(),
            stats: Stats { files, ..Stats::default() },
            fresh_groups: Vec::with_capacity(files),
            runs: Vec::with_capacity(files),
        }
    }

    /// Replays the next file (its index in the run is `i`), running statement rules. A panic
    /// outside a rule (in the replay) drops the file's findings for one `internal-error`.
    pub fn file(&mut self, i: usize, file: &ParsedFile) {
        let start = self.diagnostics.len();
        let plan = &file.source.plan;
        self.fresh_groups.resize(i, None);
        self.fresh_groups.push(plan.fresh_group);
        self.runs.resize_with(i + 1, Vec::new);
        self.stats.count_layout(plan.tool.name(), plan.role != Role::Forward);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let run = Run { fi: i, file, settings: self.settings, fresh_groups: &self.fresh_groups };
            lint_file(&run, &mut self.schema, &mut self.diagnostics, &mut self.stats, &mut self.runs[i]);
        }));
        if let Err(p) = result {
            self.diagnostics.truncate(start);
            file_panicked(&mut self.diagnostics, i, &panic_message(&*p));
        }
    }

    /// Runs the schema rules on the final model, then [`finish`].
    pub fn finish(self, files: &[ParsedFile]) -> Analysis {
        let Self { settings, mut schema, mut diagnostics, stats, mut runs, .. } = self;
        schema.seal();
        for r in &mut runs {
            r.sort_by_key(|(start, _)| *start);
        }
        let ctx = SchemaCtx::new(&schema, settings, None).with_runs(&runs);
        let schema_findings = diagnostics.len();
        run_schema_rules(&ctx, false, &mut diagnostics);
        // A schema rule's fix runs as a new migration after the file of its finding: it carries
        // the `SET search_path` in effect there, as statement rules' fixes do.
        let paths: Vec<Vec<(usize, Option<String>)>> = files.iter().map(search_paths).collect();
        for d in &mut diagnostics[schema_findings..] {
            let (Some(file), Some(sets)) = (files.get(d.file), paths.get(d.file)) else { continue };
            // The last `SET search_path` that ends before the finding.
            let at = sets.partition_point(|(end, _)| *end <= d.span.start);
            let Some(Some(path)) = at.checked_sub(1).map(|i| &sets[i].1) else { continue };
            if !crate::rules::RunsIn::new_file(file.source.plan.tool, settings.assume_in_transaction).one_query {
                carry_search_path(std::slice::from_mut(d), path);
            }
        }
        let mut suppressions = Suppressions::default();
        for (fi, file) in files.iter().enumerate() {
            let scopes: Vec<Scope> = file
                .stmts
                .iter()
                .map(|s| Scope { range: s.range.clone(), leading_comments: s.leading_comments.clone() })
                .collect();
            suppressions.add_file(fi, &file.source.text, &file.comments, &scopes);
        }
        // No finding in a baseline (a dump is not a migration anyone will run), but what goes
        // wrong while reading one is still said.
        diagnostics.retain(|d| {
            d.rule == RuleId::InternalError || files.get(d.file).is_none_or(|f| f.source.plan.role == Role::Forward)
        });
        drop_dynamic_fixes(&mut diagnostics, files);
        let ran = |r: RuleId| matches!(r.def().kind, Kind::Statement(_) | Kind::Schema(_) | Kind::Builtin);
        let diagnostics = finish(diagnostics, settings, suppressions, &ran);
        Analysis { diagnostics, schema, stats }
    }
}

/// Findings on statements built at run time (a `DO` block's `EXECUTE`), or on objects they
/// created, keep their help but lose their fix: no edit can rewrite a string built at run time.
fn drop_dynamic_fixes(diagnostics: &mut [Diagnostic], files: &[ParsedFile]) {
    let dynamic: Vec<Vec<std::ops::Range<usize>>> = files
        .iter()
        .map(|f| f.stmts.iter().filter(|s| s.dynamic.is_some()).map(|s| s.range.clone()).collect())
        .collect();
    for d in diagnostics.iter_mut().filter(|d| d.fix.is_some()) {
        if dynamic.get(d.file).is_some_and(|r| r.iter().any(|r| r.start <= d.span.start && d.span.end <= r.end)) {
            d.fix = None;
        }
    }
}

/// Runs the schema rules (and, with `live`, the live-only rules) on a model.
pub(super) fn run_schema_rules(ctx: &SchemaCtx<'_>, live: bool, out: &mut Vec<Diagnostic>) {
    for rule in RULES {
        let r = match rule.kind {
            Kind::Schema(r) => r,
            Kind::Live(r) if live => r,
            _ => continue,
        };
        if ctx.settings.enabled[rule.id.index()] {
            guarded(out, rule.id, 0, 0..0, |sink| r.check(ctx, sink));
        }
    }
}

/// One file's replay: where it is in the run, and what the run knows of the files before it.
struct Run<'a> {
    fi: usize,
    file: &'a ParsedFile,
    settings: &'a Settings,
    fresh_groups: &'a [Option<u32>],
}

/// Whether the migration tool runs the file inside one transaction it opens itself.
fn tool_transaction(file: &ParsedFile, settings: &Settings) -> bool {
    let plan = &file.source.plan;
    // One query string holding several statements: PostgreSQL runs it as one implicit
    // transaction, unless it manages transactions itself.
    let multi = || {
        let top: Vec<&parse::Stmt> = file.stmts.iter().filter(|s| !s.inner).collect();
        top.len() > 1 && !top.iter().any(|s| matches!(s.action, Action::Begin | Action::Commit | Action::Rollback))
    };
    if file.no_transaction {
        // dbmate's `transaction:false` still sends the section as one query string; goose's
        // `NO TRANSACTION` runs the statements one by one.
        return plan.tool == Tool::Dbmate && multi();
    }
    match plan.txn {
        TxnMode::Setting => settings.assume_in_transaction,
        // Flyway runs a file whose statements all cannot run in a transaction without one
        // (and refuses a file that mixes them with others).
        TxnMode::Wrapped if plan.tool == Tool::Flyway => {
            !file.stmts.iter().filter(|s| !s.inner).all(|s| non_transactional(&s.action))
        }
        TxnMode::Wrapped | TxnMode::WrappedButNonTransactional => true,
        TxnMode::None => false,
        TxnMode::MultiStatement => multi(),
    }
}

/// How a migration tool runs a file's statements (what `dbwarden lint --list-files` prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsAs {
    /// Inside one transaction the tool opens.
    Transaction,
    /// Inside one transaction, except the statements that cannot run in one (`CREATE INDEX
    /// CONCURRENTLY`, `VACUUM`, ...), which the tool runs on their own (the Supabase CLI).
    TransactionExceptNonTransactional,
    /// Sent as one query string: one implicit transaction when it holds several statements.
    OneQuery,
    /// Statement by statement, as written: only an explicit `BEGIN` opens a transaction.
    Statements,
    /// Each Liquibase changeset on its own (in a transaction unless `runInTransaction:false`).
    Changesets,
}

impl RunsAs {
    pub fn name(self) -> &'static str {
        match self {
            RunsAs::Transaction => "transaction",
            RunsAs::TransactionExceptNonTransactional => "transaction-except-concurrent",
            RunsAs::OneQuery => "one-query",
            RunsAs::Statements => "statements",
            RunsAs::Changesets => "changesets",
        }
    }
}

/// How the file's migration tool runs it, as the transaction model judges it.
pub fn runs_as(file: &ParsedFile, settings: &Settings) -> RunsAs {
    let plan = &file.source.plan;
    if plan.tool == Tool::Liquibase && !crate::source::layout::liquibase_changesets(&file.source.text).is_empty() {
        return RunsAs::Changesets;
    }
    if tool_transaction(file, settings) {
        return match plan.txn {
            TxnMode::WrappedButNonTransactional => RunsAs::TransactionExceptNonTransactional,
            _ => RunsAs::Transaction,
        };
    }
    match plan.txn == TxnMode::MultiStatement || (file.no_transaction && plan.tool == Tool::Dbmate) {
        true => RunsAs::OneQuery,
        false => RunsAs::Statements,
    }
}

/// Statements PostgreSQL refuses inside a transaction block, which tools detect and run alone.
fn non_transactional(action: &Action) -> bool {
    match action {
        Action::CreateIndex(ci) => ci.concurrently,
        Action::Drop { concurrently, .. } | Action::Reindex { concurrently, .. } => *concurrently,
        Action::Vacuum { .. } => true,
        _ => false,
    }
}

fn lint_file(
    run: &Run<'_>,
    schema: &mut Schema,
    out: &mut Vec<Diagnostic>,
    stats: &mut Stats,
    runs: &mut Vec<(usize, RunsIn)>,
) {
    let Run { fi, file, settings, fresh_groups } = *run;
    let text = file.source.text.as_str();
    let baseline = file.source.plan.role != Role::Forward;
    let wrapped = tool_transaction(file, settings);
    let mut txn = TxnState::new(wrapped);
    // The file's `SET search_path` in effect, as a statement a fix's new migration can start with
    // (not where the tool sends a migration as one query string: a second statement would put
    // a `CONCURRENTLY` one in a transaction).
    let mut search_path: Option<String> = None;
    let new_file_one_query =
        crate::rules::RunsIn::new_file(file.source.plan.tool, settings.assume_in_transaction).one_query;
    let plan = &file.source.plan;
    let one_query =
        !wrapped && (plan.txn == TxnMode::MultiStatement || (file.no_transaction && plan.tool == Tool::Dbmate));
    let top: Vec<usize> = (0..file.stmts.len()).filter(|&i| !file.stmts[i].inner).collect();
    let mut reported_once: Vec<RuleId> = Vec::new();
    // Liquibase runs each changeset as its own unit (its own transaction, unless it says
    // `runInTransaction:false`).
    let changesets = match file.source.plan.tool {
        Tool::Liquibase => crate::source::layout::liquibase_changesets(text),
        _ => Vec::new(),
    };
    let mut unit = usize::MAX;
    for (si, stmt) in file.stmts.iter().enumerate() {
        if !changesets.is_empty() && !stmt.inner {
            let at = changesets.partition_point(|(start, _)| *start <= stmt.range.start);
            if at != unit {
                unit = at;
                // Statements before the first changeset are not run by Liquibase at all; judge
                // them as outside a transaction.
                txn.next_unit(at > 0 && changesets[at - 1].1);
            }
        }
        if !stmt.inner {
            count(stats, file, stmt);
        }
        txn.before(stmt.inner);
        if baseline {
            // Replayed, not judged.
            txn.after(&stmt.action);
            schema::apply(schema, &stmt.action, &FileInfo { file: fi, span: stmt.range.clone(), phi_marked: false });
            continue;
        }
        if let Status::Failed { message, at } = &stmt.status {
            let end = text[*at..stmt.range.end]
                .char_indices()
                .find(|(_, c)| c.is_whitespace())
                .map_or(stmt.range.end, |(p, _)| at + p)
                .max(*at + text[*at..].chars().next().map_or(0, char::len_utf8));
            let mut sink = Sink::new(RuleId::SyntaxError, fi, stmt.range.clone(), out);
            sink.report(Some(*at..end), format!("cannot parse this statement: {}", lowercase_first(message)));
            continue;
        }
        let ctx = StmtCtx {
            stmt,
            earlier: &file.stmts[..si],
            later: &file.stmts[si + 1..],
            text,
            schema,
            file: fi,
            in_transaction: (txn.in_transaction()
                && !(file.source.plan.txn == TxnMode::WrappedButNonTransactional
                    && !txn.in_block()
                    && non_transactional(&stmt.action)))
                || stmt.inner,
            runs_in: RunsIn {
                tool: plan.tool,
                tool_transaction: wrapped,
                block: txn.in_block(),
                one_query,
                // A query string of several statements runs each one outside `BEGIN` ...
                // `COMMIT` in an implicit transaction block, which refuses `CONCURRENTLY` too
                // (PostgreSQL docs, "Multiple Statements in a Simple Query").
                concurrently_ok: !(stmt.inner || txn.in_block() || (one_query && top.len() > 1))
                    && match plan.txn {
                        _ if !wrapped => true,
                        TxnMode::WrappedButNonTransactional => true,
                        // Flyway runs a file of only such statements without a transaction.
                        TxnMode::Wrapped if plan.tool == Tool::Flyway => {
                            top.iter().all(|&i| i == si || non_transactional(&file.stmts[i].action))
                        }
                        _ => false,
                    },
                inner: stmt.inner,
            },
            lock_timeout_set: txn.lock_timeout_set(),
            held: txn.held(),
            settings,
            new_tables: Default::default(),
            fresh_groups,
        };
        runs.push((stmt.range.start, ctx.runs_in));
        let first_finding = out.len();
        for rule in RULES {
            let Kind::Statement(r) = rule.kind else { continue };
            let once = r.once_per_file();
            if !settings.enabled[rule.id.index()] || (once && reported_once.contains(&rule.id)) {
                continue;
            }
            let before = out.len();
            guarded(out, rule.id, fi, stmt.range.clone(), |sink| r.check(&ctx, sink));
            if once && out.len() > before {
                out.truncate(before + 1);
                reported_once.push(rule.id);
            }
        }
        // A fix's new statements run in a migration of their own, without this file's
        // `SET search_path`: they carry it, so that unqualified names resolve as they do here.
        if let Some(path) = &search_path
            && !new_file_one_query
        {
            carry_search_path(&mut out[first_finding..], path);
        }
        if let Action::Set { name, value, .. } = &stmt.action
            && name == "search_path"
        {
            let default = value.trim().eq_ignore_ascii_case("default");
            search_path = (!default).then(|| format!("SET search_path TO {};", value.trim()));
        }
        let locks = crate::rules::locks::table_locks(&stmt.action, schema);
        txn.took(locks);
        if stmt.inner {
            txn.after_inner(&stmt.action);
        } else {
            txn.after(&stmt.action);
        }
        let phi_marked = stmt.leading_comments.clone().any(|c| suppress::is_phi_annotation(file.comment_text(c)));
        schema::apply(schema, &stmt.action, &FileInfo { file: fi, span: stmt.range.clone(), phi_marked });
    }
}

/// Counts a top-level statement for `--statistics`.
fn count(stats: &mut Stats, file: &ParsedFile, stmt: &parse::Stmt) {
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

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Starts each new statement of the findings' fixes with the file's `SET search_path`.
fn carry_search_path(findings: &mut [Diagnostic], set: &str) {
    for d in findings {
        let Some(fix) = &mut d.fix else { continue };
        for e in &mut fix.edits {
            if let crate::diagnostic::Edit::New { text } = e {
                *text = format!("{set}\n{text}");
            }
        }
    }
}

/// The file's top-level `SET search_path` statements, in order: where each ends, and the
/// statement a new migration would start with (`None` for the default).
fn search_paths(file: &ParsedFile) -> Vec<(usize, Option<String>)> {
    file.stmts
        .iter()
        .filter(|s| !s.inner)
        .filter_map(|s| match &s.action {
            Action::Set { name, value, .. } if name == "search_path" => {
                let v = value.trim();
                Some((s.range.end, (!v.eq_ignore_ascii_case("default")).then(|| format!("SET search_path TO {v};"))))
            }
            _ => None,
        })
        .collect()
}
