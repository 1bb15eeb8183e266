//! Which migration tool a folder belongs to, and what that tool would run: which files are
//! forward migrations, which are a baseline (a schema dump, replayed but not judged), which it
//! never runs (down, undo, revert, verify, teardown and seed scripts), in what order, and whether
//! it wraps each file in a transaction.
//!
//! Detection works from paths first (before files are read: skipped files are never read), then
//! from each file's first lines ([`refine`]). A folder whose layout is unknown is linted as
//! before, except that scripts no migration tool would run as a migration (teardown scripts,
//! seeds) are skipped and schema dumps are a baseline.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;

/// A migration tool whose conventions dbwarden follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Tool {
    /// No known layout: every `.sql` file is a migration, in natural path order.
    #[default]
    Plain,
    Sqitch,
    Flyway,
    GolangMigrate,
    /// ory's popx (and gobuffalo pop): `<version>_<name>.postgres.up.sql`.
    Popx,
    Diesel,
    Goose,
    Dbmate,
    Prisma,
    Drizzle,
    Supabase,
    Rails,
    Liquibase,
    Atlas,
    GraphileMigrate,
}

impl Tool {
    pub const ALL: [Tool; 15] = [
        Tool::Plain,
        Tool::Sqitch,
        Tool::Flyway,
        Tool::GolangMigrate,
        Tool::Popx,
        Tool::Diesel,
        Tool::Goose,
        Tool::Dbmate,
        Tool::Prisma,
        Tool::Drizzle,
        Tool::Supabase,
        Tool::Rails,
        Tool::Liquibase,
        Tool::Atlas,
        Tool::GraphileMigrate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Plain => "plain",
            Tool::Sqitch => "sqitch",
            Tool::Flyway => "flyway",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Popx => "popx",
            Tool::Diesel => "diesel",
            Tool::Goose => "goose",
            Tool::Dbmate => "dbmate",
            Tool::Prisma => "prisma",
            Tool::Drizzle => "drizzle",
            Tool::Supabase => "supabase",
            Tool::Rails => "rails",
            Tool::Liquibase => "liquibase",
            Tool::Atlas => "atlas",
            Tool::GraphileMigrate => "graphile-migrate",
        }
    }

    pub fn from_name(name: &str) -> Option<Tool> {
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        let name = match name.as_str() {
            "unknown" | "none" => "plain",
            "sqlx" | "migrate" => "golang-migrate",
            "ory" | "pop" => "popx",
            "graphile" => "graphile-migrate",
            other => other,
        };
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether the tool runs each migration file inside one transaction by default.
    pub fn default_txn(self) -> TxnMode {
        match self {
            Tool::Plain => TxnMode::Setting,
            // sqitch runs each script with psql as written; its templates carry BEGIN/COMMIT.
            Tool::Sqitch => TxnMode::None,
            // The file is sent as one multi-statement query: PostgreSQL runs it as one implicit
            // transaction when it holds more than one statement.
            Tool::GolangMigrate | Tool::Prisma => TxnMode::MultiStatement,
            Tool::Supabase => TxnMode::WrappedButNonTransactional,
            // popx runs each file as one query string in a transaction it opens (tx.Exec), unless
            // the file's name says `.autocommit.` (ory/x popx/match.go, migration_box.go).
            Tool::Flyway
            | Tool::Popx
            | Tool::Diesel
            | Tool::Goose
            | Tool::Dbmate
            | Tool::Drizzle
            | Tool::Liquibase
            | Tool::Atlas
            | Tool::GraphileMigrate => TxnMode::Wrapped,
            Tool::Rails => TxnMode::Setting,
        }
    }
}

/// Whether the statements of a file run inside a transaction the tool opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxnMode {
    /// As `[lint] assume_in_transaction` says (no known tool).
    #[default]
    Setting,
    /// The tool wraps the file in one transaction.
    Wrapped,
    /// The file is sent as one query string: an implicit transaction when it holds more than one
    /// statement.
    MultiStatement,
    /// Run as written: only explicit `BEGIN` opens a transaction.
    None,
    /// Wrapped, except the statements that cannot run in a transaction, which the tool runs on
    /// their own (the Supabase CLI since 2.109: `CREATE INDEX CONCURRENTLY`, `VACUUM`, ...).
    WrappedButNonTransactional,
}

/// What a file is to its migration tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// A migration the tool runs: judged by every rule.
    #[default]
    Forward,
    /// A schema dump or baseline: replayed into the model, not judged.
    Baseline(&'static str),
}

/// How a file is linted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Plan {
    pub tool: Tool,
    pub role: Role,
    pub txn: TxnMode,
    /// Install scripts (unversioned files that build a schema from nothing, in any folder): what
    /// one of them creates is new to the others of the same group, not a live table.
    pub fresh_group: Option<u32>,
}

/// What the configuration says about layouts.
#[derive(Debug, Clone, Default)]
pub struct LayoutOptions {
    /// `[lint] layout`: every folder is this tool's.
    pub forced: Option<Tool>,
    /// `[lint] baseline`: globs of files replayed but not judged.
    pub baseline: Vec<Glob>,
    /// `[lint] forward`: globs of files always linted as forward migrations.
    pub forward: Vec<Glob>,
}

/// A path glob: `*` and `?` within a path segment, `**` across segments. It matches a path when
/// it matches the whole path or its end after a `/` (so `db/structure.sql` matches
/// `./app/db/structure.sql`).
#[derive(Debug, Clone)]
pub struct Glob {
    pub text: String,
    re: Regex,
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, String> {
        let mut re = String::from("(?:^|/)");
        let t = text.trim_start_matches("./");
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    if chars.peek() == Some(&'/') {
                        chars.next();
                        re.push_str("(?:.*/)?");
                    } else {
                        re.push_str(".*");
                    }
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        re.push('$');
        let re = Regex::new(&re).map_err(|e| format!("bad glob `{text}`: {e}"))?;
        Ok(Glob { text: text.to_owned(), re })
    }

    pub fn matches(&self, path: &Path) -> bool {
        self.re.is_match(&path.to_string_lossy().replace('\\', "/"))
    }
}

/// A file the layout says is not a migration.
pub type SkipReason = &'static str;
/// A file to read, and how.
pub type Planned = (PathBuf, Plan);
/// A file that is not a migration, and why.
pub type NotMigration = (PathBuf, SkipReason);

pub const SQITCH_REVERT: SkipReason = "sqitch revert script";
pub const SQITCH_VERIFY: SkipReason = "sqitch verify script";
pub const SQITCH_OTHER: SkipReason = "not in sqitch's deploy/ folder";
pub const SQITCH_UNPLANNED: SkipReason = "not in sqitch.plan";
pub const DRIZZLE_UNLISTED: SkipReason = "not in drizzle's meta/_journal.json";
pub const FLYWAY_UNDO: SkipReason = "Flyway undo migration";
pub const TEARDOWN: SkipReason = "teardown script";
pub const REVERT: SkipReason = "revert script";
pub const SEED: SkipReason = "seed data";

