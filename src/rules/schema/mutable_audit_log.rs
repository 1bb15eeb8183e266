use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::parse::ir::{RuleEvent, TriggerTiming, quote_ident};
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::Table;

pub struct MutableAuditLog;

impl SchemaRule for MutableAuditLog {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            if table.partition_of.is_some() || !ctx.settings.is_audit_table(&table.name) {
                continue;
            }
            let open: Vec<&str> = [(RuleEvent::Update, "UPDATE"), (RuleEvent::Delete, "DELETE")]
                .into_iter()
                .filter(|(e, _)| !rejects(table, *e))
                .map(|(_, k)| k)
                .collect();
            let mut reasons = Vec::new();
            if !open.is_empty() {
                reasons.push(format!("no trigger or rule rejects `{}`", open.join("` or `")));
            }
            let mut revoke = Vec::new();
            for g in table.grants.iter().filter(|g| table.owner.as_ref() != Some(&g.grantee)) {
                let p = g.privileges;
                let granted: Vec<&str> = [("UPDATE", p.update), ("DELETE", p.delete), ("TRUNCATE", p.truncate)]
                    .into_iter()
                    .filter_map(|(k, on)| on.then_some(k))
                    .collect();
                if granted.is_empty() {
                    continue;
                }
                let role = if g.grantee == "public" { "PUBLIC".to_owned() } else { quote_ident(&g.grantee) };
                reasons.push(format!("`{}` granted to `{role}`", granted.join(", ")));
                revoke.push(format!("REVOKE {} ON {} FROM {role};", granted.join(", "), table.name));
            }
            if reasons.is_empty() {
                continue;
            }
            let mut fix = revoke.join("\n");
            if !open.is_empty() {
                if !fix.is_empty() {
                    fix.push('\n');
                }
                fix.push_str(&append_only_trigger(table));
            }
            sink.report_at(&table.created, format!("audit table `{}` is not append-only: {}", table.name, reasons.join("; ")))
                .fix_new("make the audit table append-only", Applicability::Unsafe, fix);
        }
    }
}

/// Whether an enabled, unconditional `BEFORE` trigger fires on the event (its function cannot be
/// seen, so it is taken to reject the change), or a `DO INSTEAD NOTHING` rule replaces it.
fn rejects(table: &Table, event: RuleEvent) -> bool {
    let trigger = table.triggers.iter().any(|t| {
        let on = match event {
            RuleEvent::Update => t.spec.events.update,
            RuleEvent::Delete => t.spec.events.delete,
            RuleEvent::Insert => t.spec.events.insert,
            RuleEvent::Select => false,
        };
        on && !t.disabled && !t.spec.conditional && t.spec.timing == TriggerTiming::Before
    });
    trigger
        || table
            .rewrite_rules
            .iter()
            .any(|r| r.event == event && r.instead && r.nothing && !r.conditional && !r.disabled)
}

fn append_only_trigger(table: &Table) -> String {
    let trigger = quote_ident(&format!("{}_append_only", table.name.name));
    format!(
        "CREATE OR REPLACE FUNCTION reject_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n    RAISE EXCEPTION '% on %.% is not allowed: the table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;\n\
         END $$;\n\
         CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE ON {}\n    FOR EACH STATEMENT EXECUTE FUNCTION reject_audit_change();",
        table.name
    )
}
