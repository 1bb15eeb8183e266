//! Where a rule sends its findings: a sink bound to one rule, so a rule cannot report under
//! another name, and the builder for the finding's details.

use std::ops::Range;

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Impact, Severity};
use crate::rules::RuleId;

/// Where a rule sends its findings. Bound to one rule, so a rule cannot report under another name.
pub struct Sink<'a> {
    rule: RuleId,
    file: usize,
    fallback: Range<usize>,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(rule: RuleId, file: usize, fallback: Range<usize>, out: &'a mut Vec<Diagnostic>) -> Self {
        Self { rule, file, fallback, out }
    }

    /// Reports a finding at `span` (the statement's span when `None` or empty).
    pub fn report(&mut self, span: Option<Range<usize>>, message: impl Into<String>) -> Report<'_> {
        self.report_in(self.file, span, message)
    }

    /// Reports a finding where an object was defined: its statement, or the live object.
    pub fn report_at(&mut self, origin: &crate::schema::Origin, message: impl Into<String>) -> Report<'_> {
        match origin {
            crate::schema::Origin::Source { file, span } => self.report_in(*file, Some(span.clone()), message),
            crate::schema::Origin::Catalog { object } => {
                let report = self.report_in(self.file, Some(0..1), message);
                report.d.object = Some(object.clone());
                report.d.span = 0..0;
                report
            }
        }
    }

    /// Reports a finding in another file (schema rules point at the defining statement).
    pub fn report_in(&mut self, file: usize, span: Option<Range<usize>>, message: impl Into<String>) -> Report<'_> {
        let span = span.filter(|s| s.start < s.end).unwrap_or_else(|| self.fallback.clone());
        self.out.push(Diagnostic {
            rule: self.rule,
            severity: Severity::Error,
            file,
            span,
            message: message.into(),
            object: None,
            help: None,
            fix: None,
            fingerprint: None,
            impact: Impact::Usual,
            table_stats: None,
            query: None,
        });
        let last = self.out.len() - 1;
        let statement = (file == self.file && self.fallback.start < self.fallback.end).then(|| self.fallback.clone());
        Report { d: &mut self.out[last], statement }
    }
}

/// Builder returned by [`Sink::report`].
pub struct Report<'a> {
    d: &'a mut Diagnostic,
    statement: Option<Range<usize>>,
}

impl Report<'_> {
    pub fn help(self, help: impl Into<String>) -> Self {
        self.d.help = Some(help.into());
        self
    }

    /// A fix: `edits` of the reported statement's file (anchored on the tokens the parser
    /// found) and new statements.
    pub fn fix(self, title: impl Into<String>, applicability: Applicability, edits: Vec<Edit>) -> Self {
        self.d.fix = Some(Fix { title: title.into(), applicability, edits, statement: self.statement.clone() });
        self
    }

    /// A fix that replaces the whole reported statement with `text`.
    pub fn fix_statement(self, title: impl Into<String>, applicability: Applicability, text: String) -> Self {
        match self.statement.clone() {
            Some(range) => self.fix(title, applicability, vec![Edit::replace(range, text)]),
            None => self.fix(title, applicability, vec![Edit::New { text }]),
        }
    }

    /// A fix that adds a statement (e.g. a missing index), to run on its own.
    pub fn fix_new(self, title: impl Into<String>, applicability: Applicability, text: String) -> Self {
        self.fix(title, applicability, vec![Edit::New { text }])
    }

    /// The finding's impact (the pipeline sets its severity from it).
    pub fn impact(self, impact: Impact) -> Self {
        self.d.impact = impact;
        self
    }
}
