//! Audiences for activation: one row per member of a set with the universe columns and values
//! the user picks, a boolean per named segment and the tier of each partition; written as
//! Parquet (the as-of date, the catalog and every definition in the file's metadata) or CSV
//! (the same in a `.meta.json` sidecar), and registered as the SQL table `audience`.

use std::path::Path;

use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use ensemble_compiler::CriterionLowerer;

use super::*;

/// A partition's tiers and their members.
type Tiers = Vec<(String, Arc<RoaringBitmap>)>;

/// The SQL table holding the last audience.
pub const AUDIENCE_TABLE: &str = "audience";

/// What an audience holds (see [`Session::audience`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceSpec {
    /// The set whose members are the rows (`vip ∩ [city = 'Paris']`).
    pub set: String,
    /// Values per member, as written: universe columns (`email`), fields (`ca_12m`), score
    /// parts (`rfm.score`) or any value expression.
    pub values: Vec<String>,
}

/// One row per member of a set, with its values, segments and tiers.
#[derive(Debug, Clone)]
pub struct Audience {
    /// The rows.
    pub batches: Vec<RecordBatch>,
    /// Members (rows).
    pub members: usize,
    /// What the file records: `ensemble.as_of`, `ensemble.catalog`, `ensemble.set` and
    /// `ensemble.definitions` (every definition's text, one per line).
    pub metadata: Vec<(String, String)>,
}

impl Session {
    /// The audience of `spec` at the session's date, registered as the SQL table `audience`.
    pub async fn audience(&mut self, spec: &AudienceSpec) -> Result<Audience, EngineError> {
        let (set, _, text) = self.start_expression(&spec.set)?;
        let source = Source {
            text: &text,
            origin: EXPRESSION_ORIGIN,
        };
        let date = self.as_of();
        let rows = self.members_at(&set, date, &source).await?;
        let mut flags: Vec<(String, Arc<RoaringBitmap>)> = Vec::new();
        let mut tiers: Vec<(String, Tiers)> = Vec::new();
        for name in self.order.clone() {
            if self.definitions.segments.contains_key(&name) {
                let target = SetExpr {
                    kind: SetExprKind::Segment(Ident {
                        name: name.clone(),
                        span: Span::new(0, 0),
                    }),
                    span: Span::new(0, 0),
                };
                flags.push((name, self.members_at(&target, date, &source).await?));
            } else if self.definitions.partitions.contains_key(&name) {
                let ident = Ident {
                    name: name.clone(),
                    span: Span::new(0, 0),
                };
                let mut members = Vec::new();
                for target in self.partition_targets(&ident, &source)?.0 {
                    let tier = target
                        .label
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    members.push((tier, self.members_at(&target.expr, date, &source).await?));
                }
                tiers.push((name, members));
            }
        }
        let values = self.value_table(&spec.values).await?;
        let (_, index) = self.checked_scope().await?;
        let mut batches = Vec::new();
        for batch in values {
            let numbers = index.numbers(batch.column(0))?;
            let mut fields: Vec<Field> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
            for (name, members) in &flags {
                fields.push(Field::new(name, DataType::Boolean, false));
                columns.push(Arc::new(BooleanArray::from_iter(
                    numbers
                        .iter()
                        .map(|n| Some(n.is_some_and(|n| members.contains(n)))),
                )));
            }
            for (name, partition) in &tiers {
                fields.push(Field::new(name, DataType::Utf8, true));
                columns.push(Arc::new(StringArray::from_iter(numbers.iter().map(|n| {
                    let n = (*n)?;
                    partition
                        .iter()
                        .find(|(_, m)| m.contains(n))
                        .map(|(t, _)| t.clone())
                }))));
            }
            let keep = BooleanArray::from_iter(
                numbers
                    .iter()
                    .map(|n| Some(n.is_some_and(|n| rows.contains(n)))),
            );
            let context = "the audience";
            let whole = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
                .map_err(|e| EngineError::execution(context, e.into()))?;
            batches.push(
                filter_record_batch(&whole, &keep)
                    .map_err(|e| EngineError::execution(context, e.into()))?,
            );
        }
        let members = batches.iter().map(RecordBatch::num_rows).sum();
        self.register_audience(&batches)?;
        Ok(Audience {
            batches,
            members,
            metadata: vec![
                ("ensemble.as_of".into(), date.to_string()),
                (
                    "ensemble.catalog".into(),
                    self.catalog.path.display().to_string(),
                ),
                ("ensemble.set".into(), spec.set.clone()),
                ("ensemble.definitions".into(), self.definitions_script()),
            ],
        })
    }

