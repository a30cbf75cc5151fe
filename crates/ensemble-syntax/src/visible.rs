//! Control characters made visible before they reach a terminal.
//!
//! A script, a name or a file name may hold ESC, BEL, NUL or other control characters;
//! echoed raw into a diagnostic they would ring the bell, recolour or rewrite the user's
//! terminal. Each is shown as its Unicode control picture (`␛`, `␇`, `␀`, `␡`), one character
//! for one, so that columns and carets stay where they were. Tabs and line breaks are kept.

use std::borrow::Cow;

/// The character shown in place of `c`, if `c` is a control character to hide.
fn picture(c: char) -> Option<char> {
    match c {
        '\t' | '\n' | '\r' | '\u{0B}' | '\u{0C}' => None,
        '\u{00}'..='\u{1F}' => char::from_u32(0x2400 + c as u32),
        '\u{7F}' => Some('\u{2421}'),
        // C1 controls (U+0085 is a line break for the renderer, and is kept).
        '\u{80}'..='\u{84}' | '\u{86}'..='\u{9F}' => Some('\u{FFFD}'),
        _ => None,
    }
}

/// `text` with its control characters replaced by visible pictures.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| picture(c).is_some()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| picture(c).unwrap_or(c)).collect())
}

/// `source` made visible, with byte offsets `start` and `end` moved to the same characters.
pub fn visible_with_offsets(
    source: &str,
    start: usize,
    end: usize,
) -> (Cow<'_, str>, usize, usize) {
    if !source.chars().any(|c| picture(c).is_some()) {
        return (Cow::Borrowed(source), start, end);
    }
    let mut out = String::with_capacity(source.len() + 16);
    let (mut new_start, mut new_end) = (None, None);
    for (offset, c) in source.char_indices() {
        if offset >= start && new_start.is_none() {
            new_start = Some(out.len());
        }
        if offset >= end && new_end.is_none() {
            new_end = Some(out.len());
        }
        out.push(picture(c).unwrap_or(c));
    }
    let new_start = new_start.unwrap_or(out.len());
    let new_end = new_end.unwrap_or(out.len()).max(new_start);
    (Cow::Owned(out), new_start, new_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_pictures() {
        assert_eq!(visible("a\u{1b}[31mb\u{7}\u{0}"), "a␛[31mb␇␀");
        assert_eq!(visible("del\u{7f} c1\u{9b}"), "del␡ c1\u{FFFD}");
        assert_eq!(visible("tab\tline\nok"), "tab\tline\nok");
    }

    #[test]
    fn offsets_follow_their_characters() {
        let source = "x\u{1b}y = vipp;";
        let start = source.find("vipp").unwrap();
        let (shown, s, e) = visible_with_offsets(source, start, start + 4);
        assert_eq!(&shown[s..e], "vipp");
        assert_eq!(shown.chars().count(), source.chars().count());
    }
}
