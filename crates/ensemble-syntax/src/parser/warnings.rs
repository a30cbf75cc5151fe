//! Notes on input that parses but probably does not say what was meant.

use super::*;

/// A warning for `between` bounds written high first (`between 100 and 10` holds for no
/// value: SQL's `between` does not swap them).
pub(super) fn reversed_bounds(bounds: &[Expr], span: Span) -> Option<Diagnostic> {
    let [low, high] = bounds else {
        return None;
    };
    let literal = |e: &Expr| match &e.kind {
        ExprKind::Literal(literal) => Some(literal.clone()),
        _ => None,
    };
    let number = |l: &Literal| match l {
        Literal::Integer(n) => Some(*n as f64),
        Literal::Decimal(text) => text.parse::<f64>().ok(),
        _ => None,
    };
    let (low_value, high_value) = (literal(low)?, literal(high)?);
    let reversed = match (&low_value, &high_value) {
        (Literal::Date(a), Literal::Date(b)) => a > b,
        (a, b) => match (number(a), number(b)) {
            (Some(a), Some(b)) => a > b,
            _ => false,
        },
    };
    if !reversed {
        return None;
    }
    Some(
        Diagnostic::warning(
            format!("between {low} and {high} holds for no value: its bounds are reversed"),
            span,
        )
        .with_help(format!("write between {high} and {low}")),
    )
}
