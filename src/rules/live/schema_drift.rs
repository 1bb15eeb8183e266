use std::sync::OnceLock;

use regex::Regex;

use crate::rules::Sink;
use crate::parse::ir::{ConstraintKind, ForeignKey, IndexKey, TypeName};
use crate::rules::util::type_shape;
use crate::rules::{SchemaCtx, SchemaRule};
use crate::schema::{Constraint, Index, Origin, QualName, Table};

pub struct SchemaDrift;

/// A type for comparison: serial types are their integer types (plus a default).
fn type_key(t: &TypeName) -> String {
    let s = type_shape(t);
    let base = match s.base.as_str() {
        "serial" | "serial4" => "int4",
        "bigserial" | "serial8" => "int8",
        "smallserial" | "serial2" => "int2",
        b => b,
    };
    format!("{base}{:?}{}", s.mods, if s.array { "[]" } else { "" })
}

/// An expression for comparison: PostgreSQL stores expressions parsed, and prints them back with
/// casts and parentheses of its own (`status = 'x'` becomes `(status = 'x'::text)`).
fn expr_key(e: &str) -> String {
    static CAST: OnceLock<Regex> = OnceLock::new();
    let cast = CAST.get_or_init(|| {
        Regex::new(r"::\s*(character varying|double precision|timestamp with(out)? time zone|[a-z_][a-z0-9_]*)(\[\])*")
            .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    });
    let lower = e.to_lowercase();
    cast.replace_all(&lower, "").chars().filter(|c| !matches!(c, '(' | ')' | '"') && !c.is_whitespace()).collect()
}

fn index_shape(i: &Index) -> (bool, String, Vec<String>, Vec<String>, Option<String>) {
    let keys = i
        .keys
        .iter()
        .map(|k| match k {
            IndexKey::Column(c) => c.clone(),
            IndexKey::Expr(e) => expr_key(e),
        })
        .collect();
    (i.unique, i.method.to_lowercase(), keys, i.include.clone(), i.predicate.as_deref().map(expr_key))
}

fn fk_shape(fk: &ForeignKey) -> (Vec<String>, QualName, Vec<String>, &'static str, &'static str) {
    (
        fk.columns.clone(),
        QualName::resolve(&fk.ref_table),
        fk.ref_columns.clone(),
        fk.on_delete.as_sql(),
        fk.on_update.as_sql(),
    )
}

/// Constraints compared: primary keys, unique constraints and foreign keys. CHECK constraints are
/// not: their generated names and PostgreSQL's printed expressions differ from the migrations'.
fn compared(c: &Constraint) -> bool {
    matches!(c.kind, ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. } | ConstraintKind::ForeignKey(_))
}

fn kind_name(c: &Constraint) -> &'static str {
    match c.kind {
        ConstraintKind::PrimaryKey { .. } => "primary key",
        ConstraintKind::Unique { .. } => "unique constraint",
        ConstraintKind::ForeignKey(_) => "foreign key",
        ConstraintKind::Check { .. } => "check constraint",
        ConstraintKind::Exclude => "exclusion constraint",
        ConstraintKind::NotNull { .. } => "not-null constraint",
    }
}

fn same_constraint(a: &ConstraintKind, b: &ConstraintKind) -> bool {
    match (a, b) {
        (ConstraintKind::PrimaryKey { columns: x, .. }, ConstraintKind::PrimaryKey { columns: y, .. })
        | (ConstraintKind::Unique { columns: x, .. }, ConstraintKind::Unique { columns: y, .. }) => x == y,
        (ConstraintKind::ForeignKey(x), ConstraintKind::ForeignKey(y)) => {
            let (mut x, mut y) = (fk_shape(x), fk_shape(y));
            // A foreign key written without columns references the primary key: unknown offline.
            if x.2.is_empty() || y.2.is_empty() {
                x.2.clear();
                y.2.clear();
            }
            x == y
        }
        _ => false,
    }
}

fn object(t: &QualName, name: &str) -> Origin {
    Origin::Catalog { object: format!("{}.{}.{name}", t.schema, t.name) }
}