/// Plans the files found in one folder given on the command line (`root`), in the order found
/// (natural path order). Returns the files to read with their plans, in the order the tools run
/// them, and those that are not migrations with why. Without a `root` the files were named on
/// the command line, and are never skipped.
pub fn plan_paths(files: Vec<PathBuf>, root: Option<&Path>, opts: &LayoutOptions) -> (Vec<Planned>, Vec<NotMigration>) {
    let mut dirs = DirFacts::default();
    let mut out = Vec::with_capacity(files.len());
    let mut skipped = Vec::new();
    for path in files {
        // Folder names above the folder given say nothing (`~/code/rollback-service/db/...`).
        let inside = match root {
            Some(r) => path.strip_prefix(r).unwrap_or(&path),
            None => Path::new(path.file_name().unwrap_or_default()),
        };
        match plan_path(&path, inside, opts, &mut dirs) {
            Err(reason) if root.is_some() => skipped.push((path, reason)),
            Err(_) => out.push((path, Plan::default())),
            Ok(plan) => out.push((path, plan)),
        }
    }
    flyway_repeatables_last(&mut out);
    let unlisted = Unlisted { opts, may_skip: root.is_some() };
    sqitch_order(&mut out, &mut skipped, &unlisted);
    drizzle_journal_order(&mut out, &mut skipped, &unlisted);
    release_groups(&mut out);
    install_order(&mut out);
    (out, skipped)
}

/// Files of no known tool that share a version in one folder (`20140318-series.sql` and
/// `20140318-series-fks.sql`, `24.all.sql` and `24.master_and_standalone.sql`) are one release,
/// deployed together: what one creates is new to the others.
fn release_groups(files: &mut [(PathBuf, Plan)]) {
    let key = |p: &Path| -> Option<(PathBuf, String)> {
        let name = p.file_name()?.to_string_lossy().into_owned();
        let version: String = name.chars().take_while(char::is_ascii_digit).collect();
        (!version.is_empty()).then(|| (p.parent().map(Path::to_path_buf).unwrap_or_default(), version))
    };
    let mut count: HashMap<(PathBuf, String), usize> = HashMap::new();
    for (p, plan) in files.iter() {
        if plan.tool == Tool::Plain
            && plan.role == Role::Forward
            && plan.fresh_group.is_none()
            && let Some(k) = key(p)
        {
            *count.entry(k).or_default() += 1;
        }
    }
    for (p, plan) in files.iter_mut() {
        if plan.tool != Tool::Plain || plan.role != Role::Forward || plan.fresh_group.is_some() {
            continue;
        }
        if let Some(k) = key(p).filter(|k| count.get(k).is_some_and(|&n| n > 1)) {
            let mut h: u32 = 0x811c_9dc5;
            for b in k.0.to_string_lossy().bytes().chain([0]).chain(k.1.bytes()) {
                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
            // Never the install group nor the undeployed one.
            plan.fresh_group = Some(h | 0x8000_0000).filter(|g| *g != u32::MAX).or(Some(0x8000_0000));
        }
    }
}

/// Install scripts have no version to order them, and the scripts of one release share theirs:
/// their tool runs them in the order a schema is built (types, then tables, then keys, indexes
/// and the rest). Within one group, files move to that order by the words of their names
/// (`CreateTables.sql` before `CreateFKConstraints.sql`, `20140318-series.sql` before
/// `20140318-series-fks.sql`), keeping name order otherwise.
fn install_order(files: &mut [(PathBuf, Plan)]) {
    let rank = |p: &Path| {
        let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let w = words(&stem);
        let any = |set: &[&str]| w.iter().any(|x| set.contains(&x.as_str()));
        if any(&[
            "extension",
            "extensions",
            "schema",
            "schemas",
            "collation",
            "collations",
            "type",
            "types",
            "domain",
            "domains",
            "sequence",
            "sequences",
        ]) {
            0
        } else if any(&["table", "tables"]) {
            1
        } else if any(&[
            "key",
            "keys",
            "fk",
            "fks",
            "primarykeys",
            "constraint",
            "constraints",
            "fkconstraints",
            "index",
            "indexes",
            "indices",
            "view",
            "views",
            "trigger",
            "triggers",
            "policies",
            "grants",
        ]) {
            3
        } else {
            2
        }
    };
    let mut groups: Vec<u32> = files.iter().filter_map(|(_, p)| p.fresh_group).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        let idx: Vec<usize> = (0..files.len()).filter(|&i| files[i].1.fresh_group == Some(g)).collect();
        let mut order = idx.clone();
        // A script before those whose names extend its name (`24.all` before
        // `24.master_and_standalone`, `20210311-mbs-11438` before `20210311-mbs-11438-standalone`).
        let stem_len = |p: &Path| p.file_stem().map_or(0, |s| s.len());
        order.sort_by_key(|&i| (rank(&files[i].0), stem_len(&files[i].0), i));
        // The scripts under the folder of the group's first script run as one block, where the
        // first is: files of other kinds that sort between them by path (`admin/sql/updates/`
        // between `admin/sql/caa/` and `admin/sql/wikidocs/`) run after the block, not in the
        // middle of the install. Scripts elsewhere keep their places.
        let Some(&first) = idx.first() else { continue };
        let member: std::collections::HashSet<usize> = idx.iter().copied().collect();
        let root = files[first].0.parent().map(Path::to_path_buf).unwrap_or_default();
        let inner = |i: usize| files[i].0.starts_with(&root);
        let (inner_order, outer_order): (Vec<usize>, Vec<usize>) = order.iter().partition(|&&i| inner(i));
        let outer_slots: Vec<usize> = idx.iter().copied().filter(|&i| !inner(i)).collect();
        let last = idx.iter().copied().filter(|&i| inner(i)).max().unwrap_or(first);
        let mut block: Vec<(PathBuf, Plan)> = inner_order.iter().map(|&i| files[i].clone()).collect();
        block.extend((first..=last).filter(|i| !member.contains(i)).map(|i| files[i].clone()));
        let outer: Vec<(PathBuf, Plan)> = outer_order.iter().map(|&i| files[i].clone()).collect();
        let mut slots: Vec<usize> = (first..=last).filter(|&i| member.contains(&i) && inner(i)).collect();
        slots.extend((first..=last).filter(|i| !member.contains(i)));
        slots.sort_unstable();
        for (slot, item) in slots.into_iter().zip(block) {
            files[slot] = item;
        }
        for (slot, item) in outer_slots.into_iter().zip(outer) {
            files[slot] = item;
        }
    }
}

