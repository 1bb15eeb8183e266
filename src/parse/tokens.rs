//! sqlparser's tokenizer, with token positions as byte offsets into the file.

use std::ops::Range;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, TokenizerError, Whitespace};

use super::ir::ObjName;

/// A significant token (no whitespace or comments) with its absolute byte range.
#[derive(Debug, Clone)]
pub struct Tok {
    pub token: Token,
    pub range: Range<usize>,
}

impl Tok {
    /// The token is the unquoted keyword `kw` (case-insensitive).
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    pub fn keyword(&self) -> Option<Keyword> {
        match &self.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
            _ => None,
        }
    }

    /// An identifier folded as PostgreSQL folds it (unquoted: lower case).
    pub fn ident(&self) -> Option<String> {
        match &self.token {
            Token::Word(w) => Some(super::lex::fold_ident(&w.value, w.quote_style.is_some())),
            _ => None,
        }
    }
}

/// Tokenizes `text` (a statement) with locations.
pub fn tokenize(text: &str) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    Tokenizer::new(&PostgreSqlDialect {}, text).tokenize_with_location()
}

/// Tokenizes `text` into `buf` (cleared first), so that one buffer serves many statements.
pub fn tokenize_into(text: &str, buf: &mut Vec<TokenWithSpan>) -> Result<(), TokenizerError> {
    buf.clear();
    Tokenizer::new(&PostgreSqlDialect {}, text).tokenize_with_location_into_buf(buf)
}

/// Converts sqlparser locations (1-based line, character column) within `text` into byte offsets.
/// Locations must be visited in non-decreasing order.
pub struct OffsetCursor<'a> {
    text: &'a str,
    line: u64,
    col: u64,
    byte: usize,
}

impl<'a> OffsetCursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text, line: 1, col: 1, byte: 0 }
    }

    pub fn offset(&mut self, line: u64, col: u64) -> usize {
        if line == 0 {
            return self.byte;
        }
        if (line, col) < (self.line, self.col) {
            // Out of order: start over (rare; keeps the function total).
            self.line = 1;
            self.col = 1;
            self.byte = 0;
        }
        let b = self.text.as_bytes();
        // Whole lines first, then characters (columns count characters, not bytes).
        while self.line < line {
            match b[self.byte..].iter().position(|&c| c == b'\n') {
                Some(p) => {
                    self.byte += p + 1;
                    self.line += 1;
                    self.col = 1;
                }
                None => {
                    // Past the last line: the end of the text, where the cursor now stands.
                    self.col += self.text[self.byte..].chars().count() as u64;
                    self.byte = b.len();
                    return self.byte;
                }
            }
        }
        while self.col < col {
            let Some(&c) = b.get(self.byte) else { break };
            if c == b'\n' {
                // A column past the end of the line: the start of the next line.
                self.byte += 1;
                self.line += 1;
                self.col = 1;
                break;
            }
            self.byte += match c {
                0..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            self.col += 1;
        }
        self.byte
    }
}

/// Significant tokens of `text` with byte ranges offset by `base`.
pub fn significant(text: &str, tokens: &[TokenWithSpan], base: usize) -> Vec<Tok> {
    collect_significant(text, tokens.iter().filter(|t| is_significant(t)).cloned(), tokens.len(), base)
}

/// Like [`significant`], but moves the tokens out of `tokens` (left empty, its allocation kept)
/// instead of cloning them.
pub fn significant_drain(text: &str, tokens: &mut Vec<TokenWithSpan>, base: usize) -> Vec<Tok> {
    let n = tokens.len();
    collect_significant(text, tokens.drain(..), n, base)
}

fn is_significant(t: &TokenWithSpan) -> bool {
    !matches!(t.token, Token::Whitespace(_) | Token::EOF)
}

