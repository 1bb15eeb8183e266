//! Inline suppressions, for every input kind: `-- dbwarden-ignore: RULE -- reason` before a
//! statement (a migration statement, one inside a `DO` body, or a query of a `.sql` file)
//! suppresses RULE's findings on it; `-- dbwarden-ignore-file: RULE` anywhere in a file
//! suppresses them in the whole file. Rule names may be aliases. A suppression that names no
//! rule, or suppresses nothing of a rule that ran, is reported (`unused-suppression`), and so is
//! one without a reason (`suppression-without-reason`).

use std::collections::HashMap;
use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::parse::suppress::{self, Suppression};
use crate::rules::{RuleId, Settings, Sink, lookup};

/// A statement and the indices (into its file's comments) of the comments before it.
pub struct Scope {
    pub range: Range<usize>,
    pub leading_comments: Range<usize>,
}

struct Found {
    sup: Suppression,
    file: usize,
    /// Per rule name of the suppression: the rule it names, if any.
    rules: Vec<Option<RuleId>>,
    /// Per rule name: it suppressed a finding.
    used: Vec<bool>,
}

/// A statement holding suppressions: scopes nest (a `DO` body's statements are inside the `DO`).
struct Scoped {
    start: usize,
    end: usize,
    parent: Option<usize>,
    sups: Vec<usize>,
}

/// Every suppression of a run's files, and where each applies.
#[derive(Default)]
pub struct Suppressions {
    found: Vec<Found>,
    /// Per file: its file-level suppressions.
    file_level: HashMap<usize, Vec<usize>>,
    /// Per file: statements that hold suppressions, sorted by (start, longest first).
    scopes: HashMap<usize, Vec<Scoped>>,
}

impl Suppressions {
    /// Reads the suppressions of file `file`: each comment of `comments` (byte ranges into
    /// `text`) that is one applies to the statement it leads, or to the whole file.
    pub fn add_file(&mut self, file: usize, text: &str, comments: &[Range<usize>], scopes: &[Scope]) {
        let mut statement_of: HashMap<usize, usize> = HashMap::new();
        for (k, s) in scopes.iter().enumerate() {
            for ci in s.leading_comments.clone() {
                statement_of.entry(ci).or_insert(k);
            }
        }
        let mut held: Vec<(usize, usize, usize)> = Vec::new();
        for (ci, c) in comments.iter().enumerate() {
            let Some(body) = text.get(c.clone()) else { continue };
            let Some(sup) = suppress::parse(body, c.clone()) else { continue };
            let k = self.found.len();
            if sup.file_level {
                self.file_level.entry(file).or_default().push(k);
            } else if let Some(&s) = statement_of.get(&ci) {
                held.push((scopes[s].range.start, scopes[s].range.end, k));
            }
            // Otherwise not before a statement: it suppresses nothing, and is reported so.
            let rules = sup.rules.iter().map(|r| lookup(r)).collect();
            let used = vec![false; sup.rules.len()];
            self.found.push(Found { sup, file, rules, used });
        }
        if held.is_empty() {
            return;
        }
        held.sort_unstable_by_key(|&(start, end, k)| (start, std::cmp::Reverse(end), k));
        let list = self.scopes.entry(file).or_default();
        let mut open: Vec<usize> = Vec::new();
        for (start, end, k) in held {
            if let Some(last) = list.last_mut()
                && (last.start, last.end) == (start, end)
            {
                last.sups.push(k);
                continue;
            }
            while open.last().is_some_and(|&o| list[o].end <= start) {
                open.pop();
            }
            list.push(Scoped { start, end, parent: open.last().copied(), sups: vec![k] });
            open.push(list.len() - 1);
        }
    }

    /// Drops the suppressed findings of `out`, then reports suppressions that name no rule,
    /// suppress nothing of a rule that `ran` and is enabled, or give no reason.
    pub fn apply(mut self, settings: &Settings, ran: &dyn Fn(RuleId) -> bool, out: &mut Vec<Diagnostic>) {
        if self.found.is_empty() {
            return;
        }
        let meta = [RuleId::UnusedSuppression, RuleId::SuppressionWithoutReason, RuleId::InternalError];
        out.retain(|d| {
            if meta.contains(&d.rule) || d.object.is_some() {
                return true;
            }
            let mut candidates: Vec<usize> = self.file_level.get(&d.file).cloned().unwrap_or_default();
            if let Some(list) = self.scopes.get(&d.file) {
                // The last scope starting at or before the finding, then its enclosing ones: the
                // scopes holding the finding are that one (if it reaches it) and its ancestors.
                let mut at = list.partition_point(|s| s.start <= d.span.start).checked_sub(1);
                while let Some(i) = at {
                    if d.span.start < list[i].end {
                        candidates.extend(&list[i].sups);
                    }
                    at = list[i].parent;
                }
            }
            let mut suppressed = false;
            for k in candidates {
                let f = &mut self.found[k];
                for (j, r) in f.rules.iter().enumerate() {
                    if *r == Some(d.rule) {
                        f.used[j] = true;
                        suppressed = true;
                    }
                }
            }
            !suppressed
        });
        for f in &self.found {
            if f.sup.reason.is_none() {
                Sink::new(RuleId::SuppressionWithoutReason, f.file, f.sup.span.clone(), out)
                    .report(None, "suppression without a reason");
            }
            for ((name, rule), used) in f.sup.rules.iter().zip(&f.rules).zip(&f.used) {
                match rule {
                    None => {
                        Sink::new(RuleId::UnusedSuppression, f.file, f.sup.span.clone(), out)
                            .report(None, format!("suppression names `{name}`, which is not a rule"))
                            .help("use a rule name from `dbwarden rules`");
                    }
                    Some(r) if settings.enabled[r.index()] && ran(*r) && !used => {
                        Sink::new(RuleId::UnusedSuppression, f.file, f.sup.span.clone(), out)
                            .report(None, format!("suppression of `{name}` suppresses nothing"))
                            .help(
                                "remove the suppression, or move it to the line right before the statement it is for",
                            );
                    }
                    Some(_) => {}
                }
            }
        }
    }
}
