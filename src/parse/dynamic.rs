//! DDL built at run time: `EXECUTE <expr>` in a `DO` block body.
//!
//! PL/pgSQL runs the string an `EXECUTE` builds as SQL, so `FOR t IN SELECT ... LOOP EXECUTE
//! format('CREATE INDEX ON %I (x)', t); END LOOP` builds one index per table. Where the string
//! is built from constants this module evaluates it as PL/pgSQL would: string literals (`'...'`,
//! `E'...'`, dollar quotes), `||`, `format()` (`%s`, `%I`, `%L`, `%%`, positional `%1$I`),
//! `concat()`, `quote_ident()`, `quote_literal()`, `quote_nullable()`, casts, and the block's
//! variables. A variable assigned from such an expression before the `EXECUTE` stands for its
//! value, when that is its only assignment or the last one with no control word between it and
//! the `EXECUTE` (`sql := ...; EXECUTE sql;`); any other variable (a loop variable, one set by
//! `SELECT ... INTO`) stands for an identifier made of its name, as a template placeholder
//! without a value does (see `placeholder.rs`): `CREATE INDEX ON t (x)`.
//!
//! The evaluated text keeps a map back to the file ([`Built`]): each byte of a literal comes
//! from its byte in the file, anything else (an escape, a quoted identifier, a placeholder) from
//! the source token it was made from, so findings point into the `EXECUTE` expression.
//! What cannot be evaluated, or does not parse once evaluated, is [`Dynamic::NotChecked`], which
//! the `dynamic-sql-not-checked` rule reports.

use std::ops::Range;

use super::ir::{Action, quote_ident};
use super::lex::{self, Kind, Mode, Token};
use super::placeholder::{self, Placeholders, Where};
use super::{Status, parse_statement_in, split};

/// How a statement found inside a `DO` block's `EXECUTE` was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dynamic {
    /// The string was evaluated, and it parses: the statement is judged like a static one (but
    /// no fix is offered: a fix cannot rewrite a string built at run time).
    Evaluated,
    /// The string could not be evaluated, or does not parse once evaluated: why.
    NotChecked(String),
}

/// The first words of the statements the rules judge inside a `DO` block (others, such as
/// `SELECT`, `INSERT` or `GRANT`, are left alone there).
pub(crate) const JUDGED: [&str; 12] =
    ["create", "alter", "drop", "reindex", "cluster", "lock", "refresh", "truncate", "comment", "set", "vacuum", "do"];

/// How deep variables that stand for other variables' values are followed.
const VAR_DEPTH: usize = 8;

/// A run of evaluated text and where it came from in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    eval: Range<usize>,
    src: Range<usize>,
    /// Byte for byte the same text as the file's at `src` (so positions inside map one to one).
    verbatim: bool,
}

/// Text built by evaluation, and a map from each of its bytes back to the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Built {
    pub text: String,
    /// Contiguous, covering the whole of `text`, in order of `eval`.
    segs: Vec<Seg>,
}

impl Built {
    fn from_mapped(s: &str, src: Range<usize>) -> Self {
        let mut b = Self::default();
        b.push(s, src, false);
        b
    }

    fn push(&mut self, s: &str, src: Range<usize>, verbatim: bool) {
        if s.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(s);
        let verbatim = verbatim && src.len() == s.len();
        self.segs.push(Seg { eval: start..self.text.len(), src, verbatim });
    }

    fn append(&mut self, o: Built) {
        let shift = self.text.len();
        self.text.push_str(&o.text);
        self.segs.extend(o.segs.into_iter().map(|s| Seg { eval: s.eval.start + shift..s.eval.end + shift, ..s }));
    }

    /// All the file text this was built from, as one range.
    fn src_hull(&self) -> Option<Range<usize>> {
        let start = self.segs.iter().map(|s| s.src.start).min()?;
        let end = self.segs.iter().map(|s| s.src.end).max()?;
        Some(start..end)
    }

    /// The whole text as one unit, mapped to everything it came from (after quoting, which
    /// changes its bytes).
    fn remapped(text: String, like: &Built, fallback: &Range<usize>) -> Self {
        let src = like.src_hull().unwrap_or_else(|| fallback.clone());
        Self::from_mapped(&text, src)
    }

    /// The file offset of a position where something starts.
    fn start(&self, at: usize) -> usize {
        let i = self.segs.partition_point(|s| s.eval.end <= at);
        match self.segs.get(i) {
            Some(s) if s.verbatim && s.eval.start <= at => s.src.start + (at - s.eval.start),
            Some(s) => s.src.start,
            None => self.segs.last().map_or(0, |s| s.src.end),
        }
    }

    /// The file offset of a position where something ends.
    fn end(&self, at: usize) -> usize {
        let i = self.segs.partition_point(|s| s.eval.end < at);
        match self.segs.get(i) {
            Some(s) if s.verbatim && s.eval.start <= at => s.src.start + (at - s.eval.start),
            Some(s) if s.eval.start < at => s.src.end,
            Some(s) => s.src.start,
            None => self.segs.last().map_or(0, |s| s.src.end),
        }
    }

    /// A range of the evaluated text as a range of the file, inside `within` (the `EXECUTE`
    /// expression), never empty when `within` is not.
    pub fn range(&self, r: Range<usize>, within: &Range<usize>) -> Range<usize> {
        let start = self.start(r.start).clamp(within.start, within.end);
        let end = self.end(r.end).clamp(start, within.end);
        if start < end { start..end } else { within.clone() }
    }
}

