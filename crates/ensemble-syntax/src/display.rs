//! Canonical text of a syntax tree. Every nested operation is parenthesised and a chain of
//! one set operator prints flat (`a ∪ b ∪ c`), so the text says exactly how the input was
//! read and re-parses to the same tree.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::ast::*;

/// The fully parenthesised reading of a set expression (what `explain` prints).
pub fn parenthesized(expr: &SetExpr) -> String {
    expr.to_string()
}

impl Display for Script {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for statement in &self.statements {
            writeln!(f, "{statement};")?;
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StatementKind::AsOf(AsOf::Today) => write!(f, "as of today"),
            StatementKind::AsOf(AsOf::Date(date)) => write!(f, "as of {date}"),
            StatementKind::Field { name, expr } => write!(f, "field {} = {expr}", name.name),
            StatementKind::Segment { name, expr } => write!(f, "segment {} = {expr}", name.name),
            StatementKind::Evaluate(expr) => write!(f, "{expr}"),
            StatementKind::Partition {
                name,
                tiers,
                otherwise,
            } => {
                write!(f, "partition {name} {{")?;
                for tier in tiers {
                    write!(f, " {} = {};", tier.name, tier.expr)?;
                }
                if let Some(rest) = otherwise {
                    write!(f, " else {rest};")?;
                }
                f.write_str(" }")
            }
            StatementKind::Score {
                name,
                function,
                args,
            } => {
                write!(f, "score {name} = {function}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: {}", arg.name, arg.value)?;
                }
                f.write_str(")")
            }
            StatementKind::Report(report) => write!(f, "{report}"),
        }
    }
}

impl Display for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let list = |sets: &[SetExpr]| {
            sets.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Report::Overlap { sets } => write!(f, "overlap {}", list(sets)),
            Report::Kpi { sets, measures } => {
                write!(f, "kpi {}", list(sets))?;
                for (i, measure) in measures.iter().enumerate() {
                    let lead = if i == 0 { " with " } else { ", " };
                    write!(f, "{lead}{} as {}", measure.expr, measure.name)?;
                }
                Ok(())
            }
            Report::Transition { partition, range } => {
                write!(f, "transition {partition} {range}")
            }
            Report::Trend { sets, range, every } if every.amount == 1 => write!(
                f,
                "trend {} {range} every {}",
                list(sets),
                every.unit.name(1)
            ),
            Report::Trend { sets, range, every } => {
                write!(f, "trend {} {range} every {every}", list(sets))
            }
            Report::Snapshot { name } => write!(f, "snapshot {name}"),
            Report::Diff { name, range } => write!(f, "diff {name} {range}"),
        }
    }
}

impl Display for DateRange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "from {} to {}", self.from, self.to)
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Display for SetExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SetExprKind::All => f.write_str("all"),
            SetExprKind::Segment(name) => write!(f, "{name}"),
            SetExprKind::Tier { partition, tier } => write!(f, "{partition}.{tier}"),
            SetExprKind::Criterion(expr) => write!(f, "[{expr}]"),
            SetExprKind::Operation { op, operands } => {
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        write!(f, " {} ", op.symbol())?;
                    }
                    write_set_operand(f, operand)?;
                }
                Ok(())
            }
        }
    }
}

