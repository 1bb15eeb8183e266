use crate::diagnostic::{Applicability, Edit};
use crate::schema::choose_name;
use sqlparser::tokenizer::Token;

use crate::rules::Sink;
use crate::parse::ir::{AlterOp, AlterTable, ConstraintKind, quote_ident};
use crate::parse::tokens::{self, Tok};
use crate::rules::{StatementRule, StmtCtx};

pub struct SetNotNull;

impl StatementRule for SetNotNull {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            // `SET NOT NULL`, or (PostgreSQL 18) a not-null constraint added without `NOT VALID`:
            // both scan the table under the `ACCESS EXCLUSIVE` lock.
            let (column, added) = match &op.op {
                AlterOp::SetNotNull { column } => (column, None),
                AlterOp::AddConstraint(c) if !c.not_valid => match &c.kind {
                    ConstraintKind::NotNull { column } => (column, Some(c.name.as_deref())),
                    _ => continue,
                },
                _ => continue,
            };
            if already_proven(ctx, at, column) {
                continue;
            }
            let col = quote_ident(column);
            let message = match added {
                None => format!(
                    "`SET NOT NULL` on `{}.{col}` blocks reads and writes while the whole table is scanned",
                    at.name
                ),
                Some(_) => format!(
                    "adding a `NOT NULL` constraint on `{}.{col}` without `NOT VALID` blocks reads and writes while the whole table is scanned",
                    at.name
                ),
            };
            let help = if ctx.settings.pg_version >= 18 {
                Some(
                    "add the constraint `NOT VALID` (`ADD CONSTRAINT name NOT NULL col NOT VALID`, no scan), then `VALIDATE CONSTRAINT name` in a separate statement: it scans without blocking reads or writes, and the column is then `NOT NULL`",
                )
            } else if ctx.settings.pg_version < 12 {
                Some(
                    "before PostgreSQL 12 `SET NOT NULL` always scans the table; keep a validated `CHECK (col IS NOT NULL)` instead",
                )
            } else {
                None
            };
            let mut report = sink.report(op.span.clone(), message);
            if ctx.in_transaction && ctx.settings.pg_version >= 12 {
                // The `ADD ... NOT VALID`'s lock is held until `COMMIT`, through the scan of a
                // `VALIDATE` in the same transaction: the validation goes to a later migration.
                report = report.help(if ctx.settings.pg_version >= 18 {
                    "add the constraint `NOT VALID` (`ADD CONSTRAINT name NOT NULL col NOT VALID`, no scan) here, and `VALIDATE CONSTRAINT name` in a later migration: this statement runs in a transaction, which holds the `ADD`'s lock until it commits, so a `VALIDATE` in the same transaction scans under that lock"
                } else {
                    "add `CHECK (col IS NOT NULL) NOT VALID` here, and in a later migration `VALIDATE` it, `SET NOT NULL` (no scan then) and drop the check: this statement runs in a transaction, which holds the `ADD`'s lock until it commits, so a `VALIDATE` in the same transaction scans under that lock"
                });
            } else if let Some(help) = help {
                report = report.help(help);
            }
            // The fix replaces the statement: only offered when this is all it does, and not for
            // a column the file drops later (its validation in a later migration would find the
            // check gone with the column).
            let dropped_later = ctx.later.iter().any(|s| match &s.action {
                crate::parse::ir::Action::AlterTable(later) => {
                    later.name == at.name
                        && later.ops.iter().any(|o| matches!(&o.op, AlterOp::DropColumn { name, .. } if name == column))
                }
                _ => false,
            });
            if ctx.settings.pg_version < 12 || at.ops.len() != 1 || dropped_later {
                continue;
            }
            let t = &at.name;
            // A name no constraint of the table has (the fix's `ADD CONSTRAINT` would fail).
            let taken = |n: &str| ctx.schema.constraints_of(&at.name).iter().any(|c| c.name == n);
            let fresh = || quote_ident(&choose_name(&at.name.name, Some(column), "not_null", taken));
            // A `NOT VALID` not-null constraint on the column already (PostgreSQL 18): validating
            // it is all that is needed (a column has one not-null constraint).
            let pending = ctx.schema.constraints_of(&at.name).iter().find(|c| {
                !c.validated && c.enforced && matches!(&c.kind, ConstraintKind::NotNull { column: x } if x == column)
            });
            if let Some(c) = pending.filter(|_| added.is_none()) {
                report.fix_statement(
                    "validate the column's `NOT VALID` not-null constraint instead",
                    Applicability::Safe,
                    format!("ALTER TABLE {t} VALIDATE CONSTRAINT {};", quote_ident(&c.name)),
                );
            } else if ctx.settings.pg_version >= 18 {
                let name = added.flatten().map_or_else(fresh, quote_ident);
                let add = format!("ALTER TABLE {t} ADD CONSTRAINT {name} NOT NULL {col} NOT VALID;");
                let validate = format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name};");
                split_fix(report, ctx, "add the not-null constraint `NOT VALID`", add, validate);
            } else if added.is_none() {
                let check = fresh();
                let add = format!("ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID;");
                // The later migration's `SET NOT NULL` takes ACCESS EXCLUSIVE (briefly: the check
                // spares it the scan) and must not queue without a `lock_timeout` either.
                let timeout = if ctx.in_transaction { "SET lock_timeout = '5s';\n" } else { "" };
                let rest = format!(
                    "{timeout}ALTER TABLE {t} VALIDATE CONSTRAINT {check};\nALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL;\nALTER TABLE {t} DROP CONSTRAINT {check};"
                );
                split_fix(report, ctx, "prove the column `NOT NULL` with a `NOT VALID` check", add, rest);
            }
        }
    }
}

