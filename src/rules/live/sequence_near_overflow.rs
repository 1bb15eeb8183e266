use crate::diagnostic::Applicability;
use crate::diagnostic::Impact;
use crate::rules::Sink;
use crate::rules::util::type_shape;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct SequenceNearOverflow;

/// The largest value of an integer column type.
fn type_max(ty: &crate::parse::ir::TypeName) -> Option<i64> {
    match type_shape(ty).base.as_str() {
        "int2" | "smallserial" | "serial2" => Some(i64::from(i16::MAX)),
        "int4" | "serial" | "serial4" => Some(i64::from(i32::MAX)),
        "int8" | "bigserial" | "serial8" => Some(i64::MAX),
        _ => None,
    }
}

impl SchemaRule for SequenceNearOverflow {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for seq in &ctx.schema.sequences {
            let Some(last) = seq.last_value else { continue };
            let column = seq.owner.as_ref().and_then(|(t, c)| {
                ctx.schema.tables.get(t).and_then(|t| t.column(c)).map(|col| (t, c, type_max(&col.ty)))
            });
            // The limit is the sequence's own bound, or the owning column's type if smaller.
            let (limit, used) = if seq.increment >= 0 {
                let col_max = column.as_ref().and_then(|c| c.2).unwrap_or(i64::MAX);
                let max = seq.max_value.min(col_max);
                (max, last)
            } else {
                let col_min = column.as_ref().and_then(|c| c.2).map_or(i64::MIN, |m| -m - 1);
                (seq.min_value.max(col_min).saturating_neg(), last.saturating_neg())
            };
            if limit <= 0 || used <= 0 {
                continue;
            }
            let ratio = used as f64 / limit as f64;
            if ratio < 0.75 {
                continue;
            }
            let of = match &column {
                Some((t, c, _)) => format!("`{}` for column `{c}` of `{t}`", seq.name),
                None => format!("`{}`", seq.name),
            };
            let report = sink
                .report_at(
                    &seq.origin,
                    format!(
                        "sequence {of} has used {:.1}% of its range: last value {last} of {limit}",
                        ratio * 100.0
                    ),
                )
                .fix_new("widen to bigint", Applicability::Unsafe, match &column {
                    Some((t, c, _)) => format!(
                        "-- widen the column (rewrites the table: plan it), then the sequence:\nALTER TABLE {t} ALTER COLUMN {} TYPE bigint;\nALTER SEQUENCE {} AS bigint;",
                        crate::parse::ir::quote_ident(c),
                        seq.name
                    ),
                    None => format!("ALTER SEQUENCE {} AS bigint;", seq.name),
                });
            if ratio < 0.9 {
                report.impact(Impact::Lower);
            }
        }
    }
}
