use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::rules::schema::tenant_table_without_rls::tenant_policy;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct RlsWithoutPolicy;

impl SchemaRule for RlsWithoutPolicy {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            if !table.rls_enabled || table.policies.iter().any(|p| !p.restrictive) {
                continue;
            }
            let what = if table.policies.is_empty() { "no policy" } else { "only restrictive policies" };
            let who = if table.rls_forced {
                "every query returns no rows and every write fails, also for the table's owner (it is `FORCE`d)"
            } else {
                "queries by roles other than the owner return no rows and their writes fail"
            };
            let report = sink
                .report_at(&table.created, format!("row-level security is enabled on `{}` but it has {what}: {who}", table.name));
            if table.column(&ctx.settings.tenant_column).is_some() {
                report.fix_new("add a tenant policy", Applicability::Unsafe, tenant_policy(table, &ctx.settings.tenant_column));
            }
        }
    }
}