/// A value while evaluating.
#[derive(Debug, Clone)]
enum Val {
    Text(Built),
    /// A variable whose value is not known: its name (as written) and where it is written.
    Var {
        name: String,
        src: Range<usize>,
    },
}

impl Val {
    /// The value spliced in as it is (`||`, `%s`): a variable becomes an identifier made of its name.
    fn raw(self) -> Built {
        match self {
            Val::Text(b) => b,
            Val::Var { name, src } => Built::from_mapped(&placeholder::default_ident(&name), src),
        }
    }

    /// `quote_ident()`, `%I`.
    fn ident(self, fallback: &Range<usize>) -> Built {
        match self {
            Val::Text(b) => {
                let q = quote_ident(&b.text);
                if q == b.text { b } else { Built::remapped(q, &b, fallback) }
            }
            v @ Val::Var { .. } => v.raw(),
        }
    }

    /// `quote_literal()`, `%L`.
    fn literal(self, fallback: &Range<usize>) -> Built {
        match self {
            Val::Text(b) => {
                let body = b.text.replace('\'', "''");
                let q = if body.contains('\\') {
                    format!("E'{}'", body.replace('\\', "\\\\"))
                } else {
                    format!("'{body}'")
                };
                Built::remapped(q, &b, fallback)
            }
            Val::Var { name, src } => {
                let ident = placeholder::default_ident(&name);
                Built::from_mapped(&format!("'{}'", ident.trim_matches('"').replace('\'', "''")), src)
            }
        }
    }
}

/// One assignment of a block variable: where (the file offset of its name) and from what
/// expression (a file range).
#[derive(Debug, Clone)]
struct Assign {
    at: usize,
    expr: Range<usize>,
}

#[derive(Debug, Clone, Default)]
struct Var {
    name: String,
    assigns: Vec<Assign>,
    /// Set by `SELECT ... INTO`, `FETCH ... INTO`, `GET DIAGNOSTICS`, or a loop: unknown.
    set_otherwise: bool,
}

/// The variables of a `DO` block body, read once for all its `EXECUTE`s.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    vars: Vec<Var>,
    /// File offsets of the control words of the body (`IF`, `ELSE`, `LOOP`, `END`, ...): an
    /// assignment with none between it and a use is the value the use sees.
    control: Vec<usize>,
}

/// Words that start, divide or end a PL/pgSQL control structure or leave it.
const CONTROL: [&str; 15] = [
    "if",
    "then",
    "else",
    "elsif",
    "elseif",
    "loop",
    "end",
    "when",
    "exception",
    "begin",
    "return",
    "exit",
    "continue",
    "case",
    "while",
];

/// The significant tokens of `text[range]`, in file offsets.
fn tokens_in(text: &str, range: Range<usize>) -> Vec<Token> {
    let Some(slice) = text.get(range.clone()) else { return Vec::new() };
    lex::Tokens::new(slice, Mode::default())
        .filter(|t| t.kind != Kind::Comment)
        .map(|t| Token { kind: t.kind, range: t.range.start + range.start..t.range.end + range.start })
        .collect()
}

fn is_kw(text: &str, t: &Token, kw: &str) -> bool {
    t.kind == Kind::Word && text[t.range.clone()].eq_ignore_ascii_case(kw)
}

fn is_punct(text: &str, t: &Token, p: &str) -> bool {
    matches!(t.kind, Kind::Punct | Kind::Operator) && &text[t.range.clone()] == p
}

/// `:=` (two tokens, `:` and `=`) or `=` at `i`: the index after it.
fn assign_op(text: &str, toks: &[Token], i: usize) -> Option<usize> {
    let t = toks.get(i)?;
    if is_punct(text, t, ":") && toks.get(i + 1).is_some_and(|n| is_punct(text, n, "=") && n.range.start == t.range.end)
    {
        return Some(i + 2);
    }
    is_punct(text, t, "=").then_some(i + 1)
}

/// The index of the `;` ending the statement that goes on at `i` (or the end).
fn stmt_end(text: &str, toks: &[Token], i: usize) -> usize {
    let mut depth = 0i32;
    for (j, t) in toks.iter().enumerate().skip(i) {
        match &text[t.range.clone()] {
            "(" | "[" => depth += 1,
            ")" | "]" => depth -= 1,
            ";" if depth <= 0 => return j,
            _ => {}
        }
    }
    toks.len()
}

