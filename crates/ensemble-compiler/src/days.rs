//! Calendar-day tests on time columns without converting every row: for a timestamp column,
//! "the date of `t` is on or before D" is "`t` is before the first instant of D + 1", which
//! compares the raw values (and lets Parquet statistics prune row groups). Only timestamps
//! without a time zone or in UTC take this path — their calendar day is the UTC one, as for
//! a cast — every other type is cast to a date as before.

use chrono::{Days, NaiveDate};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;

/// The first instant of the day after `date`, in the type of a timestamp column (naive or
/// UTC); `None` for any other type, or a date beyond the unit's range.
pub(crate) fn start_of_next_day(data_type: &DataType, date: NaiveDate) -> Option<ScalarValue> {
    let DataType::Timestamp(unit, zone) = data_type else {
        return None;
    };
    if !zone
        .as_deref()
        .is_none_or(|z| matches!(z, "UTC" | "+00:00" | "Z"))
    {
        return None;
    }
    let instant = date
        .checked_add_days(Days::new(1))?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    let zone = zone.clone();
    Some(match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(instant.timestamp()), zone),
        TimeUnit::Millisecond => {
            ScalarValue::TimestampMillisecond(Some(instant.timestamp_millis()), zone)
        }
        TimeUnit::Microsecond => {
            ScalarValue::TimestampMicrosecond(Some(instant.timestamp_micros()), zone)
        }
        TimeUnit::Nanosecond => {
            ScalarValue::TimestampNanosecond(Some(instant.timestamp_nanos_opt()?), zone)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_after_in_the_columns_unit() {
        let date = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let micros = DataType::Timestamp(TimeUnit::Microsecond, None);
        assert_eq!(
            start_of_next_day(&micros, date),
            Some(ScalarValue::TimestampMicrosecond(
                Some(1_782_864_000_000_000),
                None
            ))
        );
        let seconds = DataType::Timestamp(TimeUnit::Second, Some("UTC".into()));
        assert_eq!(
            start_of_next_day(&seconds, date),
            Some(ScalarValue::TimestampSecond(
                Some(1_782_864_000),
                Some("UTC".into())
            ))
        );
        let paris = DataType::Timestamp(TimeUnit::Second, Some("Europe/Paris".into()));
        assert_eq!(start_of_next_day(&paris, date), None);
        assert_eq!(start_of_next_day(&DataType::Date32, date), None);
    }
}
