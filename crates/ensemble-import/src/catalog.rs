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

use crate::{ImportError, ImportOptions};

/// Reads the catalog (an empty one when the file does not exist).
pub(crate) fn read(path: &Path) -> Result<toml_edit::DocumentMut, ImportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ImportError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    text.parse::<toml_edit::DocumentMut>()
        .map_err(|e| ImportError::Catalog {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Whether the catalog has a table of that name.
pub(crate) fn has_table(catalog: &toml_edit::DocumentMut, table: &str) -> bool {
    catalog.get("tables").and_then(|t| t.get(table)).is_some()
}

/// The data file the catalog names for `table`.
fn table_path<'a>(catalog: &'a toml_edit::DocumentMut, table: &str) -> Option<&'a str> {
    catalog.get("tables")?.get(table)?.get("path")?.as_str()
}

/// Every data file the catalog names.
fn named_paths(catalog: &toml_edit::DocumentMut) -> Vec<String> {
    let Some(tables) = catalog.get("tables").and_then(|t| t.as_table_like()) else {
        return Vec::new();
    };
    tables
        .iter()
        .filter_map(|(_, table)| table.get("path")?.as_str().map(str::to_string))
        .collect()
}

/// The first free data file name for `table` in `dir`: `TABLE.parquet`, then
/// `TABLE.v2.parquet`, `TABLE.v3.parquet`… (free: no such file, not named by the catalog).
pub(crate) fn fresh_name(catalog: &toml_edit::DocumentMut, dir: &Path, table: &str) -> String {
    let named = named_paths(catalog);
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
pub(crate) fn own_previous_file(
    catalog: &toml_edit::DocumentMut,
    dir: &Path,
    table: &str,
) -> Option<PathBuf> {
    let name = table_path(catalog, table)?;
    let ours = name == format!("{table}.parquet")
        || name
            .strip_prefix(&format!("{table}.v"))
            .and_then(|rest| rest.strip_suffix(".parquet"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    ours.then(|| dir.join(name))
}

/// Adds (or replaces) the table, reading `file_name`; for a universe table, also points the
/// `[universe]` section at it.
pub(crate) fn add_table(
    catalog: &mut toml_edit::DocumentMut,
    options: &ImportOptions,
    file_name: &str,
) {
    let tables = catalog.entry("tables").or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        toml_edit::Item::Table(table)
    });
    let mut table = toml_edit::Table::new();
    table.insert("path", toml_edit::value(file_name));
    if !options.universe {
        if let Some(key) = &options.key {
            table.insert("key", toml_edit::value(key.as_str()));
        }
        if let Some(time) = &options.time {
            table.insert("time", toml_edit::value(time.as_str()));
        }
    }
    tables[options.table.as_str()] = toml_edit::Item::Table(table);
    if options.universe {
        let mut universe = toml_edit::Table::new();
        universe.insert("table", toml_edit::value(options.table.as_str()));
        if let Some(key) = &options.key {
            universe.insert("key", toml_edit::value(key.as_str()));
        }
        if let Some(since) = &options.since {
            universe.insert("since", toml_edit::value(since.as_str()));
        }
        catalog["universe"] = toml_edit::Item::Table(universe);
    }
}