fn plan_path(path: &Path, inside: &Path, opts: &LayoutOptions, dirs: &mut DirFacts) -> Result<Plan, SkipReason> {
    let forward = opts.forward.iter().any(|g| g.matches(path));
    let mut plan = detect(path, inside, dirs, forward)?;
    if let Some(tool) = opts.forced {
        plan.tool = tool;
        plan.txn = tool.default_txn();
        if tool != Tool::Plain {
            plan.fresh_group = None;
        }
    }
    if forward {
        plan.role = Role::Forward;
    } else if opts.baseline.iter().any(|g| g.matches(path)) {
        plan.role = Role::Baseline("configured as a baseline (`[lint] baseline`)");
    }
    Ok(plan)
}

fn with_tool(tool: Tool) -> Plan {
    Plan { tool, role: Role::Forward, txn: tool.default_txn(), fresh_group: None }
}

/// `inside`: the path below the folder given (folder names above it are not the project's).
fn detect(path: &Path, inside: &Path, dirs: &mut DirFacts, forward: bool) -> Result<Plan, SkipReason> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let parent = path.parent().unwrap_or(Path::new(""));
    let parent_name = dir_name(parent);
    let grandparent = parent.parent().unwrap_or(Path::new(""));

    // sqitch: deploy/ beside revert/ or verify/ (or a sqitch.plan).
    for (depth, dir) in path.ancestors().skip(1).take(4).enumerate() {
        let base = dir.parent().unwrap_or(Path::new(""));
        match dir_name(dir).as_str() {
            "deploy" if dirs.is_sqitch_root(base) => {
                return Ok(with_tool(Tool::Sqitch));
            }
            "revert" if dirs.is_sqitch_root(base) && !forward => return Err(SQITCH_REVERT),
            "verify" if dirs.is_sqitch_root(base) && !forward => return Err(SQITCH_VERIFY),
            _ => {}
        }
        if depth < 2 && dirs.is_sqitch_root(dir) && !forward {
            return Err(SQITCH_OTHER);
        }
    }

    // drizzle-kit 1.0: <out>/<timestamp>_<name>/migration.sql beside snapshot.json, no journal;
    // the migrator runs every such folder in name order (drizzle-orm `readMigrationFiles`).
    if lower == "migration.sql" && dirs.has(parent, "snapshot.json") {
        return Ok(with_tool(Tool::Drizzle));
    }
    // Prisma: migrations/<name>/migration.sql.
    if lower == "migration.sql" && dir_name(grandparent) == "migrations" {
        return Ok(with_tool(Tool::Prisma));
    }
    // Diesel: migrations/<version_name>/up.sql.
    if lower == "up.sql" {
        let mut plan = with_tool(Tool::Diesel);
        // `run_in_transaction = false` still sends the file as one query string.
        if dirs.diesel_no_transaction(parent) {
            plan.txn = TxnMode::MultiStatement;
        }
        return Ok(plan);
    }
    // Flyway: V<version>__, U<version>__, B<version>__, R__ (case as Flyway's defaults).
    if let Some(kind) = flyway_kind(&name) {
        let mut plan = with_tool(Tool::Flyway);
        match kind {
            'U' if !forward => return Err(FLYWAY_UNDO),
            'B' => plan.role = Role::Baseline("Flyway baseline migration"),
            _ => {}
        }
        if dirs.flyway_no_transaction(path) {
            plan.txn = TxnMode::None;
        }
        return Ok(plan);
    }
    // golang-migrate, sqlx and ory/pop: <version>_<name>.up.sql (down files are never found).
    // golang-migrate sends the file as one query string; ory/popx (`<v>_<name>.postgres.up.sql`)
    // wraps each file in a transaction unless its name says `.autocommit.`.
    if lower.ends_with(".up.sql") {
        if lower.contains(".postgres.") || lower.ends_with(".autocommit.up.sql") {
            let mut plan = with_tool(Tool::Popx);
            if lower.ends_with(".autocommit.up.sql") {
                plan.txn = TxnMode::MultiStatement;
            }
            return Ok(plan);
        }
        return Ok(with_tool(Tool::GolangMigrate));
    }
    // Supabase CLI: supabase/migrations/<timestamp>_<name>.sql; supabase/seed.sql is seed data.
    if parent_name == "migrations" && dir_name(grandparent) == "supabase" {
        return Ok(with_tool(Tool::Supabase));
    }
    // graphile-migrate: migrations/committed/*.sql and migrations/current.sql.
    if (parent_name == "committed" && dir_name(grandparent) == "migrations")
        || (lower == "current.sql" && parent_name == "migrations")
    {
        return Ok(with_tool(Tool::GraphileMigrate));
    }
    // drizzle-kit writes its migrations (and meta/_journal.json) to a drizzle/ folder by default.
    if dirs.has(parent, "meta/_journal.json") || parent_name == "drizzle" {
        return Ok(with_tool(Tool::Drizzle));
    }
    if dirs.has(parent, "atlas.sum") {
        return Ok(with_tool(Tool::Atlas));
    }
    // Rails keeps its schema as db/structure.sql: a dump.
    if lower == "structure.sql" {
        return Ok(Plan { role: Role::Baseline("schema dump (Rails db/structure.sql)"), ..with_tool(Tool::Rails) });
    }

    // No known tool.
    let mut plan = Plan::default();
    if forward {
        return Ok(plan);
    }
    let stem = lower.strip_suffix(".sql").unwrap_or(&lower);
    let versioned = is_versioned(stem) || is_versioned(&parent_name);
    if !versioned {
        let words = words(name.strip_suffix(".sql").unwrap_or(&name));
        let first = words.first().map(String::as_str);
        if matches!(first, Some("drop" | "truncate" | "teardown" | "uninstall" | "destroy" | "rollback" | "revert"))
            || words.iter().any(|w| matches!(w.as_str(), "drop" | "teardown" | "uninstall"))
        {
            return Err(TEARDOWN);
        }
        if matches!(first, Some("seed" | "seeds")) {
            return Err(SEED);
        }
    }
    if inside.components().any(|c| {
        matches!(
            c.as_os_str().to_string_lossy().to_ascii_lowercase().as_str(),
            "revert" | "rollback" | "rollbacks" | "undo"
        )
    }) {
        return Err(REVERT);
    }
    if inside
        .components()
        .any(|c| matches!(c.as_os_str().to_string_lossy().to_ascii_lowercase().as_str(), "seed" | "seeds"))
        && !versioned
    {
        return Err(SEED);
    }
    if matches!(stem, "schema" | "structure" | "dump") {
        plan.role = Role::Baseline("schema file");
    } else if parent_name == "schema" && !stem.starts_with(|c: char| c.is_ascii_digit()) {
        plan.role = Role::Baseline("file in a schema/ folder (the schema as a whole)");
    } else if !versioned {
        // Install scripts: no version in the name, so no tool runs them in an order on a live
        // database; what they create together is new.
        plan.fresh_group = Some(dirs.group(parent));
    }
    Ok(plan)
}

