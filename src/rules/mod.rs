//! Rules: the registry built from the one rule list ([`list`]), the rule traits and their
//! contexts, the settings a run resolves, and the sink rules report to.

mod ast_walk;
pub mod catalogue;
mod context;
pub mod list;
pub(crate) mod locks;
mod settings;
mod sink;
pub(crate) mod util;

use std::sync::OnceLock;

pub use context::{
    CaptureCtx, PlanCtx, PlanRule, QueryCtx, QueryOptions, QueryRule, RunsIn, SchemaCtx, SchemaRule, StatementRule,
    StmtCtx,
};
pub use list::RuleId;
pub use settings::{Settings, check_names};
pub use sink::{Report, Sink};

use crate::diagnostic::Severity;
use catalogue::Entry;

/// How a rule is run: its input kind and implementation.
pub enum Kind {
    /// Judges one statement of a migration, with the schema as it was before it.
    Statement(&'static dyn StatementRule),
    /// Judges the schema after the last migration (and a live database's, in `dbwarden audit`).
    Schema(&'static dyn SchemaRule),
    /// A schema rule that needs a live database (statistics, validity, sequences): run by
    /// `dbwarden audit` only. Its fixtures (`fixtures/rules/NAME/`) and catalogue examples are SQL
    /// run on a new database, whose catalog is then audited.
    Live(&'static dyn SchemaRule),
    /// A rule on captured queries (`dbwarden lint --queries`), with the schema from the
    /// migrations. Its fixtures are query files in `fixtures/rules/NAME/` (tests/fixtures.rs), and its
    /// catalogue examples are queries (with an optional `schema`), checked there too.
    Query(&'static dyn QueryRule),
    /// A rule on a captured query's `EXPLAIN` plan and measured times: run by `dbwarden explain`
    /// only. Its fixtures are captured plans in `fixtures/rules/NAME/` (tests/fixtures.rs), and its catalogue
    /// examples name a plan file there.
    Plan(&'static dyn PlanRule),
    /// Reported by the pipeline itself (syntax errors, suppressions, internal errors, the
    /// explain runner's outcomes).
    Builtin,
}

pub struct RuleDef {
    pub id: RuleId,
    pub name: &'static str,
    pub kind: Kind,
    /// The catalogue entry, `rules/NAME.toml`.
    pub toml: &'static str,
}

/// Expands the rule list into the rule modules (one folder per input kind, one file per rule)
/// and [`RULES`].
macro_rules! registry {
    (
        statement { $($s:ident $sm:ident $sn:literal,)* }
        schema { $($c:ident $cm:ident $cn:literal,)* }
        live { $($l:ident $lm:ident $ln:literal,)* }
        query { $($q:ident $qm:ident $qn:literal,)* }
        plan { $($p:ident $pm:ident $pn:literal,)* }
        builtin { $($b:ident $bn:literal,)* }
    ) => {
        /// Statement rules: judge one statement with the schema as it was before it.
        pub(crate) mod statement { $(pub(crate) mod $sm;)* }
        /// Schema rules: judge the model after the last migration, reported at the defining
        /// statement.
        pub(crate) mod schema { $(pub(crate) mod $cm;)* }
        /// Live rules: judge a live database's catalog and statistics (`dbwarden audit`).
        pub(crate) mod live { $(pub(crate) mod $lm;)* }
        /// Query rules: judge captured queries against the schema from the migrations.
        pub(crate) mod query { $(pub(crate) mod $qm;)* }
        /// Plan rules: judge one `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` result.
        pub(crate) mod plan { $(pub(crate) mod $pm;)* }

        /// Every rule, in documentation order (the order of [`RuleId`]).
        pub static RULES: &[RuleDef] = &[
            $(registry!(@def $s, $sn, Statement(&statement::$sm::$s)),)*
            $(registry!(@def $c, $cn, Schema(&schema::$cm::$c)),)*
            $(registry!(@def $l, $ln, Live(&live::$lm::$l)),)*
            $(registry!(@def $q, $qn, Query(&query::$qm::$q)),)*
            $(registry!(@def $p, $pn, Plan(&plan::$pm::$p)),)*
            $(registry!(@def $b, $bn, Builtin),)*
        ];
    };
    (@def $id:ident, $name:literal, $($kind:tt)*) => {
        RuleDef {
            id: RuleId::$id,
            name: $name,
            kind: Kind::$($kind)*,
            toml: include_str!(concat!("../../rules/", $name, ".toml")),
        }
    };
}

list::rule_list!(registry);

impl RuleId {
    pub fn def(self) -> &'static RuleDef {
        &RULES[self.index()]
    }

    /// The catalogue entry, `rules/NAME.toml`.
    pub fn entry(self) -> &'static Entry {
        &entries()[self.index()]
    }
}

fn entries() -> &'static [Entry] {
    static CATALOGUE: OnceLock<Vec<Entry>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                Entry::parse(r.toml).unwrap_or_else(|e| Entry {
                    name: r.name.into(),
                    category: "meta".into(),
                    severity: Severity::Error,
                    summary: format!("(catalogue entry does not parse: {e})"),
                    why: String::new(),
                    instead: String::new(),
                    help: String::new(),
                    pg_versions: "all".into(),
                    references: Vec::new(),
                    aliases: Vec::new(),
                    examples: Vec::new(),
                })
            })
            .collect()
    })
}

/// The catalogue entry of the rule at `RULES[i]`.
pub fn entry(i: usize) -> &'static Entry {
    &entries()[i]
}

/// Finds a rule by name or alias.
pub fn lookup(name: &str) -> Option<RuleId> {
    RuleId::from_name(name)
        .or_else(|| entries().iter().position(|e| e.aliases.iter().any(|a| a == name)).map(|i| RuleId::ALL[i]))
}

/// A name usable in `select` / `ignore`: `all`, a category or a rule.
pub fn is_selector(name: &str) -> bool {
    name == "all" || catalogue::CATEGORIES.iter().any(|(c, _)| *c == name) || lookup(name).is_some()
}
