use crate::diagnostic::{Applicability, Impact};
use crate::parse::ir::Privileges;
use crate::schema::{Origin, Table};
use crate::rules::Sink;
use crate::rules::schema::tenant_table_without_rls::tenant_policy;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct RlsWithoutPolicy;

impl SchemaRule for RlsWithoutPolicy {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        // Grants are known: read from a live catalog, or managed by the migrations (some table
        // has one). Default privileges are not modelled, so a schema without any grant says
        // nothing about who can read a table.
        let grants_managed = ctx.schema.tables.values().any(|t| t.grants.iter().any(|g| g.privileges != Privileges::default()));
        for table in ctx.schema.tables.values() {
            if !table.rls_enabled || table.policies.iter().any(|p| !p.restrictive) {
                continue;
            }
            if let Some(why) = deny_all(table, grants_managed) {
                // Deliberately closed: row-level security with no policy is the lock, not a defect.
                sink.report_at(
                    &table.created,
                    format!("row-level security is enabled on `{}` with no permissive policy, which denies every row to roles other than its owner; {why}, so this looks deliberate", table.name),
                )
                .impact(Impact::Negligible)
                .help("keep row-level security enabled; say why with `-- dbwarden-ignore: rls-without-policy -- <reason>` before its `CREATE TABLE`, or add a permissive policy for a role that must read it");
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

/// Why `table` looks deny-all by design: a comment that says so, or no role granted anything on
/// it where grants are known.
fn deny_all(table: &Table, grants_managed: bool) -> Option<&'static str> {
    if let Some(comment) = &table.comment {
        let c = comment.to_ascii_lowercase().replace(['-', '_'], " ");
        if ["deny all", "denies all", "no access", "deny by default", "not accessible"].iter().any(|w| c.contains(w)) {
            return Some("its comment says so");
        }
    }
    let live = matches!(table.created, Origin::Catalog { .. });
    let granted = table.grants.iter().any(|g| g.privileges != Privileges::default() && Some(&g.grantee) != table.owner.as_ref());
    ((live || grants_managed) && !granted).then_some("no role is granted any privilege on it")
}
