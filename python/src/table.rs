//! Arrow data for Python: record batches behind the Arrow PyCapsule interface
//! (`__arrow_c_stream__`), so that pyarrow, polars, pandas (through pyarrow) and duckdb read
//! them without a copy through Python objects; plus text and HTML previews.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StructArray};
use arrow::datatypes::{Field, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow::util::pretty::pretty_format_batches;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use pyo3_arrow::ffi::{to_schema_pycapsule, to_stream_pycapsule, ArrayIterator};

use crate::html;

/// Rows shown by a table's text and HTML previews.
const PREVIEW_ROWS: usize = 10;

/// Arrow record batches and their schema: what a Python object exposes through the Arrow
/// PyCapsule interface.
#[derive(Debug, Clone)]
pub(crate) struct Batches {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
}

impl Batches {
    /// Batches whose schema is their first batch's, or `schema` when there are none.
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Batches {
        Batches { schema, batches }
    }

    /// Rows in all batches.
    pub(crate) fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// A PyCapsule holding an Arrow C stream of the batches (the batches are shared with the
    /// reader, not copied); cast to `requested_schema` when the consumer asks and it can be.
    pub(crate) fn stream<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let fields = self.schema.fields().clone();
        let arrays = self
            .batches
            .clone()
            .into_iter()
            .map(|batch| Ok(Arc::new(StructArray::from(batch)) as ArrayRef));
        let field =
            Field::new_struct("", fields, false).with_metadata(self.schema.metadata.clone());
        let reader = Box::new(ArrayIterator::new(arrays, Arc::new(field)));
        Ok(to_stream_pycapsule(py, reader, requested_schema)?)
    }

    /// A PyCapsule holding the Arrow C schema.
    pub(crate) fn schema_capsule<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        Ok(to_schema_pycapsule(py, self.schema.as_ref())?)
    }

    /// The first rows, as cells of text (header first).
    pub(crate) fn preview_cells(&self, limit: usize) -> Vec<Vec<String>> {
        let mut rows = vec![self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()];
        let options = FormatOptions::default().with_null("null");
        for batch in &self.batches {
            if rows.len() > limit {
                break;
            }
            let formatters: Vec<_> = batch
                .columns()
                .iter()
                .filter_map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
                .collect();
            for row in 0..batch.num_rows().min(limit + 1 - rows.len()) {
                rows.push(
                    formatters
                        .iter()
                        .map(|f| f.value(row).to_string())
                        .collect(),
                );
            }
        }
        rows
    }

    /// The first rows as an aligned text table, with the row count.
    pub(crate) fn preview_text(&self) -> String {
        let rows = self.rows();
        let shown: Vec<RecordBatch> = first_rows(&self.batches, PREVIEW_ROWS);
        let mut out = match pretty_format_batches(&shown) {
            Ok(table) if !shown.is_empty() => table.to_string(),
            _ => self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(" | "),
        };
        out.push_str(&format!(
            "\n{} row{}",
            rows,
            if rows == 1 { "" } else { "s" }
        ));
        if rows > PREVIEW_ROWS {
            out.push_str(&format!(" ({PREVIEW_ROWS} shown)"));
        }
        out
    }

    /// The first rows as an HTML table, with the row count.
    pub(crate) fn preview_html(&self) -> String {
        html::table(&self.preview_cells(PREVIEW_ROWS), self.rows())
    }
}

/// The first `limit` rows of `batches`, sliced (not copied).
fn first_rows(batches: &[RecordBatch], limit: usize) -> Vec<RecordBatch> {
    let mut left = limit;
    let mut out = Vec::new();
    for batch in batches {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        out.push(batch.slice(0, take));
        left -= take;
    }
    out
}

/// A table of results (a SQL query, a step's members, a report's table) as Arrow data:
/// `pyarrow.table(t)`, `polars.DataFrame(t)`, `duckdb.sql("FROM t")` read it through
/// `__arrow_c_stream__`.
#[pyclass(frozen, module = "ensemble", name = "Table")]
pub struct Table {
    pub(crate) data: Batches,
}

impl Table {
    /// A table of `data`.
    pub(crate) fn new(data: Batches) -> Table {
        Table { data }
    }
}

#[pymethods]
impl Table {
    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.data.rows()
    }

    /// The columns' names.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.data
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// The table as a `pyarrow.Table` (pyarrow must be installed).
    fn to_pyarrow<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("pyarrow")?.call_method1("table", (slf,))
    }

    /// The table as a `pandas.DataFrame` (through pyarrow; both must be installed).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Table::to_pyarrow(slf)?.call_method0("to_pandas")
    }

    /// The table as a `polars.DataFrame` (polars must be installed).
    fn to_polars<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("polars")?.call_method1("DataFrame", (slf,))
    }

    /// The Arrow C stream of the table (Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.data.stream(py, requested_schema)
    }

    /// The Arrow C schema of the table (Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        self.data.schema_capsule(py)
    }

    fn __len__(&self) -> usize {
        self.data.rows()
    }

    fn __repr__(&self) -> String {
        self.data.preview_text()
    }

    fn _repr_html_(&self) -> String {
        self.data.preview_html()
    }
}
