//! Statement splitting, sqlparser, the fallback recogniser, spans and suppressions.

pub mod dynamic;
pub mod ir;
pub mod lex;
mod lower;
pub mod placeholder;
mod recognise;
pub mod split;
pub mod suppress;
pub mod tokens;

use std::ops::Range;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::source::SourceFile;
use dynamic::Dynamic;
use ir::Action;
use lex::{Kind, Mode};
use placeholder::{Placeholders, Respelled, Where};
use tokens::{OffsetCursor, Tok};

/// How a statement was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// sqlparser parsed it.
    Parsed,
    /// sqlparser rejected it; the token-level recogniser identified it.
    Recognised,
    /// Neither understood it: a `syntax-error` finding at byte offset `at`.
    Failed { message: String, at: usize },
}

#[derive(Debug, Clone)]
pub struct Stmt {
    /// Byte range in the file, from the first keyword to the terminating `;`.
    pub range: Range<usize>,
    pub action: Action,
    pub status: Status,
    /// A plain SQL statement found inside a `DO` block.
    pub inner: bool,
    /// Indices into `ParsedFile::comments` of the comments on the lines before the statement.
    pub leading_comments: Range<usize>,
    /// Built at run time by a `DO` block's `EXECUTE` (`range` is then the `EXECUTE`'s
    /// expression): evaluated, or not checked and why.
    pub dynamic: Option<Dynamic>,
}

#[derive(Debug)]
pub struct ParsedFile {
    pub source: SourceFile,
    pub stmts: Vec<Stmt>,
    pub comments: Vec<Range<usize>>,
    /// The file carries its migration tool's no-transaction marker.
    pub no_transaction: bool,
}

impl ParsedFile {
    pub fn comment_text(&self, i: usize) -> &str {
        &self.source.text[self.comments[i].clone()]
    }
}

/// Splits and parses one file.
pub fn parse_file(source: SourceFile) -> ParsedFile {
    let (stmts, comments, no_transaction) = parse_source(&source);
    ParsedFile { source, stmts, comments, no_transaction }
}

/// Splits and parses one file's text: its statements, comments and no-transaction marker.
pub fn parse_source(source: &SourceFile) -> (Vec<Stmt>, Vec<Range<usize>>, bool) {
    parse_source_with(source, &Placeholders::default())
}

/// [`parse_source`], template placeholders standing for the configured `values`.
pub fn parse_source_with(source: &SourceFile, values: &Placeholders) -> (Vec<Stmt>, Vec<Range<usize>>, bool) {
    let split = split::split(&source.text);
    let text = source.text.as_str();
    let mut stmts = Vec::with_capacity(split.stmts.len());
    let mut comments = split.comments.clone();
    for raw in &split.stmts {
        let leading = leading_comments(source, &split.comments, raw, stmts.last().map(|s: &Stmt| s.range.end));
        let range = placeholder::statement_start(text, raw.range.clone())..raw.range.end;
        let (action, status) = parse_statement_in(text, range.clone(), values, Where::Script);
        let is_do = matches!(action, Action::Do);
        stmts.push(Stmt {
            range: range.clone(),
            action,
            status,
            inner: false,
            leading_comments: leading,
            dynamic: None,
        });
        if is_do {
            do_block_statements(text, range, values, &mut stmts, &mut comments, 0);
        }
    }
    if !split.errors.is_empty() {
        for e in &split.errors {
            stmts.push(Stmt {
                range: e.range.clone(),
                action: Action::Other { kind: "statement" },
                status: Status::Failed { message: e.message.to_owned(), at: e.range.start },
                inner: false,
                leading_comments: 0..0,
                dynamic: None,
            });
        }
        // Stable: a statement and an error found at its start keep that order.
        stmts.sort_by_key(|s| s.range.start);
    }
    (stmts, comments, split.no_transaction)
}

/// Leading comments: those of the statement that start on a line after the previous statement.
fn leading_comments(
    source: &SourceFile,
    comments: &[Range<usize>],
    raw: &split::RawStmt,
    prev_end: Option<usize>,
) -> Range<usize> {
    let mut start = raw.leading_comments.start;
    if let Some(prev_end) = prev_end {
        let prev_line = source.index.line_of(prev_end.saturating_sub(1));
        while start < raw.leading_comments.end && source.index.line_of(comments[start].start) == prev_line {
            start += 1;
        }
    }
    start..raw.leading_comments.end
}

fn starts_with_kw(text: &str, kws: &[&str]) -> bool {
    let word: String = text.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    kws.iter().any(|k| word.eq_ignore_ascii_case(k))
}

