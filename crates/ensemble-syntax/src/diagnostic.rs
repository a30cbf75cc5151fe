//! Diagnostics: an error, warning or note tied to a span of the source, rendered with the
//! source line and a caret (via ariadne).
//!
//! Every stage (parser, checker, engine) reports its problems as [`Diagnostic`]s so that the
//! CLI, the REPL and the library's users render them the same way.

use std::fmt;

use crate::ast::Span;
use crate::visible::{visible, visible_with_offsets};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The statement was rejected.
    Error,
    /// The statement ran, but something looks wrong.
    Warning,
    /// Information about how the input was read.
    Note,
}

/// A message about a span of the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// The headline (`unknown segment 'vipp'`).
    pub message: String,
    /// The span the message is about.
    pub span: Span,
    /// A short text under the caret; defaults to the message.
    pub label: Option<String>,
    /// A suggested fix (`did you mean 'vip'?`).
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error about `span`.
    pub fn error(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    /// A warning about `span`: the statement runs, but probably not as meant.
    pub fn warning(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, span)
        }
    }

    /// A note about `span`.
    pub fn note(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(message, span)
        }
    }

    /// Sets the text under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the suggested fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based line and column (in characters) of the span's start in `source`.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        line_col(source, self.span.start)
    }

    /// Renders the diagnostic with its source line and a caret, as the CLI prints it.
    ///
    /// `origin` names the source (a file name, `<repl>`); `color` adds ANSI colours.
    pub fn render(&self, source: &str, origin: &str, color: bool) -> String {
        self.render_from_line(source, origin, color, 1)
    }

    /// Renders as [`Diagnostic::render`] does, for a `source` that starts at line
    /// `first_line` of a longer input (a statement read from a pipe): line numbers are the
    /// input's.
    pub fn render_from_line(
        &self,
        source: &str,
        origin: &str,
        color: bool,
        first_line: usize,
    ) -> String {
        use ariadne::{Config, IndexType, Label, Report, ReportKind, Source};
        let line_offset = first_line.saturating_sub(1);
        let kind = match self.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
            Severity::Note => ReportKind::Advice,
        };
        let start = clamp_to_char_boundary(source, self.span.start);
        let end = clamp_to_char_boundary(source, self.span.end.max(self.span.start)).max(start);
        let (line, column) = line_col(source, start);
        let line = line + line_offset;
        // Control characters are shown as pictures, one character each: columns hold.
        let (source, start, end) = visible_with_offsets(source, start, end);
        let source = source.as_ref();
        let origin = visible(origin);
        let origin = origin.as_ref();
        let message = visible(&self.message);
        let label = self
            .label
            .as_deref()
            .map(visible)
            .unwrap_or_else(|| message.clone());
        // A very long line (a generated one-line script) is shown as an excerpt around the
        // span; the headline keeps the real line and column.
        let excerpt = crate::long_line::excerpt(source, start, end);
        let (shown, start, end) = match &excerpt {
            Some(cut) => (cut.source.as_str(), cut.start, cut.end),
            None => (source, start, end),
        };
        // A later line of a longer input: as many empty lines before it, so that the margin
        // numbers the input's lines (ariadne's display offset numbers only the header).
        let padded;
        let (shown, start, end) = if line_offset == 0 {
            (shown, start, end)
        } else {
            padded = format!("{}{shown}", "\n".repeat(line_offset));
            (padded.as_str(), start + line_offset, end + line_offset)
        };
        let mut report = Report::build(kind, (origin, start..end))
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_message(format!("{message} (line {line}, column {column})"))
            .with_label(Label::new((origin, start..end)).with_message(label));
        if let Some(help) = &self.help {
            report = report.with_help(visible(help));
        }
        let mut out = Vec::new();
        let written = report
            .finish()
            .write((origin, Source::from(shown)), &mut out);
        match written {
            Ok(()) => {
                let text = String::from_utf8_lossy(&out).into_owned();
                if excerpt.is_none() {
                    return text;
                }
                // ariadne's location header counts columns in the excerpt: put the real one.
                let (_, shown_column) = line_col(shown, start);
                text.replacen(
                    &format!("{origin}:{line}:{shown_column} "),
                    &format!("{origin}:{line}:{column} "),
                    1,
                )
            }
            // Rendering into memory cannot fail for I/O reasons; keep a plain fallback anyway.
            Err(_) => format!("{self} (line {line}, column {column})\n"),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        write!(f, "{severity}: {}", visible(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, " — {}", visible(help))?;
        }
        Ok(())
    }
}

/// 1-based line and column (counted in characters) of byte `offset` in `source`.
///
/// Lines break where ariadne breaks them (`\n`, `\r\n`, `\r`, vertical tab, form feed,
/// U+0085, U+2028, U+2029), so the numbers in the headline match the rendered snippet.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = clamp_to_char_boundary(source, offset);
    let (mut line, mut column) = (1, 1);
    let mut chars = source[..offset].chars().peekable();
    while let Some(c) = chars.next() {
        let breaks = match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                true
            }
            '\n' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => true,
            _ => false,
        };
        if breaks {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

fn clamp_to_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The closest of `candidates` to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let score = strsim::jaro_winkler(&lower, &candidate.to_lowercase());
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_match_the_renderer() {
        assert_eq!(line_col("a\r\nb\rc\u{0C}d", 7), (4, 1));
    }

    #[test]
    fn line_and_column_count_characters() {
        let source = "segment é = [x];\nsegment b = vipp;";
        let offset = source.find("vipp").unwrap();
        assert_eq!(line_col(source, offset), (2, 13));
        let accent = source.find('=').unwrap();
        assert_eq!(line_col(source, accent), (1, 11));
    }

    #[test]
    fn suggestions_need_a_close_candidate() {
        assert_eq!(suggest("vipp", ["vip", "clients"]), Some("vip".into()));
        assert_eq!(suggest("zzz", ["vip", "clients"]), None);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let source = "segment a = \u{1b}[2Jvipp\u{7};";
        let start = source.find("vipp").unwrap();
        let d = Diagnostic::error(
            "unknown segment '\u{1b}[2Jvipp\u{7}'",
            Span::new(start, start + 5),
        )
        .with_help("did you mean '\u{0}vip'?");
        let text = d.render(source, "in\u{1b}put.seg", false);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("␛[2Jvipp␇"), "{text}");
        assert!(text.contains("line 1, column 17"), "{text}");
        assert!(!d.to_string().contains('\u{1b}'));
    }

    #[test]
    fn render_from_a_later_line_numbers_lines_as_the_input() {
        let d = Diagnostic::error("unknown segment 'vipp'", Span::new(13, 17));
        let text = d.render_from_line("\nsegment a = vipp;", "<stdin>", false, 40);
        assert!(text.contains("line 41, column 13"), "{text}");
        assert!(text.contains("<stdin>:41:13"), "{text}");
        assert!(text.contains("41 │"), "{text}");
    }

    #[test]
    fn render_shows_the_line_and_a_caret() {
        let source = "segment a = vipp;";
        let d = Diagnostic::error("unknown segment 'vipp'", Span::new(12, 16))
            .with_help("did you mean 'vip'?");
        let text = d.render(source, "script.seg", false);
        assert!(text.contains("segment a = vipp;"), "{text}");
        assert!(text.contains("line 1, column 13"), "{text}");
        assert!(text.contains("did you mean 'vip'?"), "{text}");
    }
}
