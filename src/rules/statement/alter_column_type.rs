use crate::diagnostic::Impact;
use sqlparser::tokenizer::Token;

use crate::rules::Sink;
use crate::parse::ir::{AlterOp, AlterTable, AlterTableOp, Generated, TypeName, quote_ident};
use crate::parse::tokens::{self, Tok};
use crate::rules::util::{type_change_is_safe, type_shape};
use crate::rules::{StatementRule, StmtCtx};

pub struct AlterColumnType;

impl StatementRule for AlterColumnType {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Some(at) = ctx.alter_of_existing_table() else { return };
        for op in &at.ops {
            if let AlterOp::SetExpression { column } = &op.op {
                set_expression(ctx, at, op, column, sink);
                continue;
            }
            let AlterOp::AlterType { column, ty, using } = &op.op else { continue };
            let col = quote_ident(column);
            // `USING col` / `USING col::new_type` (as Django writes) converts exactly as no `USING` does.
            let using = using.as_deref().is_some_and(|u| !using_is_plain_cast(u, column, ty));
            let old = ctx.table(&at.name).and_then(|t| t.column(column)).map(|c| &c.ty);
            if let Some(old) = old {
                if type_change_is_safe(old, ty, using) {
                    continue;
                }
                if !using && ctx.settings.pg_version >= 12 && utc_makes_it_free(old, ty) {
                    report_time_zone_change(ctx, at, op, old, ty, sink);
                    continue;
                }
                sink.report(
                    op.span.clone(),
                    format!(
                        "changing `{}.{col}` from `{}` to `{}` rewrites the table and its indexes under an exclusive lock",
                        at.name, old.text, ty.text
                    ),
                );
                continue;
            }
            let shape = type_shape(ty);
            // Unknown old type: a change to an unbounded `text` / `varchar` / `numeric` is most
            // likely a free widening; stay silent.
            if !using && shape.mods.is_empty() && matches!(shape.base.as_str(), "text" | "varchar" | "numeric") {
                continue;
            }
            // A bounded `varchar` / `numeric` / `varbit` target may be a free widening too: report it
            // one level lower, saying what it depends on.
            if !using && !shape.array && matches!(shape.base.as_str(), "varchar" | "numeric" | "varbit") {
                sink.report(
                    op.span.clone(),
                    format!(
                        "changing the type of `{}.{col}` to `{}` rewrites the table and its indexes under an exclusive lock, unless it only raises the length or precision of the same type (the old type is not known here)",
                        at.name, ty.text
                    ),
                )
                .impact(Impact::Lower);
                continue;
            }
            sink.report(
                op.span.clone(),
                format!(
                    "changing the type of `{}.{col}` to `{}` rewrites the table and its indexes under an exclusive lock",
                    at.name, ty.text
                ),
            );
        }
    }
}

/// `timestamp` to `timestamptz` or back, keeping or raising the precision: from PostgreSQL 12
/// the values are kept as they are (no table rewrite) when the session's `TimeZone` is UTC.
fn utc_makes_it_free(old: &TypeName, new: &TypeName) -> bool {
    let (o, n) = (type_shape(old), type_shape(new));
    let pair = matches!((o.base.as_str(), n.base.as_str()), ("timestamp", "timestamptz") | ("timestamptz", "timestamp"));
    let precision_kept = match (o.mods.first(), n.mods.first()) {
        (_, None) => true,
        (Some(a), Some(b)) => b >= a,
        (None, Some(_)) => false,
    };
    pair && !o.array && !n.array && precision_kept
}

/// A `timestamp` / `timestamptz` change: free of a rewrite under `SET LOCAL TimeZone = 'UTC'`,
/// when the stored values are UTC (the conversion reads them in the session's time zone).
fn report_time_zone_change(
    ctx: &StmtCtx<'_>,
    at: &AlterTable,
    op: &AlterTableOp,
    old: &TypeName,
    ty: &TypeName,
    sink: &mut Sink<'_>,
) {
    let col = quote_ident(match &op.op {
        AlterOp::AlterType { column, .. } => column,
        _ => return,
    });
    let set = if ctx.in_transaction { "SET LOCAL TimeZone = 'UTC';" } else { "SET TimeZone = 'UTC';" };
    let report = sink
        .report(
            op.span.clone(),
            format!(
                "changing `{}.{col}` from `{}` to `{}` rewrites the table under an exclusive lock unless the session's `TimeZone` is UTC, and rebuilds the column's indexes either way",
                at.name, old.text, ty.text
            ),
        )
        .help(format!(
            "if the stored values are UTC, run `{set}` just before it: from PostgreSQL 12 the table is then not rewritten (only the column's indexes are rebuilt); the conversion reads the values in the session's time zone, so under another zone it would also shift them"
        ));
    if ctx.stmt.inner {
        return;
    }
    let mut edits = vec![crate::diagnostic::Edit::insert(ctx.stmt.range.start, format!("{set}\n"))];
    if !ctx.in_transaction {
        edits.push(crate::diagnostic::Edit::insert(ctx.stmt.range.end, "\nRESET TimeZone;"));
    }
    // Unsafe: it reads the stored values as UTC, which only the author can confirm.
    report.fix("convert under `TimeZone = 'UTC'` (no table rewrite)", crate::diagnostic::Applicability::Unsafe, edits);
}

