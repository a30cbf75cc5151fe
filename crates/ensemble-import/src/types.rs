//! Column types of an import: inferred from the values, or given by the user.
//!
//! Inference rules beyond "the narrowest type that reads every value":
//! - a value with a leading zero followed by digits (`06511`, `007`) is a code, not a number:
//!   the column is text (dates such as `05/01/2025` with a format are still dates);
//! - with a decimal comma (`decimal_comma`), `12,50` reads as the decimal 12.50; without it, a
//!   column of such values stays text and gets a hint;
//! - a column with a date format and no type is a date, or a timestamp when the format has
//!   time fields, whatever its values: the values that do not match are bad rows.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use arrow::datatypes::{DataType, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};

/// The type of an imported column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Whole numbers (Int64).
    Integer,
    /// Exact decimals with this many digits after the point (Decimal128(38, scale)).
    Decimal(u8),
    /// Floating-point numbers.
    Float,
    /// `true`/`false` (also `yes`/`no`, `1`/`0` when given explicitly).
    Boolean,
    /// Calendar dates.
    Date,
    /// Date and time (microseconds).
    Timestamp,
    /// Text.
    String,
}

impl ColumnType {
    /// Integers, decimals and floats.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ColumnType::Integer | ColumnType::Decimal(_) | ColumnType::Float
        )
    }

    /// The Arrow type.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Integer => DataType::Int64,
            ColumnType::Decimal(scale) => DataType::Decimal128(38, scale as i8),
            ColumnType::Float => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnType::String => DataType::Utf8,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Integer => f.write_str("int"),
            ColumnType::Decimal(scale) => write!(f, "decimal({scale})"),
            ColumnType::Float => f.write_str("float"),
            ColumnType::Boolean => f.write_str("bool"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::String => f.write_str("string"),
        }
    }
}

impl FromStr for ColumnType {
    type Err = String;

    /// `int`, `float`, `decimal(2)`, `bool`, `date`, `timestamp`, `string`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "int" | "integer" | "bigint" => ColumnType::Integer,
            "float" | "double" => ColumnType::Float,
            "bool" | "boolean" => ColumnType::Boolean,
            "date" => ColumnType::Date,
            "timestamp" | "datetime" => ColumnType::Timestamp,
            "string" | "text" => ColumnType::String,
            "decimal" => ColumnType::Decimal(2),
            other => {
                let scale = other
                    .strip_prefix("decimal(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .and_then(|scale| scale.trim().parse::<u8>().ok())
                    .filter(|scale| *scale <= 18);
                match scale {
                    Some(scale) => ColumnType::Decimal(scale),
                    None => {
                        return Err(format!(
                            "unknown type '{text}' (int, float, decimal(SCALE), bool, date, timestamp, string)"
                        ))
                    }
                }
            }
        })
    }
}

/// How a column's values are read: its date format and the decimal separator.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reading {
    /// The date or timestamp format.
    pub date: DateFormat,
    /// `12,50` is 12.50.
    pub decimal_comma: bool,
}

