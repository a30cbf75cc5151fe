//! Generates a realistic loyalty datamart — `customers`, `purchases`, `visits`, `reviews`,
//! `messages`, `loyalty_events` as Parquet, plus its `ensemble.toml` catalog — deterministically
//! for a seed, streaming customers in chunks so that memory stays bounded at any size.
//!
//! The behaviour follows a loyalty programme: growing acquisition, heavy-tailed spend, churn
//! and dormancy, prospects who never bought, a December peak, missing values in optional
//! columns (see `docs/datamart.md`).
#![warn(missing_docs)]

mod model;
pub mod random;
mod tables;
mod writer;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use thiserror::Error;

pub use tables::TABLES;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateConfig {
    /// Number of customers.
    pub customers: u64,
    /// Seed: the same seed and version give the same bytes.
    pub seed: u64,
    /// The history ends on this date.
    pub as_of: NaiveDate,
    /// Customers generated per chunk (bounds memory).
    pub chunk: u64,
    /// Replace an existing datamart (catalog or tables) in the directory; without it,
    /// generation refuses to touch one.
    pub overwrite: bool,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig {
            customers: 100_000,
            seed: 1,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a valid date"),
            chunk: 50_000,
            overwrite: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// `(table, rows)` for every table written.
    pub tables: Vec<(String, u64)>,
    /// The catalog file.
    pub catalog: PathBuf,
}

/// Why generation failed.
#[derive(Debug, Error)]
pub enum DatagenError {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Parquet encoding failed.
    #[error("writing {table}: {source}")]
    Parquet {
        /// The table.
        table: &'static str,
        /// The error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Arrow refused a batch (a bug of the generator).
    #[error("building {table}: {source}")]
    Arrow {
        /// The table.
        table: &'static str,
        /// The error.
        #[source]
        source: arrow::error::ArrowError,
    },
    /// The configuration cannot be generated.
    #[error("{0}")]
    Config(String),
    /// The directory already holds a datamart and `overwrite` was not asked for.
    #[error("{path} already exists (use --overwrite to replace the datamart)")]
    Exists {
        /// The catalog or table file found.
        path: PathBuf,
    },
    /// A file could not be published.
    #[error(transparent)]
    Fs(#[from] ensemble_fs::FsError),
}

/// Generates the datamart into `dir` (created if needed). `progress` is called with the
/// number of customers done and the total after every chunk.
pub fn generate(
    dir: &Path,
    config: GenerateConfig,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Summary, DatagenError> {
    if config.customers == 0 {
        return Err(DatagenError::Config(
            "--customers must be at least 1".into(),
        ));
    }
    if config.chunk == 0 {
        return Err(DatagenError::Config(
            "the chunk size must be at least 1".into(),
        ));
    }
    if !config.overwrite {
        refuse_existing(dir)?;
    }
    std::fs::create_dir_all(dir).map_err(|source| DatagenError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut writers = tables::Writers::create(dir)?;
    let mut first = 1u64;
    while first <= config.customers {
        let last = (first + config.chunk - 1).min(config.customers);
        let chunk = tables::generate_chunk(&config, first, last)?;
        writers.write(&chunk)?;
        progress(last, config.customers);
        first = last + 1;
    }
    let tables = writers.finish()?;
    let catalog = dir.join(CATALOG_FILE);
    ensemble_fs::write_file(&catalog, CATALOG.as_bytes())?;
    Ok(Summary { tables, catalog })
}

/// The catalog's file name in a generated datamart.
pub const CATALOG_FILE: &str = "ensemble.toml";

/// Fails when `dir` holds the catalog or a table file that generation would replace (a
/// symbolic link counts, even a dangling one).
fn refuse_existing(dir: &Path) -> Result<(), DatagenError> {
    let files = std::iter::once(CATALOG_FILE.to_string())
        .chain(TABLES.iter().map(|table| format!("{table}.parquet")));
    for file in files {
        let path = dir.join(file);
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(DatagenError::Exists { path });
        }
    }
    Ok(())
}

/// The catalog of a generated datamart.
pub const CATALOG: &str = r#"# A loyalty datamart written by `ensemble generate`.
[universe]
table = "customers"
key = "customer_id"
since = "signup_date"

[tables.customers]
path = "customers.parquet"

[tables.purchases]
path = "purchases.parquet"
key = "customer_id"
time = "purchased_at"

[tables.visits]
path = "visits.parquet"
key = "customer_id"
time = "visited_at"

[tables.reviews]
path = "reviews.parquet"
key = "customer_id"
time = "reviewed_at"

[tables.messages]
path = "messages.parquet"
key = "customer_id"
time = "sent_at"

[tables.loyalty_events]
path = "loyalty_events.parquet"
key = "customer_id"
time = "event_at"
"#;