fn compare_tables(m: &Table, l: &Table, sink: &mut Sink<'_>) {
    if m.columns_unknown {
        return;
    }
    for mc in &m.columns {
        match l.column(&mc.name) {
            None => {
                sink.report_at(
                    &l.created,
                    format!("column `{}` of `{}` is in the migrations but not in the database", mc.name, l.name),
                );
            }
            Some(lc) => {
                if type_key(&mc.ty) != type_key(&lc.ty) {
                    sink.report_at(
                        &l.created,
                        format!(
                            "column `{}` of `{}` is `{}` in the database but `{}` in the migrations",
                            mc.name, l.name, lc.ty.text, mc.ty.text
                        ),
                    );
                }
                if mc.not_null != lc.not_null {
                    let null = |n: bool| if n { "NOT NULL" } else { "nullable" };
                    sink.report_at(
                        &l.created,
                        format!(
                            "column `{}` of `{}` is {} in the database but {} in the migrations",
                            mc.name,
                            l.name,
                            null(lc.not_null),
                            null(mc.not_null)
                        ),
                    );
                }
            }
        }
    }
    for lc in l.columns.iter().filter(|c| m.column(&c.name).is_none()) {
        sink.report_at(
            &l.created,
            format!("column `{}` of `{}` is in the database but in no migration", lc.name, l.name),
        );
    }
    for mc in m.constraints.iter().filter(|c| compared(c)) {
        match l.constraints.iter().find(|c| c.name == mc.name) {
            None => {
                sink.report_at(
                    &object(&l.name, &mc.name),
                    format!(
                        "{} `{}` on `{}` is in the migrations but not in the database",
                        kind_name(mc),
                        mc.name,
                        l.name
                    ),
                );
            }
            Some(lc) if !same_constraint(&mc.kind, &lc.kind) => {
                sink.report_at(
                    &lc.origin,
                    format!(
                        "{} `{}` on `{}` differs from its definition in the migrations",
                        kind_name(lc),
                        lc.name,
                        l.name
                    ),
                );
            }
            Some(_) => {}
        }
    }
    for lc in l.constraints.iter().filter(|c| compared(c) && !m.constraints.iter().any(|x| x.name == c.name)) {
        sink.report_at(
            &lc.origin,
            format!("{} `{}` on `{}` is in the database but in no migration", kind_name(lc), lc.name, l.name),
        );
    }
}

impl SchemaRule for SchemaDrift {
    fn check(&self, ctx: &SchemaCtx<'_>, sink: &mut Sink<'_>) {
        let Some(m) = ctx.migrations else { return };
        let live = ctx.schema;
        for (name, mt) in &m.tables {
            match live.tables.get(name) {
                None => {
                    sink.report_at(
                        &Origin::Catalog { object: format!("{}.{}", name.schema, name.name) },
                        format!("table `{name}` is created by the migrations but is not in the database"),
                    );
                }
                Some(lt) => compare_tables(mt, lt, sink),
            }
        }
        for (name, lt) in &live.tables {
            if !m.tables.contains_key(name) {
                sink.report_at(&lt.created, format!("table `{name}` is in the database but no migration creates it"));
            }
        }
        for (name, mi) in &m.indexes {
            // Indexes of tables only one side has were reported with their table.
            let Some(lt) = live.tables.get(&mi.table) else { continue };
            match live.indexes.get(name) {
                None => {
                    sink.report_at(
                        &object(&lt.name, &name.name),
                        format!(
                            "index `{}` on `{}` is created by the migrations but is not in the database",
                            name.name, mi.table
                        ),
                    );
                }
                Some(li) if index_shape(mi) != index_shape(li) => {
                    sink.report_at(
                        &li.origin,
                        format!(
                            "index `{}` on `{}` differs from its definition in the migrations",
                            name.name, li.table
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        for (name, li) in &live.indexes {
            if m.tables.contains_key(&li.table) && !m.indexes.contains_key(name) {
                sink.report_at(
                    &li.origin,
                    format!("index `{}` on `{}` is in the database but no migration creates it", name.name, li.table),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{expr_key, type_key};
    use crate::parse::ir::TypeName;

    #[test]
    fn printed_expressions_compare_equal() {
        assert_eq!(expr_key("status = 'cancelled'"), expr_key("(status = 'cancelled'::text)"));
        assert_eq!(expr_key("deleted_at IS NULL"), expr_key("(deleted_at IS NULL)"));
        assert_ne!(expr_key("deleted_at IS NULL"), expr_key("deleted_at IS NOT NULL"));
        assert_eq!(expr_key("a = 'x'::character varying"), expr_key("a = 'x'"));
    }

    #[test]
    fn serial_is_integer() {
        assert_eq!(type_key(&TypeName::new("serial")), type_key(&TypeName::new("integer")));
        assert_eq!(type_key(&TypeName::new("VARCHAR(20)")), type_key(&TypeName::new("character varying(20)")));
        assert_ne!(type_key(&TypeName::new("int")), type_key(&TypeName::new("bigint")));
    }
}
