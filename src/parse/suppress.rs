//! Inline suppressions (`-- dbwarden-ignore: RULE[, RULE] -- reason`) and annotations
//! (`-- dbwarden: phi`).

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// `dbwarden-ignore-file`: applies to the whole file.
    pub file_level: bool,
    /// The comment's byte range.
    pub span: Range<usize>,
}

/// The body of a comment without its `--` or `/* */` markers.
fn comment_body(comment: &str) -> &str {
    let c = comment.trim();
    if let Some(rest) = c.strip_prefix("/*") {
        rest.strip_suffix("*/").unwrap_or(rest).trim()
    } else {
        c.trim_start_matches('-').trim()
    }
}

/// Parses a suppression comment; `None` when the comment is not one.
pub fn parse(comment: &str, span: Range<usize>) -> Option<Suppression> {
    let body = comment_body(comment);
    let (file_level, rest) = if let Some(r) = body.strip_prefix("dbwarden-ignore-file:") {
        (true, r)
    } else if let Some(r) = body.strip_prefix("dbwarden-ignore:") {
        (false, r)
    } else {
        return None;
    };
    let (list, reason) = match rest.find("--") {
        Some(p) => (&rest[..p], Some(rest[p + 2..].trim())),
        None => (rest, None),
    };
    let rules = list.split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
    let reason = reason.filter(|r| !r.is_empty()).map(str::to_owned);
    Some(Suppression { rules, reason, file_level, span })
}

/// `-- dbwarden: phi`
pub fn is_phi_annotation(comment: &str) -> bool {
    let body = comment_body(comment);
    body.strip_prefix("dbwarden:")
        .is_some_and(|r| r.split(|c: char| c == ',' || c.is_whitespace()).any(|w| w.eq_ignore_ascii_case("phi")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_and_reason() {
        let s = parse("-- dbwarden-ignore: drop-column, rename-table -- old column, unused since v2", 0..10).unwrap();
        assert_eq!(s.rules, ["drop-column", "rename-table"]);
        assert_eq!(s.reason.as_deref(), Some("old column, unused since v2"));
        assert!(!s.file_level);
        let s = parse("-- dbwarden-ignore-file: drop-table", 0..1).unwrap();
        assert!(s.file_level && s.reason.is_none());
        assert!(parse("-- just a comment", 0..1).is_none());
        assert!(parse("/* dbwarden-ignore: x -- because */", 0..1).unwrap().reason.is_some());
    }

    #[test]
    fn phi_annotation() {
        assert!(is_phi_annotation("-- dbwarden: phi"));
        assert!(is_phi_annotation("-- dbwarden: PHI"));
        assert!(!is_phi_annotation("-- phi"));
    }
}
