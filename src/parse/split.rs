//! Splits a file into statements, keeping byte ranges, and reads migration-tool markers.
//!
//! Handles quotes, `E''` strings, dollar quotes, nested block comments, `BEGIN ATOMIC ... END`
//! bodies, rule actions in parentheses, psql meta-commands, `COPY ... FROM stdin` data blocks,
//! goose (`-- +goose Up/Down/StatementBegin/StatementEnd/NO TRANSACTION`) and dbmate
//! (`-- migrate:up` / `-- migrate:down`) markers. One bad statement never swallows the rest.
//! A goose `StatementBegin ... StatementEnd` block is still split into its statements (it exists
//! for goose's own naive splitter; ours understands dollar quotes), but ends any open statement.

use std::ops::Range;

#[derive(Debug, Default)]
pub struct Split {
    pub stmts: Vec<RawStmt>,
    /// Every comment in the file (line and block), in order.
    pub comments: Vec<Range<usize>>,
    /// The file carries its tool's no-transaction marker.
    pub no_transaction: bool,
    /// What PostgreSQL or psql would reject outside any statement: an unterminated `/*`
    /// comment, `COPY ... FROM stdin` data without its `\.` line.
    pub errors: Vec<SplitError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// From where the error is reported to the end of what it covers.
    pub range: Range<usize>,
    pub message: &'static str,
}

#[derive(Debug, Clone)]
pub struct RawStmt {
    /// From the first significant byte to the terminating semicolon (inclusive) or last token.
    pub range: Range<usize>,
    /// Indices into `Split::comments` of the comments between the previous statement and this one.
    pub leading_comments: Range<usize>,
}

use super::lex::{Kind, Mode, line_end, scan_block_comment, token_at};

#[derive(Default)]
struct Current {
    start: Option<usize>,
    last_end: usize,
    active: bool,
    words: [Option<Range<usize>>; 4],
    nwords: usize,
    paren: i32,
    atomic: i32,
    prev_word: Option<Range<usize>>,
}

impl Current {
    fn word_is(&self, text: &[u8], n: usize, w: &str) -> bool {
        self.words.get(n).and_then(Clone::clone).is_some_and(|r| text[r].eq_ignore_ascii_case(w.as_bytes()))
    }

    /// `CREATE [OR REPLACE] <kind>`
    fn creates(&self, text: &[u8], kind: &str) -> bool {
        self.word_is(text, 0, "create")
            && (self.word_is(text, 1, kind)
                || (self.word_is(text, 1, "or") && self.word_is(text, 2, "replace") && self.word_is(text, 3, kind)))
    }
}

struct Splitter<'a> {
    b: &'a [u8],
    out: Split,
    cur: Current,
    active: bool,
    goose_block: bool,
    comment_mark: usize,
}

