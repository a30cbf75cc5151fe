//! The one way ensemble reads a date given as text: in scripts (`as of 2026-06-30`), on the
//! command line (`--as-of`), in the REPL (`\asof`), from Python, from the server's table
//! functions and in the catalog (`as_of`).

use chrono::NaiveDate;

/// How to write a date, for every message that refuses one.
pub const DATE_HELP: &str = "write dates as 2025-01-01";

/// A text that is not a date written `YYYY-MM-DD`, or a day that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{}' is not a date: {DATE_HELP}", crate::visible::visible(text))]
pub struct DateError {
    /// The text, as given.
    pub text: String,
}

/// Reads a date written `YYYY-MM-DD` (four, two and two ASCII digits, as the language's date
/// literals), surrounding whitespace ignored; `2026-02-30` and `2026-1-5` are refused.
pub fn parse_date(text: &str) -> Result<NaiveDate, DateError> {
    let refuse = || DateError {
        text: text.to_string(),
    };
    let bytes = text.trim().as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(refuse());
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u32, |n, digit| n * 10 + u32::from(digit - b'0'))
    };
    let year = i32::try_from(number(0..4)).map_err(|_| refuse())?;
    NaiveDate::from_ymd_opt(year, number(5..7), number(8..10)).ok_or_else(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_year_month_day() {
        let date = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        assert_eq!(parse_date("2025-01-01"), Ok(date));
        assert_eq!(parse_date("  2025-01-01\n"), Ok(date));
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        for text in [
            "",
            "2025-1-1",
            "2025-02-30",
            "2025-13-01",
            "01/02/2025",
            "+2025-01-01",
            "2025-01-01T00:00",
            "20250101",
            "２０２５-01-01",
            "2025-01-0١",
            "today",
        ] {
            let error = parse_date(text).unwrap_err();
            assert_eq!(error.text, text);
            assert!(
                error
                    .to_string()
                    .ends_with("is not a date: write dates as 2025-01-01"),
                "{error}"
            );
        }
        // Control characters are shown as pictures, never raw.
        assert_eq!(
            parse_date("\u{1b}[2J").unwrap_err().to_string(),
            "'\u{241b}[2J' is not a date: write dates as 2025-01-01"
        );
    }
}
