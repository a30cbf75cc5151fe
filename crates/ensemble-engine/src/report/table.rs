//! A report's tables: typed columns that become Arrow record batches for the library and the
//! exports, and an aligned text table (comfy-table) for the terminal.

use std::sync::Arc;

use chrono::NaiveDate;
use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, ContentArrangement, Table};
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Float64Array, StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::amount::{Amount, MAX_DIGITS};
use crate::error::EngineError;
use crate::steps::group_thousands;

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Names: sets, tiers, combinations.
    Text(Vec<String>),
    /// Member counts.
    Count(Vec<u64>),
    /// Percentages, 0 to 100 (`None`: not defined, such as a share of nothing).
    Percent(Vec<Option<f64>>),
    /// Other quantities (money, averages, indices), shown with `decimals` decimals.
    Number {
        /// The values.
        values: Vec<Option<f64>>,
        /// Decimals shown in the terminal (exports keep every digit).
        decimals: usize,
    },
    /// Exact quantities (sums of money, averages of it): unscaled values at `scale`, an Arrow
    /// `Decimal128(38, scale)` column, so that exports, SQL clients and Arrow readers get
    /// every digit as a decimal.
    Decimal {
        /// The unscaled values (`2396089899` at scale 2 is `23960898.99`).
        values: Vec<Option<i128>>,
        /// Digits after the decimal point.
        scale: i8,
        /// Decimals shown in the terminal, rounded half away from zero (exports keep every
        /// digit).
        decimals: usize,
    },
    /// Calendar dates.
    Date(Vec<NaiveDate>),
}

impl Values {
    /// Amounts (sums or averages): a [`Values::Decimal`] column at `scale` when `scale` is
    /// given and every amount is exact at that scale, else [`Values::Number`] floats.
    pub fn amounts(values: Vec<Option<Amount>>, scale: Option<i8>, decimals: usize) -> Values {
        let exact: Option<Vec<Option<i128>>> = scale.and_then(|scale| {
            values
                .iter()
                .map(|value| match value {
                    None => Some(None),
                    Some(Amount::Exact { units, scale: s }) if *s == scale => Some(Some(*units)),
                    Some(_) => None,
                })
                .collect()
        });
        match (exact, scale) {
            (Some(values), Some(scale)) => Values::Decimal {
                values,
                scale,
                decimals,
            },
            _ => Values::Number {
                values: values.iter().map(|v| v.map(Amount::to_f64)).collect(),
                decimals,
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Count(v) => v.len(),
            Values::Percent(v) => v.len(),
            Values::Number { values, .. } => values.len(),
            Values::Decimal { values, .. } => values.len(),
            Values::Date(v) => v.len(),
        }
    }

    fn array(&self) -> Result<(DataType, ArrayRef), datafusion::arrow::error::ArrowError> {
        Ok(match self {
            Values::Text(v) => (DataType::Utf8, Arc::new(StringArray::from(v.clone()))),
            Values::Count(v) => (DataType::UInt64, Arc::new(UInt64Array::from(v.clone()))),
            Values::Percent(v) | Values::Number { values: v, .. } => {
                (DataType::Float64, Arc::new(Float64Array::from(v.clone())))
            }
            Values::Decimal { values, scale, .. } => {
                let array = Decimal128Array::from(values.clone())
                    .with_precision_and_scale(MAX_DIGITS, *scale)?;
                array.validate_decimal_precision(MAX_DIGITS)?;
                (array.data_type().clone(), Arc::new(array))
            }
            Values::Date(v) => (
                DataType::Date32,
                Arc::new(Date32Array::from_iter_values(
                    v.iter()
                        .map(|d| (*d - NaiveDate::default()).num_days() as i32),
                )),
            ),
        })
    }

    fn cell(&self, row: usize) -> String {
        let number = |value: Option<f64>, decimals: usize| match value {
            None => "—".to_string(),
            Some(v) => grouped_decimal(v, decimals),
        };
        match self {
            Values::Text(v) => v[row].clone(),
            Values::Count(v) => group_thousands(v[row] as usize),
            Values::Percent(v) => match v[row] {
                None => "—".to_string(),
                Some(p) => format!("{p:.1} %"),
            },
            Values::Number { values, decimals } => number(values[row], *decimals),
            Values::Decimal {
                values,
                scale,
                decimals,
            } => match values[row] {
                None => "—".to_string(),
                Some(units) => group_text(
                    &Amount::Exact {
                        units,
                        scale: *scale,
                    }
                    .rounded(*decimals),
                ),
            },
            Values::Date(v) => v[row].to_string(),
        }
    }
}

/// A number with thousands separated by spaces, as counts are.
fn grouped_decimal(value: f64, decimals: usize) -> String {
    group_text(&format!("{value:.decimals$}"))
}

/// A number's text (`-1234567.89`) with its thousands separated by spaces, and no sign
/// before a zero (`-0.0` is `0.0`).
fn group_text(text: &str) -> String {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let sign = if negative && digits.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// One named column of a report table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name (`members`, `share_pct`…), as exports and SQL see it.
    pub name: String,
    /// Its values.
    pub values: Values,
}

impl Column {
    /// A column named `name`.
    pub fn new(name: impl Into<String>, values: Values) -> Column {
        Column {
            name: name.into(),
            values,
        }
    }
}

/// One table of a report (an overlap has three: counts, pairs and combinations).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTable {
    /// What the table holds (`pairs`, `combinations`, `kpi`…), the suffix of its exports.
    pub name: String,
    /// Its columns, all of the same length.
    pub columns: Vec<Column>,
}

