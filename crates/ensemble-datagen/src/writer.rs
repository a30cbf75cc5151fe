//! Streams record batches of one table into a Parquet file, atomically: rows go to an
//! `ensemble_fs` atomic file published when the table is complete.

use std::path::Path;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use ensemble_fs::AtomicFile;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::DatagenError;

/// Rows per row group: large enough for fast scans, small enough to bound writer memory.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// One Parquet table being written.
pub struct TableWriter {
    name: &'static str,
    writer: ArrowWriter<AtomicFile>,
    rows: u64,
}

impl TableWriter {
    /// Starts `dir/name.parquet`.
    pub fn create(
        dir: &Path,
        name: &'static str,
        schema: SchemaRef,
    ) -> Result<TableWriter, DatagenError> {
        let file = AtomicFile::create(&dir.join(format!("{name}.parquet")))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by("ensemble-datagen".into())
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(properties)).map_err(|source| {
            DatagenError::Parquet {
                table: name,
                source,
            }
        })?;
        Ok(TableWriter {
            name,
            writer,
            rows: 0,
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DatagenError> {
        self.rows += batch.num_rows() as u64;
        self.writer
            .write(batch)
            .map_err(|source| DatagenError::Parquet {
                table: self.name,
                source,
            })
    }

    /// Closes the file and publishes it; returns the number of rows written.
    pub fn finish(self) -> Result<u64, DatagenError> {
        let name = self.name;
        let file = self
            .writer
            .into_inner()
            .map_err(|source| DatagenError::Parquet {
                table: name,
                source,
            })?;
        file.commit()?;
        Ok(self.rows)
    }
}
