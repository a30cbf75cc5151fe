//! The value types of the language, as the checker sees them.

use std::fmt;

use datafusion::arrow::datatypes::DataType;

/// The type of a value in a criterion or field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `true` / `false`.
    Boolean,
    /// Whole numbers.
    Integer,
    /// Exact decimals (money).
    Decimal,
    /// Floating-point numbers.
    Float,
    /// Text.
    String,
    /// Calendar dates; timestamps are read as their date (calendar-day semantics).
    Date,
    /// `null`: fits anywhere.
    Null,
}

impl ValueType {
    /// The language type of an Arrow type, `None` when the language cannot use it.
    pub fn of_arrow(data_type: &DataType) -> Option<ValueType> {
        Some(match data_type {
            DataType::Boolean => ValueType::Boolean,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => ValueType::Integer,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => ValueType::Float,
            DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => ValueType::Decimal,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ValueType::String,
            DataType::Dictionary(_, value) => return ValueType::of_arrow(value),
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => ValueType::Date,
            DataType::Null => ValueType::Null,
            _ => return None,
        })
    }

    /// Whether the type is a number.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ValueType::Integer | ValueType::Decimal | ValueType::Float
        )
    }

    /// Whether values of the two types can be compared (`=`, `<`, `between`, `in`…).
    pub fn comparable_with(self, other: ValueType) -> bool {
        self == ValueType::Null
            || other == ValueType::Null
            || self == other
            || (self.is_numeric() && other.is_numeric())
    }

    /// The type of a value mixing `self` and `other` (`greatest`, `coalesce`, arithmetic):
    /// `None` when they do not mix.
    pub fn unify(self, other: ValueType) -> Option<ValueType> {
        use ValueType::*;
        Some(match (self, other) {
            (Null, t) | (t, Null) => t,
            (a, b) if a == b => a,
            (Float, b) | (b, Float) if b.is_numeric() => Float,
            (Decimal, b) | (b, Decimal) if b.is_numeric() => Decimal,
            _ => return None,
        })
    }

    /// How the type is named in messages (`date`, `string`…).
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Boolean => "boolean",
            ValueType::Integer => "integer",
            ValueType::Decimal => "decimal",
            ValueType::Float => "number",
            ValueType::String => "string",
            ValueType::Date => "date",
            ValueType::Null => "null",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_types_map_to_language_types() {
        use datafusion::arrow::datatypes::TimeUnit;
        assert_eq!(
            ValueType::of_arrow(&DataType::Timestamp(TimeUnit::Microsecond, None)),
            Some(ValueType::Date)
        );
        assert_eq!(
            ValueType::of_arrow(&DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(DataType::Utf8)
            )),
            Some(ValueType::String)
        );
        assert_eq!(ValueType::of_arrow(&DataType::Binary), None);
    }

    #[test]
    fn numbers_mix_dates_do_not_mix_with_strings() {
        assert!(ValueType::Integer.comparable_with(ValueType::Decimal));
        assert!(!ValueType::Date.comparable_with(ValueType::String));
        assert_eq!(
            ValueType::Integer.unify(ValueType::Decimal),
            Some(ValueType::Decimal)
        );
        assert_eq!(ValueType::Date.unify(ValueType::Integer), None);
    }
}
