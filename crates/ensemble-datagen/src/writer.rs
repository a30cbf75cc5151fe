//! Streams record batches of one table into a Parquet file, atomically: rows go to a
//! temporary file that is renamed into place when the table is complete.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::DatagenError;

/// Rows per row group: large enough for fast scans, small enough to bound writer memory.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// One Parquet table being written.
pub struct TableWriter {
    name: &'static str,
    path: PathBuf,
    temporary: PathBuf,
    writer: ArrowWriter<File>,
    rows: u64,
}

impl TableWriter {
    /// Starts `dir/name.parquet`.
    pub fn create(
        dir: &Path,
        name: &'static str,
        schema: SchemaRef,
    ) -> Result<TableWriter, DatagenError> {
        let path = dir.join(format!("{name}.parquet"));
        let temporary = dir.join(format!(".{name}.parquet.partial"));
        let file = File::create(&temporary).map_err(|source| DatagenError::Io {
            path: temporary.clone(),
            source,
        })?;
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
            path,
            temporary,
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

    /// Closes the file and moves it into place; returns the number of rows written.
    pub fn finish(self) -> Result<u64, DatagenError> {
        let name = self.name;
        self.writer
            .close()
            .map_err(|source| DatagenError::Parquet {
                table: name,
                source,
            })?;
        std::fs::rename(&self.temporary, &self.path).map_err(|source| DatagenError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}