/// Refines a file's plan from its text: dumps, and the markers of the tools that keep them in
/// the files (goose, dbmate, Drizzle, Liquibase, sqitch, Atlas, graphile-migrate).
pub fn refine(plan: &mut Plan, text: &str) {
    let head = &text[..crate::source::floor_char_boundary(text, text.len().min(4096))];
    if plan.role == Role::Forward && is_pg_dump(head) {
        plan.role = Role::Baseline("pg_dump output");
        plan.fresh_group = None;
        return;
    }
    let has_line = |prefix: &str| {
        head.lines().any(|l| {
            let l = l.trim_start();
            l.get(..prefix.len()).is_some_and(|h| h.eq_ignore_ascii_case(prefix))
        })
    };
    let tool = if has_line("-- +goose") {
        Some(Tool::Goose)
    } else if has_line("-- migrate:up") {
        Some(Tool::Dbmate)
    } else if has_line("--liquibase formatted sql") || has_line("-- liquibase formatted sql") {
        Some(Tool::Liquibase)
    } else if text.contains("--> statement-breakpoint") {
        Some(Tool::Drizzle)
    } else if plan.tool == Tool::Plain && has_line("-- Deploy ") && head.contains(" to pg") {
        Some(Tool::Sqitch)
    } else {
        None
    };
    if let Some(tool) = tool
        && matches!(plan.tool, Tool::Plain | Tool::Supabase | Tool::GolangMigrate)
    {
        plan.tool = tool;
        plan.txn = tool.default_txn();
        plan.fresh_group = None;
    }
    // Opt-out markers that the splitter does not read (it reads goose's and dbmate's). Most
    // tools still send an opted-out file as one query string (one implicit transaction when it
    // holds several statements); Atlas runs its statements one by one. (Liquibase decides per
    // changeset: see [`liquibase_changesets`].)
    // (Flyway has no in-script opt-out: only a `.sql.conf` file, read with the path.)
    let opted_out = match plan.tool {
        Tool::Atlas => has_line("-- atlas:txmode none").then_some(TxnMode::None),
        Tool::GraphileMigrate => has_line("--! no-transaction").then_some(TxnMode::MultiStatement),
        // sqlx: the file must start with the marker.
        Tool::GolangMigrate => text.starts_with("-- no-transaction").then_some(TxnMode::MultiStatement),
        // postgres-migrations (npm) reads its marker anywhere in the file.
        Tool::Plain => text.contains("-- postgres-migrations disable-transaction").then_some(TxnMode::MultiStatement),
        _ => None,
    };
    if let Some(mode) = opted_out {
        plan.txn = mode;
    }
}

/// Liquibase formatted SQL: where each changeset starts (the byte offset of its
/// `--changeset` line) and whether Liquibase runs it in a transaction (`runInTransaction:false`
/// says no). Each changeset is its own transaction.
pub fn liquibase_changesets(text: &str) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.get(..11).is_some_and(|h| h.eq_ignore_ascii_case("--changeset")) {
            let lower = t.to_ascii_lowercase();
            out.push((at, !lower.split_whitespace().any(|w| w == "runintransaction:false")));
        }
        at += line.len();
    }
    out
}

/// The header pg_dump writes.
fn is_pg_dump(head: &str) -> bool {
    head.lines().take(12).any(|l| l.trim() == "-- PostgreSQL database dump")
}

fn dir_name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

/// Whether a name (a file stem or folder name) carries a version: it starts with digits or
/// `v` and a digit, or holds a dotted version or a date.
fn is_versioned(name: &str) -> bool {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^(?i:v)?\d|\d+[._]\d+|\d{3,}").unwrap());
    re.is_match(name)
}

/// A name's words: split at separators and at lower-to-upper case changes, lower-cased.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `V1__x.sql` → `V`; `R__x.sql` → `R`; also `U` and `B`.
fn flyway_kind(name: &str) -> Option<char> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"^(?:([VUB])\d+(?:[._]\d+)*__.+|(R)__.+)\.sql$").unwrap());
    let caps = re.captures(name)?;
    caps.get(1).or(caps.get(2)).and_then(|m| m.as_str().chars().next())
}

/// Flyway runs repeatable migrations after every versioned one (of their folder).
fn flyway_repeatables_last(files: &mut Vec<(PathBuf, Plan)>) {
    let repeatable = |(p, plan): &(PathBuf, Plan)| {
        plan.tool == Tool::Flyway && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("R__"))
    };
    if !files.iter().any(repeatable) {
        return;
    }
    let (rs, mut rest): (Vec<_>, Vec<_>) = std::mem::take(files).into_iter().partition(repeatable);
    for r in rs {
        let parent = r.0.parent().map(Path::to_path_buf);
        let at =
            rest.iter().rposition(|(p, _)| p.parent().map(Path::to_path_buf) == parent).map_or(rest.len(), |i| i + 1);
        rest.insert(at, r);
    }
    *files = rest;
}

/// A sqitch tree's deploy folder: the nearest folder named `deploy` above a file (as
/// [`detect`] found it), else the file's own folder (a layout forced by `[lint] layout`).
fn sqitch_deploy_dir(path: &Path) -> PathBuf {
    path.ancestors()
        .skip(1)
        .take(4)
        .find(|d| dir_name(d) == "deploy")
        .or_else(|| path.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A deploy script's change name: its path below the deploy folder, `/`-separated, without
/// `.sql` (`schemas/app` for `deploy/schemas/app.sql`; `users@v1.0` for a reworked script).
fn sqitch_change_name(path: &Path, deploy_dir: &Path) -> String {
    let rel = path.strip_prefix(deploy_dir).unwrap_or(path);
    let mut name: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if let Some(last) = name.last_mut()
        && let Some(stem) = last.strip_suffix(".sql").or_else(|| last.strip_suffix(".SQL"))
    {
        *last = stem.to_owned();
    }
    name.join("/")
}

/// Whether the files of a tool's folder may leave the run (found in a folder given, not named
/// on the command line, and not kept by `[lint] forward`).
struct Unlisted<'a> {
    opts: &'a LayoutOptions,
    may_skip: bool,
}

impl Unlisted<'_> {
    fn skips(&self, path: &Path) -> bool {
        self.may_skip && !self.opts.forward.iter().any(|g| g.matches(path))
    }
}

/// sqitch deploys in the order of `sqitch.plan` (every change it names, from the script
/// [`sqitch_plan_scripts`] finds for it); a deploy script the plan does not name is never run.
/// Without a plan (or one that names none of the scripts), in the order the scripts'
/// `-- requires:` lines allow (names in order where they allow any).
fn sqitch_order(files: &mut Vec<Planned>, skipped: &mut Vec<NotMigration>, unlisted: &Unlisted<'_>) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (p, _) in files.iter().filter(|(_, plan)| plan.tool == Tool::Sqitch) {
        let dir = sqitch_deploy_dir(p);
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        sqitch_order_dir(files, skipped, unlisted, &dir);
    }
}