impl Splitter<'_> {
    fn flush(&mut self) {
        if let Some(start) = self.cur.start.take() {
            if self.cur.active {
                self.out.stmts.push(RawStmt {
                    range: start..self.cur.last_end.max(start),
                    leading_comments: self.comment_mark..self.out.comments.len(),
                });
            }
            self.comment_mark = self.out.comments.len();
        }
        self.cur = Current::default();
    }

    fn marker(&mut self, range: Range<usize>) {
        let Ok(raw) = std::str::from_utf8(&self.b[range]) else { return };
        let body = raw.trim_start_matches('-').trim();
        let lower = body.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("+goose") {
            let rest = rest.trim();
            match rest {
                "up" => {
                    self.flush();
                    self.active = true;
                }
                "down" => {
                    self.flush();
                    self.active = false;
                }
                "statementbegin" => {
                    self.flush();
                    self.goose_block = true;
                }
                "statementend" => {
                    self.flush();
                    self.goose_block = false;
                }
                "no transaction" => self.out.no_transaction = true,
                _ => {}
            }
        } else if let Some(rest) = lower.strip_prefix("migrate:up") {
            self.flush();
            self.active = true;
            if rest.split_whitespace().any(|o| o == "transaction:false") {
                self.out.no_transaction = true;
            }
        } else if lower.starts_with("migrate:down") {
            self.flush();
            self.active = false;
        }
    }

    fn is_copy_from_stdin(&self, range: Range<usize>) -> bool {
        if !self.cur.word_is(self.b, 0, "copy") {
            return false;
        }
        let Ok(text) = std::str::from_utf8(&self.b[range]) else { return false };
        let mut prev_from = false;
        for tok in text.split(|c: char| c.is_whitespace() || c == ';' || c == '(') {
            if tok.is_empty() {
                continue;
            }
            if prev_from && tok.eq_ignore_ascii_case("stdin") {
                return true;
            }
            prev_from = tok.eq_ignore_ascii_case("from");
        }
        false
    }

    /// Skips a `COPY ... FROM stdin` data block that follows the statement ending at `i`;
    /// `None` when the file ends before its `\.` line.
    fn skip_copy_data(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let mut j = line_end(b, i);
        while j < b.len() {
            let start = j + 1;
            let end = line_end(b, start.min(b.len()));
            let line = &b[start.min(b.len())..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line == b"\\." {
                return Some(end);
            }
            j = end;
        }
        None
    }

    fn run(mut self) -> Split {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        let mut line_start = true;
        while i < n {
            let c = b[i];
            match c {
                b'\n' => {
                    line_start = true;
                    i += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' | 0x0c => {
                    i += 1;
                    continue;
                }
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    let end = line_end(b, i);
                    let end_trim = if end > i && b[end - 1] == b'\r' { end - 1 } else { end };
                    self.out.comments.push(i..end_trim);
                    self.marker(i..end_trim);
                    i = end;
                    continue;
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    let (end, closed) = scan_block_comment(b, i);
                    self.out.comments.push(i..end);
                    if !closed {
                        self.out.errors.push(SplitError { range: i..end, message: "unterminated `/*` comment" });
                    }
                    i = end;
                    continue;
                }
                b'\\' if line_start && !self.goose_block => {
                    // psql meta-command: runs to the end of the line and ends the statement.
                    self.flush();
                    i = line_end(b, i);
                    continue;
                }
                _ => {}
            }
            line_start = false;
            if c == b';' && self.cur.start.is_none() {
                // An empty statement: PostgreSQL skips it, and so does the splitter (8 MB of `;`
                // would otherwise be 8 million statements). Comments before it stay with the
                // next statement.
                i += 1;
                continue;
            }
            if self.cur.start.is_none() {
                self.cur.start = Some(i);
                self.cur.active = self.active;
            }
            match c {
                b'(' => {
                    self.cur.paren += 1;
                    i += 1;
                }
                b')' => {
                    self.cur.paren = (self.cur.paren - 1).max(0);
                    i += 1;
                }
                b';' => {
                    i += 1;
                    self.cur.last_end = i;
                    let rule_body = self.cur.paren > 0 && self.cur.creates(b, "rule");
                    if self.cur.atomic > 0 || rule_body {
                        continue;
                    }
                    let start = self.cur.start.unwrap_or(i - 1);
                    let copy = self.is_copy_from_stdin(start..i);
                    self.flush();
                    if copy {
                        i = self.skip_copy_data(i).unwrap_or_else(|| {
                            self.out.errors.push(SplitError {
                                range: start..n,
                                message: "the data of `COPY ... FROM stdin` runs to the end of the file: its `\\.` line is missing",
                            });
                            n
                        });
                    }
                    continue;
                }
                _ => {
                    // Words, literals (prefixed ones from their prefix: `E'\''` is one string),
                    // numbers and operators, as the one scanner reads them from a token start.
                    let t = token_at(b, i, Mode::default());
                    if t.kind == Kind::Word {
                        self.word(t.range.clone());
                    }
                    i = t.range.end;
                }
            }
            self.cur.last_end = i;
        }
        self.flush();
        self.out
    }

    fn word(&mut self, r: Range<usize>) {
        let b = self.b;
        if self.cur.nwords < 4 {
            self.cur.words[self.cur.nwords] = Some(r.clone());
            self.cur.nwords += 1;
        }
        let w = &b[r.clone()];
        if self.cur.atomic > 0 {
            if w.eq_ignore_ascii_case(b"case") || w.eq_ignore_ascii_case(b"begin") {
                self.cur.atomic += 1;
            } else if w.eq_ignore_ascii_case(b"end") {
                self.cur.atomic -= 1;
            }
        } else if w.eq_ignore_ascii_case(b"atomic")
            && self.cur.prev_word.clone().is_some_and(|p| b[p].eq_ignore_ascii_case(b"begin"))
            && (self.cur.creates(b, "function") || self.cur.creates(b, "procedure"))
        {
            self.cur.atomic = 1;
        }
        self.cur.prev_word = Some(r);
    }
}

