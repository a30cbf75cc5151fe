//! The catalog side of an import: reading it, naming the new data file, adding the table.
//!
//! Publishing rule (crash consistency): the new table is written under a file name that is
//! free (`TABLE.parquet`, else `TABLE.v2.parquet`, `TABLE.v3.parquet`…: never an existing
//! file nor one the catalog names), then the catalog naming it is published atomically — the
//! single commit point — and only then is the table's previous file removed, when it is one
//! this importer wrote (a bare `TABLE.parquet` or `TABLE.vN.parquet` in the catalog's
//! directory). A crash at any moment leaves the old catalog with the old table, or the new
//! catalog with the new table; at worst an unreferenced data file stays behind.

use std::path::{Path, PathBuf};

use ensemble_catalog::edit::Document;
use ensemble_catalog::{CatalogError, TableSection, UniverseSection};

use crate::{ImportError, ImportOptions};

/// Reads the catalog (an empty one when the file does not exist).
pub(crate) fn read(path: &Path) -> Result<Document, ImportError> {
    Document::read(path).map_err(|e| match e {
        CatalogError::Io { path, source } => ImportError::Io { path, source },
        other => ImportError::Catalog {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })
}

/// The first free data file name for `table` in `dir`: `TABLE.parquet`, then
/// `TABLE.v2.parquet`, `TABLE.v3.parquet`… (free: no such file, not named by the catalog).
pub(crate) fn fresh_name(catalog: &Document, dir: &Path, table: &str) -> String {
    let named = catalog.paths();
    (1u64..)
        .map(|version| match version {
            1 => format!("{table}.parquet"),
            n => format!("{table}.v{n}.parquet"),
        })
        .find(|name| {
            !named.iter().any(|n| n == name) && std::fs::symlink_metadata(dir.join(name)).is_err()
        })
        .expect("an unbounded sequence has a free name")
}

/// The table's current data file, when this importer wrote it: a bare `TABLE.parquet` or
/// `TABLE.vN.parquet` in the catalog's directory. Any other file is the user's: never removed.
pub(crate) fn own_previous_file(catalog: &Document, dir: &Path, table: &str) -> Option<PathBuf> {
    let name = catalog.table_path(table)?;
    let ours = name == format!("{table}.parquet")
        || name
            .strip_prefix(&format!("{table}.v"))
            .and_then(|rest| rest.strip_suffix(".parquet"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    ours.then(|| dir.join(name))
}

/// Adds (or replaces) the table, reading `file_name`; for a universe table, also points the
/// `[universe]` section at it.
pub(crate) fn add_table(catalog: &mut Document, options: &ImportOptions, file_name: &str) {
    let mut section = TableSection {
        path: file_name.to_string(),
        ..TableSection::default()
    };
    if options.universe {
        let mut universe = UniverseSection {
            table: options.table.clone(),
            since: options.since.clone(),
            ..UniverseSection::default()
        };
        if let Some(key) = &options.key {
            universe.key = key.clone();
        }
        catalog.set_universe(&universe);
    } else {
        section.key = options.key.clone();
        section.time = options.time.clone();
    }
    catalog.set_table(&options.table, &section);
}
