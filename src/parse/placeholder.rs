//! Template placeholders in migrations, read so that a templated migration is linted rather than
//! reported as syntax errors:
//!
//! - Go templates (golang-migrate users, supabase/auth): `{{ index .Options "Namespace" }}`,
//!   `{{ .Schema }}`; control actions (`{{ if ... }}`, `{{ end }}`, comments) stand for nothing;
//! - Flyway and Liquibase: `${name}`, `${flyway:defaultSchema}`;
//! - psql variables: `:name` (the value as written), `:'name'` (a string literal), `:"name"`
//!   (a quoted identifier).
//!
//! A placeholder becomes its configured value (`[lint.placeholders]`, SQL text as the tool would
//! insert it), or else an identifier made of its name (`{{ index .Options "Namespace" }}.users` is
//! `namespace.users`; `:'name'` is the string `'name'`).
//!
//! They are found where each tool finds them: the template engines render the text before any
//! SQL is read, so theirs count everywhere, inside quotes too; psql substitutes outside literals,
//! quoted identifiers, comments and dollar quotes only, so its variables are found with the one
//! scanner, and `::` casts, `:=` and array slices (`a[1:n]`) are not variables.
//!
//! A replacement differs in length from its placeholder, so it is made in a copy of the statement
//! ([`Respelled`]) that only the parsers read, with a map that takes every byte offset found in the
//! copy back to the original text: findings point into the file as written, and rules that read
//! a statement's text read the original.

use std::collections::BTreeMap;
use std::ops::Range;

use super::ir::quote_ident;
use super::lex::{self, Kind, Mode};

/// `[lint.placeholders]`: the SQL text each placeholder stands for, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    values: BTreeMap<String, String>,
}

impl Placeholders {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self { values }
    }

    /// The value configured for the first of `keys` that has one, by exact name, then ignoring
    /// ASCII case.
    fn get(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .find_map(|k| self.values.get(*k))
            .or_else(|| {
                keys.iter().find_map(|k| self.values.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v))
            })
            .map(String::as_str)
    }
}

/// Which placeholder syntaxes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Where {
    /// A statement psql reads: every syntax.
    Script,
    /// A statement inside a dollar-quoted body (a `DO` block's): psql substitutes nothing there,
    /// but template engines (Go, Flyway, Liquibase) replace text everywhere.
    Body,
}

/// Placeholders found in a text: their ranges and replacements, in order.
type Found = Vec<(Range<usize>, String)>;

/// One replacement: the placeholder's range in the text before, the replacement's in the text after.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    orig: Range<usize>,
    new: Range<usize>,
}

/// The edits of one pass, in order, not overlapping.
#[derive(Debug, Clone, Default)]
struct Pass(Vec<Edit>);

impl Pass {
    /// The last edit whose replacement starts at or before `at` (`strictly`: before it).
    fn edit_before(&self, at: usize, strictly: bool) -> Option<&Edit> {
        let n = self.0.partition_point(|e| if strictly { e.new.start < at } else { e.new.start <= at });
        n.checked_sub(1).map(|i| &self.0[i])
    }

    fn start(&self, at: usize) -> usize {
        match self.edit_before(at, false) {
            None => at,
            Some(e) if at < e.new.end => e.orig.start,
            Some(e) => e.orig.end + (at - e.new.end),
        }
    }

    fn end(&self, at: usize) -> usize {
        match self.edit_before(at, true) {
            None => at,
            Some(e) if at <= e.new.end => e.orig.end,
            Some(e) => e.orig.end + (at - e.new.end),
        }
    }
}

/// A statement's text as the parsers read it, and the way back to the original's byte offsets.
#[derive(Debug, Clone)]
pub(crate) struct Respelled {
    pub text: String,
    /// The passes that made `text`, first to last.
    passes: Vec<Pass>,
}

impl Respelled {
    /// A respelling that keeps every byte offset (a same-length one).
    pub fn same_length(text: String) -> Self {
        Self { text, passes: Vec::new() }
    }

    /// The original offset of a position where something starts: inside a replacement, the
    /// start of its placeholder.
    pub fn start(&self, at: usize) -> usize {
        self.passes.iter().rev().fold(at, |at, p| p.start(at))
    }

