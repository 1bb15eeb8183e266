//! The lock table: which PostgreSQL table lock each statement takes, on which tables. Rules that
//! judge locking (`missing-lock-timeout`, and the transaction model that builds on it) read it
//! here. Sources: <https://www.postgresql.org/docs/current/explicit-locking.html> and the
//! `ALTER TABLE` reference (each sub-command's lock level).

use crate::parse::ir::{Action, AlterOp};
use crate::rules::util::referenced_tables;

/// PostgreSQL's table lock modes, weakest first (those rules care about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lock {
    None,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl Lock {
    pub fn as_sql(self) -> &'static str {
        match self {
            Lock::None => "no",
            Lock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Lock::Share => "SHARE",
            Lock::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Lock::Exclusive => "EXCLUSIVE",
            Lock::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }
}

/// The locks a statement takes, per table (or materialized view), strongest first where a table
/// appears twice. See the `missing-lock-timeout` catalogue entry for the sources.
pub fn table_locks(action: &Action, schema: &crate::schema::Schema) -> Vec<(crate::parse::ir::ObjName, Lock)> {
    use crate::parse::ir::{ConstraintKind, DropKind, ObjName};
    let mut out: Vec<(ObjName, Lock)> = Vec::new();
    let mut add = |name: &ObjName, lock: Lock| match out.iter_mut().find(|(n, _)| n == name) {
        Some((_, l)) => *l = (*l).max(lock),
        None => out.push((name.clone(), lock)),
    };
    match action {
        Action::AlterTable(at) => {
            for op in &at.ops {
                let on_table = match &op.op {
                    AlterOp::AddConstraint(c) => match &c.kind {
                        ConstraintKind::ForeignKey(fk) => {
                            add(&fk.ref_table, Lock::ShareRowExclusive);
                            Lock::ShareRowExclusive
                        }
                        _ => Lock::AccessExclusive,
                    },
                    AlterOp::AddColumn { column, .. } => {
                        if let Some(fk) = &column.references {
                            add(&fk.ref_table, Lock::ShareRowExclusive);
                        }
                        Lock::AccessExclusive
                    }
                    AlterOp::ValidateConstraint { .. } | AlterOp::LightweightOther => Lock::ShareUpdateExclusive,
                    // `ENABLE` / `DISABLE [REPLICA | ALWAYS] TRIGGER` (also `ALL`, `USER`): SHARE
                    // ROW EXCLUSIVE (ALTER TABLE reference; pg_locks on PostgreSQL 15 agrees).
                    AlterOp::TriggerState { .. } => Lock::ShareRowExclusive,
                    // The attached table (and a default partition) are locked ACCESS EXCLUSIVE;
                    // the parent SHARE UPDATE EXCLUSIVE since PostgreSQL 12.
                    AlterOp::AttachPartition { partition } => {
                        add(partition, Lock::AccessExclusive);
                        Lock::ShareUpdateExclusive
                    }
                    AlterOp::DetachPartition { partition, concurrently } => {
                        add(partition, Lock::AccessExclusive);
                        if *concurrently { Lock::ShareUpdateExclusive } else { Lock::AccessExclusive }
                    }
                    _ => Lock::AccessExclusive,
                };
                add(&at.name, on_table);
            }
        }
        Action::CreateTable(ct) => {
            for t in referenced_tables(ct) {
                add(&t, Lock::ShareRowExclusive);
            }
            if let Some(parent) = &ct.partition_of {
                add(parent, Lock::AccessExclusive);
            }
        }
        Action::Drop { kind: DropKind::Table, names, .. } => {
            for n in names {
                add(n, Lock::AccessExclusive);
            }
        }
        Action::Drop { kind: DropKind::Index, concurrently: false, names, .. } => {
            for n in names {
                // The index's table, when the model knows it; else the index itself (also locked).
                match schema.index(n) {
                    Some(idx) => add(
                        &ObjName { schema: Some(idx.table.schema.clone()), name: idx.table.name.clone() },
                        Lock::AccessExclusive,
                    ),
                    None => add(n, Lock::AccessExclusive),
                }
            }
        }
        Action::Truncate { tables } => tables.iter().for_each(|t| add(t, Lock::AccessExclusive)),
        Action::Vacuum { full: true, tables } => tables.iter().for_each(|t| add(t, Lock::AccessExclusive)),
        Action::Cluster { table: Some(t) } => add(t, Lock::AccessExclusive),
        Action::RefreshMatView { name, concurrently: false } => add(name, Lock::AccessExclusive),
        Action::CreateTrigger { table, .. } => add(table, Lock::ShareRowExclusive),
        // CREATE RULE takes ACCESS EXCLUSIVE on its table.
        Action::CreateRule(rule) => add(&rule.table, Lock::AccessExclusive),
        // DROP RULE takes ACCESS EXCLUSIVE on its table, as CREATE RULE does.
        Action::DropTrigger { table, .. }
        | Action::DropRule { table, .. }
        | Action::CreatePolicy { table, .. }
        | Action::DropPolicy { table, .. } => {
            add(table, Lock::AccessExclusive);
        }
        Action::Lock { tables, mode } => {
            let lock = match mode.as_str() {
                "ACCESS EXCLUSIVE" => Lock::AccessExclusive,
                "EXCLUSIVE" => Lock::Exclusive,
                "SHARE ROW EXCLUSIVE" => Lock::ShareRowExclusive,
                "SHARE" => Lock::Share,
                _ => Lock::None,
            };
            tables.iter().for_each(|t| add(t, lock));
        }
        Action::CreateIndex(ci) if !ci.concurrently => add(&ci.table, Lock::Share),
        _ => {}
    }
    out
}
