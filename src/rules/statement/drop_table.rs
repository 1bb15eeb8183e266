use crate::rules::Sink;
use crate::parse::ir::{Action, DropKind, ObjName};
use crate::schema::QualName;
use crate::rules::{StatementRule, StmtCtx};

pub struct DropTable;

impl StatementRule for DropTable {
    fn check(&self, ctx: &StmtCtx<'_>, sink: &mut Sink<'_>) {
        let Action::Drop { kind: DropKind::Table, names, if_exists, .. } = &ctx.stmt.action else { return };
        // Not reported: tables new in this file, tables `IF EXISTS` finds absent (a no-op), and
        // a table swap (`DROP TABLE t; ALTER TABLE t_new RENAME TO t`): the application keeps a
        // table of that name, whose data was copied on purpose.
        let existing: Vec<String> = names
            .iter()
            .filter(|n| !(ctx.is_new_table(n) || ctx.is_swapped_in_later(n) || (*if_exists && ctx.is_absent(n))))
            .map(ToString::to_string)
            .collect();
        // A rebuild: the table is created again later in the file. The application keeps a table
        // of that name; its rows are kept when the file copies them back (`INSERT INTO t ...`).
        let mut dropped: Vec<String> = Vec::new();
        let mut emptied: Vec<String> = Vec::new();
        for n in names.iter().filter(|n| existing.contains(&n.to_string())) {
            let key = QualName::resolve(n);
            let recreated = ctx.later.iter().position(|s| {
                matches!(&s.action, Action::CreateTable(ct) if !ct.temporary && QualName::resolve(&ct.name) == key)
            });
            match recreated {
                None => dropped.push(n.to_string()),
                // `DROP TABLE IF EXISTS t; CREATE TABLE t` of a table the history never had: the
                // create-from-scratch idiom, no rows to lose.
                Some(_) if *if_exists && ctx.table(n).is_none() => {}
                Some(at) if !ctx.later[at + 1..].iter().any(|s| inserts_into(ctx.text, s, n)) => {
                    emptied.push(n.to_string())
                }
                Some(_) => {}
            }
        }
        if !emptied.is_empty() {
            sink.report(
                None,
                format!(
                    "table `{}` is dropped and created again: its rows are gone (the new table starts empty)",
                    emptied.join("`, `")
                ),
            )
            .help("copy the rows aside first and back after (`CREATE TEMP TABLE ... AS SELECT`, then `INSERT INTO ... SELECT`), or change the table with `ALTER TABLE` instead");
        }
        if dropped.is_empty() {
            return;
        }
        let existing = dropped;
        sink.report(
            None,
            format!(
                "dropping table `{}` breaks the application version still using it, and its data is gone",
                existing.join("`, `")
            ),
        )
        .help("deploy code that no longer uses the table first; keep a backup (or rename it aside) before dropping");
    }
}

/// The statement is `INSERT INTO table ...` (by its text: the name as written, quoted or not).
fn inserts_into(text: &str, stmt: &crate::parse::Stmt, table: &ObjName) -> bool {
    let Some(sql) = text.get(stmt.range.clone()) else { return false };
    let words: Vec<&str> = sql.split(|c: char| c.is_whitespace() || c == '(').filter(|w| !w.is_empty()).take(3).collect();
    let [insert, into, name] = words.as_slice() else { return false };
    insert.eq_ignore_ascii_case("insert")
        && into.eq_ignore_ascii_case("into")
        && (name.trim_matches('"') == table.name
            || name.eq_ignore_ascii_case(&table.to_string())
            || name.rsplit('.').next().is_some_and(|last| last.trim_matches('"') == table.name))
}
