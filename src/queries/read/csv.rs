//! CSV records, for csvlog files and pg_stat_statements CSV exports.

/// A CSV record: the 1-based line it starts on, and its fields.
pub(super) type Record = (usize, Vec<String>);

/// Splits CSV into records of fields. A quoted field left open at the end of the text is an
/// error: the line its record starts on, and the records before it.
pub(super) fn records(text: &str) -> Result<Vec<Record>, (usize, Vec<Record>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let mut field = Vec::new();
            if b.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err((start_line, out)),
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                            field.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            if c == b'\n' {
                                line += 1;
                            }
                            field.push(c);
                            i += 1;
                        }
                    }
                }
            }
            while let Some(&c) = b.get(i)
                && c != b','
                && c != b'\n'
            {
                if c != b'\r' {
                    field.push(c);
                }
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&field).into_owned());
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        if !(fields.len() == 1 && fields[0].is_empty()) {
            out.push((start_line, fields));
        }
    }
    Ok(out)
}