    /// The original offset of a position where something ends: inside a replacement (or at its
    /// end), the end of its placeholder.
    pub fn end(&self, at: usize) -> usize {
        self.passes.iter().rev().fold(at, |at, p| p.end(at))
    }

    /// A range of the copy as a range of the original text.
    pub fn range(&self, r: Range<usize>) -> Range<usize> {
        let start = self.start(r.start);
        start..self.end(r.end).max(start)
    }
}

/// `text` with its placeholders replaced; `None` when it has none.
///
/// Two passes, in the order the tools run: the template engines' placeholders first, found in
/// the bare text as the engines find them (they render the file before any SQL is read, inside
/// quotes too: `"{{ index .Options "Namespace" }}".users` is `"auth".users`); then psql's
/// variables, found in the rendered text with the one scanner, as psql finds them.
pub(crate) fn respell(text: &str, values: &Placeholders, at: Where) -> Option<Respelled> {
    if !text.as_bytes().iter().any(|&c| matches!(c, b'{' | b':')) {
        return None;
    }
    let mut passes = Vec::new();
    let mut current: Option<String> = None;
    let found = templates(text, values);
    if !found.is_empty() {
        let (after, pass) = apply(text, found);
        passes.push(pass);
        current = Some(after);
    }
    if at == Where::Script {
        let before = current.as_deref().unwrap_or(text);
        let found = psql_variables(before, values);
        if !found.is_empty() {
            let (after, pass) = apply(before, found);
            passes.push(pass);
            current = Some(after);
        }
    }
    current.map(|text| Respelled { text, passes })
}

/// `text` with the `found` ranges (in order, not overlapping) replaced.
fn apply(text: &str, found: Found) -> (String, Pass) {
    let mut out = String::with_capacity(text.len() + 16 * found.len());
    let mut edits = Vec::with_capacity(found.len());
    let mut copied = 0;
    for (orig, replacement) in found {
        out.push_str(&text[copied..orig.start]);
        let start = out.len();
        out.push_str(&replacement);
        edits.push(Edit { orig: orig.clone(), new: start..out.len() });
        copied = orig.end;
    }
    out.push_str(&text[copied..]);
    (out, Pass(edits))
}

/// Go template actions and `${name}` in `text`, wherever they stand: their ranges and
/// replacements, in order. What a `{{ ... }}` holds must look like an action (a letter or a `.`,
/// no braces): `'{{1,2},{3,4}}'` is an array literal.
fn templates(text: &str, values: &Placeholders) -> Found {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'{') {
        let at = i + p;
        i = at + 1;
        if let Some((end, inner)) = go_action_at(text, at) {
            found.push((at..end, go_action(inner, values)));
            i = end;
        } else if at > 0
            && b[at - 1] == b'$'
            && let Some((end, name)) = dollar_brace(text, at - 1)
        {
            found.push((at - 1..end, values.get(&[name]).map_or_else(|| default_ident(name), str::to_owned)));
            i = end;
        }
    }
    found
}

/// A Go template action `{{ ... }}` at `at`: its end and what it holds, which must look like an
/// action (a letter or a `.`, no braces).
fn go_action_at(text: &str, at: usize) -> Option<(usize, &str)> {
    let b = text.as_bytes();
    if !b[at..].starts_with(b"{{") {
        return None;
    }
    let close = lex::find(b, at + 2, b"}}")?;
    let inner = &text[at + 2..close];
    (!inner.contains(['{', '}']) && inner.bytes().any(|c| c.is_ascii_alphabetic() || c == b'.'))
        .then_some((close + 2, inner))
}

/// Where the statement at `range` of `text` starts once the template actions before it that
/// stand for nothing (`{{/* note */}}`, `{{ if .X }}`, `{{ end }}`) are left out, so that its
/// findings point at its first word; `range.start` when there are none, or nothing follows them.
pub(crate) fn statement_start(text: &str, range: Range<usize>) -> usize {
    let b = text.as_bytes();
    let mut start = range.start;
    while let Some((end, inner)) = go_action_at(&text[..range.end], start)
        && go_action(inner, &Placeholders::default()).is_empty()
    {
        let next = end + b[end..range.end].iter().take_while(|c| c.is_ascii_whitespace()).count();
        if next >= range.end {
            break;
        }
        start = next;
    }
    start
}

