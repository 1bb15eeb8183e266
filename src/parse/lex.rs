//! The one SQL scanner: literals, comments, dollar quotes, `E''` and `U&''` strings, quoted
//! identifiers and operators exactly as PostgreSQL's lexer (`scan.l`) reads them, and the one
//! identifier fold. [`tokens`] (or [`Tokens`], one at a time) gives the token stream; the
//! splitter, the fingerprints, the explain safety check and the parser's fallbacks all read
//! SQL through it, token by token from the start of the text, as the server does: whether
//! `E'...'` is an escape string depends on where the token starts (`someE'...'` is a word and a
//! plain string), which no look at the bytes before a quote can tell (`$$x$$E'...'`).
//!
//! `standard_conforming_strings` decides whether a backslash escapes in `'...'`: it does not when
//! the setting is on (the default since PostgreSQL 9.1, and what migrations are written for); it
//! always does in `E'...'`. The explain runner reads the setting from the server and lexes with it.

use std::ops::Range;

/// How the server reads string literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// `standard_conforming_strings`: `'...'` has no backslash escapes.
    pub standard_conforming_strings: bool,
}

impl Default for Mode {
    fn default() -> Self {
        Self { standard_conforming_strings: true }
    }
}

/// PostgreSQL's longest identifier, in bytes (`NAMEDATALEN - 1`).
pub const MAX_IDENT_BYTES: usize = 63;

/// An identifier as PostgreSQL reads it: unquoted ones have their ASCII letters lower-cased
/// (`Ärzte` stays `Ärzte`: PostgreSQL folds ASCII only in UTF-8 databases), and every
/// identifier is truncated to 63 bytes on a character boundary.
pub fn fold_ident(ident: &str, quoted: bool) -> String {
    let mut s = if quoted { ident.to_owned() } else { ident.to_ascii_lowercase() };
    truncate_ident(&mut s);
    s
}

/// Truncates to [`MAX_IDENT_BYTES`] on a character boundary, as the server does.
pub fn truncate_ident(s: &mut String) {
    if s.len() > MAX_IDENT_BYTES {
        let mut end = MAX_IDENT_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

pub(crate) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

pub(crate) fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Characters an operator is made of (`scan.l`'s `op_chars`).
pub(crate) fn is_op_char(c: u8) -> bool {
    matches!(
        c,
        b'~' | b'!'
            | b'@'
            | b'#'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'<'
            | b'>'
            | b'='
    )
}

pub(crate) fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= hay.len() {
        match hay[i..].iter().position(|&c| c == first) {
            None => return None,
            Some(p) => {
                i += p;
                if hay[i..].starts_with(needle) {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

pub(crate) fn line_end(b: &[u8], from: usize) -> usize {
    b[from..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| from + p)
}

/// End (exclusive) of a quoted run starting at `i` (which holds the quote byte); doubled quotes
/// escape, and with `backslash_escapes` `\x` too. Unterminated: the end of the text.
pub(crate) fn skip_quoted(b: &[u8], i: usize, quote: u8, backslash_escapes: bool) -> usize {
    scan_quoted(b, i, quote, backslash_escapes).0
}

/// [`skip_quoted`], and whether the closing quote was found.
pub(crate) fn scan_quoted(b: &[u8], i: usize, quote: u8, backslash_escapes: bool) -> (usize, bool) {
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if backslash_escapes && c == b'\\' {
            j += 2;
            continue;
        }
        if c == quote {
            if b.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return (j + 1, true);
        }
        j += 1;
    }
    (b.len(), false)
}

/// End (exclusive) of a (nested) block comment starting at `i` (the end of the text when it is
/// not closed), and whether it is closed.
pub(crate) fn scan_block_comment(b: &[u8], i: usize) -> (usize, bool) {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < b.len() {
        if b[j] == b'/' && b[j + 1] == b'*' {
            depth += 1;
            j += 2;
        } else if b[j] == b'*' && b[j + 1] == b'/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return (j, true);
            }
        } else {
            j += 1;
        }
    }
    (b.len(), false)
}

/// If a dollar-quote delimiter starts at `i`, its length.
pub(crate) fn dollar_tag_len(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'$') || (i > 0 && is_ident_char(b[i - 1])) {
        return None;
    }
    let mut j = i + 1;
    if j < b.len() && b[j].is_ascii_digit() {
        return None;
    }
    while j < b.len() && b[j] != b'$' && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1 - i)
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An unquoted word: a keyword or an identifier (fold it with [`fold_ident`]).
    Word,
    /// A `"quoted"` (or `U&"..."`) identifier, quotes included.
    QuotedIdent,
    /// A string constant of any kind (`'...'`, `E'...'`, `U&'...'`, `B'...'`, `X'...'`,
    /// `N'...'`, `$tag$...$tag$`), its prefix included.
    String,
    /// A numeric constant.
    Number,
    /// `$n`.
    Param,
    /// An operator (`scan.l`'s rules for where one ends).
    Operator,
    /// `::`
    Cast,
    /// One of `( ) [ ] , ; : .`, or `..` (`scan.l`'s `dot_dot`: `1..10` is `1` `..` `10`)
    Punct,
    /// A comment (line or block).
    Comment,
    /// The rest of the text after an unterminated literal or comment; nothing follows it.
    Unterminated,
}

/// One token: its kind and byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub range: Range<usize>,
}

/// The tokens of `text` under `mode`, comments included, whitespace dropped. Never fails: an
/// unterminated literal or comment becomes an [`Kind::Unterminated`] token running to the end.
pub fn tokens(text: &str, mode: Mode) -> Vec<Token> {
    Tokens::new(text, mode).collect()
}

/// [`tokens`] one at a time, without allocating.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    b: &'a [u8],
    i: usize,
    mode: Mode,
}

