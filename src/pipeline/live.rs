//! The live run (`dbwarden audit`): the schema and live-only rules on a model read from a
//! database's catalog, then [`finish`].

use super::finish::finish;
use super::migrations::run_schema_rules;
use super::suppress::Suppressions;
use crate::diagnostic::Diagnostic;
use crate::rules::{Kind, RuleId, SchemaCtx, Settings};
use crate::schema::Schema;

/// Judges a model loaded from a live database: the schema rules and the live-only rules;
/// `migrations` is the replayed migrations' model, for `schema-drift`.
pub fn judge_live(schema: &Schema, migrations: Option<&Schema>, settings: &Settings) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let ctx = SchemaCtx::new(schema, settings, migrations);
    run_schema_rules(&ctx, true, &mut diagnostics);
    // Every live finding names an object; an internal error names the database.
    for d in diagnostics.iter_mut().filter(|d| d.object.is_none()) {
        d.object = Some(schema.live.as_ref().map_or_else(|| "database".to_owned(), |l| l.database.clone()));
        d.span = 0..0;
    }
    // A live database has no comments to suppress with: `[lint] ignore` selects rules.
    let ran = |r: RuleId| matches!(r.def().kind, Kind::Schema(_) | Kind::Live(_));
    finish(diagnostics, settings, Suppressions::default(), &ran)
}