/// `ALTER COLUMN c SET EXPRESSION AS (...)` (PostgreSQL 17) recomputes a stored generated column
/// in every row: the table is rewritten under its `ACCESS EXCLUSIVE` lock, as for a type change.
/// A virtual generated column (PostgreSQL 18) is computed when read, and a column the model knows
/// is not generated makes PostgreSQL refuse the statement: neither is reported.
fn set_expression(ctx: &StmtCtx<'_>, at: &AlterTable, op: &AlterTableOp, column: &str, sink: &mut Sink<'_>) {
    let known = ctx.table(&at.name).and_then(|t| t.column(column)).map(|c| c.generated);
    if matches!(known, Some(None | Some(Generated::Virtual))) {
        return;
    }
    sink.report(
        op.span.clone(),
        format!(
            "changing the generation expression of `{}.{}` rewrites the table and its indexes under an exclusive lock",
            at.name,
            quote_ident(column)
        ),
    )
    .help("a stored generated column cannot change its expression without a rewrite: add a new column kept up to date by a trigger, backfill it in batches, switch readers over, then drop the old column (on PostgreSQL 18 a virtual generated column changes its expression without a rewrite)");
}

/// `USING col`, `USING col::T` or `USING CAST(col AS T)` where `T` is the new type: PostgreSQL
/// then applies the same conversion as without `USING` (and skips the rewrite when that does).
fn using_is_plain_cast(using: &str, column: &str, ty: &TypeName) -> bool {
    let Ok(raw) = tokens::tokenize(using) else { return false };
    let toks = tokens::significant(using, &raw, 0);
    let is_col = |t: &Tok| t.ident().as_deref() == Some(column) && matches!(t.token, Token::Word(_));
    let same_type = |from: usize, to: usize| {
        if from >= to {
            return false;
        }
        let (Some(a), Some(b)) = (toks.get(from), toks.get(to - 1)) else { return false };
        let type_like = toks[from..to].iter().all(|t| {
            matches!(
                t.token,
                Token::Word(_)
                    | Token::Number(..)
                    | Token::LParen
                    | Token::RParen
                    | Token::Comma
                    | Token::Period
                    | Token::LBracket
                    | Token::RBracket
            )
        });
        type_like && type_shape(&TypeName::new(&using[a.range.start..b.range.end])) == type_shape(ty)
    };
    match toks.as_slice() {
        [c] => is_col(c),
        [c, cast, ..] if cast.token == Token::DoubleColon => is_col(c) && same_type(2, toks.len()),
        [cast, open, c, as_, .., close] if cast.is_kw("cast") && open.token == Token::LParen => {
            is_col(c) && as_.is_kw("as") && close.token == Token::RParen && same_type(4, toks.len() - 1)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_casts() {
        let t = TypeName::new("VARCHAR(20)");
        assert!(using_is_plain_cast("name", "name", &t));
        assert!(using_is_plain_cast("\"name\"::character varying(20)", "name", &t));
        assert!(using_is_plain_cast("name::VARCHAR(20)", "name", &t));
        assert!(using_is_plain_cast("CAST(name AS varchar(20))", "name", &t));
        assert!(!using_is_plain_cast("name::varchar", "name", &t));
        assert!(!using_is_plain_cast("name::text", "name", &t));
        assert!(!using_is_plain_cast("lower(name)", "name", &t));
        assert!(!using_is_plain_cast("other", "name", &t));
        assert!(!using_is_plain_cast("name::varchar(20) || 'x'", "name", &t));
        assert!(!using_is_plain_cast("\"Name\"", "name", &t));
        assert!(!using_is_plain_cast("name::varchar(20) || name::varchar(20)", "name", &t));
        assert!(!using_is_plain_cast("'name'", "name", &t));
        assert!(!using_is_plain_cast("name::", "name", &t));
    }
}
