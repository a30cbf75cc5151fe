//! Literal values, dates and small constructors of lowered expressions.

use super::*;

/// The number of days from 1970-01-01 to `date` (Arrow's Date32).
pub fn days_from_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    // Dates chrono can represent are within ±262 000 years: the day count fits an i32.
    (date - epoch).num_days() as i32
}

pub(super) fn date_value(date: NaiveDate) -> Lowered {
    Lowered {
        expr: lit(ScalarValue::Date32(Some(days_from_epoch(date)))),
        ty: ValueType::Date,
    }
}

pub(super) fn boolean(expr: Value) -> Lowered {
    Lowered {
        expr,
        ty: ValueType::Boolean,
    }
}

pub(super) fn literal_value(literal: &Literal, span: Span) -> Result<Lowered, CheckError> {
    Ok(match literal {
        Literal::Integer(i) => Lowered {
            expr: lit(*i),
            ty: ValueType::Integer,
        },
        Literal::Decimal(text) => Lowered {
            expr: lit(decimal_scalar(text).ok_or_else(|| {
                CheckError::new(
                    CheckErrorKind::Type,
                    format!("decimal {text} has more than 38 digits"),
                    span,
                )
            })?),
            ty: ValueType::Decimal,
        },
        Literal::String(s) => Lowered {
            expr: lit(s.clone()),
            ty: ValueType::String,
        },
        Literal::Boolean(b) => boolean(lit(*b)),
        Literal::Null => Lowered {
            expr: lit(ScalarValue::Null),
            ty: ValueType::Null,
        },
        Literal::Date(d) => date_value(*d),
    })
}

/// An exact decimal literal: `19.99` is Decimal128(4, 2) holding 1999.
pub(super) fn decimal_scalar(text: &str) -> Option<ScalarValue> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all: String = format!("{whole}{fraction}");
    let precision = u8::try_from(all.len()).ok().filter(|p| *p <= 38)?;
    let scale = i8::try_from(fraction.len()).ok()?;
    let mut value: i128 = all.parse().ok()?;
    if negative {
        value = -value;
    }
    Some(ScalarValue::Decimal128(
        Some(value),
        precision.max(1),
        scale,
    ))
}

/// The error of a check stopped by Ctrl-C.
pub(crate) fn cancelled(span: Span) -> CheckError {
    CheckError::new(CheckErrorKind::Cancelled, "cancelled", span)
}