/// The fix: `add` (no scan), then `validate` (scans without blocking reads or writes). Outside a
/// transaction both replace the statement; inside one, the `ADD`'s lock would be held through the
/// scan, so the validation is a new statement for a later migration.
fn split_fix(report: crate::rules::Report<'_>, ctx: &StmtCtx<'_>, what: &str, add: String, validate: String) {
    if ctx.in_transaction {
        let range = ctx.stmt.range.clone();
        report.fix(
            format!("{what} here; validate it in a later migration"),
            Applicability::Safe,
            vec![Edit::replace(range, add), Edit::New { text: validate }],
        );
    } else {
        report.fix_statement(format!("{what}, then validate it"), Applicability::Safe, format!("{add}\n{validate}"));
    }
}

/// Whether the column needs no scan: it is already `NOT NULL` (PostgreSQL does nothing), a
/// validated not-null constraint covers it (PostgreSQL 18), or (PostgreSQL 12+) a validated
/// `CHECK` proves it not null.
fn already_proven(ctx: &StmtCtx<'_>, at: &AlterTable, column: &str) -> bool {
    if ctx.table(&at.name).and_then(|t| t.column(column)).is_some_and(|c| c.not_null) {
        return true;
    }
    ctx.schema.constraints_of(&at.name).iter().any(|c| {
        c.validated
            && match &c.kind {
                ConstraintKind::NotNull { column: x } => x == column,
                ConstraintKind::Check { expr } => ctx.settings.pg_version >= 12 && check_proves_not_null(expr, column),
                _ => false,
            }
    })
}

/// Whether a CHECK expression proves `column IS NOT NULL`: it is `column IS NOT NULL`, or an `AND`
/// of terms one of which is. Identifiers compare as PostgreSQL folds them (`"Email"` is not
/// `email`). Other implications PostgreSQL may draw are not attempted (the finding stays).
fn check_proves_not_null(expr: &str, column: &str) -> bool {
    let Ok(raw) = tokens::tokenize(expr) else { return false };
    let toks = tokens::significant(expr, &raw, 0);
    proves(&toks, column)
}

fn proves(toks: &[Tok], column: &str) -> bool {
    let toks = strip_parens(toks);
    let terms = split_and(toks);
    if terms.len() > 1 {
        return terms.iter().any(|t| proves(t, column));
    }
    matches!(toks, [c, is, not, null]
        if c.ident().as_deref() == Some(column)
            && !c.is_kw("null")
            && is.is_kw("is")
            && not.is_kw("not")
            && null.is_kw("null"))
}

/// `toks` without parentheses that enclose all of it.
fn strip_parens(mut toks: &[Tok]) -> &[Tok] {
    while let [first, inner @ .., last] = toks
        && first.token == Token::LParen
        && last.token == Token::RParen
        && closes_at_end(inner)
    {
        toks = inner;
    }
    toks
}

/// The parentheses in `toks` are balanced without going below depth 0.
fn closes_at_end(toks: &[Tok]) -> bool {
    let mut depth = 0i32;
    for t in toks {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Splits at `AND` outside parentheses (a `BETWEEN ... AND` is left whole).
fn split_and(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut between = false;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0 && t.is_kw("between") => between = true,
            _ if depth == 0 && t.is_kw("and") && between => between = false,
            _ if depth == 0 && t.is_kw("and") => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::check_proves_not_null as p;

    #[test]
    fn proofs() {
        assert!(p("email IS NOT NULL", "email"));
        assert!(p("(email IS NOT NULL)", "email"));
        assert!(p("EMAIL is not null", "email"));
        assert!(p("\"Email\" IS NOT NULL", "Email"));
        assert!(!p("\"Email\" IS NOT NULL", "email"));
        assert!(!p("email IS NOT NULL", "Email"));
        assert!(p("(email IS NOT NULL) AND (age > 0)", "email"));
        assert!(p("age > 0 AND (email IS NOT NULL AND x = 1)", "email"));
        assert!(p("age BETWEEN 1 AND 2 AND email IS NOT NULL", "email"));
        assert!(!p("email IS NOT NULL OR age > 0", "email"));
        assert!(!p("(email IS NOT NULL) OR (age > 0)", "email"));
        assert!(!p("age > 0", "age"));
        assert!(!p("email IS NULL", "email"));
        assert!(!p("other IS NOT NULL", "email"));
        assert!(!p("NOT (email IS NULL) OR x", "email"));
    }
}
