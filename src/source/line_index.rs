//! Byte offset to 1-based line and column (columns count characters).

/// Maps byte offsets of one text to 1-based lines and character columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
    /// In lines longer than [`MARK_EVERY`] bytes, every [`MARK_EVERY`] bytes (on a character
    /// boundary): (byte offset, characters from its line's start). A column is then counted
    /// from the nearest mark, not from the line's start: a one-line file of megabytes with a
    /// finding per statement stays linear.
    marks: Vec<(usize, usize)>,
}

/// Distance between column marks in long lines, bytes.
const MARK_EVERY: usize = 4096;

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        // Eight bytes at a time: most words of text hold no newline.
        let b = text.as_bytes();
        let mut chunks = b.chunks_exact(8);
        for (k, chunk) in chunks.by_ref().enumerate() {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ 0x0a0a_0a0a_0a0a_0a0a;
            if w.wrapping_sub(0x0101_0101_0101_0101) & !w & 0x8080_8080_8080_8080 != 0 {
                starts.extend(chunk.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(j, _)| k * 8 + j + 1));
            }
        }
        let tail = b.len() - chunks.remainder().len();
        starts.extend(chunks.remainder().iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(j, _)| tail + j + 1));
        let mut marks = Vec::new();
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(text.len());
            if end - start <= MARK_EVERY {
                continue;
            }
            let (mut at, mut chars) = (start, 0);
            loop {
                let next = floor_char_boundary(text, (at + MARK_EVERY).min(end));
                if next >= end || next <= at {
                    break;
                }
                chars += text[at..next].chars().count();
                marks.push((next, chars));
                at = next;
            }
        }
        Self { starts, marks }
    }

    /// 0-based line number containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line]
    }

    /// Byte range of a 0-based line, without its line terminator (`\n` or `\r\n`).
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.starts[line];
        let mut end = self.starts.get(line + 1).map_or(text.len(), |&s| s - 1);
        if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        start..end.max(start)
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 1-based (line, column); the column counts characters, not bytes.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.starts[line];
        let (from, before) = match self.marks.partition_point(|&(b, _)| b <= offset) {
            0 => (start, 0),
            k if self.marks[k - 1].0 > start => self.marks[k - 1],
            _ => (start, 0),
        };
        let col = before + text[from..offset].chars().count() + 1;
        (line + 1, col)
    }
}

pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_at_every_alignment() {
        for len in 0..40 {
            for nl in 0..len {
                let text: String = (0..len).map(|i| if i % 7 == nl % 7 || i == nl { '\n' } else { 'x' }).collect();
                let expected: Vec<usize> =
                    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
                assert_eq!(LineIndex::new(&text).starts, expected, "{text:?}");
            }
        }
    }

    #[test]
    fn positions_count_characters_and_handle_crlf() {
        let text = "ab\r\nçd\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 0), (1, 1));
        assert_eq!(idx.position(text, 4), (2, 1));
        // 'd' comes after the two-byte 'ç'
        assert_eq!(idx.position(text, 6), (2, 2));
        assert_eq!(idx.position(text, 8), (3, 1));
        assert_eq!(idx.line_range(text, 0), 0..2);
        assert_eq!(idx.line_range(text, 1), 4..7);
    }
}

#[cfg(test)]
mod marks_tests {
    use super::*;

    /// Columns from the marks of long lines equal columns counted from the line's start.
    #[test]
    fn columns_in_long_lines() {
        let line: String = (0..3000).map(|i| if i % 7 == 0 { "é😀".to_owned() } else { format!("x{i};") }).collect();
        let text = format!("short\n{line}\r\n{line}\nend");
        let index = LineIndex::new(&text);
        assert!(!index.marks.is_empty());
        for offset in (0..=text.len()).step_by(97).chain([text.len()]) {
            let offset = floor_char_boundary(&text, offset);
            let line = text[..offset].matches('\n').count();
            let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
            assert_eq!(index.position(&text, offset), (line + 1, text[start..offset].chars().count() + 1), "{offset}");
        }
    }
}
