//! The line editor's helper: completion, highlighting and validation before running.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use ensemble::syntax::{FUNCTIONS, KEYWORDS, REPORTS, REPORT_WORDS, SCORE_FUNCTIONS};

use super::commands::COMMANDS;

/// Words completion offers besides the reserved keywords: units and function names.
pub const EXTRA_WORDS: &[&str] = &[
    "days",
    "weeks",
    "months",
    "years",
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "first",
    "last",
];

/// What completion offers beyond keywords: names of the session.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Segment and field names.
    pub names: Vec<String>,
    /// Table names.
    pub tables: Vec<String>,
    /// `table.column` of every table, and bare universe columns.
    pub columns: Vec<String>,
}

/// The rustyline helper.
pub struct ReplHelper {
    /// Shared with the REPL loop, refreshed after each statement.
    pub vocabulary: Arc<Mutex<Vocabulary>>,
    /// Colours on.
    pub color: bool,
}

impl Helper for ReplHelper {}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '\\'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let mut candidates: Vec<String> = Vec::new();
        if word.starts_with('\\') {
            candidates.extend(COMMANDS.iter().map(|(name, _, _)| name.to_string()));
        } else {
            let vocabulary = self
                .vocabulary
                .lock()
                .map(|v| v.clone())
                .unwrap_or_default();
            candidates.extend(
                KEYWORDS
                    .iter()
                    .chain(EXTRA_WORDS)
                    .chain(FUNCTIONS)
                    .chain(SCORE_FUNCTIONS)
                    .chain(REPORTS)
                    .chain(REPORT_WORDS)
                    .map(|k| k.to_string()),
            );
            candidates.extend(vocabulary.names);
            candidates.extend(vocabulary.tables);
            candidates.extend(vocabulary.columns);
        }
        let lower = word.to_lowercase();
        let mut pairs: Vec<Pair> = candidates
            .into_iter()
            .filter(|c| c.to_lowercase().starts_with(&lower) && c.as_str() != word)
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        pairs.sort_by(|a, b| a.display.cmp(&b.display));
        pairs.dedup_by(|a, b| a.display == b.display);
        Ok((start, pairs))
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.trim_start().starts_with('\\') {
            return Cow::Borrowed(line);
        }
        let mut out = String::with_capacity(line.len() + 16);
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if KEYWORDS.contains(&word.to_lowercase().as_str()) {
                out.push_str("\x1b[1;34m");
                out.push_str(word);
                out.push_str("\x1b[0m");
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in line.chars() {
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                if "∩∪−∖Δ&|^".contains(c) {
                    out.push_str("\x1b[1;35m");
                    out.push(c);
                    out.push_str("\x1b[0m");
                } else {
                    out.push(c);
                }
            }
        }
        flush(&mut word, &mut out);
        Cow::Owned(out)
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// Whether a buffer is complete: a backslash command is one line; a statement ends with `;`.
pub fn is_complete(buffer: &str) -> bool {
    let trimmed = buffer.trim();
    if trimmed.starts_with('\\') {
        return true;
    }
    // The last line may end with a comment.
    let without_comment: String = buffer
        .lines()
        .map(|line| match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = without_comment.trim_end();
    (text.ends_with(';') || text.ends_with('}')) && open_braces(text) == 0
}

/// `{` not yet closed by `}` outside string literals: a partition's tiers end with `;` but
/// the entry goes on until its `}`.
fn open_braces(text: &str) -> usize {
    let mut depth = 0usize;
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim().is_empty() {
            return Ok(ValidationResult::Valid(None));
        }
        if !is_complete(input) {
            return Ok(ValidationResult::Incomplete);
        }
        if input.trim().starts_with('\\') {
            return Ok(ValidationResult::Valid(None));
        }
        // Inline validation: a syntax error is shown before anything runs.
        match ensemble::syntax::parse_script(input) {
            Ok(_) => Ok(ValidationResult::Valid(None)),
            Err(error) => {
                let (line, column) = ensemble::syntax::line_col(input, error.span().start);
                Ok(ValidationResult::Invalid(Some(format!(
                    "  ← {error} (line {line}, column {column})"
                ))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_with_a_semicolon() {
        assert!(!is_complete("segment vip = [x > 1]"));
        assert!(is_complete("segment vip = [x > 1];"));
        assert!(is_complete("segment vip = [x > 1]; -- done"));
        assert!(!is_complete("segment vip = [x > 1] -- not yet;"));
        assert!(is_complete("\\steps"));
        assert!(!is_complete("partition p {\n  a = [x > 1];"));
        assert!(is_complete("partition p {\n  a = [x > 1];\n  else b;\n}"));
        assert!(is_complete("partition p { a = [name = '{'];\n}"));
    }
}
