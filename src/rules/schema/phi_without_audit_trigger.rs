use crate::rules::Sink;
use crate::parse::ir::TriggerTiming;
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::Trigger;

pub struct PhiWithoutAuditTrigger;

impl SchemaRule for PhiWithoutAuditTrigger {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            // Partitions inherit row triggers of the parent; audit tables are the trail itself.
            if table.partition_of.is_some()
                || !ctx.settings.is_phi(table)
                || ctx.settings.is_audit_table(&table.name)
                || table.triggers.iter().any(writes_audit_trail)
            {
                continue;
            }
            sink.report_at(
                &table.created,
                format!("table `{}` holds patient data but no trigger records changes to it in an audit trail", table.name),
            );
        }
    }
}

/// An enabled trigger that fires `AFTER UPDATE` or `AFTER DELETE` (row or statement level), or
/// whose trigger or function name contains `audit` and that fires on a data change.
fn writes_audit_trail(t: &Trigger) -> bool {
    let e = t.spec.events;
    if t.disabled || !(e.insert || e.update || e.delete) {
        return false;
    }
    let named = t.name.to_ascii_lowercase().contains("audit")
        || t.function.as_ref().is_some_and(|f| {
            f.name.to_ascii_lowercase().contains("audit")
                || f.schema.as_deref().is_some_and(|s| s.to_ascii_lowercase().contains("audit"))
        });
    named || (t.spec.timing == TriggerTiming::After && (e.update || e.delete))
}