fn collect_significant(text: &str, tokens: impl Iterator<Item = TokenWithSpan>, n: usize, base: usize) -> Vec<Tok> {
    let mut cur = OffsetCursor::new(text);
    let mut out = Vec::with_capacity(n / 2);
    for t in tokens {
        if !is_significant(&t) {
            continue;
        }
        let s = cur.offset(t.span.start.line, t.span.start.column);
        let e = cur.offset(t.span.end.line, t.span.end.column);
        out.push(Tok { token: t.token, range: base + s..base + e.max(s) });
    }
    out
}

/// Whether the token is a comment (used when scanning raw token streams).
pub fn is_comment(t: &Token) -> bool {
    matches!(t, Token::Whitespace(Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)))
}

/// Splits `toks[from..]` at top-level commas (parenthesis depth 0 relative to `from`),
/// stopping at an unmatched `)` or `;`. Returns token index ranges; a missing element (`a, , b`,
/// `a,` at the end) is an empty range, so callers can tell it from a list without it.
pub fn split_top_level(toks: &[Tok], from: usize) -> (Vec<Range<usize>>, usize) {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = from;
    let mut i = from;
    while i < toks.len() {
        match toks[i].token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket if depth == 0 => break,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => {
                parts.push(start..i);
                start = i + 1;
            }
            Token::SemiColon if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    if start < i || !parts.is_empty() {
        parts.push(start..i);
    }
    (parts, i)
}

/// Byte span covered by a token index range; `None` when the range is empty or out of bounds.
pub fn span_of(toks: &[Tok], r: &Range<usize>) -> Option<Range<usize>> {
    if r.is_empty() {
        return None;
    }
    let first = toks.get(r.start)?;
    let last = toks.get(r.end.checked_sub(1)?)?;
    Some(first.range.start..last.range.end)
}

/// Reads a possibly qualified name at `toks[i..]`; returns it and the index after it.
pub fn read_name(toks: &[Tok], i: usize) -> Option<(ObjName, usize)> {
    let first = toks.get(i)?.ident()?;
    if matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::Period))
        && let Some(second) = toks.get(i + 2).and_then(Tok::ident)
    {
        if matches!(toks.get(i + 3).map(|t| &t.token), Some(Token::Period))
            && let Some(third) = toks.get(i + 4).and_then(Tok::ident)
        {
            return Some((ObjName { schema: Some(second), name: third }, i + 5));
        }
        return Some((ObjName { schema: Some(first), name: second }, i + 2 + 1));
    }
    Some((ObjName { schema: None, name: first }, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character's (line, column), as sqlparser counts them, maps back to its byte offset.
    #[test]
    fn offsets_of_every_character() {
        let text = "CREATE TABLE \"tä😀b\" (\r\n  a int, -- ünïcode\n\n  b text DEFAULT 'x€y'\n);";
        let mut expected = Vec::new();
        let (mut line, mut col) = (1u64, 1u64);
        for (byte, ch) in text.char_indices() {
            expected.push((line, col, byte));
            if ch == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        let mut cur = OffsetCursor::new(text);
        for &(l, c, byte) in &expected {
            assert_eq!(cur.offset(l, c), byte, "line {l} column {c}");
        }
        // Out of order, past the end of a line, past the end of the text.
        assert_eq!(cur.offset(1, 3), 2);
        assert_eq!(cur.offset(3, 99), text.find("\n\n").unwrap() + 2, "the start of the next line");
        assert_eq!(cur.offset(99, 1), text.len());
        // After a location past the end, an earlier one starts over.
        let mut short = OffsetCursor::new("ab");
        assert_eq!((short.offset(2, 1), short.offset(1, 1), short.offset(1, 2)), (2, 0, 1));
        // Token spans of a real tokenization land on the tokens' text.
        let toks = tokenize(text).unwrap();
        let sig = significant(text, &toks, 0);
        let words: Vec<&str> = sig.iter().map(|t| &text[t.range.clone()]).collect();
        assert_eq!(words[..4], ["CREATE", "TABLE", "\"tä😀b\"", "("]);
        assert!(words.contains(&"'x€y'"), "{words:?}");
    }
}
