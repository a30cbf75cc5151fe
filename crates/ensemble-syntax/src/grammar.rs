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