/// Above this size an `INSERT` is treated as a data load (see `parse_statement`).
const DATA_LOAD_BYTES: usize = 4096;

const DATA_LOAD: &str = "INSERT (data load)";

/// A large `INSERT`: seed data or a dump, which no migration rule looks inside.
fn is_data_load(stmt_text: &str) -> bool {
    stmt_text.len() > DATA_LOAD_BYTES && starts_with_kw(stmt_text, &["insert"])
}

/// Whether a data load can be judged without sqlparser's tokenizer: it ends at a `;`, its
/// quotes, comments and parentheses are closed and matched, and it holds nothing else the
/// tokenizer could reject: no escape string with a backslash (`E'\n'`), no `$` (dollar quotes,
/// parameters), none of the characters that start custom operators, no `U&` string, no `_` in a
/// number (`1__0`) and nothing glued to one (`1a_0`).
fn plain_data_load(text: &str) -> bool {
    let b = text.as_bytes();
    if b.last() != Some(&b';') {
        return false;
    }
    let mut depth = 0i64;
    for t in lex::Tokens::new(text, Mode::default()) {
        let s = &b[t.range.clone()];
        let plain = match t.kind {
            Kind::Unterminated | Kind::Param => false,
            Kind::String => match s[0] {
                b'$' | b'u' | b'U' => false,
                b'e' | b'E' => !s.contains(&b'\\'),
                _ => true,
            },
            Kind::QuotedIdent => s[0] == b'"',
            Kind::Number => !s.contains(&b'_') && !b.get(t.range.end).copied().is_some_and(lex::is_ident_char),
            Kind::Word => !s.contains(&b'$'),
            Kind::Operator => !s.iter().any(|c| b"\\&$!~|#@^?`".contains(c)),
            Kind::Punct if s == b"(" => {
                depth += 1;
                true
            }
            Kind::Punct if s == b")" => {
                depth -= 1;
                depth >= 0
            }
            Kind::Punct | Kind::Cast | Kind::Comment => true,
        };
        if !plain {
            return false;
        }
    }
    depth == 0
}

