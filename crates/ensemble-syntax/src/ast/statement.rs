//! Statements: definitions, evaluations, the evaluation date, partitions and scores.

use super::*;

/// A whole script: statements in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The statements, in the order they were written.
    pub statements: Vec<Statement>,
}

/// One statement, ended by `;` in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// What the statement says.
    pub kind: StatementKind,
    /// The statement's text (without its `;`).
    pub span: Span,
}

/// The statement forms of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `as of 2026-06-30;` or `as of today;`: the evaluation date.
    AsOf(AsOf),
    /// `field name = expr;`: a named per-member value.
    Field {
        /// The field's name.
        name: Ident,
        /// Its value expression.
        expr: Expr,
    },
    /// `segment name = set-expr;`: a named set of members.
    Segment {
        /// The segment's name.
        name: Ident,
        /// Its set expression.
        expr: SetExpr,
    },
    /// A bare set expression: it is evaluated.
    Evaluate(SetExpr),
    /// `partition name { tier = set-expr; …; else rest; }`: exclusive tiers, the first
    /// matching tier wins.
    Partition {
        /// The partition's name.
        name: Ident,
        /// The tiers, in matching order.
        tiers: Vec<TierDef>,
        /// The `else` tier: every member matching no tier.
        otherwise: Option<Ident>,
    },
    /// `score name = function(arg: value, …)`: per-member bucket scores (`rfm`).
    Score {
        /// The score's name.
        name: Ident,
        /// The score function (`rfm`).
        function: Ident,
        /// Its named arguments, as written.
        args: Vec<ScoreArg>,
    },
}

/// One tier of a partition: `vip = [ca_12m >= 1000]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TierDef {
    /// The tier's name.
    pub name: Ident,
    /// The members the tier takes (before earlier tiers are removed).
    pub expr: SetExpr,
}

/// A named argument of a score: `buckets: 5`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreArg {
    /// The argument's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

/// The date of an `as of` statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AsOf {
    /// `as of today`: the machine's current date.
    Today,
    /// A fixed calendar date.
    Date(NaiveDate),
}
