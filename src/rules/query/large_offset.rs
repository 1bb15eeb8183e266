use sqlparser::ast::LimitClause;

use crate::rules::ast_walk;
use crate::rules::{QueryCtx, QueryRule};
use crate::rules::Sink;

pub(crate) struct LargeOffset;

impl QueryRule for LargeOffset {
    fn check(&self, ctx: &QueryCtx<'_>, sink: &mut Sink<'_>) {
        let Some(stmt) = ctx.stmt else { return };
        let max = ctx.options.large_offset;
        for q in ast_walk::collect(stmt).queries {
            let offset = match &q.limit_clause {
                Some(LimitClause::LimitOffset { offset: Some(o), .. }) => &o.value,
                Some(LimitClause::OffsetCommaLimit { offset, .. }) => offset,
                _ => continue,
            };
            let Some(n) = ast_walk::integer(offset).filter(|n| *n > max) else { continue };
            // The offset is a literal of the query: shown only where values may be shown.
            let what = if ctx.values_visible() { format!("`OFFSET {n}`") } else { format!("an `OFFSET` above {max}") };
            sink.report(None, format!("{what} reads and discards every skipped row on each page"));
            return;
        }
    }
}