impl Reading {
    /// The value as a number is written with a point: `12,50` becomes `12.50` with a decimal
    /// comma (a value with both a comma and a point, or two commas, is left as is and does not
    /// parse).
    pub fn numeric<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.decimal_comma && text.matches(',').count() == 1 && !text.contains('.') {
            Cow::Owned(text.replace(',', "."))
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// Whether `text` is a code with a leading zero (`06511`, `-007`), which is kept as text.
pub fn has_leading_zero(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit()
}

/// Whether `text` looks like a number with a decimal comma (`12,50`, `-3,5`).
pub fn looks_like_decimal_comma(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    match digits.split_once(',') {
        Some((whole, fraction)) => {
            !whole.is_empty()
                && !fraction.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The type a date format gives a column without a type: a timestamp when the format has
/// time fields, else a date.
pub fn format_type(format: &str) -> ColumnType {
    const TIME_FIELDS: [&str; 13] = [
        "%H", "%k", "%I", "%l", "%M", "%S", "%f", "%.f", "%T", "%R", "%X", "%r", "%s",
    ];
    if TIME_FIELDS.iter().any(|field| format.contains(field)) || format.contains("%c") {
        ColumnType::Timestamp
    } else {
        ColumnType::Date
    }
}

/// How to read dates and timestamps of one column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DateFormat(pub Option<String>);

const DATE_FORMATS: [&str; 1] = ["%Y-%m-%d"];
const TIMESTAMP_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
];

/// Parses a date with the column's format (ISO by default).
pub fn parse_date(text: &str, format: &DateFormat) -> Option<NaiveDate> {
    match &format.0 {
        Some(f) => NaiveDate::parse_from_str(text, f).ok(),
        None => DATE_FORMATS
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(text, f).ok()),
    }
}

/// Parses a timestamp with the column's format (ISO by default; a bare date is midnight).
pub fn parse_timestamp(text: &str, format: &DateFormat) -> Option<NaiveDateTime> {
    match &format.0 {
        Some(f) => NaiveDateTime::parse_from_str(text, f).ok().or_else(|| {
            NaiveDate::parse_from_str(text, f)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        }),
        None => TIMESTAMP_FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok()),
    }
}

/// Parses an exact decimal into its unscaled value at `scale` (`None` if it does not fit or
/// has more fractional digits than the scale).
pub fn parse_decimal(text: &str, scale: u8) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > scale as usize
    {
        return None;
    }
    let padded = format!("{whole}{fraction:0<width$}", width = scale as usize);
    let value: i128 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    if value >= 10i128.pow(38) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Parses a boolean.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// The narrowest type that reads every value of a column (empty values are nulls).
#[derive(Debug, Clone)]
pub struct Inference {
    integer: bool,
    decimal_scale: Option<u8>,
    float: bool,
    boolean: bool,
    date: bool,
    timestamp: bool,
    seen: bool,
    decimal_comma_like: bool,
    comma_seen: bool,
}

impl Default for Inference {
    fn default() -> Self {
        Inference {
            integer: true,
            decimal_scale: Some(0),
            float: true,
            boolean: true,
            date: true,
            timestamp: true,
            seen: false,
            decimal_comma_like: true,
            comma_seen: false,
        }
    }
}

impl Inference {
    /// Takes one non-empty value into account.
    pub fn observe(&mut self, text: &str, reading: &Reading) {
        self.seen = true;
        let comma = looks_like_decimal_comma(text);
        self.comma_seen |= comma;
        if reading.decimal_comma || !comma && text.parse::<i64>().is_err() {
            self.decimal_comma_like = false;
        }
        let format = &reading.date;
        if has_leading_zero(text) {
            (self.integer, self.decimal_scale, self.float) = (false, None, false);
        }
        let text: &str = &reading.numeric(text);
        if self.integer && text.parse::<i64>().is_err() {
            self.integer = false;
        }
        if let Some(scale) = self.decimal_scale {
            let fraction = text.split_once('.').map_or(0, |(_, f)| f.len());
            self.decimal_scale = (fraction <= 18 && parse_decimal(text, fraction as u8).is_some())
                .then(|| scale.max(fraction as u8));
        }
        if self.float && text.parse::<f64>().is_err() {
            self.float = false;
        }
        if self.boolean && !matches!(text.to_ascii_lowercase().as_str(), "true" | "false") {
            self.boolean = false;
        }
        if self.date && parse_date(text, format).is_none() {
            self.date = false;
        }
        if self.timestamp && parse_timestamp(text, format).is_none() {
            self.timestamp = false;
        }
    }

    /// Whether the column is text whose values look like numbers with a decimal comma: worth
    /// a hint about `--decimal-comma`.
    pub fn needs_decimal_comma(&self) -> bool {
        self.comma_seen && self.decimal_comma_like && self.result() == ColumnType::String
    }

    /// The inferred type: integers, then exact decimals (money), then floats, booleans,
    /// dates, timestamps, and text for anything else (or a column with no value).
    pub fn result(&self) -> ColumnType {
        if !self.seen {
            return ColumnType::String;
        }
        if self.integer {
            ColumnType::Integer
        } else if let Some(scale) = self.decimal_scale {
            ColumnType::Decimal(scale)
        } else if self.float {
            ColumnType::Float
        } else if self.boolean {
            ColumnType::Boolean
        } else if self.date {
            ColumnType::Date
        } else if self.timestamp {
            ColumnType::Timestamp
        } else {
            ColumnType::String
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[&str]) -> ColumnType {
        let mut inference = Inference::default();
        for v in values {
            inference.observe(v, &Reading::default());
        }
        inference.result()
    }

    #[test]
    fn codes_with_leading_zeros_stay_text() {
        assert_eq!(infer(&["06511", "75001"]), ColumnType::String);
        assert_eq!(infer(&["007"]), ColumnType::String);
        assert_eq!(infer(&["0", "0.5", "10"]), ColumnType::Decimal(1));
        let mut dates = Inference::default();
        let reading = Reading {
            date: DateFormat(Some("%d/%m/%Y".into())),
            decimal_comma: false,
        };
        dates.observe("05/01/2025", &reading);
        assert_eq!(dates.result(), ColumnType::Date);
    }

    #[test]
    fn decimal_commas_read_with_the_option_and_hint_without() {
        let comma = Reading {
            date: DateFormat::default(),
            decimal_comma: true,
        };
        let mut inference = Inference::default();
        for v in ["12,50", "3", "-0,5"] {
            inference.observe(v, &comma);
        }
        assert_eq!(inference.result(), ColumnType::Decimal(2));
        let mut plain = Inference::default();
        for v in ["12,50", "3"] {
            plain.observe(v, &Reading::default());
        }
        assert_eq!(plain.result(), ColumnType::String);
        assert!(plain.needs_decimal_comma());
        assert!(!Inference::default().needs_decimal_comma());
    }

    #[test]
    fn a_format_with_time_fields_is_a_timestamp() {
        assert_eq!(format_type("%d/%m/%Y"), ColumnType::Date);
        assert_eq!(format_type("%d/%m/%Y %H:%M"), ColumnType::Timestamp);
    }

    #[test]
    fn inference_picks_the_narrowest_type() {
        assert_eq!(infer(&["1", "-2", "30"]), ColumnType::Integer);
        assert_eq!(infer(&["19.99", "5", "0.5"]), ColumnType::Decimal(2));
        assert_eq!(infer(&["1e3", "2.5"]), ColumnType::Float);
        assert_eq!(infer(&["true", "FALSE"]), ColumnType::Boolean);
        assert_eq!(infer(&["2026-01-31", "2025-12-01"]), ColumnType::Date);
        assert_eq!(
            infer(&["2026-01-31 10:00:00", "2026-01-31T11:30:00"]),
            ColumnType::Timestamp
        );
        assert_eq!(infer(&["Paris", "12"]), ColumnType::String);
        assert_eq!(infer(&[]), ColumnType::String);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("19.99", 2), Some(1999));
        assert_eq!(parse_decimal("-0.5", 2), Some(-50));
        assert_eq!(parse_decimal("7", 2), Some(700));
        assert_eq!(parse_decimal("1.234", 2), None);
        assert_eq!(parse_decimal("abc", 2), None);
        assert_eq!(parse_decimal(".", 2), None);
    }

    #[test]
    fn types_are_named_as_the_user_writes_them() {
        assert_eq!(
            "decimal(3)".parse::<ColumnType>(),
            Ok(ColumnType::Decimal(3))
        );
        assert_eq!("DATE".parse::<ColumnType>(), Ok(ColumnType::Date));
        assert!("money".parse::<ColumnType>().is_err());
    }
}
