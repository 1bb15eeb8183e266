//! The pipeline: one runner per input kind, each ending in the one [`finish`] step.
//!
//! - [`migrations`]: parse migration files in parallel, replay them in order into the schema
//!   model running statement rules, then schema rules.
//! - [`queries`]: query rules on captured queries, against the migrations' schema.
//! - [`plans`]: the explain runner's outcomes and the plan rules on their plans.
//! - [`live`]: schema and live-only rules on a model read from a database's catalog.
//!
//! `rules/` holds what rules are; this module decides when they run.

pub mod finish;
pub mod live;
pub mod migrations;
pub mod plans;
pub mod queries;
pub mod suppress;
pub mod txn;

pub use live::judge_live;
pub use migrations::{Analysis, Analyzer, LintOutput, analyse, lint};
pub use queries::lint_queries;