thread_local! {
    /// One token buffer per parsing thread, reused from statement to statement.
    static TOKEN_BUF: std::cell::RefCell<Vec<TokenWithSpan>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A token buffer larger than this is not kept for the next statement (one huge statement
/// would otherwise hold its memory for the rest of the run).
const KEEP_TOKEN_BUF: usize = 1 << 15;

/// Parses one statement at `range` of `text`.
pub fn parse_statement(text: &str, range: Range<usize>) -> (Action, Status) {
    parse_statement_in(text, range, &Placeholders::default(), Where::Script)
}

/// [`parse_statement`], with placeholder `values`, for a statement found `at` a script's top
/// level or in a body.
fn parse_statement_in(text: &str, range: Range<usize>, values: &Placeholders, at: Where) -> (Action, Status) {
    let stmt_text = &text[range.clone()];
    // Seed data (most of the bytes of some files) is checked without the tokenizer when the
    // scan shows the tokenizer could not reject it.
    if is_data_load(stmt_text) && plain_data_load(stmt_text) {
        return (Action::Other { kind: DATA_LOAD }, Status::Recognised);
    }
    let mut buf = TOKEN_BUF.with_borrow_mut(std::mem::take);
    let result = parse_statement_with(stmt_text, range.start, &mut buf, values, at);
    buf.clear();
    if buf.capacity() <= KEEP_TOKEN_BUF {
        TOKEN_BUF.with_borrow_mut(|b| {
            if b.capacity() < buf.capacity() {
                *b = buf;
            }
        });
    }
    result
}

/// Why sqlparser did not understand a statement, and its significant tokens (empty when it
/// could not be tokenized), for the recogniser.
struct Failure {
    message: String,
    at: usize,
    sig: Vec<Tok>,
}

/// [`parse_statement`] on the statement's text (at byte `base` of the file), with a token buffer.
fn parse_statement_with(
    stmt_text: &str,
    base: usize,
    tokens: &mut Vec<TokenWithSpan>,
    values: &Placeholders,
    at: Where,
) -> (Action, Status) {
    let failure = match parse_text(stmt_text, base, tokens) {
        Ok(parsed) => return parsed,
        Err(f) => f,
    };
    // Text PostgreSQL, psql or a migration tool reads, respelled so that sqlparser reads it too:
    // dollar-quote tags with non-ASCII symbols (byte for byte), template placeholders (see
    // `placeholder.rs`). The copy is parsed, or recognised, as if it were the statement, at
    // offset 0; then every position in the result is taken back to the file's text, so findings
    // point into the original, and rules that read the statement's text read the original.
    let tags = ascii_dollar_tags(stmt_text);
    let respelled = placeholder::respell(tags.as_deref().unwrap_or(stmt_text), values, at)
        .or_else(|| tags.map(Respelled::same_length));
    if let Some(r) = respelled {
        let (mut action, mut status) = understand(&r.text, tokens, None);
        action.map_spans(&|s| {
            let s = r.range(s);
            base + s.start..base + s.end
        });
        if let Status::Failed { at, .. } = &mut status {
            *at = base + r.start(*at);
        }
        return (action, status);
    }
    understand(stmt_text, tokens, Some((base, failure)))
}

/// Parses `text`, or else recognises it from its tokens; `parsed`: the text (at byte `base` of
/// the file) has been through sqlparser already, and this is how it failed.
fn understand(text: &str, tokens: &mut Vec<TokenWithSpan>, parsed: Option<(usize, Failure)>) -> (Action, Status) {
    let (base, failure) = match parsed {
        Some(p) => p,
        None => match parse_text(text, 0, tokens) {
            Ok(parsed) => return parsed,
            Err(f) => (0, f),
        },
    };
    if let Some(action) = recognise::recognise(text, base, &failure.sig) {
        return (action, Status::Recognised);
    }
    (Action::Other { kind: "statement" }, Status::Failed { message: failure.message, at: failure.at })
}

/// Tokenizes and parses `stmt_text` (at byte `base` of the file) with sqlparser.
fn parse_text(stmt_text: &str, base: usize, tokens: &mut Vec<TokenWithSpan>) -> Result<(Action, Status), Failure> {
    if let Err(e) = tokens::tokenize_into(stmt_text, tokens) {
        let mut at = base + OffsetCursor::new(stmt_text).offset(e.location.line, e.location.column);
        if e.message.contains("dollar-quoted")
            && let Some(open) = (0..stmt_text.len()).find(|&i| lex::dollar_tag_len(stmt_text.as_bytes(), i).is_some())
        {
            at = base + open;
        }
        return Err(Failure { message: e.message.trim_end_matches('.').to_owned(), at, sig: Vec::new() });
    }
    if tokens.iter().all(|t| matches!(t.token, Token::Whitespace(_) | Token::SemiColon | Token::EOF)) {
        return Ok((Action::Other { kind: "empty" }, Status::Parsed));
    }
    // A data load the scan could not clear: tokenized (so quoting errors are still found) and
    // its parentheses checked, not parsed (building its AST is most of the parse time).
    if is_data_load(stmt_text) {
        let mut depth = 0i64;
        for t in tokens.iter() {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                break;
            }
        }
        if depth == 0 {
            return Ok((Action::Other { kind: DATA_LOAD }, Status::Recognised));
        }
    }
    // Clause spans need the tokens for the statements whose clauses rules point at.
    let need_toks = starts_with_kw(stmt_text, &["alter", "create"]);
    let dialect = PostgreSqlDialect {};
    // The parser borrows the buffer and gives it back, so the tokens are not copied.
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(std::mem::take(tokens));
    let parsed = parser.parse_statements();
    *tokens = parser.into_tokens();
    let (message, at) = match parsed {
        Ok(mut v) if v.len() == 1 => {
            let sig = if need_toks { tokens::significant_drain(stmt_text, tokens, base) } else { Vec::new() };
            return Ok((lower::lower(&v.remove(0), &sig), Status::Parsed));
        }
        Ok(v) if v.is_empty() => return Ok((Action::Other { kind: "empty" }, Status::Parsed)),
        Ok(_) => ("more than one statement".to_owned(), base),
        Err(e) => error_position(&e, stmt_text, base),
    };
    Err(Failure { message, at, sig: tokens::significant_drain(stmt_text, tokens, base) })
}

/// `text` with every dollar-quote tag that holds non-ASCII characters (`$€$`, which PostgreSQL
/// accepts and sqlparser's tokenizer does not) spelled with `_` instead, byte for byte;
/// `None` when there is none.
fn ascii_dollar_tags(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if !b.contains(&b'$') || b.is_ascii() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    for t in lex::Tokens::new(text, Mode::default()) {
        let i = t.range.start;
        if !matches!(t.kind, Kind::String | Kind::Unterminated) || b[i] != b'$' {
            continue;
        }
        let Some(len) = lex::dollar_tag_len(b, i) else { continue };
        if !b[i..i + len].is_ascii() {
            let o = out.get_or_insert_with(|| b.to_vec());
            // The opening tag, and the closing one when there is one.
            let close = (t.kind == Kind::String).then(|| t.range.end - len);
            for at in [Some(i), close].into_iter().flatten() {
                for c in &mut o[at + 1..at + len - 1] {
                    if *c >= 0x80 {
                        *c = b'_';
                    }
                }
            }
        }
    }
    out.and_then(|v| String::from_utf8(v).ok())
}

/// The parser's message without its "at Line: L, Column: C" suffix, and that position as a byte offset.
fn error_position(e: &ParserError, stmt_text: &str, base: usize) -> (String, usize) {
    let msg = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.trim_end_matches('.').to_owned(),
        ParserError::RecursionLimitExceeded => return ("statement nests too deeply to parse".into(), base),
    };
    if let Some(pos) = msg.rfind(" at Line: ") {
        let loc = &msg[pos + " at Line: ".len()..];
        let mut it = loc.split(", Column: ");
        if let (Some(l), Some(c)) = (it.next(), it.next())
            && let (Ok(l), Ok(c)) = (l.trim().parse::<u64>(), c.trim().parse::<u64>())
        {
            let at = base + OffsetCursor::new(stmt_text).offset(l, c);
            return (msg[..pos].to_owned(), at);
        }
    }
    (msg, base)
}

