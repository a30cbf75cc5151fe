//! Parse errors: what went wrong while reading the text, with where.

use pest::error::{ErrorVariant, InputLocation};
use thiserror::Error;

use crate::ast::Span;
use crate::diagnostic::Diagnostic;
use crate::grammar::{Rule, KEYWORDS};

/// Why a text could not be read as a script.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParseError {
    /// The grammar expected something else here.
    #[error("syntax error: expected {expected}, found {found}")]
    Syntax {
        /// What would have been accepted, in words.
        expected: String,
        /// What was there instead.
        found: String,
        /// Where.
        span: Span,
    },
    /// A statement of the wrong form (for example a definition where an expression is needed).
    #[error("expected {expected}")]
    Expected {
        /// What was needed.
        expected: String,
        /// Where.
        span: Span,
    },
    /// Brackets or operators nested beyond the supported depth.
    #[error("expression nested too deeply (the limit is {limit} levels)")]
    TooDeep {
        /// The limit that was passed.
        limit: usize,
        /// Where it was passed.
        span: Span,
    },
    /// `(`, `[` or `{` that is never closed.
    #[error("unclosed '{opener}'")]
    UnclosedBracket {
        /// The opening bracket.
        opener: char,
        /// Where it was opened.
        span: Span,
    },
    /// A closing bracket with no opening one.
    #[error("'{found}' closes nothing")]
    UnopenedBracket {
        /// The closing bracket.
        found: char,
        /// Where.
        span: Span,
    },
    /// A closing bracket that does not match the last opened one.
    #[error("'{found}' does not close '{opener}'")]
    MismatchedBracket {
        /// The closing bracket found.
        found: char,
        /// The bracket it should have closed.
        opener: char,
        /// Where the closing bracket is.
        span: Span,
        /// Where the opening bracket is.
        opened: Span,
    },
    /// A string literal that runs to the end of the text.
    #[error("unclosed string")]
    UnclosedString {
        /// Its quote character.
        quote: char,
        /// From the opening quote to the end.
        span: Span,
    },
    /// `2026-02-30`.
    #[error("'{text}' is not a valid date")]
    InvalidDate {
        /// The literal.
        text: String,
        /// Where.
        span: Span,
    },
    /// A statement that reads but says something impossible (a tier named twice).
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: String,
        /// Where.
        span: Span,
    },
    /// An integer that does not fit in 64 bits (or a duration beyond 32 bits).
    #[error("number '{text}' is too large")]
    NumberTooLarge {
        /// The literal.
        text: String,
        /// Where.
        span: Span,
    },
}

impl ParseError {
    /// Where the error is.
    pub fn span(&self) -> Span {
        match self {
            ParseError::Syntax { span, .. }
            | ParseError::Expected { span, .. }
            | ParseError::TooDeep { span, .. }
            | ParseError::UnclosedBracket { span, .. }
            | ParseError::UnopenedBracket { span, .. }
            | ParseError::MismatchedBracket { span, .. }
            | ParseError::UnclosedString { span, .. }
            | ParseError::InvalidDate { span, .. }
            | ParseError::NumberTooLarge { span, .. }
            | ParseError::Invalid { span, .. } => *span,
        }
    }

    /// The error as a diagnostic to render.
    pub fn diagnostic(&self) -> Diagnostic {
        let diagnostic = Diagnostic::error(self.to_string(), self.span());
        match self {
            ParseError::Syntax {
                expected, found, ..
            } => {
                let diagnostic = diagnostic.with_label(format!("expected {expected} here"));
                let word = found.trim_matches('\'').to_ascii_lowercase();
                if expected.contains("a name") && KEYWORDS.contains(&word.as_str()) {
                    diagnostic
                        .with_help(format!("'{word}' is a reserved word; choose another name"))
                } else {
                    diagnostic
                }
            }
            ParseError::TooDeep { .. } => {
                diagnostic.with_help("split the expression into named segments or fields")
            }
            ParseError::UnclosedBracket { opener, .. } => {
                let closer = closing(*opener);
                diagnostic
                    .with_label("opened here")
                    .with_help(format!("add the missing '{closer}'"))
            }
            ParseError::MismatchedBracket { opener, .. } => {
                diagnostic.with_help(format!("'{opener}' is closed by '{}'", closing(*opener)))
            }
            ParseError::UnclosedString { quote, .. } => {
                diagnostic.with_help(format!("end the string with {quote}"))
            }
            ParseError::Invalid { help, .. } => diagnostic.with_help(help.clone()),
            ParseError::InvalidDate { .. } => diagnostic.with_help(crate::dates::DATE_HELP),
            _ => diagnostic,
        }
    }

