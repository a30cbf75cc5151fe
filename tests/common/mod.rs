//! Helpers shared by the end-to-end tests: data on disk, membership as sets.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use ensemble::arrow::array::{Array, ArrayRef, Int64Array};
use ensemble::arrow::datatypes::{Field, Schema};
use ensemble::arrow::record_batch::RecordBatch;
use ensemble::demo::{write_demo_datamart, DemoConfig};
use ensemble::Session;

/// The demo datamart in a fresh temporary directory, and a session on it as of 2026-06-30.
pub async fn demo_session() -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("the demo data");
    let mut session = Session::open(&catalog)
        .await
        .expect("the demo catalog opens");
    session.set_as_of(DemoConfig::default().as_of);
    (dir, session)
}

/// Catalog path of a datamart directory.
pub fn catalog_path(dir: &Path) -> PathBuf {
    dir.join("ensemble.toml")
}

/// The keys in the first column of `batches`.
pub fn keys(batches: &[RecordBatch]) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    for batch in batches {
        let column = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("keys are Int64");
        for i in 0..column.len() {
            if column.is_valid(i) {
                out.insert(column.value(i));
            }
        }
    }
    out
}

/// The members of `expression` evaluated by ensemble.
pub async fn members(session: &mut Session, expression: &str) -> BTreeSet<i64> {
    match session.evaluate(expression).await {
        Ok(evaluation) => keys(&evaluation.members),
        Err(error) => panic!("{expression}:\n{}", error.render(false)),
    }
}

/// The keys a plain SQL query returns.
pub async fn sql_keys(session: &Session, sql: &str) -> BTreeSet<i64> {
    match session.sql(sql).await {
        Ok(batches) => keys(&batches),
        Err(error) => panic!("{sql}:\n{error}"),
    }
}

/// Writes one batch of named columns (all nullable) as a Parquet file.
pub fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}
