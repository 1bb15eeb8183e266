use crate::diagnostic::Applicability;
use crate::rules::Sink;
use crate::parse::ir::IndexKey;
use crate::rules::util::normalise_expr;
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::Index;

pub struct DuplicateIndex;

/// Per key: the key text and its options (see [`keys`]).
type Keys = Vec<(String, String)>;

/// Per key: the key (column or normalised expression) and its operator class, collation and
/// ordering options.
fn keys(index: &Index) -> Keys {
    let options = index.stats.as_ref().map_or("", |s| s.key_options.as_str());
    // `indclass/indcollation/indoption`, each a space-separated list with one entry per key.
    let lists: Vec<Vec<&str>> = options.split('/').map(|l| l.split_whitespace().collect()).collect();
    index
        .keys
        .iter()
        .enumerate()
        .map(|(k, key)| {
            let text = match key {
                IndexKey::Column(c) => c.clone(),
                IndexKey::Expr(e) => format!("({})", normalise_expr(e)),
            };
            let opts = lists.iter().map(|l| l.get(k).copied().unwrap_or("")).collect::<Vec<_>>().join("/");
            (text, opts)
        })
        .collect()
}

fn describe(index: &Index) -> String {
    let cols: Vec<String> = index
        .keys
        .iter()
        .map(|k| match k {
            IndexKey::Column(c) => c.clone(),
            IndexKey::Expr(e) => e.clone(),
        })
        .collect();
    cols.join(", ")
}

/// Which of two identical indexes to keep: one that backs a constraint, then a unique one, then
/// the first by name.
fn keep_first(a: &Index, b: &Index) -> bool {
    (a.constraint.is_some(), a.unique, std::cmp::Reverse(&a.name))
        >= (b.constraint.is_some(), b.unique, std::cmp::Reverse(&b.name))
}

impl SchemaRule for DuplicateIndex {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        for table in ctx.schema.tables.values() {
            if ctx.schema.live.is_none() {
                return;
            }
            let indexes: Vec<(&Index, Keys, Option<String>)> = ctx
                .schema
                .indexes_on(&table.name)
                .filter(|i| i.valid && i.stats.is_some())
                .map(|i| (i, keys(i), i.predicate.as_deref().map(normalise_expr)))
                .collect();
            if indexes.len() < 2 {
                continue;
            }
            for (a, ka, pa) in &indexes {
                for (b, kb, pb) in &indexes {
                    if a.name == b.name || pa != pb || !a.method.eq_ignore_ascii_case(&b.method) {
                        continue;
                    }
                    // `a` is redundant: the same keys as `b` (and `b` is the one to keep), or a
                    // non-unique B-tree index whose keys are a leading prefix of `b`'s.
                    let same = ka == kb && a.unique == b.unique && !keep_first(a, b);
                    let weaker_same = ka == kb && !a.unique && b.unique;
                    let prefix = !a.unique
                        && a.constraint.is_none()
                        && a.method.eq_ignore_ascii_case("btree")
                        && ka.len() < kb.len()
                        && kb[..ka.len()] == ka[..]
                        && a.include.iter().all(|c| b.include.contains(c) || kb.iter().any(|(k, _)| k == c));
                    if !(same || weaker_same || prefix) {
                        continue;
                    }
                    let how = if prefix { "its key columns are a leading prefix of" } else { "it duplicates" };
                    sink.report_at(
                        &a.origin,
                        format!(
                            "index `{}` on `{}` ({}) is redundant: {how} index `{}` ({})",
                            a.name.name,
                            table.name,
                            describe(a),
                            b.name.name,
                            describe(b)
                        ),
                    )
                    .fix_new("drop the duplicate", Applicability::Unsafe, if a.constraint.is_some() {
                        format!(
                            "-- the index backs constraint {}: drop the constraint instead, if nothing references it",
                            a.constraint.as_deref().unwrap_or_default()
                        )
                    } else {
                        format!("DROP INDEX CONCURRENTLY IF EXISTS {};", a.name)
                    });
                    break;
                }
            }
        }
    }
}
