use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::parse::ir::quote_ident;
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::Table;

pub struct TenantTableWithoutRls;

impl SchemaRule for TenantTableWithoutRls {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let col = &ctx.settings.tenant_column;
        for table in ctx.schema.tables.values() {
            // A partition is read through its parent, whose setting applies there.
            if table.rls_enabled || table.partition_of.is_some() || table.column(col).is_none() {
                continue;
            }
            let (message, fix) = if table.policies.is_empty() {
                (
                    format!(
                        "table `{}` has the tenant column `{col}` but no row-level security: nothing in the database keeps a tenant from reading another tenant's rows",
                        table.name
                    ),
                    format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY;\n{}", table.name, tenant_policy(table, col)),
                )
            } else {
                (
                    format!(
                        "table `{}` has the tenant column `{col}` and policies, but row-level security is not enabled, so the policies are not applied",
                        table.name
                    ),
                    format!("ALTER TABLE {} ENABLE ROW LEVEL SECURITY;", table.name),
                )
            };
            sink.report_at(&table.created, message)
                .fix_new("enable row-level security with a tenant policy", Applicability::Unsafe, fix);
        }
    }
}

/// A tenant-isolation policy on `col`, compared with the session setting `app.current_<col>`.
pub(crate) fn tenant_policy(table: &Table, col: &str) -> String {
    let ty = table.column(col).map_or("text", |c| c.ty.text.as_str());
    let ty = match ty {
        "serial" | "serial4" => "integer",
        "bigserial" | "serial8" => "bigint",
        "smallserial" | "serial2" => "smallint",
        t => t,
    };
    let name = quote_ident(&format!("{}_tenant_isolation", table.name.name));
    let c = quote_ident(col);
    let setting = format!("app.current_{col}");
    format!(
        "CREATE POLICY {name} ON {t}\n    USING ({c} = nullif(current_setting('{setting}', true), '')::{ty})\n    WITH CHECK ({c} = nullif(current_setting('{setting}', true), '')::{ty});",
        t = table.name
    )
}
