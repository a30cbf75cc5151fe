//! The catalog file of a datamart (`ensemble.toml`): which Parquet tables exist, which one is
//! the universe, how related tables reference it, and the default evaluation date. Paths are
//! relative to the catalog file.
//!
//! This crate is the one place the format is known: the engine reads catalogs with
//! [`CatalogFile::read`], the generators write them with [`CatalogFile::write`], and the
//! importer edits them with [`edit::Document`], which keeps the user's comments and layout
//! and checks its result with the same reader. No DataFusion here: checking the columns a
//! catalog names against the Parquet files is the engine's job.
#![warn(missing_docs)]

pub mod edit;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The catalog's usual file name.
pub const CATALOG_FILE: &str = "ensemble.toml";

/// Why a catalog could not be read or written.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The catalog file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The text is not a valid catalog.
    #[error("{message}")]
    Invalid {
        /// What is wrong, with the line when TOML says so.
        message: String,
    },
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] ensemble_fs::FsError),
}

/// The catalog file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// The default evaluation date: the date the data runs to (`as_of = 2026-06-30`, a TOML
    /// date or an ISO text). `as of` statements and `--as-of` override it.
    #[serde(
        default,
        with = "optional_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub as_of: Option<NaiveDate>,
    /// The memory the query operators of a session on this catalog may hold at once
    /// (`memory_limit = "4G"`); `--memory-limit` and `ENSEMBLE_MEMORY_LIMIT` override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
    /// The revenue column of `kpi` reports (`revenue = "purchases.amount"`); by default
    /// `purchases.amount` when the catalog has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue: Option<String>,
    /// The directory of snapshots and other kept results (`workspace = "workspace"`),
    /// relative to the catalog file; by default `workspace` beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// `[universe]`.
    #[serde(default)]
    pub universe: UniverseSection,
    /// `[tables.NAME]`, by name.
    #[serde(default)]
    pub tables: BTreeMap<String, TableSection>,
}

/// `[universe]`: the table whose rows are the members.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UniverseSection {
    /// The universe table (default `customers`).
    #[serde(default = "default_universe_table")]
    pub table: String,
    /// Its key column (default `customer_id`).
    #[serde(default = "default_universe_key")]
    pub key: String,
    /// Optional: a member exists from this date on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

impl Default for UniverseSection {
    fn default() -> Self {
        UniverseSection {
            table: default_universe_table(),
            key: default_universe_key(),
            since: None,
        }
    }
}

fn default_universe_table() -> String {
    "customers".into()
}

fn default_universe_key() -> String {
    "customer_id".into()
}

/// `[tables.NAME]`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TableSection {
    /// A Parquet file, a directory of Parquet files (hive partitions allowed) or a glob.
    pub path: String,
    /// Column referencing the universe key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Default time column for `within` and the as-of cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

impl TableSection {
    /// A table read from `path`, referencing the universe by `key` with events at `time`.
    pub fn related(path: &str, key: &str, time: &str) -> TableSection {
        TableSection {
            path: path.into(),
            key: Some(key.into()),
            time: Some(time.into()),
        }
    }
}

impl CatalogFile {
    /// Parses a catalog's text: TOML of the shape above, unknown keys refused, and the
    /// universe table must have its `[tables.…]` section.
    pub fn parse(text: &str) -> Result<CatalogFile, CatalogError> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| CatalogError::Invalid {
            message: e.to_string(),
        })?;
        if !file.tables.contains_key(&file.universe.table) {
            return Err(CatalogError::Invalid {
                message: format!(
                    "the universe table '{0}' has no [tables.{0}] section",
                    file.universe.table
                ),
            });
        }
        Ok(file)
    }

    /// Reads and parses the catalog file at `path`.
    pub fn read(path: &Path) -> Result<CatalogFile, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        CatalogFile::parse(&text)
    }

    /// The catalog as TOML, after a comment line.
    pub fn to_toml(&self, comment: &str) -> String {
        let body = toml::to_string(self).unwrap_or_else(|e| {
            unreachable!("a catalog of strings, dates and tables always serialises: {e}")
        });
        format!("# {comment}\n{body}")
    }

    /// Writes the catalog atomically (see `ensemble_fs`), after a comment line.
    pub fn write(&self, path: &Path, comment: &str) -> Result<(), CatalogError> {
        ensemble_fs::write_file(path, self.to_toml(comment).as_bytes())?;
        Ok(())
    }

    /// The data file each table reads, by name.
    pub fn paths(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tables
            .iter()
            .map(|(name, table)| (name.as_str(), table.path.as_str()))
    }
}

/// `as_of` as a TOML date (`as_of = 2026-06-30`) or text (`as_of = "2026-06-30"`); written
/// as text.
mod optional_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => s.serialize_str(&date.format("%Y-%m-%d").to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let value = toml::Value::deserialize(d)?;
        let text = match &value {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        ensemble_syntax::parse_date(&text)
            .map(Some)
            .map_err(|error| serde::de::Error::custom(format!("as_of = {value}: {error}")))
    }
}

#[cfg(test)]
mod tests;
