//! The pest parser generated from `grammar/segment.pest` (internal: the public API is the
//! syntax tree).
#![allow(missing_docs)]

/// The generated parser.
#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/segment.pest"]
pub struct SegmentParser;

/// The reserved words of the language (the `keyword` rule of the grammar).
pub const KEYWORDS: &[&str] = &[
    "after",
    "ago",
    "all",
    "and",
    "as",
    "before",
    "between",
    "contains",
    "else",
    "except",
    "false",
    "field",
    "has",
    "in",
    "inter",
    "intersect",
    "is",
    "like",
    "minus",
    "no",
    "not",
    "null",
    "of",
    "or",
    "partition",
    "sauf",
    "score",
    "segment",
    "starts",
    "today",
    "true",
    "union",
    "where",
    "with",
    "within",
    "xor",
];

/// The functions of value expressions (`days_since(d)`, `ntile(v, 3)`…), as the checker
/// knows them: completion, suggestions and the documentation derive from this list.
pub const FUNCTIONS: &[&str] = &[
    "days_since",
    "months_since",
    "years_since",
    "greatest",
    "least",
    "coalesce",
    "lower",
    "upper",
    "abs",
    "round",
    "ntile",
];

/// The score functions of `score NAME = FUNCTION(…)`.
pub const SCORE_FUNCTIONS: &[&str] = &["rfm"];

/// The words that start a report statement (section 7 of the spec). They are not reserved:
/// a segment may still be named `trend`. Completion and the documentation derive from this
/// list.
pub const REPORTS: &[&str] = &["overlap", "kpi", "transition", "trend", "snapshot", "diff"];

/// The other words of report statements (`from D1 to D2`, `every month`), not reserved.
pub const REPORT_WORDS: &[&str] = &["from", "to", "every"];
