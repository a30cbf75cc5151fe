//! Long source lines cut down to a window around a span before rendering, so that an error in
//! a generated one-line script shows a readable excerpt rather than thousands of columns.

/// Lines longer than this many characters are cut down.
pub const MAX_SHOWN: usize = 120;

/// Characters kept before the span's start.
const CONTEXT_BEFORE: usize = 40;

/// A source with its long line replaced by an excerpt, and the span moved along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// The source, with `…` where the line was cut.
    pub source: String,
    /// The span's start in `source` (bytes).
    pub start: usize,
    /// The span's end in `source` (bytes), clipped to the excerpt.
    pub end: usize,
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The excerpt of the line holding byte `start` (a char boundary, as is `end`), or `None`
/// when that line is short enough to show whole.
pub fn excerpt(source: &str, start: usize, end: usize) -> Option<Excerpt> {
    let line_start = source[..start]
        .char_indices()
        .rev()
        .find(|(_, c)| is_line_break(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let line_end = source[start..]
        .char_indices()
        .find(|(_, c)| is_line_break(*c))
        .map_or(source.len(), |(i, _)| start + i);
    let line = &source[line_start..line_end];
    // Byte offset in `line` of each character, and the line's end.
    let offsets: Vec<usize> = line
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(line.len()))
        .collect();
    let chars = offsets.len() - 1;
    if chars <= MAX_SHOWN {
        return None;
    }
    let char_at = |byte: usize| offsets.partition_point(|&o| o < byte);
    let first = char_at(start - line_start);
    let last = char_at(end.min(line_end).max(start) - line_start);
    let from = first.saturating_sub(CONTEXT_BEFORE);
    let to = (from + MAX_SHOWN).min(chars);
    let (from, to) = if to - from < MAX_SHOWN {
        (to.saturating_sub(MAX_SHOWN), to)
    } else {
        (from, to)
    };

    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    let body_start = line_start + shown.len();
    shown.push_str(&line[offsets[from]..offsets[to]]);
    if to < chars {
        shown.push('…');
    }
    let position = |char_index: usize| body_start + offsets[char_index] - offsets[from];
    let span_start = position(first.clamp(from, to));
    let span_end = position(last.clamp(from, to)).max(span_start);
    Some(Excerpt {
        source: format!("{}{shown}{}", &source[..line_start], &source[line_end..]),
        start: span_start,
        end: span_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_shown_whole() {
        let source = "segment a = vipp;\nall - vipp;";
        assert_eq!(excerpt(source, 12, 16), None);
    }

    #[test]
    fn a_long_line_is_cut_around_the_span() {
        let filler = "[x > 1] ∪ ".repeat(60);
        let source = format!("as of 2026-01-01;\n{filler}vipp ∪ {filler};\nall;");
        let start = source.find("vipp").unwrap();
        let cut = excerpt(&source, start, start + 4).expect("the line is long");
        assert_eq!(&cut.source[cut.start..cut.end], "vipp");
        let line = cut.source.lines().nth(1).unwrap();
        assert!(line.starts_with('…') && line.ends_with('…'), "{line}");
        assert_eq!(line.chars().count(), MAX_SHOWN + 2);
        // The other lines are untouched.
        assert!(cut.source.starts_with("as of 2026-01-01;\n"));
        assert!(cut.source.ends_with("…\nall;"));
    }

    #[test]
    fn spans_near_the_ends_and_longer_than_the_window() {
        let line = "a".repeat(500);
        let at_start = excerpt(&line, 0, 1).unwrap();
        assert!(!at_start.source.starts_with('…') && at_start.source.ends_with('…'));
        assert_eq!((at_start.start, at_start.end), (0, 1));
        let at_end = excerpt(&line, 499, 500).unwrap();
        assert!(at_end.source.starts_with('…') && !at_end.source.ends_with('…'));
        assert_eq!(&at_end.source[at_end.start..at_end.end], "a");
        let whole = excerpt(&line, 0, 500).unwrap();
        assert_eq!(whole.end - whole.start, MAX_SHOWN, "clipped to the window");
    }

    #[test]
    fn every_span_of_a_mixed_line_gives_a_consistent_excerpt() {
        let source = format!("a\r\n{}\u{2028}z", "é∪ x\t".repeat(60));
        let boundaries: Vec<usize> = source
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(source.len()))
            .collect();
        for &start in &boundaries {
            for &end in boundaries.iter().filter(|&&e| e >= start).take(7) {
                if let Some(cut) = excerpt(&source, start, end) {
                    assert!(cut.source.is_char_boundary(cut.start), "{start}..{end}");
                    assert!(cut.source.is_char_boundary(cut.end), "{start}..{end}");
                    assert!(cut.start <= cut.end && cut.end <= cut.source.len());
                    let shown = &cut.source[cut.start..cut.end];
                    assert!(source[start..end].starts_with(shown), "{start}..{end}");
                }
            }
        }
    }
}
