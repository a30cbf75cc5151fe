//! The syntax tree of the segment language.
//!
//! Every node carries the [`Span`] of the source text it was read from, so that later stages
//! (the checker, the planner) can point at the exact place of an error. Spans do not take part
//! in equality: two trees are equal when they say the same thing, wherever they were written.

use chrono::NaiveDate;

mod statement;

pub use statement::*;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
}

impl PartialEq for Span {
    /// Spans never distinguish two trees (see the module documentation).
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Whether two spans cover the same bytes (the `==` operator ignores spans on purpose).
    pub fn same_range(&self, other: &Span) -> bool {
        self.start == other.start && self.end == other.end
    }
}

/// A name as written in the source: a segment, field, table or column.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name itself.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A set expression: segments, `all`, criteria and tiers combined with set operators.
#[derive(Debug, Clone, PartialEq)]
pub struct SetExpr {
    /// The node.
    pub kind: SetExprKind,
    /// Its source text.
    pub span: Span,
}

/// The forms of a set expression.
#[derive(Debug, Clone, PartialEq)]
pub enum SetExprKind {
    /// `all`: every member of the universe at the as-of date.
    All,
    /// A segment name.
    Segment(Ident),
    /// `partition.tier` (spec section 7).
    Tier {
        /// The partition's name.
        partition: Ident,
        /// The tier's name.
        tier: Ident,
    },
    /// `[criterion]`: the members for whom the criterion is true.
    Criterion(Box<Expr>),
    /// `a op b op …`: a set operator over its operands, left to right.
    ///
    /// A chain of one associative operator written without parentheses (`a ∪ b ∪ c`, also
    /// `∩` and `Δ`) is one node with every operand, however many; a difference always has
    /// two operands (`a − b − c` is `(a − b) − c`), and so has a chain broken by
    /// parentheses (`(a ∪ b) ∪ c` keeps its grouping).
    Operation {
        /// The set operator.
        op: SetOp,
        /// The operands, at least two (exactly two for a difference).
        operands: Vec<SetExpr>,
    },
}

/// Set operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOp {
    /// `∩`, `&`, `inter`, `intersect`.
    Intersect,
    /// `∪`, `|`, `union`.
    Union,
    /// `-`, `−`, `∖`, `minus`, `except`, `sauf`.
    Difference,
    /// `Δ`, `^`, `xor`.
    SymmetricDifference,
}

impl SetOp {
    /// Whether a chain of this operator is one n-ary operation (`∪`, `∩`, `Δ`: associative
    /// and commutative), rather than nested pairs (`−`).
    pub fn is_associative(self) -> bool {
        !matches!(self, SetOp::Difference)
    }

    /// The canonical symbol, as `explain` and step trees print it.
    pub fn symbol(self) -> &'static str {
        match self {
            SetOp::Intersect => "∩",
            SetOp::Union => "∪",
            SetOp::Difference => "−",
            SetOp::SymmetricDifference => "Δ",
        }
    }

    /// A readable name of the operation.
    pub fn name(self) -> &'static str {
        match self {
            SetOp::Intersect => "intersection",
            SetOp::Union => "union",
            SetOp::Difference => "difference",
            SetOp::SymmetricDifference => "symmetric difference",
        }
    }

    /// Binding strength: intersection binds tighter than the three others (SQL's rule).
    pub fn precedence(self) -> u8 {
        match self {
            SetOp::Intersect => 2,
            SetOp::Union | SetOp::Difference | SetOp::SymmetricDifference => 1,
        }
    }
}

/// A value expression: a criterion (boolean) or a field's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The node.
    pub kind: ExprKind,
    /// Its source text.
    pub span: Span,
}

/// The forms of a value expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// `today`: the as-of date.
    Today,
    /// `N units ago`.
    RelativeDate(Duration),
    /// A bare name: a universe column or a field (or, inside an aggregate's `where`, a column
    /// of the aggregated table).
    Name(Ident),
    /// `table.column`.
    Column {
        /// The table.
        table: Ident,
        /// The column.
        column: Ident,
    },
    /// `not e`, `-e`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `left op right`: boolean, comparison and arithmetic operators.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `e is [not] null`.
    IsNull {
        /// The tested value.
        expr: Box<Expr>,
        /// `is not null`.
        negated: bool,
    },
    /// `e [not] between low and high` (inclusive).
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
        /// `not between`.
        negated: bool,
    },
    /// `e [not] in (a, b, …)`.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `not in`.
        negated: bool,
    },
    /// `e [not] like p`, `e [not] contains s`, `e [not] starts with s`.
    StringTest {
        /// Which test.
        op: StringOp,
        /// The tested string.
        expr: Box<Expr>,
        /// The pattern or substring.
        pattern: Box<Expr>,
        /// Negated form.
        negated: bool,
    },
    /// `d within N units`: `N units ago < d <= today`.
    Within {
        /// The tested date.
        expr: Box<Expr>,
        /// The window.
        window: Duration,
    },
    /// `d before x` (`d < x`) and `d after x` (`d > x`).
    DateTest {
        /// Before or after.
        op: DateTestOp,
        /// The tested date.
        expr: Box<Expr>,
        /// The bound.
        bound: Box<Expr>,
    },
    /// A scalar function call: `days_since(d)`, `greatest(a, b)` …
    Call {
        /// The function's name as written.
        function: Ident,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// An aggregate over a related table: `sum(purchases.amount where … within …)`.
    Aggregate(Aggregate),
    /// `has table [where …] [within …]` and `no table …`.
    Exists {
        /// `no` rather than `has`.
        negated: bool,
        /// The related table.
        table: Ident,
        /// Optional row filter.
        filter: Option<Box<Expr>>,
        /// Optional window on the table's time column.
        window: Option<Duration>,
    },
}