impl<'a> Tokens<'a> {
    pub fn new(text: &'a str, mode: Mode) -> Self {
        Self { b: text.as_bytes(), i: 0, mode }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        while self.b.get(self.i)?.is_ascii_whitespace() {
            self.i += 1;
        }
        let t = token_at(self.b, self.i, self.mode);
        self.i = t.range.end;
        Some(t)
    }
}

/// The token that starts at `i` (which holds no whitespace), as PostgreSQL's lexer reads it from
/// there: the longest match, so a prefix letter starts a string only where no word or number
/// runs over it (`E'...'` after `1`, `$1` or `$$x$$` is an escape string; in `someE'...'` the word
/// takes the `E`).
pub(crate) fn token_at(b: &[u8], i: usize, mode: Mode) -> Token {
    if let Some((end, kind)) = literal_at(b, i, mode) {
        return Token { kind, range: i..end };
    }
    let c = b[i];
    let mut end = i + 1;
    let kind = if is_ident_start(c) {
        while end < b.len() && is_ident_char(b[end]) {
            end += 1;
        }
        Kind::Word
    } else if c == b'$' {
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        if end == i + 1 { Kind::Operator } else { Kind::Param }
    } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
        end = number_end(b, i);
        Kind::Number
    } else if c == b':' && b.get(i + 1) == Some(&b':') {
        end = i + 2;
        Kind::Cast
    } else if c == b'.' && b.get(i + 1) == Some(&b'.') {
        end = i + 2;
        Kind::Punct
    } else if matches!(c, b'(' | b')' | b'[' | b']' | b',' | b';' | b':' | b'.') {
        Kind::Punct
    } else if is_op_char(c) {
        end = operator_end(b, i);
        Kind::Operator
    } else {
        // Anything else PostgreSQL would reject (an ASCII byte: bytes from 0x80 start words);
        // one character, kept as an operator.
        Kind::Operator
    };
    Token { kind, range: i..end }
}

/// A literal or comment starting a token at `i`: its end and kind ([`Kind::Unterminated`] when
/// it is not closed). Prefixes are read as `scan.l` reads them: `E'...'` always has backslash
/// escapes; `'...'` and `N'...'` have them only without `standard_conforming_strings`;
/// `U&'...'`, `B'...'` and `X'...'` never do.
fn literal_at(b: &[u8], i: usize, mode: Mode) -> Option<(usize, Kind)> {
    let quoted = |q: usize, escapes: bool, kind: Kind| {
        let (end, closed) = scan_quoted(b, q, b[q], escapes);
        (end, if closed { kind } else { Kind::Unterminated })
    };
    let at = |k: usize| b.get(i + k).copied();
    let escapes = !mode.standard_conforming_strings;
    Some(match b[i] {
        b'\'' => quoted(i, escapes, Kind::String),
        b'"' => quoted(i, false, Kind::QuotedIdent),
        b'e' | b'E' if at(1) == Some(b'\'') => quoted(i + 1, true, Kind::String),
        b'n' | b'N' if at(1) == Some(b'\'') => quoted(i + 1, escapes, Kind::String),
        b'b' | b'B' | b'x' | b'X' if at(1) == Some(b'\'') => quoted(i + 1, false, Kind::String),
        b'u' | b'U' if at(1) == Some(b'&') && at(2) == Some(b'\'') => quoted(i + 2, false, Kind::String),
        b'u' | b'U' if at(1) == Some(b'&') && at(2) == Some(b'"') => quoted(i + 2, false, Kind::QuotedIdent),
        b'-' if at(1) == Some(b'-') => (line_end(b, i), Kind::Comment),
        b'/' if at(1) == Some(b'*') => {
            let (end, closed) = scan_block_comment(b, i);
            (end, if closed { Kind::Comment } else { Kind::Unterminated })
        }
        b'$' => {
            let len = dollar_tag_len(b, i)?;
            find(b, i + len, &b[i..i + len]).map_or((b.len(), Kind::Unterminated), |p| (p + len, Kind::String))
        }
        _ => return None,
    })
}