fn write_set_operand(f: &mut Formatter<'_>, expr: &SetExpr) -> fmt::Result {
    if matches!(expr.kind, SetExprKind::Operation { .. }) {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(literal) => write!(f, "{literal}"),
            ExprKind::Today => f.write_str("today"),
            ExprKind::RelativeDate(duration) => write!(f, "{duration} ago"),
            ExprKind::Name(name) => write!(f, "{name}"),
            ExprKind::Column { table, column } => write!(f, "{table}.{column}"),
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => {
                f.write_str("not ")?;
                operand(f, expr)
            }
            ExprKind::Unary {
                op: UnaryOp::Neg,
                expr,
            } => {
                f.write_str("-")?;
                operand(f, expr)
            }
            ExprKind::Binary { op, left, right } => {
                operand(f, left)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, right)
            }
            ExprKind::IsNull { expr, negated } => {
                operand(f, expr)?;
                f.write_str(if *negated { " is not null" } else { " is null" })
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                operand(f, expr)?;
                f.write_str(not(*negated))?;
                f.write_str("between ")?;
                operand(f, low)?;
                f.write_str(" and ")?;
                operand(f, high)
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                operand(f, expr)?;
                f.write_str(not(*negated))?;
                f.write_str("in (")?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    operand(f, item)?;
                }
                f.write_str(")")
            }
            ExprKind::StringTest {
                op,
                expr,
                pattern,
                negated,
            } => {
                operand(f, expr)?;
                f.write_str(not(*negated))?;
                write!(f, "{} ", op.keyword())?;
                operand(f, pattern)
            }
            ExprKind::Within { expr, window } => {
                operand(f, expr)?;
                write!(f, " within {window}")
            }
            ExprKind::DateTest { op, expr, bound } => {
                operand(f, expr)?;
                f.write_str(match op {
                    DateTestOp::Before => " before ",
                    DateTestOp::After => " after ",
                })?;
                operand(f, bound)
            }
            ExprKind::Call { function, args } => {
                write!(f, "{function}(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
            ExprKind::Aggregate(aggregate) => write!(f, "{aggregate}"),
            ExprKind::Exists {
                negated,
                table,
                filter,
                window,
            } => {
                f.write_str(if *negated { "no " } else { "has " })?;
                write!(f, "{table}")?;
                write_clauses(f, filter.as_deref(), window.as_ref())
            }
        }
    }
}

impl Display for Aggregate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}", self.func.name(), self.table)?;
        if let Some(column) = &self.column {
            write!(f, ".{column}")?;
        }
        write_clauses(f, self.filter.as_deref(), self.window.as_ref())?;
        f.write_str(")")
    }
}

fn write_clauses(
    f: &mut Formatter<'_>,
    filter: Option<&Expr>,
    window: Option<&Duration>,
) -> fmt::Result {
    if let Some(filter) = filter {
        f.write_str(" where ")?;
        // A top-level `within` inside the filter would be read as the aggregate's window.
        if matches!(filter.kind, ExprKind::Within { .. }) {
            write!(f, "({filter})")?;
        } else {
            write!(f, "{filter}")?;
        }
    }
    if let Some(window) = window {
        write!(f, " within {window}")?;
    }
    Ok(())
}

/// Operands are parenthesised unless they are atoms, so the reading is never ambiguous.
fn operand(f: &mut Formatter<'_>, expr: &Expr) -> fmt::Result {
    let atomic = matches!(
        expr.kind,
        ExprKind::Literal(_)
            | ExprKind::Today
            | ExprKind::RelativeDate(_)
            | ExprKind::Name(_)
            | ExprKind::Column { .. }
            | ExprKind::Call { .. }
            | ExprKind::Aggregate(_)
    );
    let negative_literal = matches!(
        &expr.kind,
        ExprKind::Literal(Literal::Integer(i)) if *i < 0
    ) || matches!(&expr.kind, ExprKind::Literal(Literal::Decimal(d)) if d.starts_with('-'));
    if atomic && !negative_literal {
        write!(f, "{expr}")
    } else {
        write!(f, "({expr})")
    }
}

fn not(negated: bool) -> &'static str {
    if negated {
        " not "
    } else {
        " "
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Decimal(d) => f.write_str(d),
            Literal::String(s) => {
                f.write_char('\'')?;
                f.write_str(&s.replace('\'', "''"))?;
                f.write_char('\'')
            }
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
            Literal::Date(d) => write!(f, "{d}"),
        }
    }
}

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.name(self.amount))
    }
}
