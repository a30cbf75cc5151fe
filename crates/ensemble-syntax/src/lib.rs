//! The segment language: grammar, syntax tree, parser and source diagnostics.
//!
//! This crate knows nothing of DataFusion: it turns text into a [`Script`] (a tree of
//! [`Statement`]s) or a [`ParseError`] with a span, and renders any stage's [`Diagnostic`]
//! with the source line and a caret.
//!
//! ```
//! use ensemble_syntax::{parse_script, StatementKind};
//! let parsed = parse_script("segment vip = [sum(purchases.amount) >= 1000]; all - vip;").unwrap();
//! assert_eq!(parsed.script.statements.len(), 2);
//! assert!(matches!(parsed.script.statements[1].kind, StatementKind::Evaluate(_)));
//! ```
#![warn(missing_docs)]

pub mod ast;
pub mod dates;
pub mod diagnostic;
pub mod display;
pub mod error;
mod grammar;
mod long_line;
pub mod parser;
pub mod stack;
pub mod visible;

pub use ast::*;
pub use dates::{parse_date, DateError, DATE_HELP};
pub use diagnostic::{line_col, suggest, Diagnostic, Severity};
pub use error::ParseError;
pub use grammar::{FUNCTIONS, KEYWORDS, REPORTS, REPORT_WORDS, SCORE_FUNCTIONS};
pub use parser::{
    parse_name, parse_report, parse_script, parse_set_expr, parse_set_list, Parsed, MAX_NESTING,
    MAX_TREE_DEPTH,
};