fn sqitch_order_dir(
    files: &mut Vec<Planned>,
    skipped: &mut Vec<NotMigration>,
    unlisted: &Unlisted<'_>,
    deploy_dir: &Path,
) {
    let idx: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].1.tool == Tool::Sqitch && sqitch_deploy_dir(&files[i].0) == deploy_dir)
        .collect();
    let names: Vec<String> = idx.iter().map(|&i| sqitch_change_name(&files[i].0, deploy_dir)).collect();
    // The plan is `sqitch.plan` in the top folder, the one holding `deploy/` (sqitch's default
    // `plan_file`), else in the folder above it (as [`DirFacts::is_sqitch_root`] allows).
    let top = deploy_dir.parent();
    let plan_text = [top, top.and_then(Path::parent)]
        .into_iter()
        .flatten()
        .find_map(|d| std::fs::read_to_string(d.join("sqitch.plan")).ok());
    let planned: Vec<usize> = plan_text
        .map(|text| {
            sqitch_plan_scripts(&text, |s| names.iter().any(|n| n == s))
                .iter()
                .filter_map(|s| names.iter().position(|n| n == s))
                .collect()
        })
        .unwrap_or_default();
    let order: Vec<usize> = if planned.is_empty() {
        let requires: Vec<Vec<usize>> = idx
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let text = std::fs::read_to_string(&files[i].0).unwrap_or_default();
                let mut req: Vec<usize> = text
                    .lines()
                    .take(40)
                    .filter_map(|l| l.trim().strip_prefix("-- requires:"))
                    .filter_map(|r| names.iter().position(|n| n == r.trim()))
                    .collect();
                // A reworked change's earlier scripts (`name@tag`) were deployed before it.
                let own = format!("{}@", names[k]);
                req.extend((0..names.len()).filter(|&j| names[j].starts_with(&own)));
                req
            })
            .collect();
        topological(&requires)
    } else {
        let mut order = planned;
        for k in 0..names.len() {
            if order.contains(&k) {
                continue;
            }
            let path = &files[idx[k]].0;
            if unlisted.skips(path) {
                skipped.push((path.clone(), SQITCH_UNPLANNED));
            } else {
                order.push(k);
            }
        }
        order
    };
    reorder(files, &idx, &order);
}

/// The deploy scripts `sqitch deploy` runs for a plan, in order, each once: the change name
/// (its path below `deploy/` without `.sql`). As App::Sqitch::Plan (`_parse`) and
/// App::Sqitch::Plan::Change (`path_segments`) read it:
/// - pragmas (`%syntax-version=1.0.0`, `%project=x`), blank lines and `#` notes say nothing;
///   a change line is `[+|-] name [deps] timestamp planner`, a tag line `@name ...` tags the
///   change before it;
/// - a change planned again later (`sqitch rework`) is reworked: its earlier occurrence runs
///   `name@TAG.sql`, where the TAGs to try are the tags of the changes between the two
///   occurrences, latest change first, then the earlier occurrence's own tags; the first whose
///   script exists wins, else the first (`sqitch rework` copies the script to the name of the
///   last tag in the plan at the time);
/// - `-name` is parsed as a change whose operator is `-`, but the engine's `deploy_change`
///   never looks at the operator: it runs the change's deploy script like any other.
///
/// `exists` says whether `deploy/<name>.sql` exists.
pub fn sqitch_plan_scripts(text: &str, exists: impl Fn(&str) -> bool) -> Vec<String> {
    struct Change {
        name: String,
        tags: Vec<String>,
        rework_tags: Vec<String>,
    }
    let mut changes: Vec<Change> = Vec::new();
    let mut last_named: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        // A note runs from `#` to the end of the line (names and tags hold no `#`).
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('%') {
            continue;
        }
        let token = |s: &str| s.split(|c: char| c.is_whitespace() || c == '[').next().unwrap_or_default().to_owned();
        if let Some(tag) = line.strip_prefix('@') {
            let tag = token(tag);
            if let Some(last) = changes.last_mut()
                && !tag.is_empty()
            {
                last.tags.push(tag);
            }
            continue;
        }
        let name = token(line.strip_prefix(['+', '-']).unwrap_or(line).trim_start());
        if name.is_empty() {
            continue;
        }
        let at = changes.len();
        if let Some(&duped) = last_named.get(&name) {
            let mut rework: Vec<String> = changes[duped + 1..].iter().rev().flat_map(|c| c.tags.clone()).collect();
            rework.extend(changes[duped].tags.iter().cloned());
            changes[duped].rework_tags.extend(rework);
        }
        last_named.insert(name.clone(), at);
        changes.push(Change { name, tags: Vec::new(), rework_tags: Vec::new() });
    }
    let mut out: Vec<String> = Vec::with_capacity(changes.len());
    for c in changes {
        let script = if c.rework_tags.is_empty() {
            c.name
        } else {
            let candidates: Vec<String> = c.rework_tags.iter().map(|t| format!("{}@{t}", c.name)).collect();
            candidates.iter().find(|s| exists(s)).unwrap_or(&candidates[0]).clone()
        };
        // A change planned twice without a tag between them (a plan sqitch refuses) names
        // one script twice: it is linted once.
        if !out.contains(&script) {
            out.push(script);
        }
    }
    out
}

/// drizzle-orm's migrator (`readMigrationFiles`, src/migrator.ts) runs the files
/// `meta/_journal.json` lists (`entries[].tag` + `.sql`), in the journal's order; a `.sql` file
/// the journal does not list is never run.
fn drizzle_journal_order(files: &mut Vec<Planned>, skipped: &mut Vec<NotMigration>, unlisted: &Unlisted<'_>) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (p, plan) in files.iter() {
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        if plan.tool == Tool::Drizzle && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for dir in dirs {
        let Some(tags) = std::fs::read_to_string(dir.join("meta").join("_journal.json"))
            .ok()
            .and_then(|text| drizzle_journal_tags(&text))
        else {
            continue;
        };
        let idx: Vec<usize> = (0..files.len())
            .filter(|&i| files[i].1.tool == Tool::Drizzle && files[i].0.parent() == Some(dir.as_path()))
            .collect();
        let mut order: Vec<usize> = Vec::with_capacity(idx.len());
        for tag in &tags {
            let path = dir.join(format!("{tag}.sql"));
            if let Some(k) = idx.iter().position(|&i| files[i].0 == path)
                && !order.contains(&k)
            {
                order.push(k);
            }
        }
        // A journal that lists none of the files is not theirs.
        if order.is_empty() {
            continue;
        }
        for (k, &i) in idx.iter().enumerate() {
            if order.contains(&k) {
                continue;
            }
            if unlisted.skips(&files[i].0) {
                skipped.push((files[i].0.clone(), DRIZZLE_UNLISTED));
            } else {
                order.push(k);
            }
        }
        reorder(files, &idx, &order);
    }
}

