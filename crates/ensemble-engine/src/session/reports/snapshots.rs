//! `snapshot NAME` and `diff NAME from D1 to D2`: memberships kept as Parquet files under the
//! catalog's workspace (`snapshots/NAME/DATE.parquet`, written atomically, one file per date,
//! the definition's text in the file's metadata), and compared by key.

use std::collections::HashMap;
use std::path::PathBuf;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;
use crate::report::{DiffReport, DiffRow, SnapshotReport};

/// The workspace directory when the catalog names none, beside the catalog file.
pub const DEFAULT_WORKSPACE: &str = "workspace";
/// Metadata keys of a snapshot file.
const META_DEFINITION: &str = "ensemble.definition";
const META_DEFINITIONS: &str = "ensemble.definitions";
const META_AS_OF: &str = "ensemble.as_of";
const META_CATALOG: &str = "ensemble.catalog";
/// The column of a partition snapshot holding each member's tier.
const TIER_COLUMN: &str = "tier";
/// Member keys shown for entries and exits.
const EXAMPLES: usize = 5;

/// A snapshot file read back: its definition and each member's tier.
struct Kept {
    definition: String,
    /// Tier names in order (one, named after the segment, for a segment).
    tiers: Vec<String>,
    /// Each member's key (in the Arrow row format) and tier index.
    members: HashMap<Box<[u8]>, usize, ahash::RandomState>,
    /// Keys in file order with where they are in `keys` (batch, row), for examples.
    order: Vec<(Box<[u8]>, usize, usize)>,
    /// The key column of each batch read.
    keys: Vec<ArrayRef>,
}

impl Session {
    /// The workspace directory: the catalog's `workspace`, relative to the catalog file.
    pub fn workspace(&self) -> PathBuf {
        let base = self
            .catalog
            .path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        base.join(
            self.catalog
                .file
                .workspace
                .as_deref()
                .unwrap_or(DEFAULT_WORKSPACE),
        )
    }

    /// Where the snapshot of `name` at `date` is kept.
    pub fn snapshot_path(&self, name: &str, date: NaiveDate) -> PathBuf {
        self.workspace()
            .join("snapshots")
            .join(name)
            .join(format!("{date}.parquet"))
    }

