//! Generates a realistic loyalty datamart — `customers`, `purchases`, `visits`, `reviews`,
//! `messages`, `loyalty_events` as Parquet, plus its `ensemble.toml` catalog — deterministically
//! for a seed, streaming customers in chunks so that memory stays bounded at any size.
//!
//! The behaviour follows a loyalty programme: growing acquisition, heavy-tailed spend, churn
//! and dormancy, prospects who never bought, a December peak, missing values in optional
//! columns (see `docs/datamart.md`).
//!
//! [`demo`] is the small demo preset: three tables written in one pass, the data of the
//! quickstart example, the end-to-end tests and the benchmark.
#![warn(missing_docs)]

mod customers;
/// The small demo preset: a few thousand customers with their purchases and visits, written
/// in one pass from a single random stream (the facade re-exports it as `ensemble::demo`).
pub mod demo;
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
    let catalog_path = dir.join(CATALOG_FILE);
    catalog(config.as_of)
        .write(
            &catalog_path,
            "A loyalty datamart written by `ensemble generate`.",
        )
        .map_err(|e| match e {
            ensemble_catalog::CatalogError::Write(e) => DatagenError::from(e),
            other => DatagenError::Io {
                path: catalog_path.clone(),
                source: std::io::Error::other(other),
            },
        })?;
    let catalog = catalog_path;
    Ok(Summary { tables, catalog })
}

pub use ensemble_catalog::CATALOG_FILE;
use ensemble_catalog::{CatalogFile, TableSection, UniverseSection};

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

/// The catalog of a generated datamart: the universe with its `since` date, every related
/// table with its key and time column, and the history's end as the default evaluation date.
pub fn catalog(as_of: NaiveDate) -> CatalogFile {
    let mut tables = std::collections::BTreeMap::new();
    tables.insert(
        "customers".to_string(),
        TableSection {
            path: "customers.parquet".into(),
            ..TableSection::default()
        },
    );
    for (table, time) in RELATED_TIME_COLUMNS {
        let path = format!("{table}.parquet");
        tables.insert(
            table.to_string(),
            TableSection::related(&path, "customer_id", time),
        );
    }
    CatalogFile {
        as_of: Some(as_of),
        memory_limit: None,
        revenue: None,
        workspace: None,
        universe: UniverseSection {
            since: Some("signup_date".into()),
            ..UniverseSection::default()
        },
        tables,
    }
}

/// Each related table of a generated datamart with its time column.
const RELATED_TIME_COLUMNS: [(&str, &str); 5] = [
    ("purchases", "purchased_at"),
    ("visits", "visited_at"),
    ("reviews", "reviewed_at"),
    ("messages", "sent_at"),
    ("loyalty_events", "event_at"),
];