/// The `tag` of each entry of a drizzle-kit journal (`{"entries": [{"idx", "tag", "when",
/// "breakpoints"}]}`), in the journal's order; `None` when it is not such a journal.
pub fn drizzle_journal_tags(text: &str) -> Option<Vec<String>> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let entries = doc.get("entries")?.as_array()?;
    Some(entries.iter().filter_map(|e| e.get("tag")?.as_str().map(str::to_owned)).collect())
}

/// Puts the files at `slots` (positions in `files`, ascending) in `order` (indexes into
/// `slots`), where the first of them was; a slot `order` does not name leaves `files`.
fn reorder(files: &mut Vec<Planned>, slots: &[usize], order: &[usize]) {
    // Every file before the first slot is outside the group: the group goes at `first`.
    let Some(&first) = slots.first() else { return };
    let mut group: Vec<Option<Planned>> = vec![None; slots.len()];
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in std::mem::take(files).into_iter().enumerate() {
        match slots.binary_search(&i) {
            Ok(k) => group[k] = Some(f),
            Err(_) => out.push(f),
        }
    }
    let moved: Vec<Planned> = order.iter().filter_map(|&k| group.get_mut(k).and_then(Option::take)).collect();
    out.splice(first..first, moved);
    *files = out;
}

/// Kahn's algorithm, lowest index first; a cycle keeps the rest in index order.
fn topological(requires: &[Vec<usize>]) -> Vec<usize> {
    let n = requires.len();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&i| !done[i] && requires[i].iter().all(|&r| done[r] || r == i));
        let i = next.unwrap_or_else(|| (0..n).find(|&i| !done[i]).unwrap_or(0));
        done[i] = true;
        order.push(i);
    }
    order
}

/// The group of install scripts (see [`Plan::fresh_group`]).
pub const INSTALL_GROUP: u32 = 1;

/// What folders hold, asked once per folder.
#[derive(Default)]
struct DirFacts {
    exists: HashMap<PathBuf, bool>,
}

impl DirFacts {
    fn has(&mut self, dir: &Path, entry: &str) -> bool {
        let p = dir.join(entry);
        *self.exists.entry(p.clone()).or_insert_with(|| p.exists())
    }

    fn is_sqitch_root(&mut self, dir: &Path) -> bool {
        self.has(dir, "deploy") && (self.has(dir, "revert") || self.has(dir, "verify") || self.has(dir, "sqitch.plan"))
            || (self.has(dir, "deploy") && dir.parent().is_some_and(|p| self.has(p, "sqitch.plan")))
    }

    fn diesel_no_transaction(&mut self, dir: &Path) -> bool {
        self.has(dir, "metadata.toml")
            && std::fs::read_to_string(dir.join("metadata.toml"))
                .is_ok_and(|t| t.lines().any(|l| l.replace(' ', "") == "run_in_transaction=false"))
    }

    fn flyway_no_transaction(&mut self, file: &Path) -> bool {
        let conf = PathBuf::from(format!("{}.conf", file.display()));
        std::fs::read_to_string(conf)
            .is_ok_and(|t| t.lines().any(|l| l.replace(' ', "") == "executeInTransaction=false"))
    }

    /// The install-script group: one for the whole run. Install scripts build a schema from
    /// nothing, often across folders (an engine's common tables in one module, its own in
    /// another); versioned upgrade scripts, which run on live databases, are never in it.
    fn group(&mut self, _dir: &Path) -> u32 {
        INSTALL_GROUP
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_words() {
        for v in
            ["001_init", "20230101_x", "v1.4", "V2__x", "flowable.postgres.upgradestep.6.0.0.0.to.6.0.1.0.engine", "56"]
        {
            assert!(is_versioned(&v.to_ascii_lowercase()), "{v}");
        }
        for v in ["createtables", "createreplicationtriggers2", "schema", "pg_partman-setup"] {
            assert!(!is_versioned(v), "{v}");
        }
        assert_eq!(words("DropFKConstraints"), ["drop", "fkconstraints"]);
        assert_eq!(words("flowable.postgres.drop.engine"), ["flowable", "postgres", "drop", "engine"]);
        assert_eq!(flyway_kind("V1_2__init.sql"), Some('V'));
        assert_eq!(flyway_kind("R__views.sql"), Some('R'));
        assert_eq!(flyway_kind("U3__undo.sql"), Some('U'));
        assert_eq!(flyway_kind("B1_20_0__baseline__POSTGRESQL.sql"), Some('B'));
        assert_eq!(flyway_kind("Vacuum__x.sql"), None);
        assert_eq!(Tool::from_name("Golang_Migrate"), Some(Tool::GolangMigrate));
        assert_eq!(Tool::from_name("flyway"), Some(Tool::Flyway));
        assert_eq!(Tool::from_name("nope"), None);
    }

    #[test]
    fn globs() {
        let g = Glob::new("db/structure.sql").unwrap();
        assert!(g.matches(Path::new("./app/db/structure.sql")));
        assert!(g.matches(Path::new("db/structure.sql")));
        assert!(!g.matches(Path::new("xdb/structure.sql")));
        let g = Glob::new("**/baseline/*.sql").unwrap();
        assert!(g.matches(Path::new("a/b/baseline/x.sql")));
        assert!(!g.matches(Path::new("a/b/baseline/c/x.sql")));
    }

    #[test]
    fn topological_order_follows_requires() {
        // 0 requires 2, 1 requires nothing, 2 requires 1.
        assert_eq!(topological(&[vec![2], vec![], vec![1]]), [1, 2, 0]);
        // A cycle still yields every index once.
        let mut o = topological(&[vec![1], vec![0]]);
        o.sort();
        assert_eq!(o, [0, 1]);
    }
}

#[cfg(test)]
mod release_tests {
    use super::*;

    /// Scripts sharing a version are one release: one group, the base script first.
    #[test]
    fn same_version_scripts_are_one_release() {
        let files: Vec<PathBuf> =
            ["u/20140101-a.sql", "u/20140318-series-fks.sql", "u/20140318-series.sql", "u/20140401-b.sql"]
                .iter()
                .map(PathBuf::from)
                .collect();
        let (planned, skipped) = plan_paths(files, Some(Path::new("u")), &LayoutOptions::default());
        assert!(skipped.is_empty());
        let names: Vec<String> = planned.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            names,
            ["u/20140101-a.sql", "u/20140318-series.sql", "u/20140318-series-fks.sql", "u/20140401-b.sql"]
        );
        let groups: Vec<Option<u32>> = planned.iter().map(|(_, p)| p.fresh_group).collect();
        assert!(groups[0].is_none() && groups[3].is_none(), "{groups:?}");
        assert!(groups[1].is_some() && groups[1] == groups[2], "{groups:?}");
    }

