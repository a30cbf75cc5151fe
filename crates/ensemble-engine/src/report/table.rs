//! A report's tables: typed columns that become Arrow record batches for the library and the
//! exports, and an aligned text table (comfy-table) for the terminal.

use std::sync::Arc;

use chrono::NaiveDate;
use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, ContentArrangement, Table};
use datafusion::arrow::array::{ArrayRef, Date32Array, Float64Array, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

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
    /// Calendar dates.
    Date(Vec<NaiveDate>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Count(v) => v.len(),
            Values::Percent(v) => v.len(),
            Values::Number { values, .. } => values.len(),
            Values::Date(v) => v.len(),
        }
    }

    fn array(&self) -> (DataType, ArrayRef) {
        match self {
            Values::Text(v) => (DataType::Utf8, Arc::new(StringArray::from(v.clone()))),
            Values::Count(v) => (DataType::UInt64, Arc::new(UInt64Array::from(v.clone()))),
            Values::Percent(v) | Values::Number { values: v, .. } => {
                (DataType::Float64, Arc::new(Float64Array::from(v.clone())))
            }
            Values::Date(v) => (
                DataType::Date32,
                Arc::new(Date32Array::from_iter_values(v.iter().map(|d| {
                    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
                    (*d - epoch).num_days() as i32
                }))),
            ),
        }
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
            Values::Date(v) => v[row].to_string(),
        }
    }
}

/// A number with thousands separated by spaces, as counts are.
fn grouped_decimal(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = group_thousands(whole.parse::<usize>().unwrap_or(0));
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
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
                let (ty, array) = c.values.array();
                (Field::new(&c.name, ty, true), array)
            })
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
