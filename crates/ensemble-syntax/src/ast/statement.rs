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
    /// A report: `overlap`, `kpi`, `transition`, `trend`, `snapshot` or `diff`.
    Report(Report),
}

/// The report statements of section 7 of the spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// `overlap a, b, c`: pairwise counts, shares and Jaccard; every exact combination.
    Overlap {
        /// The sets (two or more once a partition stands for its tiers).
        sets: Vec<SetExpr>,
    },
    /// `kpi statut;`, `kpi vip, clients with sum(…) as ca_12m`: measures per set or tier.
    Kpi {
        /// The sets (a partition stands for its tiers).
        sets: Vec<SetExpr>,
        /// Extra measures, after the default ones.
        measures: Vec<Measure>,
    },
    /// `transition statut from D1 to D2`: members moving between tiers.
    Transition {
        /// The partition.
        partition: Ident,
        /// The two dates.
        range: DateRange,
    },
    /// `trend vip from D1 to D2 every month`: sizes at regular dates.
    Trend {
        /// The sets (a partition stands for its tiers).
        sets: Vec<SetExpr>,
        /// The first and last dates.
        range: DateRange,
        /// The step between two dates.
        every: Duration,
    },
    /// `snapshot vip`: the membership at the as-of date, kept as Parquet.
    Snapshot {
        /// The segment or partition.
        name: Ident,
    },
    /// `diff vip from D1 to D2`: entries and exits between two snapshots.
    Diff {
        /// The segment or partition.
        name: Ident,
        /// The two snapshot dates.
        range: DateRange,
    },
}

/// An extra measure of a `kpi` report: `sum(purchases.amount within 12 months) as ca_12m`.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// The per-member value, summed over the set's members.
    pub expr: Expr,
    /// The measure's column name.
    pub name: Ident,
}

/// `from D1 to D2` in a report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateRange {
    /// The first date.
    pub from: NaiveDate,
    /// The second date.
    pub to: NaiveDate,
    /// Where the range is written (for errors such as dates in the wrong order).
    pub span: Span,
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
