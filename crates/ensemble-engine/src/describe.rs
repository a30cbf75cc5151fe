//! What the catalog's tables hold: row counts, column types, null shares, ranges of dates —
//! the things to look at before segmenting.

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::datasource::provider_as_source;
use datafusion::functions_aggregate::expr_fn::{count, max, min};
use datafusion::logical_expr::{ident, lit, LogicalPlanBuilder};

use crate::error::EngineError;
use crate::session::Session;

/// One table of the catalog.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// Its name.
    pub name: String,
    /// `universe`, `related` (aggregatable per member) or `lookup`.
    pub role: &'static str,
    /// Where its files are.
    pub location: String,
    /// Number of columns.
    pub columns: usize,
}

/// One column of a described table.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    /// Its name.
    pub name: String,
    /// Its Arrow type.
    pub data_type: String,
    /// Share of null values, between 0 and 1.
    pub null_share: f64,
    /// Smallest value (dates, timestamps and numbers).
    pub min: Option<String>,
    /// Largest value (dates, timestamps and numbers).
    pub max: Option<String>,
}

/// A described table.
#[derive(Debug, Clone)]
pub struct TableDescription {
    /// Its name.
    pub name: String,
    /// Number of rows.
    pub rows: u64,
    /// Its columns.
    pub columns: Vec<ColumnInfo>,
}

impl Session {
    /// The catalog's tables.
    pub fn tables(&self) -> Vec<TableInfo> {
        let catalog = self.catalog();
        catalog
            .locations
            .iter()
            .map(|(name, location)| {
                let schema = &catalog.schema;
                let (role, columns) = if *name == schema.universe.table {
                    ("universe", schema.universe.schema.fields().len())
                } else {
                    let related = &schema.related[name];
                    let role = if related.key.is_some() {
                        "related"
                    } else {
                        "lookup"
                    };
                    (role, related.schema.fields().len())
                };
                TableInfo {
                    name: name.clone(),
                    role,
                    location: location.display().to_string(),
                    columns,
                }
            })
            .collect()
    }

    /// Counts rows and nulls of every column, and the range of dates and numbers, in one scan.
    pub async fn describe(&self, table: &str) -> Result<TableDescription, EngineError> {
        let Some(provider) = self.catalog().providers.get(table) else {
            let names = self.catalog().providers.keys().map(String::as_str);
            return Err(EngineError::UnknownStep {
                name: table.to_string(),
                suggestion: ensemble_syntax::suggest(table, names),
            });
        };
        let schema = provider.schema();
        let ranged = |t: &DataType| {
            matches!(
                t,
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
            ) || t.is_numeric()
        };
        let mut aggregates = vec![count(lit(1i64)).alias("__rows")];
        for (i, field) in schema.fields().iter().enumerate() {
            aggregates.push(count(ident(field.name())).alias(format!("__count_{i}")));
            if ranged(field.data_type()) {
                aggregates.push(min(ident(field.name())).alias(format!("__min_{i}")));
                aggregates.push(max(ident(field.name())).alias(format!("__max_{i}")));
            }
        }
        let plan = LogicalPlanBuilder::scan(table, provider_as_source(provider.clone()), None)
            .and_then(|b| b.aggregate(Vec::<datafusion::logical_expr::Expr>::new(), aggregates))
            .and_then(|b| b.build())
            .map_err(|e| EngineError::execution(format!("describing {table}"), e))?;
        let frame = self
            .context()
            .execute_logical_plan(plan)
            .await
            .map_err(|e| EngineError::execution(format!("describing {table}"), e))?;
        let batches = frame
            .collect()
            .await
            .map_err(|e| EngineError::execution(format!("describing {table}"), e))?;
        let batch = batches.iter().find(|b| b.num_rows() > 0).ok_or_else(|| {
            EngineError::execution(
                table,
                datafusion::error::DataFusionError::Plan("no result".into()),
            )
        })?;
        let value = |name: &str| -> Option<ArrayRef> { batch.column_by_name(name).cloned() };
        let as_u64 = |array: Option<ArrayRef>| -> u64 {
            array
                .and_then(|a| array_value_to_string(&a, 0).ok())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        };
        let text = |array: Option<ArrayRef>| -> Option<String> {
            array
                .filter(|a| a.is_valid(0))
                .and_then(|a| array_value_to_string(&a, 0).ok())
        };
        let rows = as_u64(value("__rows"));
        let columns = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let non_null = as_u64(value(&format!("__count_{i}")));
                ColumnInfo {
                    name: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    null_share: if rows == 0 {
                        0.0
                    } else {
                        (rows - non_null.min(rows)) as f64 / rows as f64
                    },
                    min: text(value(&format!("__min_{i}"))),
                    max: text(value(&format!("__max_{i}"))),
                }
            })
            .collect();
        Ok(TableDescription {
            name: table.to_string(),
            rows,
            columns,
        })
    }
}
