use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::rules::{SchemaCtx, SchemaRule};

pub struct StaleStatistics;

impl SchemaRule for StaleStatistics {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let cfg = &ctx.settings.audit;
        for table in ctx.schema.tables.values() {
            // Partitioned tables hold no rows of their own; their partitions are judged.
            let Some(s) = &table.stats else { continue };
            if table.partitioned {
                continue;
            }
            let never = s.last_analyze.is_none() && s.last_autoanalyze.is_none();
            if never {
                if s.live_rows > 0 || s.mod_since_analyze > 0 {
                    sink.report_at(
                        &table.created,
                        format!(
                            "table `{}` has never been analysed ({} rows changed since it was created): the planner guesses its size and value distribution",
                            table.name, s.mod_since_analyze
                        ),
                    )
                    .fix_new("analyse the table", Applicability::Safe, format!("ANALYZE {};", table.name));
                }
                continue;
            }
            let rows = s.estimated_rows().max(0.0);
            let changed = s.mod_since_analyze;
            let stale = changed >= i64::try_from(cfg.stale_min_modifications).unwrap_or(i64::MAX)
                && changed as f64 > cfg.stale_fraction * rows;
            if stale {
                let last = s.last_analyze.iter().chain(&s.last_autoanalyze).max().cloned().unwrap_or_default();
                sink.report_at(
                    &table.created,
                    format!(
                        "statistics of table `{}` are stale: {changed} rows changed since the last analyse ({last}), against about {rows:.0} rows",
                        table.name
                    ),
                )
                .fix_new("analyse the table", Applicability::Safe, format!("ANALYZE {};", table.name));
            }
        }
    }
}