/// How deep `DO` blocks inside `DO` blocks are followed.
const DO_DEPTH: usize = 8;

/// Plain SQL statements inside a `DO` block body (`IF ... THEN CREATE INDEX ...; END IF;`),
/// and inside the `DO` blocks that body runs (PL/pgSQL runs a nested `DO` as SQL). The body's
/// comments join `comments`, and an inner statement's leading comments are those between the
/// end of the previous one and its first SQL word (so a suppression after `IF ... THEN` counts).
fn do_block_statements(
    text: &str,
    range: Range<usize>,
    values: &Placeholders,
    out: &mut Vec<Stmt>,
    comments: &mut Vec<Range<usize>>,
    depth: usize,
) {
    let b = text.as_bytes();
    // The body: the first dollar-quoted string of the statement.
    let Some(open) = (range.start..range.end).find(|&i| lex::dollar_tag_len(b, i).is_some()) else { return };
    let Some(tag_len) = lex::dollar_tag_len(b, open) else { return };
    let tag = &text[open..open + tag_len];
    let body_start = open + tag_len;
    let Some(close) = text[body_start..range.end].find(tag) else { return };
    let body_end = body_start + close;
    let body = &text[body_start..body_end];
    let pieces = split::split(body);
    let base = comments.len();
    comments.extend(pieces.comments.iter().map(|c| body_start + c.start..body_start + c.end));
    // The block's variables, read only when it runs dynamic SQL.
    let env = contains_word(body, "execute").then(|| dynamic::Env::scan(text, body_start..body_end));
    for raw in pieces.stmts {
        let piece = &body[raw.range.clone()];
        let Ok(toks) = tokens::tokenize(piece) else { continue };
        let toks = tokens::significant(piece, &toks, body_start + raw.range.start);
        let Some(start) = control_words_end(&toks) else { continue };
        let piece_end = body_start + raw.range.end;
        let leading_before = |at: usize| {
            let before = pieces.comments.partition_point(|c| body_start + c.start < at);
            base + raw.leading_comments.start..base + before.max(raw.leading_comments.start)
        };
        if toks[start].is_kw("execute")
            && let Some(env) = &env
        {
            let leading = leading_before(toks[start].range.start);
            for f in dynamic::execute(text, toks[start].range.end..piece_end, env, values) {
                out.push(Stmt {
                    range: f.range,
                    action: f.action,
                    status: f.status,
                    inner: true,
                    leading_comments: leading.clone(),
                    dynamic: Some(f.dynamic),
                });
            }
            continue;
        }
        if !dynamic::JUDGED.iter().any(|k| toks[start].is_kw(k)) {
            continue;
        }
        let inner = toks[start].range.start..piece_end;
        let leading = leading_before(inner.start);
        let (action, status) = parse_statement_in(text, inner.clone(), values, Where::Body);
        if matches!(action, Action::Do) {
            if depth < DO_DEPTH {
                do_block_statements(text, inner, values, out, comments, depth + 1);
            }
            continue;
        }
        // An inner statement neither parser understands is PL/pgSQL, not an error.
        if matches!(status, Status::Failed { .. }) {
            continue;
        }
        out.push(Stmt { range: inner, action, status, inner: true, leading_comments: leading, dynamic: None });
    }
}

