use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::parse::ir::quote_ident;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct InvalidIndex;

impl SchemaRule for InvalidIndex {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for index in ctx.schema.indexes.values() {
            // Live indexes only: offline, `CREATE INDEX ... ON ONLY` is invalid until attached.
            if index.valid || index.stats.is_none() {
                continue;
            }
            let partitioned = ctx.schema.tables.get(&index.table).is_some_and(|t| t.partitioned);
            let name = index.name.to_string();
            if partitioned {
                sink.report_at(
                    &index.origin,
                    format!(
                        "index {} on partitioned table `{}` is invalid: an index of some partition is not attached to it",
                        quote_ident(&index.name.name),
                        index.table
                    ),
                )
                .help("create the missing partition indexes and `ALTER INDEX ... ATTACH PARTITION` them");
                continue;
            }
            let what = if index.unique {
                "never used by queries, still updated on every write, and still rejects duplicate keys"
            } else {
                "never used by queries and still updated on every write"
            };
            sink.report_at(
                &index.origin,
                format!("index `{}` on `{}` is invalid (a failed concurrent build): {what}", index.name.name, index.table),
            )
            .help("drop it and build it again, concurrently (or `REINDEX INDEX CONCURRENTLY`)")
            .fix_new("rebuild the index", Applicability::Safe, format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {name};\n-- then run its CREATE INDEX CONCURRENTLY again, or instead:\n-- REINDEX INDEX CONCURRENTLY {name};"
            ));
        }
    }
}