/// psql's variable references in `text`, read as psql reads them: not inside literals, quoted
/// identifiers, comments or dollar quotes, not a `::` cast, not `:=`, not in an array subscript.
fn psql_variables(text: &str, values: &Placeholders) -> Found {
    let b = text.as_bytes();
    let mut found = Vec::new();
    if !b.contains(&b':') {
        return found;
    }
    let mut brackets = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let t = lex::token_at(b, i, Mode::default());
        if t.kind == Kind::Punct {
            match b[i] {
                b'[' => brackets += 1,
                b']' => brackets = brackets.saturating_sub(1),
                b':' if brackets == 0 && (i == 0 || !lex::is_ident_char(b[i - 1])) => {
                    if let Some((end, replacement)) = psql_variable(text, i, values) {
                        found.push((i..end, replacement));
                        i = end;
                        continue;
                    }
                }
                _ => {}
            }
        }
        i = t.range.end;
    }
    found
}

/// The Go template action `{{ inner }}`: a value's text, or nothing for control actions.
fn go_action(inner: &str, values: &Placeholders) -> String {
    // `{{- x -}}` trims the text around the action; `{{-3}}` is the number -3.
    let mut a = inner;
    if let Some(rest) = a.strip_prefix('-').filter(|r| r.starts_with(|c: char| c.is_ascii_whitespace())) {
        a = rest;
    }
    if let Some(rest) = a.strip_suffix('-').filter(|r| r.ends_with(|c: char| c.is_ascii_whitespace())) {
        a = rest;
    }
    let a = a.trim();
    let first = a.split_ascii_whitespace().next().unwrap_or("");
    let control = ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"];
    if a.is_empty() || a.starts_with("/*") || control.contains(&first) || (first.starts_with('$') && a.contains(":=")) {
        return String::new();
    }
    let name = go_name(a);
    values.get(&[a, name]).map_or_else(|| default_ident(name), str::to_owned)
}

/// The name a Go template value goes by: the key of `index .Options "Namespace"`, the last field
/// of `.Options.Namespace`, else the whole action.
fn go_name(a: &str) -> &str {
    let mut quoted = a.split(['"', '`']);
    if let (Some(_), Some(key), Some(_)) = (quoted.next(), quoted.next(), quoted.next())
        && a.starts_with("index ")
    {
        return key;
    }
    let first = a.split_ascii_whitespace().next().unwrap_or(a);
    first.rsplit('.').find(|s| !s.is_empty()).unwrap_or(a)
}

/// `${name}` at `i`: its end and name (letters, digits, `_`, `.`, `:`, `-`).
fn dollar_brace(text: &str, i: usize) -> Option<(usize, &str)> {
    let b = text.as_bytes();
    let len =
        b[i + 2..].iter().position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'-')))?;
    (len > 0 && b[i + 2 + len] == b'}').then(|| (i + 3 + len, &text[i + 2..i + 2 + len]))
}

/// A psql variable reference at `i` (which holds `:`): its end and replacement.
fn psql_variable(text: &str, i: usize, values: &Placeholders) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let name_end = |from: usize| {
        let first = *b.get(from)?;
        if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
            return None;
        }
        Some(
            from + b[from..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80))
                .unwrap_or(b.len() - from),
        )
    };
    match b.get(i + 1)? {
        q @ (b'\'' | b'"') => {
            let end = name_end(i + 2)?;
            if b.get(end) != Some(q) {
                return None;
            }
            let name = &text[i + 2..end];
            let value = values.get(&[name]).unwrap_or(name);
            let q = char::from(*q);
            Some((end + 1, format!("{q}{}{q}", value.replace(q, &format!("{q}{q}")))))
        }
        _ => {
            let end = name_end(i + 1)?;
            let name = &text[i + 1..end];
            Some((end, values.get(&[name]).map_or_else(|| default_ident(name), str::to_owned)))
        }
    }
}

