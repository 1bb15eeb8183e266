use crate::rules::Sink;
use crate::parse::ir::{ConstraintKind, RefAction};
use crate::rules::{SchemaCtx, SchemaRule};

pub struct CascadeOnPhi;

impl SchemaRule for CascadeOnPhi {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            if !ctx.settings.is_phi(table) {
                continue;
            }
            for c in &table.constraints {
                let ConstraintKind::ForeignKey(fk) = &c.kind else { continue };
                // A `NOT ENFORCED` foreign key (PostgreSQL 18) has no triggers: nothing cascades.
                if fk.on_delete != RefAction::Cascade || !c.enforced {
                    continue;
                }
                sink.report_at(&c.origin,
                    format!("`ON DELETE CASCADE` on `{}`: deleting a row of `{}` silently deletes patient data in `{}`", c.name, fk.ref_table, table.name),
                )
                .help("use `ON DELETE RESTRICT` (or `NO ACTION`) and soft-delete the parent; delete patient records only through an audited path");
            }
        }
    }
}
