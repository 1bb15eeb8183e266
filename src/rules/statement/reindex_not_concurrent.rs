use crate::rules::Sink;
use crate::parse::ir::{Action, ObjName};
use crate::diagnostic::Applicability;
use crate::rules::util::{insert_after_keyword, outside_transaction};
use crate::rules::{StatementRule, StmtCtx};
use crate::schema::QualName;

pub struct ReindexNotConcurrent;

impl StatementRule for ReindexNotConcurrent {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::Reindex { concurrently: false, kind, name } = &ctx.stmt.action else { return };
        let kind = kind.to_ascii_lowercase();
        // The table whose indexes are rebuilt, when there is one and the model knows it.
        let table = match (kind.as_str(), name) {
            ("table", Some(n)) => Some(n.clone()),
            ("index", Some(n)) => ctx
                .schema
                .indexes
                .get(&QualName::resolve(n))
                .map(|i| ObjName { schema: Some(i.table.schema.clone()), name: i.table.name.clone() }),
            _ => None,
        };
        // A table created in this file is new and empty: rebuilding its indexes blocks nobody.
        if table.as_ref().is_some_and(|t| ctx.is_new_table(t)) {
            return;
        }
        let what = kind.to_ascii_uppercase();
        let target = name.as_ref().map_or_else(String::new, |n| format!(" `{n}`"));
        let blocked = match (kind.as_str(), &table) {
            ("index", Some(t)) => format!("writes to `{}`, and nearly all reads of it,", QualName::resolve(t)),
            ("index", None) => "writes to its table, and nearly all reads of it,".to_owned(),
            ("table", _) => "writes to the table, and nearly all reads of it,".to_owned(),
            _ => "writes to each table it processes, and nearly all reads of it,".to_owned(),
        };
        let message =
            format!("`REINDEX {what}`{target} without `CONCURRENTLY` blocks {blocked} until the rebuild is done");
        let concurrent_possible = ctx.settings.pg_version >= 12 && kind != "system";
        let help = if kind == "system" {
            Some("system catalogs cannot be reindexed concurrently: run `REINDEX SYSTEM` in a maintenance window, not in a migration".to_owned())
        } else if !concurrent_possible {
            Some("before PostgreSQL 12, build a replacement with `CREATE INDEX CONCURRENTLY`, then drop the old index `CONCURRENTLY` and rename the new one".to_owned())
        } else if !ctx.runs_in.concurrently_ok {
            Some(format!(
                "`CONCURRENTLY` cannot run inside the transaction this statement runs in: move it {}, as `REINDEX {what} CONCURRENTLY`",
                outside_transaction(ctx)
            ))
        } else {
            None
        };
        let mut report = sink.report(None, message);
        if let Some(help) = help {
            report = report.help(help);
        }
        if concurrent_possible
            && ctx.runs_in.concurrently_ok
            && let Some(edit) = insert_after_keyword(ctx, &kind, "CONCURRENTLY")
        {
            report.fix("rebuild `CONCURRENTLY`", Applicability::Safe, vec![edit]);
        }
    }
}