/// `word` appears in `text`, ignoring ASCII case (a cheap test before reading a body closely).
fn contains_word(text: &str, word: &str) -> bool {
    text.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Skips PL/pgSQL control words before a statement; the index of its first token.
fn control_words_end(toks: &[Tok]) -> Option<usize> {
    let find = |from: usize, kw: &str| toks[from..].iter().position(|t| t.is_kw(kw)).map(|p| from + p + 1);
    let mut i = 0;
    loop {
        let t = toks.get(i)?;
        if t.token == Token::ShiftLeft {
            i += 3; // <<label>>
        } else if ["if", "elsif", "elseif", "when"].iter().any(|k| t.is_kw(k)) {
            i = find(i + 1, "then")?;
        } else if ["for", "while", "foreach"].iter().any(|k| t.is_kw(k)) {
            i = find(i + 1, "loop")?;
        } else if t.is_kw("declare") {
            i = find(i + 1, "begin")?;
        } else if ["begin", "else", "loop", "exception", "then"].iter().any(|k| t.is_kw(k)) {
            i += 1;
        } else {
            break;
        }
    }
    (i < toks.len()).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_inserts_are_data_loads_but_still_checked() {
        let rows: Vec<String> = (0..400).map(|i| format!("({i}, 'name {i}')")).collect();
        let sql = format!("INSERT INTO t (id, name) VALUES {};", rows.join(", "));
        assert!(sql.len() > DATA_LOAD_BYTES);
        let (action, status) = parse_statement(&sql, 0..sql.len());
        assert_eq!(status, Status::Recognised);
        assert_eq!(action.kind_name(), "INSERT (data load)");
        // Unbalanced parentheses go to the parser, which reports them.
        let broken = format!("{} (1, 'x';", &sql[..sql.len() - 1]);
        let (_, status) = parse_statement(&broken, 0..broken.len());
        assert!(matches!(status, Status::Failed { .. }), "{status:?}");
        // Split from a file: the splitter's balance check stands in for the tokenizer's.
        let file = |text: String| parse_source(&SourceFile::new("f.sql", text)).0;
        let stmts = file(format!("{sql}\nCREATE TABLE t2 (a int);"));
        assert_eq!(stmts[0].status, Status::Recognised);
        assert_eq!(stmts[0].action.kind_name(), "INSERT (data load)");
        assert_eq!(stmts[1].action.kind_name(), "CREATE TABLE");
        for broken in [
            format!("{} (1, 'x'));", &sql[..sql.len() - 1]),
            format!("{} (1, 'x);", &sql[..sql.len() - 1]),
            format!("{} (1, /* x);", &sql[..sql.len() - 1]),
            format!("{} (1, $$x);", &sql[..sql.len() - 1]),
            // What only the tokenizer catches: bad escapes, a bad number.
            format!("{} (0, U&'\\zzzz');", &sql[..sql.len() - 1]),
            format!("{} (0, E'\\u12');", &sql[..sql.len() - 1]),
            format!("{} (1__0, 'x');", &sql[..sql.len() - 1]),
        ] {
            let stmts = file(broken.clone());
            assert!(
                matches!(stmts[0].status, Status::Failed { .. }),
                "{:?}: {}",
                stmts[0].status,
                &broken[broken.len() - 20..]
            );
        }
        // Dollar-quote tags with non-ASCII characters, as PostgreSQL allows.
        let euro = "INSERT INTO t VALUES (1, $€$x;y$€$, '$€$');";
        let (action, status) = parse_statement(euro, 0..euro.len());
        assert_eq!((status, action.kind_name()), (Status::Parsed, "INSERT"));
        let stmts =
            file("CREATE INDEX i ON t (a); SELECT $€$ $€$; DO $ü€$ BEGIN CREATE INDEX j ON t (b); END $ü€$;".into());
        assert!(stmts.iter().all(|s| !matches!(s.status, Status::Failed { .. })), "{stmts:?}");
        assert_eq!(stmts.iter().filter(|s| s.action.kind_name() == "CREATE INDEX").count(), 2);
        // Positions after such a tag hold (the spelling keeps byte offsets).
        let bad = "INSERT INTO t VALUES ($€$x$€$, ,);";
        let (_, status) = parse_statement(bad, 0..bad.len());
        assert!(matches!(status, Status::Failed { at, .. } if at == bad.find(" ,").unwrap() + 1), "{status:?}");
        // Given a statement that runs on into an unclosed comment, the scan does not clear it.
        let open_comment = format!("{} /* x;", &sql[..sql.len() - 1]);
        assert!(matches!(parse_statement(&open_comment, 0..open_comment.len()).1, Status::Failed { .. }));
        // A small INSERT is parsed as usual.
        let small = "INSERT INTO t (id) VALUES (1);";
        assert_eq!(parse_statement(small, 0..small.len()).1, Status::Parsed);
    }
}