    /// The dates at which `name` has a snapshot, ascending.
    pub fn snapshot_dates(&self, name: &str) -> Vec<NaiveDate> {
        let directory = self.workspace().join("snapshots").join(name);
        let mut dates: Vec<NaiveDate> = std::fs::read_dir(directory)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let file = entry.file_name().to_string_lossy().into_owned();
                file.strip_suffix(".parquet")?.parse().ok()
            })
            .collect();
        dates.sort();
        dates
    }

    /// Saves the members of segment or partition `name` at the session's date.
    pub(super) async fn snapshot(
        &mut self,
        name: &Ident,
        source: &Source<'_>,
    ) -> Result<SnapshotReport, EngineError> {
        let (targets, partition) = self.snapshot_targets(name, source)?;
        let date = self.as_of();
        let definition = self
            .sources
            .get(&name.name)
            .map(|s| s.statement.clone())
            .unwrap_or_default();
        let path = self.snapshot_path(&name.name, date);
        if path.exists() {
            let kept = read_snapshot(&path)?;
            if kept.definition != definition {
                return Err(EngineError::Snapshot {
                    message: format!(
                        "{} already holds the snapshot of '{}' at {date}, made with another \
                         definition:\n  {}\nDelete that file to replace it, or snapshot at \
                         another date ('as of …').",
                        path.display(),
                        name.name,
                        kept.definition
                    ),
                });
            }
        }
        let mut tiers = Vec::new();
        let mut batches = Vec::new();
        let (_, index) = self.checked_scope().await?;
        let key_field = index.schema().field(0).clone();
        let mut fields = vec![key_field];
        if partition {
            fields.push(Field::new(TIER_COLUMN, DataType::Utf8, false));
        }
        let schema = Arc::new(Schema::new(fields));
        for target in &targets {
            let members = self.members_at(&target.expr, date, source).await?;
            let tier = target.label.rsplit('.').next().unwrap_or(&target.label);
            tiers.push((target.label.clone(), members.len()));
            for keys in index.batches(&members)? {
                let mut columns: Vec<ArrayRef> = vec![keys.column(0).clone()];
                if partition {
                    columns.push(Arc::new(StringArray::from(vec![tier; keys.num_rows()])));
                }
                batches.push(
                    RecordBatch::try_new(schema.clone(), columns)
                        .map_err(|e| EngineError::execution("the snapshot", e.into()))?,
                );
            }
        }
        let metadata = vec![
            (META_DEFINITION, definition),
            (META_DEFINITIONS, self.definitions_script()),
            (META_AS_OF, date.to_string()),
            (META_CATALOG, self.catalog.path.display().to_string()),
        ];
        write_parquet(&path, schema, &batches, metadata)?;
        Ok(SnapshotReport {
            name: name.name.clone(),
            path,
            tiers,
        })
    }

    /// The sets a snapshot keeps: the segment, or the partition's tiers (`true`).
    fn snapshot_targets(
        &self,
        name: &Ident,
        source: &Source<'_>,
    ) -> Result<(Vec<Target>, bool), EngineError> {
        if self.definitions.partitions.contains_key(&name.name) {
            return Ok((self.partition_targets(name, source)?.0, true));
        }
        if self.definitions.segments.contains_key(&name.name) {
            let expr = SetExpr {
                kind: SetExprKind::Segment(name.clone()),
                span: name.span,
            };
            let label = name.name.clone();
            return Ok((vec![Target { label, expr }], false));
        }
        Err(self.language_error(
            self.unknown_name(name, "segment or partition"),
            source.text,
            source.origin,
        ))
    }

    /// Compares the snapshots of `name` at the two dates of `range`.
    pub(super) fn diff_report(
        &self,
        name: &Ident,
        range: &ensemble_syntax::DateRange,
        source: &Source<'_>,
    ) -> Result<DiffReport, EngineError> {
        let mut kept = Vec::new();
        for date in [range.from, range.to] {
            let path = self.snapshot_path(&name.name, date);
            if !path.exists() {
                let dates = self.snapshot_dates(&name.name);
                let known = match dates.as_slice() {
                    [] => format!("'{}' has no snapshot yet", name.name),
                    dates => format!(
                        "snapshots of '{}': {}",
                        name.name,
                        dates
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let diagnostic = Diagnostic::error(
                    format!("no snapshot of '{}' at {date}", name.name),
                    range.span,
                )
                .with_help(format!(
                    "{known}; take one with 'as of {date}; snapshot {};'",
                    name.name
                ));
                return Err(self.language_error(diagnostic, source.text, source.origin));
            }
            kept.push(read_snapshot(&path)?);
        }
        let (before, after) = (&kept[0], &kept[1]);
        Ok(DiffReport {
            name: name.name.clone(),
            from: range.from,
            to: range.to,
            rows: diff_rows(&name.name, before, after),
            changed_definition: (before.definition != after.definition)
                .then(|| (before.definition.clone(), after.definition.clone())),
            examples: vec![
                ("entered".into(), examples(after, before)),
                ("left".into(), examples(before, after)),
            ],
        })
    }
}

/// One row per tier found at either date, then the total for a partition: one pass over
/// each snapshot's members.
fn diff_rows(name: &str, before: &Kept, after: &Kept) -> Vec<DiffRow> {
    let mut tiers = before.tiers.clone();
    tiers.extend(
        after
            .tiers
            .iter()
            .filter(|t| !before.tiers.contains(t))
            .cloned(),
    );
    let position = |kept: &Kept| -> Vec<usize> {
        kept.tiers
            .iter()
            .map(|t| tiers.iter().position(|u| u == t).unwrap_or(0))
            .collect()
    };
    let (from_before, from_after) = (position(before), position(after));
    let mut counts = vec![(0u64, 0u64, 0u64); tiers.len()];
    let mut stayed_total = 0u64;
    for (key, tier) in &before.members {
        let tier = from_before[*tier];
        counts[tier].0 += 1;
        if let Some(now) = after.members.get(key) {
            stayed_total += 1;
            if from_after[*now] == tier {
                counts[tier].2 += 1;
            }
        }
    }
    for tier in after.members.values() {
        counts[from_after[*tier]].1 += 1;
    }
    let row = |set: String, (before, after, stayed): (u64, u64, u64)| DiffRow {
        set,
        before,
        after,
        entered: after - stayed,
        left: before - stayed,
        stayed,
    };
    let mut rows: Vec<DiffRow> = tiers
        .iter()
        .zip(&counts)
        .map(|(tier, counts)| row(tier.clone(), *counts))
        .collect();
    if tiers.len() > 1 {
        let total = (
            before.members.len() as u64,
            after.members.len() as u64,
            stayed_total,
        );
        rows.push(row(format!("{name} (total)"), total));
    }
    rows
}

/// The first few members of `kept` that are not in `other`, in file order.
fn examples(kept: &Kept, other: &Kept) -> Vec<String> {
    let options = FormatOptions::default();
    kept.order
        .iter()
        .filter(|(key, _, _)| !other.members.contains_key(key))
        .take(EXAMPLES)
        .filter_map(|(_, batch, row)| {
            let formatter = ArrayFormatter::try_new(kept.keys[*batch].as_ref(), &options).ok()?;
            Some(formatter.value(*row).to_string())
        })
        .collect()
}

pub(super) fn snapshot_error(
    path: &std::path::Path,
    action: &str,
    error: impl std::fmt::Display,
) -> EngineError {
    EngineError::Snapshot {
        message: format!("{}: cannot {action}: {error}", path.display()),
    }
}

/// Reads a snapshot file back.
fn read_snapshot(path: &std::path::Path) -> Result<Kept, EngineError> {
    let file = std::fs::File::open(path).map_err(|e| snapshot_error(path, "open", e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| snapshot_error(path, "read", e))?;
    let definition = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == META_DEFINITION))
        .and_then(|k| k.value.clone())
        .ok_or_else(|| snapshot_error(path, "read", "not a snapshot (no definition recorded)"))?;
    let schema = builder.schema().clone();
    let converter = RowConverter::new(vec![SortField::new(schema.field(0).data_type().clone())])
        .map_err(|e| snapshot_error(path, "read", e))?;
    let reader = builder
        .build()
        .map_err(|e| snapshot_error(path, "read", e))?;
    let fallback = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut kept = Kept {
        definition,
        tiers: Vec::new(),
        members: HashMap::default(),
        order: Vec::new(),
        keys: Vec::new(),
    };
    for (b, batch) in reader.enumerate() {
        let batch = batch.map_err(|e| snapshot_error(path, "read", e))?;
        let keys = batch.column(0);
        let rows = converter
            .convert_columns(std::slice::from_ref(keys))
            .map_err(|e| snapshot_error(path, "read", e))?;
        let tiers = batch
            .column_by_name(TIER_COLUMN)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned());
        for (i, row) in rows.iter().enumerate() {
            let tier = tiers.as_ref().map_or(fallback.as_str(), |t| t.value(i));
            let index = match kept.tiers.iter().position(|t| t == tier) {
                Some(index) => index,
                None => {
                    kept.tiers.push(tier.to_string());
                    kept.tiers.len() - 1
                }
            };
            let key: Box<[u8]> = row.as_ref().into();
            kept.members.insert(key.clone(), index);
            kept.order.push((key, b, i));
        }
        kept.keys.push(keys.clone());
    }
    if kept.tiers.is_empty() {
        kept.tiers.push(fallback);
    }
    Ok(kept)
}
