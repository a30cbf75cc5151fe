//! Exact amounts: sums of whole-number and decimal measures kept as integers at the column's
//! scale (`Decimal128`), averages of them rounded once at a stated scale, and floats for the
//! rest.

use std::fmt;

/// Most digits of an amount: Arrow's `Decimal128`, SQL's `DECIMAL(38, s)`.
pub const MAX_DIGITS: u8 = 38;

/// Digits an average of a decimal keeps beyond the decimal's own scale (as SQL's `AVG` of a
/// `DECIMAL(p, s)`, which answers `DECIMAL(p + 4, s + 4)`), capped at [`MAX_DIGITS`].
pub const AVERAGE_EXTRA_SCALE: i8 = 4;

/// The largest magnitude of a 38-digit decimal's unscaled value.
const MAX_UNITS: i128 = 10_i128.pow(MAX_DIGITS as u32) - 1;

/// A sum or an average of a measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    /// Exactly `units × 10^-scale`: a sum of decimals at their scale, a sum of whole numbers
    /// (scale 0), or an average of decimals rounded at its scale.
    Exact {
        /// The unscaled value.
        units: i128,
        /// Digits after the decimal point (0 to 38).
        scale: i8,
    },
    /// A floating-point value: a measure that is a float.
    Float(f64),
}

impl Amount {
    /// Zero at `scale`.
    pub fn zero(scale: i8) -> Amount {
        Amount::Exact { units: 0, scale }
    }

    /// The amount as a float, for ratios and charts.
    pub fn to_f64(self) -> f64 {
        match self {
            Amount::Exact { units, scale } => units as f64 / 10_f64.powi(i32::from(scale)),
            Amount::Float(value) => value,
        }
    }

    /// `self + other`: exact when both are exact at the same scale (`None` past 38 digits).
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        match (self, other) {
            (Amount::Exact { units: a, scale }, Amount::Exact { units: b, scale: s })
                if scale == s =>
            {
                let units = a.checked_add(b).filter(|u| u.abs() <= MAX_UNITS)?;
                Some(Amount::Exact { units, scale })
            }
            (a, b) => Some(Amount::Float(a.to_f64() + b.to_f64())),
        }
    }

    /// `self / count`: an exact amount at scale `s` becomes an exact average at scale
    /// `min(s + 4, 38)`, rounded half away from zero; a float is divided. `None` for a count
    /// of zero, or when the average does not fit 38 digits.
    pub fn mean(self, count: u64) -> Option<Amount> {
        if count == 0 {
            return None;
        }
        match self {
            Amount::Exact { units, scale } => {
                let target = average_scale(scale);
                let factor = 10_i128.checked_pow((target - scale) as u32)?;
                let units = divide_rounded(units.checked_mul(factor)?, i128::from(count));
                (units.abs() <= MAX_UNITS).then_some(Amount::Exact {
                    units,
                    scale: target,
                })
            }
            Amount::Float(value) => Some(Amount::Float(value / count as f64)),
        }
    }

    /// The value rounded half away from zero to `decimals` digits, as text without grouping
    /// (`-1234.5`); exact amounts are rounded in decimal, never through a float.
    pub fn rounded(self, decimals: usize) -> String {
        match self {
            Amount::Exact { units, scale } => {
                let scale = usize::try_from(scale).unwrap_or(0);
                if decimals >= scale {
                    let mut text = exact_text(units, scale);
                    if decimals > 0 {
                        if scale == 0 {
                            text.push('.');
                        }
                        text.extend(std::iter::repeat_n('0', decimals - scale));
                    }
                    text
                } else {
                    let drop = u32::try_from(scale - decimals).unwrap_or(0);
                    let units = 10_i128
                        .checked_pow(drop)
                        .map_or(0, |divisor| divide_rounded(units, divisor));
                    exact_text(units, decimals)
                }
            }
            Amount::Float(value) => format!("{value:.decimals$}"),
        }
    }
}

impl fmt::Display for Amount {
    /// Every digit: `23960898.99` for an exact amount, Rust's shortest text for a float.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Exact { units, scale } => {
                let scale = usize::try_from(*scale).unwrap_or(0);
                f.write_str(&exact_text(*units, scale))
            }
            Amount::Float(value) => write!(f, "{value}"),
        }
    }
}

/// The scale of an average of decimals at `scale`.
pub fn average_scale(scale: i8) -> i8 {
    scale
        .saturating_add(AVERAGE_EXTRA_SCALE)
        .min(MAX_DIGITS as i8)
}

/// `units / divisor` rounded half away from zero (`divisor > 0`).
fn divide_rounded(units: i128, divisor: i128) -> i128 {
    let quotient = units / divisor;
    let remainder = units % divisor;
    // |remainder| ≥ divisor - |remainder| ⇔ the remainder is at least half the divisor.
    if remainder.unsigned_abs() >= (divisor - remainder.abs()).unsigned_abs() {
        quotient + units.signum()
    } else {
        quotient
    }
}

/// `units × 10^-scale` as text: `-0.05`, `1234`.
fn exact_text(units: i128, scale: usize) -> String {
    let digits = units.unsigned_abs().to_string();
    let sign = if units < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(units: i128, scale: i8) -> Amount {
        Amount::Exact { units, scale }
    }

    #[test]
    fn exact_amounts_print_every_digit() {
        assert_eq!(exact(2_396_089_899, 2).to_string(), "23960898.99");
        assert_eq!(exact(-5, 2).to_string(), "-0.05");
        assert_eq!(exact(1234, 0).to_string(), "1234");
        assert_eq!(Amount::Float(0.5).to_string(), "0.5");
    }

    #[test]
    fn sums_are_exact_and_overflow_is_none() {
        let sum = exact(10, 2).checked_add(exact(20, 2)).unwrap();
        assert_eq!(sum, exact(30, 2));
        assert_eq!(exact(MAX_UNITS, 0).checked_add(exact(1, 0)), None);
        assert_eq!(exact(i128::MAX, 0).checked_add(exact(1, 0)), None);
    }

    #[test]
    fn averages_are_rounded_once_half_away_from_zero() {
        // 10.00 / 3 = 3.333333… → 3.333333 at scale 6.
        assert_eq!(exact(1000, 2).mean(3), Some(exact(3_333_333, 6)));
        // 0.02 / 3 = 0.0066666… → 0.006667.
        assert_eq!(exact(2, 2).mean(3), Some(exact(6667, 6)));
        assert_eq!(exact(-2, 2).mean(3), Some(exact(-6667, 6)));
        // 1 / 20000 = 0.00005: exactly half a unit at scale 4, rounded away from zero.
        assert_eq!(exact(1, 0).mean(20_000), Some(exact(1, 4)));
        assert_eq!(exact(-1, 0).mean(20_000), Some(exact(-1, 4)));
        assert_eq!(exact(1, 0).mean(20_001), Some(exact(0, 4)));
        assert_eq!(exact(1, 2).mean(0), None);
        assert_eq!(exact(MAX_UNITS, 2).mean(1), None);
        assert_eq!(exact(7, 36).mean(1), Some(exact(700, 38)));
    }

    #[test]
    fn rounding_for_display_stays_decimal() {
        assert_eq!(exact(2_396_089_899, 2).rounded(0), "23960899");
        assert_eq!(exact(-250, 2).rounded(0), "-3");
        assert_eq!(exact(5, 0).rounded(2), "5.00");
        assert_eq!(exact(5281, 2).rounded(3), "52.810");
        assert_eq!(Amount::Float(1.26).rounded(1), "1.3");
    }
}