impl Env {
    /// Reads the declarations, loop variables and assignments of the body at `body` of `text`.
    pub fn scan(text: &str, body: Range<usize>) -> Self {
        let toks = tokens_in(text, body);
        let mut env = Env::default();
        let mut declaring = false;
        let mut start = true;
        let mut i = 0;
        env.control =
            toks.iter().filter(|t| CONTROL.iter().any(|k| is_kw(text, t, k))).map(|t| t.range.start).collect();
        while i < toks.len() {
            let t = &toks[i];
            let word = |kw: &str| is_kw(text, t, kw);
            if word("declare") {
                declaring = true;
                start = true;
                i += 1;
                continue;
            }
            if word("begin") {
                declaring = false;
                start = true;
                i += 1;
                continue;
            }
            if t.kind == Kind::Word && word("into") {
                // `SELECT ... INTO [STRICT] a, b`: set at run time.
                let mut j = i + 1;
                if toks.get(j).is_some_and(|n| is_kw(text, n, "strict")) {
                    j += 1;
                }
                while let Some(name) = var_name(text, &toks, j) {
                    env.var(&name.0).set_otherwise = true;
                    j = name.1;
                    if toks.get(j).is_some_and(|c| is_punct(text, c, ",")) {
                        j += 1;
                    } else {
                        break;
                    }
                }
                i = j.max(i + 1);
                start = false;
                continue;
            }
            if start && (declaring || t.kind == Kind::Word || t.kind == Kind::QuotedIdent) {
                if declaring {
                    // `name [CONSTANT] type [NOT NULL] [{DEFAULT | := | =} expr];`
                    if let Some(name) = lex::ident(text, t) {
                        let end = stmt_end(text, &toks, i);
                        env.var(&name);
                        // A cursor's query or an alias is no value.
                        let query =
                            (i + 1..end).any(|j| is_kw(text, &toks[j], "cursor") || is_kw(text, &toks[j], "alias"));
                        let init = (i + 1..end).filter(|_| !query).find_map(|j| {
                            if is_kw(text, &toks[j], "default") { Some(j + 1) } else { assign_op(text, &toks, j) }
                        });
                        if let Some(e) = init
                            && e < end
                        {
                            let expr = toks[e].range.start..toks[end - 1].range.end;
                            env.var(&name).assigns.push(Assign { at: t.range.start, expr });
                        }
                        i = end + 1;
                        start = true;
                        continue;
                    }
                } else if word("for") || word("foreach") {
                    // `FOR a, b IN ...`: loop variables, set at run time.
                    let mut j = i + 1;
                    while let Some(n) = toks.get(j)
                        && !is_kw(text, n, "in")
                        && !is_kw(text, n, "slice")
                        && j < i + 16
                    {
                        if let Some(name) = lex::ident(text, n) {
                            env.var(&name).set_otherwise = true;
                        }
                        j += 1;
                    }
                    i = j;
                    start = false;
                    continue;
                } else if word("get") {
                    // `GET [CURRENT | STACKED] DIAGNOSTICS a = item, ...`
                    let end = stmt_end(text, &toks, i);
                    for j in i + 1..end {
                        if assign_op(text, &toks, j).is_some()
                            && let Some(name) = lex::ident(text, &toks[j - 1])
                        {
                            env.var(&name).set_otherwise = true;
                        }
                    }
                    i = end;
                    continue;
                } else if let Some((name, after)) = var_name(text, &toks, i)
                    && let Some(e) = assign_op(text, &toks, after)
                {
                    let end = stmt_end(text, &toks, e);
                    if e < end {
                        let expr = toks[e].range.start..toks[end - 1].range.end;
                        env.var(&name).assigns.push(Assign { at: t.range.start, expr });
                    }
                    i = end;
                    continue;
                }
            }
            let s = &text[t.range.clone()];
            start = s == ";"
                || s == ">>"
                || ["loop", "then", "else", "exception"].iter().any(|k| s.eq_ignore_ascii_case(k));
            i += 1;
        }
        env
    }

    fn var(&mut self, name: &str) -> &mut Var {
        let i = match self.vars.iter().position(|v| v.name == name) {
            Some(i) => i,
            None => {
                self.vars.push(Var { name: name.to_owned(), ..Var::default() });
                self.vars.len() - 1
            }
        };
        &mut self.vars[i]
    }

    /// The assignment of `v` whose value a use at `before` sees: the last one before it with no
    /// control word in between (`sql := ...; EXECUTE sql;`), else the only one, before it.
    fn assignment<'v>(&self, v: &'v Var, before: usize) -> Option<&'v Assign> {
        let last = v.assigns.iter().rev().find(|a| a.at < before)?;
        let lo = self.control.partition_point(|&c| c < last.at);
        let straight = self.control.get(lo).is_none_or(|&c| c >= before);
        (straight || v.assigns.len() == 1).then_some(last)
    }

    /// Why a variable's value is not known at `before`, as a clause for a message.
    fn why_unknown(&self, name: &str, before: usize) -> &'static str {
        let Some(v) = self.get(name).or_else(|| name.split_once('.').and_then(|(r, _)| self.get(r))) else { return "" };
        if v.set_otherwise {
            ", set by a query or a loop"
        } else if v.assigns.first().is_none_or(|a| a.at >= before) {
            ", not assigned before it"
        } else if self.assignment(v, before).is_none() {
            ", assigned more than once"
        } else {
            ", assigned from an expression that is not evaluated"
        }
    }

    fn get(&self, name: &str) -> Option<&Var> {
        self.vars.iter().find(|v| v.name == name)
    }
}

/// A variable reference at `i` (`v`, or `r.field`): its name as written-and-folded and the index after it.
fn var_name(text: &str, toks: &[Token], i: usize) -> Option<(String, usize)> {
    let name = lex::ident(text, toks.get(i)?)?;
    if let Some(dot) = toks.get(i + 1)
        && is_punct(text, dot, ".")
        && let Some(field) = toks.get(i + 2).and_then(|f| lex::ident(text, f))
    {
        return Some((format!("{name}.{field}"), i + 3));
    }
    Some((name, i + 1))
}

