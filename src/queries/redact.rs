//! Redaction of values (literals, parameters) from text that may be printed.

/// The text with every literal and parameter replaced (the normalised query), unless
/// `show_values`.
pub fn query(text: &str, show_values: bool) -> String {
    if show_values { text.to_owned() } else { super::normalise(text) }
}