impl ReportTable {
    /// A table named `name`.
    pub fn new(name: impl Into<String>, columns: Vec<Column>) -> ReportTable {
        ReportTable {
            name: name.into(),
            columns,
        }
    }

    /// Rows in the table.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Values> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.values)
    }

    /// The table as one Arrow record batch.
    pub fn batch(&self) -> Result<RecordBatch, EngineError> {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = self
            .columns
            .iter()
            .map(|c| {
                let (ty, array) = c.values.array().map_err(|e| {
                    EngineError::execution(format!("the {} table", self.name), e.into())
                })?;
                Ok((Field::new(&c.name, ty, true), array))
            })
            .collect::<Result<Vec<_>, EngineError>>()?
            .into_iter()
            .unzip();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| EngineError::execution(format!("the {} table", self.name), e.into()))
    }

    /// The table as aligned text: names left, numbers right, thousands separated.
    pub fn render(&self) -> String {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(self.columns.iter().map(|c| c.name.as_str()));
        for row in 0..self.rows() {
            table.add_row(self.columns.iter().map(|c| c.values.cell(row)));
        }
        for (i, column) in self.columns.iter().enumerate() {
            let alignment = match column.values {
                Values::Text(_) | Values::Date(_) => CellAlignment::Left,
                _ => CellAlignment::Right,
            };
            if let Some(column) = table.column_mut(i) {
                column.set_cell_alignment(alignment);
            }
        }
        table.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(grouped_decimal(1234567.891, 2), "1 234 567.89");
        assert_eq!(grouped_decimal(-0.001, 1), "0.0");
        assert_eq!(grouped_decimal(-1500.0, 0), "-1 500");
        assert_eq!(grouped_decimal(0.5, 3), "0.500");
        assert_eq!(group_text("-23960898.99"), "-23 960 898.99");
        assert_eq!(
            group_text("123456789012345678901234567890"),
            "123 456 789 012 345 678 901 234 567 890"
        );
    }

    #[test]
    fn exact_amounts_become_decimal_columns() {
        let exact = |units| Some(Amount::Exact { units, scale: 2 });
        let values = Values::amounts(vec![exact(2_396_089_899), None], Some(2), 0);
        let table = ReportTable::new("kpi", vec![Column::new("revenue_12m", values)]);
        let batch = table.batch().unwrap();
        assert_eq!(
            batch.schema().field(0).data_type(),
            &DataType::Decimal128(38, 2)
        );
        let text = datafusion::arrow::util::display::array_value_to_string(batch.column(0), 0);
        assert_eq!(text.unwrap(), "23960898.99");
        assert!(table.render().contains("23 960 899"), "{}", table.render());
        // A float among them, or no scale: floats.
        let mixed = Values::amounts(vec![exact(1), Some(Amount::Float(0.5))], Some(2), 0);
        assert!(matches!(mixed, Values::Number { .. }));
    }

    #[test]
    fn a_table_renders_and_becomes_a_batch() {
        let table = ReportTable::new(
            "kpi",
            vec![
                Column::new("set", Values::Text(vec!["vip".into(), "bons".into()])),
                Column::new("members", Values::Count(vec![12_345, 7])),
                Column::new("share_pct", Values::Percent(vec![Some(61.25), None])),
            ],
        );
        let batch = table.batch().unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema().field(2).data_type(), &DataType::Float64);
        insta::assert_snapshot!(table.render());
    }
}