/// The identifier a placeholder without a value becomes: its name in lower case, with `_` for
/// anything but ASCII letters and digits, quoted where PostgreSQL would need it.
pub(crate) fn default_ident(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if s.is_empty() {
        s.push_str("placeholder");
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    lex::truncate_ident(&mut s);
    quote_ident(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respelled(text: &str) -> String {
        respell(text, &Placeholders::default(), Where::Script).map_or_else(|| text.to_owned(), |r| r.text)
    }

    fn with(values: &[(&str, &str)], text: &str) -> String {
        let values = Placeholders::new(values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        respell(text, &values, Where::Script).map_or_else(|| text.to_owned(), |r| r.text)
    }

    #[test]
    fn go_templates() {
        assert_eq!(
            respelled(r#"create table if not exists {{ index .Options "Namespace" }}.users (id uuid);"#),
            "create table if not exists namespace.users (id uuid);"
        );
        assert_eq!(respelled(r#"alter table {{index .Options "Namespace" }}.t"#), "alter table namespace.t");
        assert_eq!(
            respelled("select * from {{ .Schema }}.t, {{.Options.Tenant}}.u"),
            "select * from schema.t, tenant.u"
        );
        assert_eq!(respelled("create table {{ .Table }} ()"), "create table \"table\" ()");
        assert_eq!(respelled("create table t_{{ .Suffix }} ()"), "create table t_suffix ()");
        // Control actions and comments stand for nothing.
        assert_eq!(respelled("{{- if .X }}select 1{{ else }} + 2{{ end -}}"), "select 1 + 2");
        assert_eq!(respelled("select 1 {{/* note */}}"), "select 1 ");
        // The engine renders the file before SQL is read: inside quotes too.
        assert_eq!(
            respelled(r#"create index i on "{{ index .Options "Namespace" }}".users (a)"#),
            r#"create index i on "namespace".users (a)"#
        );
        assert_eq!(respelled("select '{{ .X }}', $$ {{ .Z }} $$ -- {{ .W }}"), "select 'x', $$ z $$ -- w");
        // Braces that are not actions: array literals, JSON.
        for kept in ["select '{{1,2},{3,4}}'::int[], '{{}}', '{\"a\": {\"b\": 1}}'", "select '{{1,2}}'"] {
            assert_eq!(respelled(kept), kept);
        }
        assert_eq!(with(&[("Namespace", "auth")], r#"{{ index .Options "Namespace" }}.users"#), "auth.users");
        assert_eq!(with(&[("namespace", "auth")], r#"{{ index .Options "Namespace" }}.users"#), "auth.users");
        assert_eq!(with(&[("Schema", "app")], "{{ .Schema }}.users"), "app.users");
    }

    #[test]
    fn flyway_and_liquibase() {
        assert_eq!(respelled("create index i on ${schema}.t (a)"), "create index i on schema.t (a)");
        assert_eq!(respelled("create table ${flyway:defaultSchema}.t ()"), "create table flyway_defaultschema.t ()");
        assert_eq!(with(&[("flyway:defaultSchema", "public")], "${flyway:defaultSchema}.t"), "public.t");
        assert_eq!(with(&[("schema.name", "\"Ops\"")], "${schema.name}.t"), "\"Ops\".t");
        // Flyway and Liquibase replace text everywhere, strings included.
        assert_eq!(respelled("select '${x}'"), "select 'x'");
        // Not placeholders: parameters, a space, an unclosed brace.
        for kept in ["select $1, ${ x}, ${}", "select ${x"] {
            assert_eq!(respelled(kept), kept);
        }
    }

    #[test]
    fn psql_variables() {
        assert_eq!(respelled("create table :schema.t ()"), "create table schema.t ()");
        assert_eq!(respelled("select :'name', :\"Col\" from t"), "select 'name', \"Col\" from t");
        assert_eq!(with(&[("name", "it's")], "select :'name'"), "select 'it''s'");
        assert_eq!(with(&[("col", "a\"b")], "select :\"col\""), "select \"a\"\"b\"");
        assert_eq!(with(&[("limit", "10")], "select 1 limit :limit"), "select 1 limit 10");
        assert_eq!(respelled("select :user"), "select \"user\"");
    }

    /// What is not a psql variable: casts, assignments, array slices, and anything inside
    /// literals, quoted identifiers, comments and dollar-quoted bodies (psql substitutes none).
    #[test]
    fn colons_that_are_not_variables() {
        for kept in [
            "select a::int, b :: text, c::\"char\" from t",
            "x := 1",
            "select a[1:2], a[lo:hi], a[lo : hi], a[:n], a[n:], a[f(x) : g(y)] from t",
            "select ':x', E':x\\'', \":x\" from t",
            "select 1 -- :x\n/* :y /* :z */ */",
            "create function f() returns int as $$ select :x $$ language sql",
            "create function f() returns int as $b$ select :'x' $b$ language sql",
            "select a:b",
            "select :1, :=",
            "select 'a':: text",
        ] {
            assert_eq!(respelled(kept), kept, "{kept}");
        }
        // After a slice, variables count again.
        assert_eq!(respelled("select a[1:2], :v"), "select a[1:2], v");
        // In a body, only the template engines' placeholders are read.
        let body = respell("select :x, ${y}", &Placeholders::default(), Where::Body).unwrap();
        assert_eq!(body.text, "select :x, y");
    }

    #[test]
    fn statements_start_after_actions_that_stand_for_nothing() {
        let text = "{{/* note */}}\n{{- if .X }} create index i on t (a); {{ end }}";
        let stmt = 0..text.find(';').unwrap() + 1;
        assert_eq!(&text[statement_start(text, stmt)..], &text[text.find("create").unwrap()..]);
        // A value is part of the statement; a statement of nothing but actions stays whole.
        let text = "{{ .Schema }}.f();";
        assert_eq!(statement_start(text, 0..text.len()), 0);
        let text = "{{ end }}";
        assert_eq!(statement_start(text, 0..text.len()), 0);
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let text = r#"create index i on {{ index .Options "Namespace" }}.users (email);"#;
        let r = respell(text, &Placeholders::default(), Where::Script).unwrap();
        let name = r.text.find("namespace").unwrap();
        let users = r.text.find("users").unwrap();
        let placeholder = text.find("{{").unwrap()..text.find("}}").unwrap() + 2;
        // Before the placeholder: unchanged.
        assert_eq!(r.start(7), 7);
        // The replacement covers the placeholder.
        assert_eq!(r.range(name..name + "namespace".len()), placeholder);
        assert_eq!(r.start(name + 3), placeholder.start);
        // After it: shifted by the difference in length.
        assert_eq!(&text[r.range(users..users + 5)], "users");
        assert_eq!(r.end(r.text.len()), text.len());
        // A range that spans it spans the placeholder.
        assert_eq!(&text[r.range(0..users + 5)], &text[..text.find(" (").unwrap()]);
        // An action that stands for nothing: what follows maps to after it.
        let text = "{{ if .X }}select 1";
        let r = respell(text, &Placeholders::default(), Where::Script).unwrap();
        assert_eq!(r.text, "select 1");
        assert_eq!(r.range(0..6), 11..17);
        // Both passes: a template, then a psql variable after it.
        let text = r#"select {{ index .Options "Namespace" }}.f(:'v'), :w"#;
        let r = respell(text, &Placeholders::default(), Where::Script).unwrap();
        assert_eq!(r.text, "select namespace.f('v'), w");
        assert_eq!(&text[r.range(19..22)], ":'v'");
        assert_eq!(&text[r.range(17..18)], "f");
        assert_eq!(&text[r.range(25..26)], ":w");
        // A longer value than the placeholder.
        let values = Placeholders::new([("s".to_owned(), "a_much_longer_schema".to_owned())].into());
        let text = "create table ${s}.t (a int)";
        let r = respell(text, &values, Where::Script).unwrap();
        let t = r.text.find(".t").unwrap() + 1;
        assert_eq!(&text[r.range(t..t + 1)], "t");
        assert_eq!(&text[r.range(13..33)], "${s}");
    }
}