/// One statement an `EXECUTE` runs, as found.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Where findings on it point: the `EXECUTE` expression, or the part of it that built this
    /// statement when the string holds several.
    pub range: Range<usize>,
    pub action: Action,
    pub status: Status,
    pub dynamic: Dynamic,
}

/// The statements `EXECUTE <expr>` runs, `expr` being at `range` of `text` (after the keyword,
/// up to the `;`), in a block whose variables are `env`.
pub(crate) fn execute(text: &str, range: Range<usize>, env: &Env, values: &Placeholders) -> Vec<Found> {
    let toks = tokens_in(text, range);
    // `EXECUTE expr [INTO [STRICT] target] [USING expr, ...]`: the expression ends at the first
    // `INTO` or `USING` outside parentheses.
    let mut depth = 0i32;
    let mut end = toks.len();
    for (i, t) in toks.iter().enumerate() {
        match &text[t.range.clone()] {
            "(" | "[" => depth += 1,
            ")" | "]" => depth -= 1,
            ";" if depth <= 0 => {
                end = i;
                break;
            }
            _ if depth <= 0 && (is_kw(text, t, "into") || is_kw(text, t, "using")) => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let toks = &toks[..end];
    let (Some(first), Some(last)) = (toks.first(), toks.last()) else { return Vec::new() };
    let expr = first.range.start..last.range.end;
    let not_checked = |why: String| Found {
        range: expr.clone(),
        action: Action::Other { kind: "EXECUTE" },
        status: Status::Recognised,
        dynamic: Dynamic::NotChecked(why),
    };
    let mut ev = Eval { text, env, before: expr.start, depth: 0 };
    let value = match ev.expr_all(toks) {
        Ok(v) => v,
        Err(why) => {
            // A statement the rules would not judge in a block anyway (`INSERT ...`).
            if leading_word(text, toks, env, expr.start, 0).is_some_and(|w| !judged(&w)) {
                return Vec::new();
            }
            return vec![not_checked(why)];
        }
    };
    let built = match value {
        Val::Text(b) => b,
        Val::Var { name, .. } => {
            return vec![not_checked(format!(
                "the statement is the run-time value of `{name}`{}",
                env.why_unknown(&name, expr.start)
            ))];
        }
    };
    let pieces = split::split(&built.text);
    let single = pieces.stmts.len() == 1;
    let mut out = Vec::new();
    for raw in &pieces.stmts {
        let piece = &built.text[raw.range.clone()];
        let Some(word) = first_word(piece) else { continue };
        if !judged(&word) {
            continue;
        }
        let at = if single { expr.clone() } else { built.range(raw.range.clone(), &expr) };
        let (mut action, status) = parse_statement_in(&built.text, raw.range.clone(), values, Where::Body);
        if let Status::Failed { message, .. } = &status {
            out.push(Found {
                range: at,
                ..not_checked(format!("the statement it builds, `{}`, cannot be parsed: {message}", shorten(piece)))
            });
            continue;
        }
        if matches!(action, Action::Do) {
            out.push(Found { range: at, ..not_checked("it builds a `DO` block, whose body is not read".to_owned()) });
            continue;
        }
        action.map_spans(&|s| built.range(s, &at));
        out.push(Found { range: at, action, status, dynamic: Dynamic::Evaluated });
    }
    out
}

fn judged(word: &str) -> bool {
    JUDGED.iter().any(|k| word.eq_ignore_ascii_case(k))
}

/// The first word of a statement's text (after comments and whitespace).
fn first_word(s: &str) -> Option<String> {
    let t = lex::Tokens::new(s, Mode::default()).find(|t| t.kind != Kind::Comment)?;
    (t.kind == Kind::Word).then(|| s[t.range].to_ascii_lowercase())
}

/// At most 60 characters of `s`, on one line.
fn shorten(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 { format!("{}...", one.chars().take(60).collect::<String>()) } else { one }
}

/// The first word of the statement an expression builds, read from its first string literal
/// (`'INSERT INTO ' || t`, `format('UPDATE %I ...', t)`), or from the one assignment of the
/// variable it names; `None` when that cannot be told.
fn leading_word(text: &str, toks: &[Token], env: &Env, before: usize, depth: usize) -> Option<String> {
    if depth > VAR_DEPTH {
        return None;
    }
    let t = toks.first()?;
    if t.kind == Kind::Word
        && let Some((name, _)) = var_name(text, toks, 0)
        && let Some(v) = env.get(&name)
    {
        let a = env.assignment(v, before)?;
        return leading_word(text, &tokens_in(text, a.expr.clone()), env, a.at, depth + 1);
    }
    // The literal that starts the text: the first token, or `format(`'s first argument.
    let lit = match toks {
        [l, ..] if l.kind == Kind::String => l,
        [f, p, l, ..] if is_kw(text, f, "format") && is_punct(text, p, "(") && l.kind == Kind::String => l,
        _ => return None,
    };
    let s = literal(text, lit).ok()?;
    first_word(&s.text)
}

/// Decodes a string literal token: `'...'`, `E'...'`, `N'...'`, `$tag$...$tag$`.
fn literal(text: &str, t: &Token) -> Result<Built, String> {
    let s = &text[t.range.clone()];
    let b = s.as_bytes();
    let base = t.range.start;
    let mut out = Built::default();
    match b.first() {
        Some(b'$') => {
            let len = lex::dollar_tag_len(b, 0).ok_or("a malformed dollar quote")?;
            let body = s.get(len..s.len().saturating_sub(len)).ok_or("a malformed dollar quote")?;
            out.push(body, base + len..base + len + body.len(), true);
        }
        Some(b'\'') => plain(s, 1, base, &mut out),
        Some(b'n' | b'N') if b.get(1) == Some(&b'\'') => plain(s, 2, base, &mut out),
        Some(b'e' | b'E') if b.get(1) == Some(&b'\'') => escaped(s, base, &mut out)?,
        _ => return Err(format!("it uses the literal `{}`", shorten(s))),
    }
    Ok(out)
}

/// A `'...'` literal whose content starts at `from`: `''` is one quote.
fn plain(s: &str, from: usize, base: usize, out: &mut Built) {
    let inner = &s[from..s.len() - 1];
    let mut run = 0;
    let mut i = 0;
    while let Some(p) = inner[i..].find("''") {
        let q = i + p;
        out.push(&inner[run..q], base + from + run..base + from + q, true);
        out.push("'", base + from + q..base + from + q + 2, false);
        i = q + 2;
        run = i;
    }
    out.push(&inner[run..], base + from + run..base + from + inner.len(), true);
}

/// An `E'...'` literal: backslash escapes as PostgreSQL reads them.
fn escaped(s: &str, base: usize, out: &mut Built) -> Result<(), String> {
    let from = 2;
    let inner = &s[from..s.len() - 1];
    let ib = inner.as_bytes();
    let mut run = 0;
    let mut i = 0;
    let at = |k: usize| base + from + k;
    while i < ib.len() {
        let c = ib[i];
        if c != b'\\' && !(c == b'\'' && ib.get(i + 1) == Some(&b'\'')) {
            i += 1;
            continue;
        }
        out.push(&inner[run..i], at(run)..at(i), true);
        if c == b'\'' {
            out.push("'", at(i)..at(i + 2), false);
            i += 2;
            run = i;
            continue;
        }
        let Some(&e) = ib.get(i + 1) else { return Err("an escape string ends in a backslash".into()) };
        let (ch, len): (char, usize) = match e {
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'0'..=b'7' => {
                let n = ib[i + 1..].iter().take(3).take_while(|c| (b'0'..=b'7').contains(*c)).count();
                let v = u32::from_str_radix(&inner[i + 1..i + 1 + n], 8).map_err(|e| e.to_string())?;
                (char::from_u32(v).filter(|c| c.is_ascii() && *c != '\0').ok_or("an octal escape")?, 1 + n)
            }
            b'x' => {
                let n = ib[i + 2..].iter().take(2).take_while(|c| c.is_ascii_hexdigit()).count();
                if n == 0 {
                    ('x', 2)
                } else {
                    let v = u32::from_str_radix(&inner[i + 2..i + 2 + n], 16).map_err(|e| e.to_string())?;
                    (char::from_u32(v).filter(|c| c.is_ascii() && *c != '\0').ok_or("a hex escape")?, 2 + n)
                }
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                let hex = inner.get(i + 2..i + 2 + n).filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let v = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).ok_or("a Unicode escape")?;
                (char::from_u32(v).filter(|c| *c != '\0').ok_or("a Unicode escape")?, 2 + n)
            }
            _ => {
                // Any other character stands for itself (`\\`, `\'`, `\"`).
                let ch = inner[i + 1..].chars().next().ok_or("an escape")?;
                (ch, 1 + ch.len_utf8())
            }
        };
        let mut buf = [0u8; 4];
        out.push(ch.encode_utf8(&mut buf), at(i)..at(i + len), false);
        i += len;
        run = i;
    }
    out.push(&inner[run..], at(run)..at(inner.len()), true);
    Ok(())
}

/// The evaluator of one `EXECUTE` expression.
struct Eval<'a> {
    text: &'a str,
    env: &'a Env,
    /// Only assignments before this offset count.
    before: usize,
    depth: usize,
}

