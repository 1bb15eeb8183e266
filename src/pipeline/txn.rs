//! The transaction and `lock_timeout` state of a migration file as its statements run.

use crate::parse::ir::{Action, ObjName};
use crate::rules::locks::Lock;
use crate::schema::QualName;

/// What is in effect before a statement: a transaction block (explicit, or the one the
/// migration tool wraps the file in) and a `lock_timeout`.
#[derive(Debug, Clone, Default)]
pub struct TxnState {
    /// The migration tool runs the file in one transaction.
    assumed: bool,
    /// Inside `BEGIN` ... `COMMIT`/`ROLLBACK`.
    in_block: bool,
    /// `SET lock_timeout` for the session.
    session_timeout: bool,
    /// `SET LOCAL lock_timeout` for the current transaction block.
    local_timeout: bool,
    /// The table locks the current transaction holds (PostgreSQL keeps each until the
    /// transaction ends), strongest per table.
    held: Vec<(QualName, Lock)>,
    /// `SET LOCAL lock_timeout` inside a `DO` block run outside a transaction block: the block
    /// runs in a transaction of its own, so the setting holds until the block ends.
    do_block_timeout: bool,
}

impl TxnState {
    /// The state at the start of a file; `assumed`: the tool wraps the file in a transaction.
    pub fn new(assumed: bool) -> Self {
        Self { assumed, ..Self::default() }
    }

    /// The tool commits and opens the next unit of work (a Liquibase changeset): `SET LOCAL`
    /// ends, a session `SET` stays; `assumed`: the tool wraps the new unit in a transaction.
    pub fn next_unit(&mut self, assumed: bool) {
        *self = Self { assumed, session_timeout: self.session_timeout, ..Self::default() };
    }

    /// Inside an explicit `BEGIN` block.
    pub fn in_block(&self) -> bool {
        self.in_block
    }

    /// Inside a transaction block, explicit or assumed.
    pub fn in_transaction(&self) -> bool {
        self.in_block || self.assumed
    }

    /// The table locks the current transaction holds.
    pub fn held(&self) -> &[(QualName, Lock)] {
        &self.held
    }

    /// A statement took these locks: inside a transaction they are held until it ends.
    pub fn took(&mut self, locks: Vec<(ObjName, Lock)>) {
        if !self.in_transaction() {
            return;
        }
        for (name, lock) in locks {
            let name = QualName::resolve(&name);
            match self.held.iter_mut().find(|(n, _)| *n == name) {
                Some((_, l)) => *l = (*l).max(lock),
                None => self.held.push((name, lock)),
            }
        }
    }

    /// A non-zero `lock_timeout` is in effect.
    pub fn lock_timeout_set(&self) -> bool {
        self.session_timeout || self.local_timeout || self.do_block_timeout
    }

    /// The next statement is a top-level one (`inner`: one inside a `DO` block): a `DO`
    /// block's own transaction, if it had one, has ended.
    pub fn before(&mut self, inner: bool) {
        if !inner {
            self.do_block_timeout = false;
        }
    }

    /// The state after `action`, a statement inside a `DO` block, ran.
    pub fn after_inner(&mut self, action: &Action) {
        match action {
            Action::Set { name, value, local: true } if name == "lock_timeout" && !self.in_transaction() => {
                self.do_block_timeout = !is_zero_duration(value);
            }
            _ => self.after(action),
        }
    }

    /// The state after `action` ran.
    pub fn after(&mut self, action: &Action) {
        match action {
            Action::Begin => self.in_block = true,
            Action::Commit | Action::Rollback => {
                self.in_block = false;
                self.local_timeout = false;
                // The transaction ends and releases its locks.
                self.held.clear();
            }
            Action::Set { name, value, local } if name == "lock_timeout" => {
                let on = !is_zero_duration(value);
                if !*local {
                    self.session_timeout = on;
                    self.do_block_timeout &= on;
                } else if self.in_transaction() {
                    // Outside a transaction block `SET LOCAL` only warns and has no effect.
                    self.local_timeout = on;
                }
            }
            _ => {}
        }
    }
}

/// `0`, `'0s'`, `0ms`, `DEFAULT` (the server default is 0): no timeout.
fn is_zero_duration(value: &str) -> bool {
    let v = value.trim().trim_matches('\'').trim();
    if v.is_empty() || v.eq_ignore_ascii_case("default") {
        return true;
    }
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    digits.parse::<f64>().is_ok_and(|n| n == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(value: &str, local: bool) -> Action {
        Action::Set { name: "lock_timeout".into(), value: value.into(), local }
    }

    #[test]
    fn local_timeout_lasts_until_the_block_ends() {
        let mut t = TxnState::new(false);
        t.after(&set("'5s'", true));
        assert!(!t.lock_timeout_set(), "SET LOCAL outside a block has no effect");
        t.after(&Action::Begin);
        t.after(&set("'5s'", true));
        assert!(t.in_transaction() && t.lock_timeout_set());
        t.after(&Action::Commit);
        assert!(!t.in_transaction() && !t.lock_timeout_set());
    }

    #[test]
    fn local_timeout_in_a_do_block_lasts_until_the_block_ends() {
        // Outside a transaction block, a DO block runs in a transaction of its own.
        let mut t = TxnState::new(false);
        t.before(false); // the DO statement
        t.before(true);
        t.after_inner(&set("'5s'", true));
        t.before(true);
        assert!(t.lock_timeout_set());
        t.before(false); // the next top-level statement
        assert!(!t.lock_timeout_set());
        // Inside one, `SET LOCAL` holds until the block's COMMIT.
        t.after(&Action::Begin);
        t.before(true);
        t.after_inner(&set("'5s'", true));
        t.before(false);
        assert!(t.lock_timeout_set());
        t.after(&Action::Commit);
        assert!(!t.lock_timeout_set());
    }

    #[test]
    fn session_timeout_and_zero() {
        let mut t = TxnState::new(true);
        assert!(t.in_transaction());
        t.after(&set("5000", false));
        assert!(t.lock_timeout_set());
        t.after(&set("DEFAULT", false));
        assert!(!t.lock_timeout_set());
        t.after(&set("'0ms'", false));
        assert!(!t.lock_timeout_set());
    }
}
