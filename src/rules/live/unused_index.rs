use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::parse::ir::ConstraintKind;
use crate::rules::schema::unindexed_foreign_key::covers;
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::Index;

pub struct UnusedIndex;

/// The index is the only one serving some foreign key's lookups (scanned only when referenced
/// rows are deleted, which may not have happened since the reset).
fn only_fk_cover(ctx: &SchemaCtx<'_>, index: &Index) -> bool {
    let Some(table) = ctx.schema.tables.get(&index.table) else { return false };
    table.constraints.iter().any(|c| {
        let ConstraintKind::ForeignKey(fk) = &c.kind else { return false };
        covers(index, &fk.columns)
            && !ctx.schema.indexes_on(&table.name).any(|o| o.name != index.name && covers(o, &fk.columns))
    })
}

fn size(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GB", b / (1024.0 * 1024.0 * 1024.0))
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.0} kB", b / 1024.0)
    }
}

impl SchemaRule for UnusedIndex {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let Some(live) = &ctx.schema.live else { return };
        let since = live.stats_reset.as_deref().map_or_else(
            || "since statistics collection began (the counters were never reset)".to_owned(),
            |t| format!("since the statistics were reset at {t}"),
        );
        let min = i64::try_from(ctx.settings.audit.unused_index_min_bytes).unwrap_or(i64::MAX);
        for index in ctx.schema.indexes.values() {
            let Some(s) = &index.stats else { continue };
            if s.scans > 0 || index.unique || index.constraint.is_some() || !index.valid || s.bytes < min {
                continue;
            }
            if only_fk_cover(ctx, index) {
                continue;
            }
            sink.report_at(
                &index.origin,
                format!(
                    "index `{}` on `{}` ({}) has not been scanned {since}",
                    index.name.name,
                    index.table,
                    size(s.bytes)
                ),
            )
            .fix_new("drop the unused index", Applicability::Unsafe, format!(
                "-- after checking the standbys (their scans are not counted here):\nDROP INDEX CONCURRENTLY IF EXISTS {};",
                index.name
            ));
        }
    }
}
