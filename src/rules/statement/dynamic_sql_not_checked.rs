use crate::parse::dynamic::Dynamic;
use crate::rules::{Sink, StatementRule, StmtCtx};

/// An `EXECUTE` in a `DO` block whose statement could not be evaluated (or does not parse once
/// evaluated): no other rule judges it.
pub struct DynamicSqlNotChecked;

impl StatementRule for DynamicSqlNotChecked {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(Dynamic::NotChecked(why)) = &ctx.stmt.dynamic else { return };
        sink.report(None, format!("the statement this `EXECUTE` builds at run time is not checked: {why}"));
    }
}
