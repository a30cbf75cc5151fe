//! The catalog file (TOML): which Parquet tables exist, which one is the universe, how
//! related tables reference it. Paths are relative to the catalog file.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::TableProvider;
use datafusion::prelude::SessionContext;
use ensemble_compiler::{CatalogSchema, RelatedSchema, UniverseSchema};

use crate::error::EngineError;

pub use ensemble_catalog::{CatalogFile, TableSection, UniverseSection};

/// The tables' schemas, to check the columns a catalog names.
struct Columns<'a> {
    schemas: &'a BTreeMap<String, SchemaRef>,
    error: &'a dyn Fn(String) -> EngineError,
}

impl Columns<'_> {
    /// The schema the compiler checks against, once every column the catalog names exists
    /// (and every time or since column holds dates).
    fn schema(&self, file: &CatalogFile) -> Result<CatalogSchema, EngineError> {
        let universe = &file.universe;
        self.column(&universe.table, &universe.key, "the universe key")?;
        if let Some(since) = &universe.since {
            self.temporal(&universe.table, since, "the universe's since")?;
        }
        let mut related = BTreeMap::new();
        for (name, table) in &file.tables {
            if *name == universe.table {
                continue;
            }
            if let Some(key) = &table.key {
                self.column(name, key, "the key")?;
            }
            if let Some(time) = &table.time {
                self.temporal(name, time, "the time")?;
            }
            related.insert(
                name.clone(),
                RelatedSchema {
                    name: name.clone(),
                    key: table.key.clone(),
                    time: table.time.clone(),
                    schema: self.schemas[name].clone(),
                },
            );
        }
        Ok(CatalogSchema {
            universe: UniverseSchema {
                table: universe.table.clone(),
                key: universe.key.clone(),
                since: universe.since.clone(),
                schema: self.schemas[&universe.table].clone(),
            },
            related,
        })
    }

    fn column(&self, table: &str, column: &str, role: &str) -> Result<(), EngineError> {
        let schema = &self.schemas[table];
        if schema.field_with_name(column).is_ok() {
            return Ok(());
        }
        let names = schema.fields().iter().map(|f| f.name().as_str());
        let hint = ensemble_syntax::suggest(column, names)
            .map(|s| format!(" — did you mean '{s}'?"))
            .unwrap_or_default();
        Err((self.error)(format!(
            "{role} column '{column}' does not exist in table {table}{hint}"
        )))
    }

    /// Dates are compared as calendar days: a time column must hold dates or timestamps.
    /// Integers would be read as days since 1970 and text would fail at evaluation.
    fn temporal(&self, table: &str, column: &str, role: &str) -> Result<(), EngineError> {
        self.column(table, column, role)?;
        let data_type = self.schemas[table]
            .field_with_name(column)
            .map(|f| f.data_type().clone())
            .map_err(|e| (self.error)(e.to_string()))?;
        if matches!(
            data_type,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
        ) {
            return Ok(());
        }
        Err((self.error)(format!(
            "{role} column '{column}' of table {table} is {data_type}, not a date or a timestamp: \
             convert it when writing the Parquet file (ensemble import csv --type {column}=date or =timestamp, \
             with --date-format for non-ISO text)"
        )))
    }
}

/// An opened catalog: tables registered in a DataFusion session, schemas known.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The catalog file.
    pub path: PathBuf,
    /// What the file says.
    pub file: CatalogFile,
    /// Resolved location of each table.
    pub locations: BTreeMap<String, PathBuf>,
    /// The schemas, as the compiler sees them.
    pub schema: CatalogSchema,
    /// The registered table of each name.
    pub providers: BTreeMap<String, Arc<dyn TableProvider>>,
    /// The default evaluation date the catalog names, if any.
    pub as_of: Option<chrono::NaiveDate>,
}