/// Splits `text` into statements.
pub fn split(text: &str) -> Split {
    split_bytes(text.as_bytes())
}

pub(crate) fn split_bytes(b: &[u8]) -> Split {
    Splitter { b, out: Split::default(), cur: Current::default(), active: true, goose_block: false, comment_mark: 0 }
        .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        split(src).stmts.iter().map(|s| &src[s.range.clone()]).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes() {
        let src = "SELECT ';'; SELECT \"a;b\" FROM t; -- c;\nSELECT $x$ ; $x$;\nSELECT E'\\';'";
        assert_eq!(texts(src), ["SELECT ';';", "SELECT \"a;b\" FROM t;", "SELECT $x$ ; $x$;", "SELECT E'\\';'"]);
    }

    /// The splitter reads strings as the one scanner does: an `E` that starts a token (after a
    /// dollar quote, a parameter or a number) starts an escape string; one that ends a word does not.
    #[test]
    fn escape_strings_where_a_token_starts() {
        for before in ["$$x$$", "$1", "1", "\"q\""] {
            let src = format!("SELECT {before}E'\\'; DROP TABLE t; --';\nSELECT 2;");
            let t = texts(&src);
            assert_eq!(t.len(), 2, "{t:?}");
            assert!(t[0].ends_with("--';"), "{t:?}");
        }
        assert_eq!(texts("SELECT someE'\\'; SELECT 2;"), ["SELECT someE'\\';", "SELECT 2;"]);
    }

    #[test]
    fn function_bodies_and_atomic_blocks() {
        let src = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;\nSELECT 2;";
        let t = texts(src);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t[0].ends_with("END; END;"));
    }

    #[test]
    fn rule_actions_in_parentheses() {
        let src = "CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;";
        assert_eq!(texts(src).len(), 2);
    }

    #[test]
    fn goose_markers() {
        let src = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE a (id int);\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS 'select 1; select 2' LANGUAGE sql;\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n";
        let s = split(src);
        assert!(s.no_transaction);
        let t: Vec<_> = s.stmts.iter().map(|r| &src[r.range.clone()]).collect();
        // The block's statements are split (quotes are understood); Down is skipped.
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(t[1].starts_with("CREATE FUNCTION") && t[1].ends_with("LANGUAGE sql;"));
        assert_eq!(t[2], "SELECT 1;");
    }

    #[test]
    fn dbmate_markers() {
        let src =
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\nDROP INDEX i;\n";
        let s = split(src);
        assert!(s.no_transaction);
        assert_eq!(s.stmts.len(), 1);
    }

    #[test]
    fn psql_meta_commands_and_copy_data() {
        let src = "\\set ON_ERROR_STOP 1\nCOPY t (a, b) FROM stdin;\n1\tx;y\n2\t'\n\\.\nSELECT 1;\n\\i other.sql\n";
        assert_eq!(texts(src), ["COPY t (a, b) FROM stdin;", "SELECT 1;"]);
    }

    #[test]
    fn leading_comments_are_attached() {
        let src = "SELECT 1;\n-- a\n/* b */\nSELECT 2; -- trailing\n";
        let s = split(src);
        assert_eq!(s.stmts[1].leading_comments, 0..2);
        assert_eq!(s.comments.len(), 3);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for src in ["'abc", "$$ abc", "/* abc", "\"abc", "E'\\", "$a", "(((", "COPY t FROM stdin;\n1"] {
            let _ = split(src);
        }
    }
}