/// End of a numeric constant starting at `i` (digits, `_` separators, one `.`, an exponent,
/// `0x`/`0o`/`0b` prefixes); trailing identifier characters are left to the next token.
fn number_end(b: &[u8], mut i: usize) -> usize {
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')) {
        i += 2;
        while i < b.len() && (b[i].is_ascii_hexdigit() || b[i] == b'_') {
            i += 1;
        }
        return i;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1) != Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// End of an operator starting at `i`, as `scan.l` decides it: the longest run of operator
/// characters, cut before any `--` or `/*` inside it, and with trailing `+`/`-` dropped unless the
/// operator holds one of `~ ! @ # % ^ & | ` ?` (so `=-1` is `=` then `-`).
fn operator_end(b: &[u8], i: usize) -> usize {
    let mut end = i;
    while end < b.len() && is_op_char(b[end]) {
        if end > i && ((b[end - 1] == b'-' && b[end] == b'-') || (b[end - 1] == b'/' && b[end] == b'*')) {
            end -= 1;
            break;
        }
        end += 1;
    }
    let op = &b[i..end];
    if op.len() > 1
        && !op.iter().any(|c| matches!(c, b'~' | b'!' | b'@' | b'#' | b'%' | b'^' | b'&' | b'|' | b'`' | b'?'))
    {
        while end > i + 1 && matches!(b[end - 1], b'+' | b'-') {
            end -= 1;
        }
    }
    end.max(i + 1)
}