    /// An install spread over sub-folders (`sql/CreateTables.sql`, `sql/eaa/CreateTables.sql`,
    /// `sql/wikidocs/...`) runs as one block before the versioned upgrades that sort between its
    /// folders by path (`sql/updates/`); an unversioned script in an unrelated folder keeps its
    /// place.
    #[test]
    fn an_install_across_folders_runs_before_the_upgrades() {
        let files: Vec<PathBuf> = [
            "sql/CreateTables.sql",
            "sql/CreateTriggers.sql",
            "sql/eaa/CreateTables.sql",
            "sql/eaa/CreateTriggers.sql",
            "sql/updates/20200101-a.sql",
            "sql/updates/20210101-b.sql",
            "sql/wikidocs/CreateTables.sql",
            "web/admin/extra.sql",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let (planned, _) = plan_paths(files, Some(Path::new(".")), &LayoutOptions::default());
        let names: Vec<String> = planned.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "sql/CreateTables.sql",
                "sql/eaa/CreateTables.sql",
                "sql/wikidocs/CreateTables.sql",
                "sql/CreateTriggers.sql",
                "sql/eaa/CreateTriggers.sql",
                "sql/updates/20200101-a.sql",
                "sql/updates/20210101-b.sql",
                "web/admin/extra.sql",
            ]
        );
    }

    /// Folders above the one given are not the project's: a checkout under `rollback-service/`
    /// or `seeds/` is linted; the same names below the folder given are skipped.
    #[test]
    fn only_folders_below_the_root_name_a_file() {
        let files = |root: &str| -> Vec<PathBuf> {
            ["db/001_init.sql", "db/undo/001_init.sql", "db/seeds/users.sql"]
                .iter()
                .map(|f| Path::new(root).join(f))
                .collect()
        };
        for root in ["/home/x/undo", "/home/x/seeds"] {
            let (planned, skipped) = plan_paths(files(root), Some(Path::new(root)), &LayoutOptions::default());
            let kept: Vec<String> =
                planned.iter().map(|(p, _)| p.strip_prefix(root).unwrap().display().to_string()).collect();
            assert_eq!(kept, ["db/001_init.sql"], "{root}");
            let why: Vec<&str> = skipped.iter().map(|(_, r)| *r).collect();
            assert_eq!(why, [REVERT, SEED], "{root}");
        }
        // A file named on the command line is never skipped.
        let (planned, skipped) =
            plan_paths(vec![PathBuf::from("/x/undo/001_init.sql")], None, &LayoutOptions::default());
        assert_eq!((planned.len(), skipped.len()), (1, 0));
    }
}

#[cfg(test)]
mod plan_file_tests {
    use super::*;