    /// Translates pest's error into readable words (rule names become what they mean).
    pub(crate) fn from_pest(error: pest::error::Error<Rule>) -> ParseError {
        let (start, end) = match error.location {
            InputLocation::Pos(pos) => (pos, pos),
            InputLocation::Span((start, end)) => (start, end),
        };
        let expected = match &error.variant {
            ErrorVariant::ParsingError { positives, .. } => {
                let mut names: Vec<&str> = positives.iter().map(|rule| describe(*rule)).collect();
                names.sort_unstable();
                names.dedup();
                // Words subsumed by a broader description are not listed twice.
                if names.contains(&VALUE) {
                    names.retain(|n| {
                        !["'not'", "'null'", "'today'", "a name", "a number"].contains(n)
                    });
                }
                if names.contains(&SET_OPERATOR) {
                    names.retain(|n| {
                        ![
                            "'union'",
                            "'xor'",
                            "'inter'",
                            "'intersect'",
                            "'minus'",
                            "'except'",
                            "'sauf'",
                        ]
                        .contains(n)
                    });
                }
                join_alternatives(&names)
            }
            ErrorVariant::CustomError { message } => message.clone(),
        };
        ParseError::Syntax {
            expected,
            found: String::new(),
            span: Span::new(start, end),
        }
    }

    /// Fills in what was found at the error's position, from the source text.
    pub(crate) fn with_found(self, source: &str) -> ParseError {
        match self {
            ParseError::Syntax { expected, span, .. } => {
                let rest = source.get(span.start..).unwrap_or("");
                let token = next_token(rest);
                let found = if token.is_empty() {
                    "end of input".to_string()
                } else {
                    format!("'{token}'")
                };
                let end = span.start + token.len();
                ParseError::Syntax {
                    expected,
                    found,
                    span: Span::new(span.start, end.max(span.start)),
                }
            }
            other => other,
        }
    }
}