impl Catalog {
    /// Reads the catalog file, registers every table in `ctx` and checks every column the
    /// catalog names.
    pub async fn open(path: &Path, ctx: &SessionContext) -> Result<Catalog, EngineError> {
        let file = CatalogFile::read(path).map_err(|e| match e {
            ensemble_catalog::CatalogError::Io { path, source } => EngineError::Io { path, source },
            other => EngineError::Catalog {
                path: path.to_path_buf(),
                message: other.to_string(),
            },
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let error = |message: String| EngineError::Catalog {
            path: path.to_path_buf(),
            message,
        };
        let mut locations = BTreeMap::new();
        let mut schemas = BTreeMap::new();
        let mut providers: BTreeMap<String, Arc<dyn TableProvider>> = BTreeMap::new();
        for (name, table) in &file.tables {
            let location = base.join(&table.path);
            crate::data_files::check_location(&location)
                .map_err(|e| error(format!("table {name}: {e}")))?;
            let provider = listing_table(&location, ctx)
                .await
                .map_err(|e| error(format!("table {name} ({}): {e}", location.display())))?;
            let schema = provider.schema();
            ctx.deregister_table(name.as_str())
                .map_err(|e| error(e.to_string()))?;
            providers.insert(name.clone(), provider.clone());
            ctx.register_table(name.as_str(), provider)
                .map_err(|e| error(format!("table {name}: {e}")))?;
            locations.insert(name.clone(), location);
            schemas.insert(name.clone(), schema);
        }
        let schema = Columns {
            schemas: &schemas,
            error: &error,
        }
        .schema(&file)?;
        Ok(Catalog {
            path: path.to_path_buf(),
            as_of: file.as_of,
            file,
            locations,
            schema,
            providers,
        })
    }

    /// Checks every table's data files ([`crate::data_files`]): a file rewritten in place
    /// (truncated, half written, replaced by a pipe) is an error naming it, never an empty
    /// table.
    pub fn check_files(&self) -> Result<(), EngineError> {
        for (name, location) in &self.locations {
            crate::data_files::check_location(location).map_err(|message| {
                EngineError::Catalog {
                    path: self.path.clone(),
                    message: format!("table {name}: {message}"),
                }
            })?;
        }
        Ok(())
    }

    /// A fingerprint of the data files (paths, sizes, modification times): when it changes,
    /// cached steps are stale.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for location in self.locations.values() {
            let root = glob_root(location);
            let mut files = Vec::new();
            collect_files(&root, &mut files);
            files.sort();
            files.hash(&mut hasher);
        }
        hasher.finish()
    }
}

/// A Parquet table over a file, a directory (hive partitions inferred) or a glob.
async fn listing_table(
    location: &Path,
    ctx: &SessionContext,
) -> datafusion::error::Result<Arc<ListingTable>> {
    let text = location.to_string_lossy();
    let is_glob = text.contains(['*', '?', '[']);
    if !is_glob && !location.exists() {
        return Err(datafusion::error::DataFusionError::Plan(
            "no such file or directory".into(),
        ));
    }
    let url = ListingTableUrl::parse(text.as_ref())?;
    let state = ctx.state();
    let mut options = ListingOptions::new(Arc::new(ParquetFormat::default()));
    if location.is_dir() {
        options = options.with_file_extension(".parquet");
        let partitions = options.infer_partitions(&state, &url).await?;
        options = options.with_table_partition_cols(
            partitions
                .into_iter()
                .map(|name| (name, datafusion::arrow::datatypes::DataType::Utf8))
                .collect(),
        );
    } else {
        options = options.with_file_extension("");
    }
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .infer_schema(&state)
        .await?;
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// The directory (or file) under which a location's files live: a glob's fixed prefix.
fn glob_root(location: &Path) -> PathBuf {
    let mut root = PathBuf::new();
    for part in location.components() {
        if part.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
            break;
        }
        root.push(part);
    }
    root
}

fn collect_files(path: &Path, out: &mut Vec<(PathBuf, u64, Option<std::time::SystemTime>)>) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    if metadata.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            collect_files(&entry.path(), out);
        }
    } else {
        out.push((path.to_path_buf(), metadata.len(), metadata.modified().ok()));
    }
}