    /// Writes `audience` to `path`: Parquet with its metadata, or CSV with a `.meta.json`
    /// sidecar, through [`ensemble_fs::create`] (a regular file is replaced atomically, a
    /// symbolic link is resolved and stays a link, a device or FIFO is written in place).
    /// `-` is CSV on standard output, without the sidecar (Parquet is a file format: name a
    /// `.parquet` file for it).
    pub fn write_audience(&self, audience: &Audience, path: &Path) -> Result<(), EngineError> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let schema = match audience.batches.first() {
            Some(batch) => batch.schema(),
            None => {
                return Err(EngineError::Snapshot {
                    message: "the audience has no rows to write".into(),
                })
            }
        };
        if path.as_os_str() == "-" {
            return ensemble_fs::write_file(path, &audience_csv(audience, path)?)
                .map_err(EngineError::from);
        }
        match extension.to_ascii_lowercase().as_str() {
            "parquet" => {
                let metadata = audience
                    .metadata
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .collect();
                write_parquet(path, schema, &audience.batches, metadata)
            }
            "csv" => {
                ensemble_fs::write_file(path, &audience_csv(audience, path)?)?;
                let mut sidecar = path.as_os_str().to_owned();
                sidecar.push(".meta.json");
                ensemble_fs::write_file(
                    Path::new(&sidecar),
                    metadata_json(&audience.metadata).as_bytes(),
                )?;
                Ok(())
            }
            _ => Err(EngineError::Snapshot {
                message: format!(
                    "{}: an audience is written as .parquet or .csv (or `-`: CSV on standard \
                     output)",
                    path.display()
                ),
            }),
        }
    }

    /// The key and each value of `values` per member of the universe at the session's date.
    async fn value_table(&mut self, values: &[String]) -> Result<Vec<RecordBatch>, EngineError> {
        let as_of = self.as_of();
        let mut parsed = Vec::new();
        for value in values {
            let text: Arc<str> = Arc::from(format!("[{value}]").as_str());
            let (expr, _) =
                ensemble_syntax::parse_set_expr(&text).map_err(|e| EngineError::Language {
                    diagnostic: Box::new(e.diagnostic()),
                    source_text: text.clone(),
                    origin: EXPRESSION_ORIGIN.into(),
                })?;
            let SetExprKind::Criterion(expr) = expr.kind else {
                return Err(EngineError::Snapshot {
                    message: format!("'{value}' is not a value"),
                });
            };
            parsed.push((value.clone(), expr, text));
        }
        let mut lowerer = CriterionLowerer::new(&self.catalog.schema, &self.definitions, as_of);
        let mut outputs = vec![ident(&self.catalog.schema.universe.key)];
        for (name, expr, text) in &parsed {
            let lowered = lowerer
                .value(expr)
                .map_err(|e| self.check_error(e, text, EXPRESSION_ORIGIN, None))?;
            outputs.push(lowered.expr.to_df().alias(name));
        }
        let needs = lowerer.needs.clone();
        let (batches, _) = self
            .project_features(needs, outputs, "the audience's values")
            .await?;
        Ok(batches)
    }

    /// Registers the audience as the SQL table `audience` (replacing the last one).
    fn register_audience(&self, batches: &[RecordBatch]) -> Result<(), EngineError> {
        let Some(schema) = batches.first().map(RecordBatch::schema) else {
            return Ok(());
        };
        let table = MemTable::try_new(schema, vec![batches.to_vec()])
            .map_err(|e| EngineError::execution("the audience table", e))?;
        let _ = self.ctx.deregister_table(AUDIENCE_TABLE);
        self.ctx
            .register_table(AUDIENCE_TABLE, Arc::new(table))
            .map_err(|e| EngineError::execution("the audience table", e))?;
        Ok(())
    }
}

/// The audience as CSV text with a header (decimals with every digit at their scale).
fn audience_csv(audience: &Audience, path: &Path) -> Result<Vec<u8>, EngineError> {
    let mut bytes = Vec::new();
    {
        let mut writer = datafusion::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut bytes);
        for batch in &audience.batches {
            writer
                .write(batch)
                .map_err(|e| snapshots::snapshot_error(path, "write", e))?;
        }
    }
    Ok(bytes)
}

/// The metadata as a JSON object (the CSV sidecar).
fn metadata_json(metadata: &[(String, String)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let mut text = serde_json::to_string_pretty(&object).unwrap_or_default();
    text.push('\n');
    text
}
