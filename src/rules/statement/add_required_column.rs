use crate::rules::Sink;
use crate::parse::ir::{Action, AlterOp};
use crate::rules::{StatementRule, StmtCtx};

pub struct AddRequiredColumn;

impl StatementRule for AddRequiredColumn {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        // Emptied by a `TRUNCATE` earlier in the same transaction, which holds its ACCESS
        // EXCLUSIVE lock until the transaction ends: no row can come back before this statement.
        let key = crate::schema::QualName::resolve(&at.name);
        let emptied = ctx.already_holds(&at.name, crate::rules::locks::Lock::AccessExclusive)
            && ctx.earlier.iter().any(|s| {
                matches!(&s.action, Action::Truncate { tables } if tables.iter().any(|t| crate::schema::QualName::resolve(t) == key))
            });
        if emptied {
            return;
        }
        for op in &at.ops {
            let AlterOp::AddColumn { column, .. } = &op.op else { continue };
            let required = column.not_null || column.primary_key;
            let has_default = crate::rules::util::default_gives_value(column.default.as_deref());
            if !required || has_default || column.generated.is_some() || column.ty.is_serial() {
                continue;
            }
            let report = sink.report(op.span.clone(), format!("adding `NOT NULL` column `{}` without a default fails on `{}` as soon as it has rows", column.name, at.name));
            // A key column needs a distinct value per row: a constant default would collide.
            let unique = column.primary_key || column.unique;
            if unique {
                report.help("a key column needs a distinct value in every row, so a constant `DEFAULT` fails too: add it nullable (or with a volatile default such as `gen_random_uuid()`, which rewrites the table), backfill distinct values in batches, build the unique index `CONCURRENTLY`, then add the key `USING INDEX`");
            }
        }
    }
}