fn closing(opener: char) -> char {
    match opener {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// The word or symbol that starts `text` (what a reader would call the next token).
fn next_token(text: &str) -> &str {
    let mut chars = text.char_indices();
    let Some((_, first)) = chars.next() else {
        return "";
    };
    if first.is_alphanumeric() || first == '_' {
        let end = text
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(text.len(), |(i, _)| i);
        &text[..end]
    } else {
        &text[..first.len_utf8()]
    }
}

fn join_alternatives(names: &[&str]) -> String {
    match names {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

const VALUE: &str = "a value (number, string, date, name, aggregate…)";
const SET_OPERATOR: &str = "a set operator (∩ ∪ − Δ)";

/// What a grammar rule means to a reader (Tera's `renamed_rules`, exhaustively).
fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of input",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
        Rule::script | Rule::statement => "a statement",
        Rule::as_of_stmt => "'as of DATE'",
        Rule::field_stmt => "a field definition",
        Rule::segment_stmt => "a segment definition",
        Rule::expr_stmt | Rule::set_expr => "a set expression",
        Rule::set_list => "sets separated by commas",
        Rule::name_only => "a name",
        Rule::partition_stmt => "a partition",
        Rule::score_stmt => "a score",
        Rule::partition_item | Rule::tier_def => "a tier ('name = set expression')",
        Rule::else_tier => "'else NAME'",
        Rule::score_arg => "a score argument ('name: value')",
        Rule::set_op => SET_OPERATOR,
        Rule::op_inter | Rule::op_union | Rule::op_minus | Rule::op_xor => SET_OPERATOR,
        Rule::set_operand => "a segment",
        Rule::all => "'all'",
        Rule::criterion => "'[criterion]'",
        Rule::set_group => "'('",
        Rule::tier_ref => "a partition tier",
        Rule::segment_ref => "a segment name",
        Rule::expr | Rule::filter | Rule::arith | Rule::primary => VALUE,
        Rule::prefix | Rule::arith_prefix => VALUE,
        Rule::op_not => VALUE,
        Rule::negation => "'not'",
        Rule::op_neg => VALUE,
        Rule::postfix | Rule::postfix_in_filter | Rule::infix | Rule::arith_infix => "an operator",
        Rule::op_or => "'or'",
        Rule::op_and => "'and'",
        Rule::op_eq | Rule::op_ne | Rule::op_le | Rule::op_ge | Rule::op_lt | Rule::op_gt => {
            "a comparison"
        }
        Rule::op_add | Rule::op_sub | Rule::op_mul | Rule::op_div => "an arithmetic operator",
        Rule::is_null_op => "'is null'",
        Rule::between_op => "'between'",
        Rule::in_op => "'in'",
        Rule::like_op => "'like'",
        Rule::contains_op => "'contains'",
        Rule::starts_with_op => "'starts with'",
        Rule::within_op | Rule::agg_within => "'within'",
        Rule::before_op => "'before'",
        Rule::after_op => "'after'",
        Rule::aggregate => VALUE,
        Rule::agg_func => VALUE,
        Rule::agg_target => "a table or column",
        Rule::agg_where => "'where'",
        Rule::exists => VALUE,
        Rule::function_call => VALUE,
        Rule::qualified_column | Rule::member_word => "a column",
        Rule::name => VALUE,
        Rule::ident | Rule::ident_start | Rule::ident_continue => "a name",
        Rule::relative_date => VALUE,
        Rule::duration => "a duration (like '30 days')",
        Rule::unit => "a unit (days, weeks, months, years)",
        Rule::date_lit => VALUE,
        Rule::number => VALUE,
        Rule::integer => "a number",
        Rule::string => VALUE,
        Rule::dq_inner | Rule::sq_inner => "a string",
        Rule::boolean => VALUE,
        Rule::null => VALUE,
        Rule::kw_null => "'null'",
        Rule::today => VALUE,
        Rule::kw_today => "'today'",
        Rule::keyword => "a keyword",
        Rule::kw_after => "'after'",
        Rule::kw_ago => "'ago'",
        Rule::kw_all => "'all'",
        Rule::kw_and => "'and'",
        Rule::kw_as => "'as'",
        Rule::kw_before => "'before'",
        Rule::kw_between => "'between'",
        Rule::kw_contains => "'contains'",
        Rule::kw_except => "'except'",
        Rule::kw_false => "'false'",
        Rule::kw_field => "'field'",
        Rule::kw_has => "'has'",
        Rule::kw_in => "'in'",
        Rule::kw_inter => "'inter'",
        Rule::kw_intersect => "'intersect'",
        Rule::kw_is => "'is'",
        Rule::kw_like => "'like'",
        Rule::kw_minus => "'minus'",
        Rule::kw_no => "'no'",
        Rule::kw_not => "'not'",
        Rule::kw_of => "'of'",
        Rule::kw_or => "'or'",
        Rule::kw_partition => "'partition'",
        Rule::kw_else => "'else'",
        Rule::kw_sauf => "'sauf'",
        Rule::kw_score => "'score'",
        Rule::kw_segment => "'segment'",
        Rule::kw_starts => "'starts with'",
        Rule::kw_true => "'true'",
        Rule::kw_union => "'union'",
        Rule::kw_where => "'where'",
        Rule::kw_with => "'with'",
        Rule::kw_within => "'within'",
        Rule::kw_xor => "'xor'",
        Rule::report_stmt => "a report",
        Rule::overlap_stmt => "'overlap SET, SET, …'",
        Rule::kpi_stmt => "'kpi SET, … [with VALUE as NAME, …]'",
        Rule::kpi_measure => "a measure ('VALUE as NAME')",
        Rule::transition_stmt => "'transition PARTITION from DATE to DATE'",
        Rule::trend_stmt => "'trend SET from DATE to DATE every UNIT'",
        Rule::snapshot_stmt => "'snapshot NAME'",
        Rule::diff_stmt => "'diff NAME from DATE to DATE'",
        Rule::date_range => "'from DATE to DATE'",
        Rule::kw_overlap => "'overlap'",
        Rule::kw_kpi => "'kpi'",
        Rule::kw_transition => "'transition'",
        Rule::kw_trend => "'trend'",
        Rule::kw_snapshot => "'snapshot'",
        Rule::kw_diff => "'diff'",
        Rule::kw_from => "'from'",
        Rule::kw_to => "'to'",
        Rule::kw_every => "'every'",
    }
}