    /// A tree of files under a fresh temporary folder; removed when dropped.
    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str, files: &[(&str, &str)]) -> Tree {
            let root = std::env::temp_dir().join(format!("dbwarden-layout-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            for (path, text) in files {
                let p = root.join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text).unwrap();
            }
            Tree(root)
        }

        /// Plans the tree's `.sql` files as discovery finds them (natural path order).
        fn plan(&self, opts: &LayoutOptions) -> (Vec<String>, Vec<(String, SkipReason)>) {
            let mut found = Vec::new();
            let mut stack = vec![self.0.clone()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "sql") {
                        found.push(p);
                    }
                }
            }
            found.sort_by(|a, b| crate::source::natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
            let (planned, skipped) = plan_paths(found, Some(&self.0), opts);
            let rel = |p: &Path| p.strip_prefix(&self.0).unwrap().to_string_lossy().replace('\\', "/");
            (planned.iter().map(|(p, _)| rel(p)).collect(), skipped.iter().map(|(p, r)| (rel(p), *r)).collect())
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const HEAD: &str = "%syntax-version=1.0.0\n%project=clinic\n%uri=https://example.com/clinic\n\n";

    fn plan(body: &str, files: &[&str]) -> Vec<String> {
        sqitch_plan_scripts(&format!("{HEAD}{body}"), |s| files.contains(&s))
    }

    #[test]
    fn sqitch_plan_lines() {
        let body = "# a comment line\n\
            patients 2024-01-01T00:00:00Z Ann <ann@example.com> # note [not deps]\n\
            +visits [patients] 2024-01-02T00:00:00Z Ann <ann@example.com>\n\
            + schemas/app 2024-01-03T00:00:00Z Ann <ann@example.com>\n\
            \t  -legacy_trigger 2024-01-04T00:00:00Z Ann <ann@example.com>\n\
            @v1.0 2024-01-05T00:00:00Z Ann <ann@example.com> # release\n\
            app/tables/users[schemas/app] 2024-01-06T00:00:00Z Ann <ann@example.com>\r\n";
        assert_eq!(plan(body, &[]), ["patients", "visits", "schemas/app", "legacy_trigger", "app/tables/users"]);
    }

    /// The earlier occurrence of a reworked change runs `name@TAG.sql`: the tags between the
    /// occurrences, latest first, then its own; the first that exists, else the first.
    #[test]
    fn sqitch_reworked_changes() {
        // One tag between: the earlier `a` runs a@v1.
        let body = "a 2024-01-01T00:00:00Z X <x@y>\n@v1 2024-01-02T00:00:00Z X <x@y>\n\
            b 2024-01-03T00:00:00Z X <x@y>\na [a@v1] 2024-01-04T00:00:00Z X <x@y>\n";
        assert_eq!(plan(body, &["a", "a@v1", "b"]), ["a@v1", "b", "a"]);
        // Two tags between: `sqitch rework` named the copy after the last one (a@v2); a@v1
        // is only tried when a@v2 does not exist.
        let body = "a 2024-01-01T00:00:00Z X <x@y>\n@v1 2024-01-02T00:00:00Z X <x@y>\n\
            b 2024-01-03T00:00:00Z X <x@y>\n@v2 2024-01-04T00:00:00Z X <x@y>\n\
            a [a@v2] 2024-01-05T00:00:00Z X <x@y>\n";
        assert_eq!(plan(body, &["a", "a@v1", "a@v2", "b"]), ["a@v2", "b", "a"]);
        assert_eq!(plan(body, &["a", "a@v1", "b"]), ["a@v1", "b", "a"]);
        assert_eq!(plan(body, &["a", "b"]), ["a@v2", "b", "a"]);
        // Reworked twice, in a subfolder, the second time as a `-` line (run like any other).
        let body = "s/a 2024-01-01T00:00:00Z X <x@y>\n@v1 2024-01-02T00:00:00Z X <x@y>\n\
            s/a 2024-01-03T00:00:00Z X <x@y>\n@v2 2024-01-04T00:00:00Z X <x@y>\n\
            - s/a 2024-01-05T00:00:00Z X <x@y>\n";
        assert_eq!(plan(body, &["s/a", "s/a@v1", "s/a@v2"]), ["s/a@v1", "s/a@v2", "s/a"]);
        // Planned twice without a tag between (sqitch refuses the plan): one script, once.
        let body = "a 2024-01-01T00:00:00Z X <x@y>\nb 2024-01-02T00:00:00Z X <x@y>\na 2024-01-03T00:00:00Z X <x@y>\n";
        assert_eq!(plan(body, &["a", "b"]), ["a", "b"]);
    }

    /// The bug this replaced: with `a`, `@v1`, `b`, `a` in the plan, `deploy/a.sql` was
    /// linted twice and `deploy/a@v1.sql` not at all.
    #[test]
    fn sqitch_plan_orders_every_script_once() {
        let plan_text = format!(
            "{HEAD}a 2024-01-01T00:00:00Z X <x@y>\n@v1 2024-01-02T00:00:00Z X <x@y>\n\
             b [a] 2024-01-03T00:00:00Z X <x@y>\na [a@v1] 2024-01-04T00:00:00Z X <x@y>\n\
             + tables/visits 2024-01-05T00:00:00Z X <x@y>\nindexes/visits_idx 2024-01-06T00:00:00Z X <x@y>\n"
        );
        let tree = Tree::new(
            "sqitch-rework",
            &[
                ("db/sqitch.plan", &plan_text),
                ("db/deploy/a.sql", "select 1;"),
                ("db/deploy/a@v1.sql", "select 1;"),
                ("db/deploy/b.sql", "select 1;"),
                ("db/deploy/tables/visits.sql", "select 1;"),
                ("db/deploy/indexes/visits_idx.sql", "select 1;"),
                ("db/deploy/scratch.sql", "select 1;"),
                ("db/revert/a.sql", "select 1;"),
                ("db/revert/a@v1.sql", "select 1;"),
            ],
        );
        let (planned, skipped) = tree.plan(&LayoutOptions::default());
        assert_eq!(
            planned,
            [
                "db/deploy/a@v1.sql",
                "db/deploy/b.sql",
                "db/deploy/a.sql",
                "db/deploy/tables/visits.sql",
                "db/deploy/indexes/visits_idx.sql"
            ]
        );
        let mut skipped = skipped;
        skipped.sort();
        assert_eq!(
            skipped,
            [
                ("db/deploy/scratch.sql".to_owned(), SQITCH_UNPLANNED),
                ("db/revert/a.sql".to_owned(), SQITCH_REVERT),
                ("db/revert/a@v1.sql".to_owned(), SQITCH_REVERT),
            ]
        );
        // `[lint] forward` keeps a script the plan does not name, after the planned ones.
        let opts = LayoutOptions { forward: vec![Glob::new("deploy/scratch.sql").unwrap()], ..Default::default() };
        let (planned, _) = tree.plan(&opts);
        assert_eq!(planned.last().map(String::as_str), Some("db/deploy/scratch.sql"));
        assert_eq!(planned.len(), 6);
    }

    /// Without a plan: `-- requires:` lines, and a reworked script before the change's own.
    #[test]
    fn sqitch_without_plan() {
        let tree = Tree::new(
            "sqitch-requires",
            &[
                ("db/deploy/a_idx.sql", "-- Deploy clinic:a_idx to pg\n-- requires: z_table\nselect 1;"),
                ("db/deploy/z_table.sql", "select 1;"),
                ("db/deploy/f.sql", "select 1;"),
                ("db/deploy/f@v1.sql", "select 1;"),
                ("db/verify/f.sql", "select 1;"),
            ],
        );
        let (planned, skipped) = tree.plan(&LayoutOptions::default());
        assert_eq!(planned, ["db/deploy/f@v1.sql", "db/deploy/f.sql", "db/deploy/z_table.sql", "db/deploy/a_idx.sql"]);
        assert_eq!(skipped, [("db/verify/f.sql".to_owned(), SQITCH_VERIFY)]);
    }

    #[test]
    fn drizzle_journal_orders_and_lists() {
        let journal = r#"{"version":"7","dialect":"postgresql","entries":[
            {"idx":0,"version":"7","when":1700000000000,"tag":"create_visits","breakpoints":true},
            {"idx":1,"version":"7","when":1700000001000,"tag":"add_visits_idx","breakpoints":true}]}"#;
        let tree = Tree::new(
            "drizzle-journal",
            &[
                ("out/meta/_journal.json", journal),
                ("out/add_visits_idx.sql", "select 1;"),
                ("out/create_visits.sql", "select 1;"),
                ("out/scratch.sql", "select 1;"),
            ],
        );
        let (planned, skipped) = tree.plan(&LayoutOptions::default());
        assert_eq!(planned, ["out/create_visits.sql", "out/add_visits_idx.sql"]);
        assert_eq!(skipped, [("out/scratch.sql".to_owned(), DRIZZLE_UNLISTED)]);
        let opts = LayoutOptions { forward: vec![Glob::new("out/scratch.sql").unwrap()], ..Default::default() };
        assert_eq!(tree.plan(&opts).0, ["out/create_visits.sql", "out/add_visits_idx.sql", "out/scratch.sql"]);
        // A file named on the command line is never skipped.
        let (planned, skipped) = plan_paths(vec![tree.0.join("out/scratch.sql")], None, &LayoutOptions::default());
        assert_eq!((planned.len(), skipped.len(), planned[0].1.tool), (1, 0, Tool::Drizzle));
        assert_eq!(drizzle_journal_tags("not json"), None);
        assert_eq!(drizzle_journal_tags(r#"{"entries":[{"tag":"a"},{"idx":1}]}"#), Some(vec!["a".to_owned()]));
    }

    /// drizzle-kit 1.0: `<timestamp>_<name>/migration.sql` beside `snapshot.json`, in folder
    /// name order, one transaction; Prisma's `migrations/<name>/migration.sql` has no snapshot.
    #[test]
    fn drizzle_v1_folders() {
        let tree = Tree::new(
            "drizzle-v1",
            &[
                ("migrations/20250201000000_idx/migration.sql", "select 1;"),
                ("migrations/20250201000000_idx/snapshot.json", "{}"),
                ("migrations/20250101000000_init/migration.sql", "select 1;"),
                ("migrations/20250101000000_init/snapshot.json", "{}"),
                ("prisma/migrations/20250101000000_init/migration.sql", "select 1;"),
            ],
        );
        let found = |p: &str| tree.0.join(p);
        let (planned, _) = plan_paths(
            vec![
                found("migrations/20250101000000_init/migration.sql"),
                found("migrations/20250201000000_idx/migration.sql"),
                found("prisma/migrations/20250101000000_init/migration.sql"),
            ],
            Some(&tree.0),
            &LayoutOptions::default(),
        );
        let tools: Vec<(Tool, TxnMode)> = planned.iter().map(|(_, p)| (p.tool, p.txn)).collect();
        assert_eq!(
            tools,
            [
                (Tool::Drizzle, TxnMode::Wrapped),
                (Tool::Drizzle, TxnMode::Wrapped),
                (Tool::Prisma, TxnMode::MultiStatement)
            ]
        );
        assert_eq!(
            tree.plan(&LayoutOptions::default()).0[..2],
            ["migrations/20250101000000_init/migration.sql", "migrations/20250201000000_idx/migration.sql"]
        );
    }
}