/// An aggregate over the rows of a related table that belong to each member.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The aggregate function.
    pub func: AggFunc,
    /// The aggregated table, and column where the function takes one.
    pub table: Ident,
    /// The aggregated column (`None` for `count(purchases)`).
    pub column: Option<Ident>,
    /// Optional row filter (`where …`).
    pub filter: Option<Box<Expr>>,
    /// Optional window on the table's time column (`within …`).
    pub window: Option<Duration>,
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// Number of rows (or non-null values of a column).
    Count,
    /// Number of distinct non-null values.
    CountDistinct,
    /// Sum (0 over no rows).
    Sum,
    /// Mean.
    Avg,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Value of the earliest row by the table's time column.
    First,
    /// Value of the latest row by the table's time column.
    Last,
}

impl AggFunc {
    /// The function's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::CountDistinct => "count_distinct",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::First => "first",
            AggFunc::Last => "last",
        }
    }

    /// Reads a function name (case-insensitive).
    pub fn from_name(name: &str) -> Option<AggFunc> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggFunc::Count,
            "count_distinct" => AggFunc::CountDistinct,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "first" => AggFunc::First,
            "last" => AggFunc::Last,
            _ => return None,
        })
    }
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `not`.
    Not,
    /// `-` (negation).
    Neg,
}

/// Infix operators of value expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`.
    Or,
    /// `and`.
    And,
    /// `=`.
    Eq,
    /// `!=`, `<>`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

impl BinaryOp {
    /// The operator as written canonically.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    /// Whether the operator compares two values.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }

    /// Whether the operator is arithmetic.
    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div
        )
    }
}

/// String tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringOp {
    /// SQL `like` with `%` and `_` wildcards.
    Like,
    /// Substring test.
    Contains,
    /// Prefix test.
    StartsWith,
}

impl StringOp {
    /// The test's keyword(s).
    pub fn keyword(self) -> &'static str {
        match self {
            StringOp::Like => "like",
            StringOp::Contains => "contains",
            StringOp::StartsWith => "starts with",
        }
    }
}

/// `before` / `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateTestOp {
    /// `d before x`: `d < x`.
    Before,
    /// `d after x`: `d > x`.
    After,
}

/// Literal values.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A whole number.
    Integer(i64),
    /// A decimal number, kept as written so that it stays exact (`19.99`).
    Decimal(String),
    /// A string.
    String(String),
    /// `true` / `false`.
    Boolean(bool),
    /// `null`.
    Null,
    /// An ISO date `2026-01-31`.
    Date(NaiveDate),
}

/// `N units`, as in `30 days ago` or `within 12 months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: DateUnit,
}

/// Calendar units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateUnit {
    /// Calendar days.
    Day,
    /// Seven days.
    Week,
    /// Calendar months (same day of month, clamped to the month's end).
    Month,
    /// Calendar years (twelve months).
    Year,
}

impl DateUnit {
    /// The unit's name, singular or plural.
    pub fn name(self, amount: u32) -> &'static str {
        match (self, amount == 1) {
            (DateUnit::Day, true) => "day",
            (DateUnit::Day, false) => "days",
            (DateUnit::Week, true) => "week",
            (DateUnit::Week, false) => "weeks",
            (DateUnit::Month, true) => "month",
            (DateUnit::Month, false) => "months",
            (DateUnit::Year, true) => "year",
            (DateUnit::Year, false) => "years",
        }
    }
}

impl Duration {
    /// The date `amount` units before `date` (months clamp to the month's last day).
    /// `None` when the result falls outside the calendar chrono can represent.
    pub fn before(&self, date: NaiveDate) -> Option<NaiveDate> {
        use chrono::{Days, Months};
        match self.unit {
            DateUnit::Day => date.checked_sub_days(Days::new(self.amount.into())),
            DateUnit::Week => date.checked_sub_days(Days::new(u64::from(self.amount) * 7)),
            DateUnit::Month => date.checked_sub_months(Months::new(self.amount)),
            DateUnit::Year => self
                .amount
                .checked_mul(12)
                .and_then(|months| date.checked_sub_months(Months::new(months))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_ago_clamps_to_the_end_of_the_month() {
        let three_months = Duration {
            amount: 3,
            unit: DateUnit::Month,
        };
        assert_eq!(
            three_months.before(date(2026, 5, 31)),
            Some(date(2026, 2, 28))
        );
        let one_year = Duration {
            amount: 1,
            unit: DateUnit::Year,
        };
        assert_eq!(one_year.before(date(2024, 2, 29)), Some(date(2023, 2, 28)));
    }

    #[test]
    fn days_and_weeks_count_calendar_days() {
        let d = Duration {
            amount: 2,
            unit: DateUnit::Week,
        };
        assert_eq!(d.before(date(2026, 3, 10)), Some(date(2026, 2, 24)));
    }

    #[test]
    fn spans_do_not_distinguish_trees() {
        assert_eq!(Span::new(0, 1), Span::new(5, 9));
        assert!(!Span::new(0, 1).same_range(&Span::new(5, 9)));
    }
}
