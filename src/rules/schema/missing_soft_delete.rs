use crate::diagnostic::Applicability;
use crate::diagnostic::Impact;
use crate::config::Require;
use crate::rules::Sink;
use crate::parse::ir::quote_ident;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct MissingSoftDelete;

impl SchemaRule for MissingSoftDelete {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let require = ctx.settings.soft_delete_require;
        if require == Require::None {
            return;
        }
        let col = &ctx.settings.soft_delete_column;
        for table in ctx.schema.tables.values() {
            if table.partition_of.is_some() || table.columns_unknown || table.column(col).is_some() {
                continue;
            }
            let phi = ctx.settings.is_phi(table);
            if !phi && require != Require::All {
                continue;
            }
            let why = if phi {
                "holds patient data, which must stay recoverable and auditable"
            } else {
                "is required to soft-delete by the configuration"
            };
            let report = sink
                .report_at(&table.created, format!("table `{}` has no `{col}` column but {why}", table.name))
                .help(format!("add a nullable `{col} timestamptz` column and filter on `{col} IS NULL`"))
                .fix_new("add the soft-delete column", Applicability::Unsafe, format!("ALTER TABLE {} ADD COLUMN {} timestamptz;", table.name, quote_ident(col)));
            if !phi {
                report.impact(Impact::Lower);
            }
        }
    }
}