/// The identifier a [`Kind::Word`] or [`Kind::QuotedIdent`] token names, folded; `None` for
/// other tokens. A quoted identifier's doubled quotes are undone; `U&"..."` escapes are not
/// decoded (such names are kept as written, which never matches a catalog name by accident).
pub fn ident(text: &str, t: &Token) -> Option<String> {
    let s = &text[t.range.clone()];
    match t.kind {
        Kind::Word => Some(fold_ident(s, false)),
        Kind::QuotedIdent if s.starts_with('"') => Some(fold_ident(&s[1..s.len() - 1].replace("\"\"", "\""), true)),
        Kind::QuotedIdent => Some(s.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, mode: Mode) -> Vec<(Kind, &str)> {
        tokens(sql, mode).into_iter().map(|t| (t.kind, &sql[t.range])).collect()
    }

    const OFF: Mode = Mode { standard_conforming_strings: false };

    #[test]
    fn backslashes_follow_standard_conforming_strings() {
        let sql = r"SELECT 'a\', pg_terminate_backend(1), 'b'";
        let on = kinds(sql, Mode::default());
        assert!(on.contains(&(Kind::Word, "pg_terminate_backend")), "{on:?}");
        assert_eq!(on[1], (Kind::String, r"'a\'"));
        let off = kinds(sql, OFF);
        assert!(!off.contains(&(Kind::Word, "pg_terminate_backend")), "{off:?}");
        assert_eq!(off[1], (Kind::String, r"'a\', pg_terminate_backend(1), '"));
        // E'' always escapes; U&'' never lets a backslash escape the quote.
        let e = kinds(r"SELECT E'a\', f(1), 'b'", Mode::default());
        assert_eq!(e[1], (Kind::String, r"E'a\', f(1), '"));
        for mode in [Mode::default(), OFF] {
            let u = kinds(r"SELECT U&'a\', f(1), 'b' UESCAPE '!'", mode);
            assert_eq!(u[1], (Kind::String, r"U&'a\'"), "{mode:?}");
            assert!(u.contains(&(Kind::Word, "f")));
        }
        // A word ending in e is not an E prefix.
        let w = kinds(r"SELECT some'a\', f(1), 'b'", Mode::default());
        assert!(w.contains(&(Kind::Word, "f")), "{w:?}");
    }

    /// A prefix letter starts a string wherever a token starts, as in `scan.l` (the longest match
    /// wins): after a number, a parameter or a dollar-quoted string too. PostgreSQL 15 and later
    /// reject a word glued to a number or parameter (`1E`, `$1E`: "trailing junk"); 14 and
    /// earlier read `E'...'` there, and that is the only reading any server gives.
    #[test]
    fn prefixes_start_strings_at_token_starts() {
        let hidden = r"'\'; DROP TABLE t; --'";
        for before in ["", "1", "1.5", "1e5", "$1", "$$x$$", "$t$x$t$", "\"q\"", "'s'", "(", "a."] {
            let sql = format!("SELECT {before}E{hidden}");
            let k = kinds(&sql, Mode::default());
            assert_eq!(k.last(), Some(&(Kind::String, &sql[sql.len() - hidden.len() - 1..])), "{sql}: {k:?}");
            assert!(!k.iter().any(|(_, s)| s.eq_ignore_ascii_case("drop")), "{sql}: {k:?}");
        }
        // The word or number takes the letter: a plain string follows.
        for (sql, word) in
            [("SELECT someE'a\\', f()", "someE"), ("SELECT x$E'a\\', f()", "x$E"), ("SELECT 1xE'a\\', f()", "xE")]
        {
            let k = kinds(sql, Mode::default());
            assert!(k.contains(&(Kind::Word, word)) && k.contains(&(Kind::String, r"'a\'")), "{sql}: {k:?}");
        }
        let k = kinds(r"SELECT 0x1E'a\', f()", Mode::default());
        assert_eq!(k[1..3], [(Kind::Number, "0x1E"), (Kind::String, r"'a\'")]);
        // U&'' and B''/X'' never let a backslash escape the quote, N'' does without
        // standard_conforming_strings.
        for sql in [r"SELECT $$x$$U&'a\', f()", r"SELECT 1U&'a\', f()", r"SELECT B'\', f()", r"SELECT X'\', f()"] {
            let k = kinds(sql, OFF);
            assert!(k.contains(&(Kind::Word, "f")), "{sql}: {k:?}");
        }
        let k = kinds(r"SELECT N'a\', f(), 'b'", OFF);
        assert_eq!(k[1], (Kind::String, r"N'a\', f(), '"));
    }

    #[test]
    fn dollar_quotes_comments_and_identifiers() {
        let k = kinds(
            "SELECT $a$ $b$ f() $a$, $$x$$, /* /* nested */ g() */ h(), -- i()\n\"j\"\"k\"(1), $1",
            Mode::default(),
        );
        let words: Vec<&str> = k.iter().filter(|(k, _)| *k == Kind::Word).map(|(_, s)| *s).collect();
        assert_eq!(words, ["SELECT", "h"]);
        assert!(k.contains(&(Kind::QuotedIdent, "\"j\"\"k\"")));
        assert!(k.contains(&(Kind::Param, "$1")));
        let t = tokens("\"j\"\"k\"", Mode::default());
        assert_eq!(ident("\"j\"\"k\"", &t[0]).as_deref(), Some("j\"k"));
        assert_eq!(kinds("SELECT 1 /* open", Mode::default()).last().unwrap().0, Kind::Unterminated);
        assert_eq!(kinds("SELECT 'open", Mode::default()).last().unwrap().0, Kind::Unterminated);
    }

    #[test]
    fn operators_end_as_postgresql_says() {
        let ops = |sql: &str| -> Vec<String> {
            kinds(sql, Mode::default())
                .into_iter()
                .filter(|(k, _)| *k == Kind::Operator)
                .map(|(_, s)| s.to_owned())
                .collect()
        };
        assert_eq!(ops("a=-1"), ["=", "-"]);
        assert_eq!(ops("a @- b"), ["@-"]);
        assert_eq!(ops("a <--b"), ["<"]);
        assert_eq!(ops("a </*c*/b"), ["<"]);
        assert_eq!(ops("a::int >= 2"), [">="]);
        assert_eq!(kinds("x::text", Mode::default())[1], (Kind::Cast, "::"));
    }

    /// A number ends before a second `.` or a `..`, which is one token (`scan.l`'s `numericfail`
    /// and `dot_dot`): `FOR i IN 1..10` is `1` `..` `10`, `1.2.3` is `1.2` `.3`.
    #[test]
    fn numbers_end_before_a_second_dot() {
        let k = kinds("FOR i IN 1..10 LOOP; SELECT 1.2.3, 1.5..2, a..b, 1...", Mode::default());
        let texts: Vec<&str> = k.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            texts,
            [
                "FOR", "i", "IN", "1", "..", "10", "LOOP", ";", "SELECT", "1.2", ".3", ",", "1.5", "..", "2", ",", "a",
                "..", "b", ",", "1", "..", "."
            ]
        );
        assert_eq!(k[4], (Kind::Punct, ".."));
        assert_eq!(k[10], (Kind::Number, ".3"));
    }

    #[test]
    fn identifiers_fold_ascii_only_and_truncate() {
        assert_eq!(fold_ident("Ärzte", false), "Ärzte");
        assert_eq!(fold_ident("ÄRZTE", false), "Ärzte");
        assert_eq!(fold_ident("Patients", false), "patients");
        assert_eq!(fold_ident("Patients", true), "Patients");
        let long = "a".repeat(70);
        assert_eq!(fold_ident(&long, false).len(), 63);
        // Truncation never splits a character: 62 ASCII bytes then a two-byte letter.
        let s = format!("{}é", "a".repeat(62));
        assert_eq!(fold_ident(&s, false), "a".repeat(62));
    }
}
