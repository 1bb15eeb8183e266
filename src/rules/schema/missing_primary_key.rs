use crate::rules::Sink;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct MissingPrimaryKey;

impl SchemaRule for MissingPrimaryKey {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            // A partition takes its key from the partitioned parent.
            if table.partition_of.is_some() || table.has_primary_key() {
                continue;
            }
            sink.report_at(&table.created,
                format!("table `{}` has no primary key", table.name),
            );
        }
    }
}