type Res<T> = Result<T, String>;

impl Eval<'_> {
    fn src(&self, t: &Token) -> &str {
        &self.text[t.range.clone()]
    }

    /// The whole of `toks` as one expression.
    fn expr_all(&mut self, toks: &[Token]) -> Res<Val> {
        let (v, i) = self.concat(toks, 0)?;
        match toks.get(i) {
            None => Ok(v),
            Some(t) => Err(format!("it is built with `{}`", shorten(self.src(t)))),
        }
    }

    /// `term (|| term)*`
    fn concat(&mut self, toks: &[Token], mut i: usize) -> Res<(Val, usize)> {
        let (mut v, next) = self.term(toks, i)?;
        i = next;
        while let Some(t) = toks.get(i)
            && self.src(t) == "||"
        {
            let (r, next) = self.term(toks, i + 1)?;
            let mut l = v.raw();
            l.append(r.raw());
            v = Val::Text(l);
            i = next;
        }
        Ok((v, i))
    }

    /// A primary, then casts (`::text`, `::regclass`), which leave text as it is.
    fn term(&mut self, toks: &[Token], i: usize) -> Res<(Val, usize)> {
        let (v, mut i) = self.primary(toks, i)?;
        while toks.get(i).is_some_and(|t| t.kind == Kind::Cast) {
            i += 1;
            let Some(ty) = toks.get(i).filter(|t| t.kind == Kind::Word) else {
                return Err("it is built with a cast".into());
            };
            let ty = self.src(ty).to_ascii_lowercase();
            if !["text", "varchar", "name", "regclass", "regtype", "regproc", "character"].contains(&ty.as_str()) {
                return Err(format!("it is built with a cast to `{ty}`"));
            }
            i += 1;
            if ty == "character" && toks.get(i).is_some_and(|t| is_kw(self.text, t, "varying")) {
                i += 1;
            }
        }
        Ok((v, i))
    }

    fn primary(&mut self, toks: &[Token], i: usize) -> Res<(Val, usize)> {
        let Some(t) = toks.get(i) else { return Err("the expression ends early".into()) };
        match t.kind {
            Kind::String => Ok((Val::Text(literal(self.text, t)?), i + 1)),
            Kind::Number => Ok((Val::Text(Built::from_mapped(self.src(t), t.range.clone())), i + 1)),
            Kind::Punct
                if self.src(t) == "("
                    && toks
                        .get(i + 1)
                        .is_some_and(|q| is_kw(self.text, q, "select") || is_kw(self.text, q, "with")) =>
            {
                Err("it is the result of a query".into())
            }
            Kind::Punct if self.src(t) == "(" => {
                let (v, j) = self.concat(toks, i + 1)?;
                match toks.get(j) {
                    Some(c) if self.src(c) == ")" => Ok((v, j + 1)),
                    _ => Err("it has an unclosed parenthesis".into()),
                }
            }
            Kind::Word | Kind::QuotedIdent => {
                if toks.get(i + 1).is_some_and(|p| self.src(p) == "(") {
                    return self.call(toks, i);
                }
                let (name, next) = var_name(self.text, toks, i).ok_or("it is built from an unknown name")?;
                Ok((self.variable(&name, t.range.start..toks[next - 1].range.end)?, next))
            }
            _ => Err(format!("it is built with `{}`", shorten(self.src(t)))),
        }
    }

    /// A variable's value: the one assignment before the `EXECUTE`, evaluated, when there is
    /// one and nothing else sets it; else unknown.
    fn variable(&mut self, name: &str, src: Range<usize>) -> Res<Val> {
        let unknown = Val::Var { name: name.to_owned(), src: src.clone() };
        let var = self.env.get(name).or_else(|| {
            // `r.field` of a record variable `r`.
            name.split_once('.').and_then(|(r, _)| self.env.get(r))
        });
        let Some(var) = var else {
            return Err(format!("it is built from `{name}`, which is not a variable of the block"));
        };
        if var.name != name || var.set_otherwise || self.depth >= VAR_DEPTH {
            return Ok(unknown);
        }
        let Some(a) = self.env.assignment(var, self.before) else { return Ok(unknown) };
        let toks = tokens_in(self.text, a.expr.clone());
        let mut inner = Eval { text: self.text, env: self.env, before: a.at, depth: self.depth + 1 };
        match inner.expr_all(&toks) {
            Ok(v) => Ok(v),
            // Set from something not evaluated (a query, a function): unknown at lint time,
            // unless the whole statement is that value (the caller says so).
            Err(_) => Ok(unknown),
        }
    }

    /// The arguments of a call at `i` (the function name), and the index after `)`.
    fn args(&mut self, toks: &[Token], i: usize) -> Res<(Vec<Val>, usize)> {
        let mut j = i + 2;
        let mut args = Vec::new();
        if toks.get(j).is_some_and(|t| self.src(t) == ")") {
            return Ok((args, j + 1));
        }
        loop {
            let (v, next) = self.concat(toks, j)?;
            args.push(v);
            match toks.get(next).map(|t| self.src(t)) {
                Some(",") => j = next + 1,
                Some(")") => return Ok((args, next + 1)),
                _ => return Err("it has a call this evaluation does not read".into()),
            }
        }
    }

    fn call(&mut self, toks: &[Token], i: usize) -> Res<(Val, usize)> {
        let f = toks[i].range.clone();
        let name = self.src(&toks[i]).to_ascii_lowercase();
        let known = ["format", "quote_ident", "quote_literal", "quote_nullable", "concat"];
        if !known.contains(&name.as_str()) {
            return Err(format!("it is built with `{name}()`"));
        }
        let (args, next) = self.args(toks, i)?;
        let whole = f.start..toks[next - 1].range.end;
        let v = match (name.as_str(), args.len()) {
            ("quote_ident", 1) => args.into_iter().next().map(|a| a.ident(&whole)),
            ("quote_literal" | "quote_nullable", 1) => args.into_iter().next().map(|a| a.literal(&whole)),
            ("concat", _) => Some(args.into_iter().fold(Built::default(), |mut acc, a| {
                acc.append(a.raw());
                acc
            })),
            ("format", n) if n >= 1 => Some(format(args, &whole)?),
            _ => None,
        };
        v.map(|b| (Val::Text(b), next))
            .ok_or_else(|| format!("it calls `{name}()` with arguments this evaluation does not read"))
    }
}

/// `format(fmt, args...)`: `%s`, `%I`, `%L`, `%%`, and `%n$s` positions; a format string that
/// is not known, or other specifiers (widths, `-` flags), are not evaluated.
fn format(mut args: Vec<Val>, whole: &Range<usize>) -> Res<Built> {
    let fmt = match args.remove(0) {
        Val::Text(b) => b,
        Val::Var { name, .. } => return Err(format!("its format string is the run-time value of `{name}`")),
    };
    let s = fmt.text.clone();
    let b = s.as_bytes();
    let mut out = Built::default();
    let mut next_arg = 0usize;
    let mut run = 0;
    let mut i = 0;
    let copy = |out: &mut Built, from: usize, to: usize| {
        // A slice of the format string keeps its own map.
        for seg in &fmt.segs {
            let lo = seg.eval.start.max(from);
            let hi = seg.eval.end.min(to);
            if lo >= hi {
                continue;
            }
            let src = if seg.verbatim {
                seg.src.start + (lo - seg.eval.start)..seg.src.start + (hi - seg.eval.start)
            } else {
                seg.src.clone()
            };
            out.push(&s[lo..hi], src, seg.verbatim);
        }
    };
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        copy(&mut out, run, i);
        let spec_start = i;
        i += 1;
        if b.get(i) == Some(&b'%') {
            copy(&mut out, i, i + 1);
            i += 1;
            run = i;
            continue;
        }
        // `n$`
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut arg = None;
        if digits > 0 && b.get(i + digits) == Some(&b'$') {
            let n: usize = s[i..i + digits].parse().map_err(|_| "a bad argument position in its format string")?;
            arg = Some(n.checked_sub(1).ok_or("argument position 0 in its format string")?);
            i += digits + 1;
        }
        let Some(&conv) = b.get(i) else { return Err("its format string ends in `%`".into()) };
        if !matches!(conv, b's' | b'I' | b'L') {
            let spec: String = s[spec_start..].chars().take(i + 1 - spec_start).collect();
            return Err(format!("its format string uses `{spec}`"));
        }
        i += 1;
        let k = match arg {
            Some(k) => {
                next_arg = k + 1;
                k
            }
            None => {
                next_arg += 1;
                next_arg - 1
            }
        };
        let v = args.get(k).cloned().ok_or("its format string has more specifiers than arguments")?;
        out.append(match conv {
            b'I' => v.ident(whole),
            b'L' => v.literal(whole),
            _ => v.raw(),
        });
        run = i;
    }
    copy(&mut out, run, b.len());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates the `EXECUTE` in the `DO` block `body` (a whole file's text).
    fn run(sql: &str) -> Vec<Found> {
        let open = sql.find("$$").unwrap() + 2;
        let close = open + sql[open..].find("$$").unwrap();
        let env = Env::scan(sql, open..close);
        let at = sql.rfind("EXECUTE ").unwrap() + "EXECUTE ".len();
        let end = at + sql[at..].find(';').unwrap();
        execute(sql, at..end, &env, &Placeholders::default())
    }

    fn evaluated(sql: &str) -> String {
        let found = run(sql);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].dynamic, Dynamic::Evaluated, "{found:?}");
        found[0].action.kind_name().to_owned()
    }

    #[test]
    fn literals_concatenation_and_format() {
        assert_eq!(evaluated("DO $$ BEGIN EXECUTE 'CREATE INDEX i ON t (a)'; END $$;"), "CREATE INDEX");
        assert_eq!(evaluated("DO $$ BEGIN EXECUTE E'CREATE INDEX i ON t\\n(a)'; END $$;"), "CREATE INDEX");
        assert_eq!(evaluated("DO $$ BEGIN EXECUTE $q$CREATE INDEX i ON t (a)$q$; END $$;"), "CREATE INDEX");
        assert_eq!(
            evaluated("DO $$ DECLARE t text; BEGIN EXECUTE 'CREATE INDEX ON ' || quote_ident(t) || ' (a)'; END $$;"),
            "CREATE INDEX"
        );
        let sql = "DO $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM x LOOP EXECUTE format('ALTER TABLE %I.%I ADD COLUMN c int DEFAULT %L, ALTER COLUMN d SET DEFAULT 1%%', r.s, r.t, 'it''s'); END LOOP; END $$;";
        assert_eq!(evaluated(sql), "ALTER TABLE");
        let sql = "DO $$ DECLARE t text; BEGIN EXECUTE format('CREATE INDEX ON %2$I (%1$I)', 'a', t); END $$;";
        let found = run(sql);
        let Action::CreateIndex(ci) = &found[0].action else { panic!("{found:?}") };
        assert_eq!(ci.table.name, "t");
    }

    #[test]
    fn variables_assigned_once() {
        let sql = "DO $$ DECLARE s text; BEGIN s := format('DROP TABLE %I', 'old_x'); EXECUTE s; END $$;";
        let found = run(sql);
        assert!(matches!(&found[0].action, Action::Drop { names, .. } if names[0].name == "old_x"), "{found:?}");
        // Assigned twice, in branches: not known.
        let sql = "DO $$ DECLARE s text; BEGIN IF x THEN s := 'DROP TABLE a'; ELSE s := 'DROP TABLE b'; END IF; EXECUTE s; END $$;";
        assert!(matches!(run(sql)[0].dynamic, Dynamic::NotChecked(_)));
        // Assigned twice, once right before the EXECUTE: that value.
        let sql =
            "DO $$ DECLARE s text; BEGIN s := 'CREATE TABLE a ()'; EXECUTE s; s := 'DROP TABLE b'; EXECUTE s; END $$;";
        assert!(matches!(&run(sql)[0].action, Action::Drop { names, .. } if names[0].name == "b"));
        // ... but not across a loop's end.
        let sql = "DO $$ DECLARE s text; BEGIN LOOP s := 'DROP TABLE b'; END LOOP; s := 'x'; IF y THEN s := 'DROP TABLE c'; END IF; EXECUTE s; END $$;";
        assert!(matches!(run(sql)[0].dynamic, Dynamic::NotChecked(_)));
        // Declared with a value.
        let sql = "DO $$ DECLARE s text := 'DROP TABLE a'; BEGIN EXECUTE s; END $$;";
        assert_eq!(evaluated(sql), "DROP");
    }

    #[test]
    fn what_is_not_evaluated() {
        for sql in [
            "DO $$ BEGIN EXECUTE current_setting('x'); END $$;",
            "DO $$ DECLARE q text; BEGIN SELECT x INTO q FROM y; EXECUTE q; END $$;",
            "DO $$ BEGIN EXECUTE unknown_thing || ' x'; END $$;",
            "DO $$ BEGIN EXECUTE 'CREATE INDEX ON'; END $$;",
            "DO $$ BEGIN EXECUTE format('CREATE INDEX %5s ON t (a)', 'i'); END $$;",
            "DO $$ BEGIN EXECUTE format('CREATE INDEX %é ON t (a)', 'i'); END $$;",
            "DO $$ BEGIN EXECUTE format('CREATE INDEX %1$é ON t (a)', 'i'); END $$;",
            "DO $$ BEGIN EXECUTE E'CREATE INDEX \\é' || 'x'; END $$;",
        ] {
            let found = run(sql);
            assert!(matches!(found.as_slice(), [f] if matches!(f.dynamic, Dynamic::NotChecked(_))), "{sql}: {found:?}");
        }
        // Statements the rules do not judge in a block stay silent, evaluated or not.
        assert!(run("DO $$ BEGIN EXECUTE 'INSERT INTO t VALUES (' || f() || ')'; END $$;").is_empty());
        assert!(run("DO $$ BEGIN EXECUTE 'SELECT 1'; END $$;").is_empty());
    }

    #[test]
    fn spans_point_into_the_expression() {
        let sql = "DO $$ BEGIN EXECUTE E'CREATE INDEX i ON \\t\\u00e9t (a)' || ''; END $$;";
        let found = run(sql);
        let at = sql.find("E'").unwrap();
        let Action::CreateIndex(_) = &found[0].action else { panic!("{found:?}") };
        assert!(found[0].range.start >= at && found[0].range.end <= sql.len());
        // Fuzz the map: every range stays inside the expression and on char boundaries.
        let b = Built { text: String::new(), segs: Vec::new() };
        assert_eq!(b.range(0..0, &(3..7)), 3..7);
        let mut b = Built::default();
        b.push("ab", 10..12, true);
        b.push("é", 12..18, false);
        b.push("cd", 18..20, true);
        for s in 0..=b.text.len() {
            for e in s..=b.text.len() {
                let r = b.range(s..e, &(10..20));
                assert!(r.start >= 10 && r.end <= 20 && r.start < r.end, "{s}..{e}: {r:?}");
            }
        }
        assert_eq!(b.range(1..2, &(10..20)), 11..12);
        assert_eq!(b.range(2..4, &(10..20)), 12..18);
    }

    /// Truncated and mutated bodies never panic, and every statement found stays in the file
    /// on character boundaries.
    #[test]
    fn never_panics_and_never_points_outside() {
        let seeds = [
            "DO $$ DECLARE r record; s text := 'x'; BEGIN FOR r IN SELECT 1 LOOP EXECUTE format('CREATE INDEX %1$I ON %2$s.%I (a) -- %%', r.t, s, 'é'); EXECUTE E'DROP TABLE \\x41\\u00e9\\'' || quote_literal(s) || $q$;ALTER TABLE t ADD c int$q$; END LOOP; END $$;",
            "DO $$ BEGIN EXECUTE 'CREATE INDEX i ON t (a)'; EXECUTE s; s := concat('a', 'b'); EXECUTE (SELECT 1); END $$;",
        ];
        let inserts = ["'", "%", "$", "\\", "é", "(", ")", "||", ";", "$$", "%1$", "E'", ":=", "INTO", "\""];
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for base in seeds {
            for _ in 0..400 {
                let mut text = base.to_owned();
                for _ in 0..(next() % 4) {
                    let mut at = usize::try_from(next() % text.len() as u64).unwrap_or(0);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    let ins = inserts[usize::try_from(next() % inserts.len() as u64).unwrap_or(0)];
                    text.insert_str(at, ins);
                }
                let mut cut = usize::try_from(next() % (text.len() as u64 + 1)).unwrap_or(0);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                for t in [&text[..], &text[..cut]] {
                    let (stmts, _, _) =
                        crate::parse::parse_source(&crate::source::SourceFile::new("f.sql", t.to_owned()));
                    for s in stmts.iter().filter(|s| s.dynamic.is_some()) {
                        assert!(s.range.start < s.range.end && s.range.end <= t.len(), "{t}: {s:?}");
                        assert!(t.is_char_boundary(s.range.start) && t.is_char_boundary(s.range.end), "{t}: {s:?}");
                    }
                }
            }
        }
    }
}
