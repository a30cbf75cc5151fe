//! The features table of an evaluation: one row per member of the universe at the as-of date,
//! with the universe columns and every aggregate and bucket the leaves read.
//!
//! Grouped passes over related tables are folded by member number when the members are
//! numbered densely (`crate::fold`): their values are gathered onto the universe's rows (or
//! onto the session's features table, when it extends it), with the types the grouped plan
//! gives them. Other passes (`count_distinct`, aggregates that do not fold, keys that are not
//! dense integers) and the buckets are planned with DataFusion over those rows.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::{ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, Schema};
use ensemble_compiler::{FeaturesSpec, MemberRows, Needs, PassKind};

use super::store::{CacheScope, CachedFeatures};
use super::*;
use crate::fold::fold_rows;
use crate::members::MemberIndex;

/// A features table just computed: the table, its rows, the related tables scanned and how.
struct Computed {
    table: Arc<MemTable>,
    rows: usize,
    tables: Vec<String>,
    plan: String,
}

impl Session {
    /// The per-member values of every criterion leaf that must be (re)computed, in one
    /// pass per related table; nothing when every leaf is cached.
    pub(super) async fn features_pass(
        &mut self,
        graph: &StepGraph,
        scope: CacheScope,
    ) -> Result<(Option<FeaturesPass>, Option<Arc<dyn TableSource>>), EngineError> {
        let mut needs = Needs::default();
        let mut uncached = false;
        for node in &graph.steps {
            if let StepOp::Criterion(leaf) = &node.op {
                if self.store.get(&scope.key(&node.key)).is_none() {
                    needs.extend(&leaf.needs);
                    uncached = true;
                }
            }
        }
        if !uncached {
            return Ok((None, None));
        }
        let (pass, table) = self.features_for(needs, scope).await?;
        Ok((Some(pass), Some(table)))
    }

    /// The features table holding at least `needs` at the scope's date: the session's own
    /// when it covers them, else extended with (or computed for) what is missing.
    pub(super) async fn features_for(
        &mut self,
        mut needs: Needs,
        scope: CacheScope,
    ) -> Result<(FeaturesPass, Arc<dyn TableSource>), EngineError> {
        // What the rest of the script reads at this date joins this pass.
        if let Some(ahead) = self.prefetch.get(&scope.as_of) {
            needs.extend(ahead);
        }
        // A leaf reading values the session computed at this date over these files (a new
        // threshold, a new combination) filters the features table it already has; a leaf
        // with new values scans for those only and joins them onto it.
        let scope_key = scope.key("features");
        let started = Instant::now();
        let known = self.store.features(&scope_key).cloned();
        let (_, index) = self.checked_scope().await?;
        let (computed, all_needs) = match known {
            Some(known) if known.covers(&needs) => {
                let pass = FeaturesPass {
                    rows: known.rows,
                    elapsed: started.elapsed(),
                    tables: Vec::new(),
                    plan: String::new(),
                    reused: true,
                };
                return Ok((pass, provider_as_source(known.table)));
            }
            Some(known) if needs.beyond(&known.needs).columns.is_empty() => {
                let missing = needs.beyond(&known.needs);
                let computed = self
                    .compute_features(Some(&known), &missing, scope.as_of, &index)
                    .await?;
                let mut all = known.needs.clone();
                all.extend(&missing);
                (computed, all)
            }
            known => {
                // New universe columns: one pass for everything, known values included.
                if let Some(known) = known {
                    needs.extend(&known.needs);
                }
                let computed = self
                    .compute_features(None, &needs, scope.as_of, &index)
                    .await?;
                (computed, needs)
            }
        };
        let pass = FeaturesPass {
            rows: computed.rows,
            elapsed: started.elapsed(),
            tables: computed.tables,
            plan: computed.plan,
            reused: false,
        };
        self.store.keep_features(CachedFeatures {
            scope: scope_key,
            needs: all_needs,
            table: computed.table.clone(),
            rows: computed.rows,
        });
        Ok((pass, provider_as_source(computed.table)))
    }

    /// Computes `needs` onto `known` (its rows, extended) or onto the universe's rows.
    async fn compute_features(
        &self,
        known: Option<&CachedFeatures>,
        needs: &Needs,
        as_of: NaiveDate,
        index: &MemberIndex,
    ) -> Result<Computed, EngineError> {
        let spec = needs.features();
        let tables = spec.tables();
        let grouped = match known {
            Some(known) => self.extended_features_plan(known, needs, as_of)?.0,
            None => self.features_plan(needs, as_of)?.0,
        };
        let (folded, planned) = self.split_passes(&spec, as_of, index)?;
        if folded.is_empty() {
            return self.grouped_features(grouped, tables).await;
        }
        // The base rows: the session's features table, or the universe at the date.
        let (base, base_columns) = match known {
            Some(known) => {
                let plan = features_scan(known.table.clone(), "the known features")?;
                let columns: BTreeSet<String> =
                    known.needs.feature_columns().map(String::from).collect();
                (plan, columns)
            }
            None => {
                let universe = &self.catalog.schema.universe;
                let plan = planner::universe_plan(
                    self.source_now(&universe.table)?,
                    universe,
                    as_of,
                    spec.columns,
                )?;
                (plan, spec.columns.clone())
            }
        };
        let mut plan_text = format!(
            "MemberRows: the rows the folded values join, by member number\n{}",
            indent(&base.display_indent().to_string())
        );
        let mut by_number = Vec::new();
        let range = index
            .dense_range()
            .ok_or_else(|| internal("folded passes without dense member numbers"))?;
        // Every folded pass and the base rows at once: the partitions of one fill the cores
        // another leaves idle.
        let folds = folded.iter().map(|rows| async move {
            let context = format!("the per-member aggregates over {}", rows.table);
            fold_rows(&self.ctx, rows, range, &context).await
        });
        let (arrays, (base_batches, base_schema)) = futures::try_join!(
            futures::future::try_join_all(folds),
            self.collect(base, "the universe")
        )?;
        // A memory limit too small for the arrays: the grouped plan, which spills.
        let Some(arrays) = arrays.into_iter().collect::<Option<Vec<_>>>() else {
            return self.grouped_features(grouped, tables).await;
        };
        for (rows, arrays) in folded.iter().zip(arrays) {
            plan_text.push_str(&describe_fold(rows));
            for (aggregate, array) in rows.aggregates.iter().zip(arrays) {
                by_number.push((aggregate.spec.name.clone(), array));
            }
        }
        let batches = gather(
            index,
            base_batches,
            &base_schema,
            &by_number,
            grouped.schema().inner(),
        )?;
        let schema = batches
            .first()
            .map(RecordBatch::schema)
            .unwrap_or_else(|| with_columns(&base_schema, &by_number, grouped.schema().inner()));
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let table = self.mem_table(schema, batches, "the per-member aggregates")?;
        if planned.is_empty() && spec.buckets.is_empty() {
            return Ok(Computed {
                table,
                rows,
                tables,
                plan: plan_text,
            });
        }
        // The passes that do not fold, and the buckets, over those rows.
        let mut columns = base_columns;
        columns.extend(by_number.iter().map(|(name, _)| name.clone()));
        let rest = FeaturesSpec {
            columns: spec.columns,
            passes: planned,
            buckets: spec.buckets.clone(),
        };
        let onto = features_scan(table, "the folded features")?;
        let plan = planner::lower_features_onto(
            onto,
            &columns,
            &rest,
            &self.catalog.schema,
            as_of,
            &self.sources_for(&rest.tables())?,
        )?;
        plan_text.push_str(&plan.display_indent().to_string());
        let (table, rows) = self.materialise(plan, "the per-member aggregates").await?;
        Ok(Computed {
            table,
            rows,
            tables,
            plan: plan_text,
        })
    }

    /// The features table as one grouped plan, run.
    async fn grouped_features(
        &self,
        grouped: LogicalPlan,
        tables: Vec<String>,
    ) -> Result<Computed, EngineError> {
        let plan = grouped.display_indent().to_string();
        let (table, rows) = self
            .materialise(grouped, "the per-member aggregates")
            .await?;
        Ok(Computed {
            table,
            rows,
            tables,
            plan,
        })
    }

    /// The passes of `spec` folded by member number, and the others.
    fn split_passes<'a>(
        &'a self,
        spec: &FeaturesSpec<'a>,
        as_of: NaiveDate,
        index: &MemberIndex,
    ) -> Result<(Vec<MemberRows<'a>>, Vec<ensemble_compiler::TablePass<'a>>), EngineError> {
        let mut folded = Vec::new();
        let mut planned = Vec::new();
        let dense = index.dense_range().is_some();
        for pass in &spec.passes {
            let related = self.catalog.schema.related.get(pass.table);
            let rows = match (dense, pass.kind, related) {
                (true, PassKind::Grouped, Some(related)) => {
                    ensemble_compiler::member_rows::member_rows_plan(
                        self.source_now(pass.table)?,
                        related,
                        as_of,
                        &pass.aggregates,
                    )?
                }
                _ => None,
            };
            match rows {
                Some(rows) => folded.push(rows),
                None => planned.push(pass.clone()),
            }
        }
        Ok((folded, planned))
    }

    /// The catalog tables `tables` as plan sources.
    fn sources_for(
        &self,
        tables: &[String],
    ) -> Result<BTreeMap<String, Arc<dyn TableSource>>, EngineError> {
        tables
            .iter()
            .map(|t| Ok((t.clone(), self.source_now(t)?)))
            .collect()
    }

    /// The known features table joined with grouped passes for the `missing` values only.
    fn extended_features_plan(
        &self,
        known: &CachedFeatures,
        missing: &Needs,
        as_of: NaiveDate,
    ) -> Result<(LogicalPlan, Vec<String>), EngineError> {
        let spec = missing.features();
        let tables = spec.tables();
        let known_plan = features_scan(known.table.clone(), "the known features")?;
        let known_columns = known.needs.feature_columns().map(String::from).collect();
        let plan = planner::lower_features_onto(
            known_plan,
            &known_columns,
            &spec,
            &self.catalog.schema,
            as_of,
            &self.sources_for(&tables)?,
        )?;
        Ok((plan, tables))
    }

    /// The features table of `needs` as one DataFusion plan: the universe left-joined with
    /// one grouped pass per related table (what `explain` and `why` show and compute).
    pub(super) fn features_plan(
        &self,
        needs: &Needs,
        as_of: NaiveDate,
    ) -> Result<(LogicalPlan, Vec<String>), EngineError> {
        let spec = needs.features();
        let tables = spec.tables();
        let mut with_universe = tables.clone();
        with_universe.push(self.catalog.schema.universe.table.clone());
        let sources = self.sources_for(&with_universe)?;
        let plan = planner::lower_features(&spec, &self.catalog.schema, as_of, &sources)?;
        Ok((plan, tables))
    }
}

/// A scan of a features table, as the base of a plan.
fn features_scan(table: Arc<MemTable>, what: &str) -> Result<LogicalPlan, EngineError> {
    LogicalPlanBuilder::scan(planner::FEATURES_TABLE, provider_as_source(table), None)
        .and_then(|b| b.build())
        .map_err(|e| EngineError::execution(what, e))
}

fn internal(what: &str) -> EngineError {
    EngineError::execution(
        what,
        datafusion::error::DataFusionError::Internal(what.to_string()),
    )
}

/// How a folded pass shows in the features pass's plan.
fn describe_fold(rows: &MemberRows<'_>) -> String {
    let aggregates: Vec<&str> = rows
        .aggregates
        .iter()
        .map(|a| a.spec.name.as_str())
        .collect();
    format!(
        "MemberFold: {} by member number over {} [{}]\n{}",
        if aggregates.len() == 1 {
            "1 aggregate"
        } else {
            "aggregates"
        },
        rows.table,
        aggregates.join(", "),
        indent(&rows.plan.display_indent().to_string())
    )
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// `base`'s schema with the folded columns, typed as `grouped` (the grouped plan) types them.
fn with_columns(
    base: &SchemaRef,
    by_number: &[(String, ArrayRef)],
    grouped: &SchemaRef,
) -> SchemaRef {
    let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (name, array) in by_number {
        let field = grouped
            .field_with_name(name)
            .cloned()
            .unwrap_or_else(|_| Field::new(name, array.data_type().clone(), true));
        fields.push(field);
    }
    Arc::new(Schema::new(fields))
}

/// Each base row with the folded values of its member, cast to the grouped plan's types.
fn gather(
    index: &MemberIndex,
    base: Vec<RecordBatch>,
    base_schema: &SchemaRef,
    by_number: &[(String, ArrayRef)],
    grouped: &SchemaRef,
) -> Result<Vec<RecordBatch>, EngineError> {
    let context = "the per-member aggregates";
    let fail = |e: datafusion::arrow::error::ArrowError| EngineError::execution(context, e.into());
    let schema = with_columns(base_schema, by_number, grouped);
    let mut out = Vec::with_capacity(base.len());
    for batch in base {
        let numbers = index.numbers(batch.column(0))?;
        // Rows of consecutive numbers (the universe in key order, keys without gaps) take a
        // slice of each folded array; others take their members' values.
        let run = consecutive(&numbers);
        let numbers = UInt32Array::from(numbers);
        let mut columns = batch.columns().to_vec();
        for ((_, array), field) in by_number
            .iter()
            .zip(schema.fields().iter().skip(base_schema.fields().len()))
        {
            let values = match run {
                Some(first) => array.slice(first, numbers.len()),
                None => take(array.as_ref(), &numbers, None).map_err(fail)?,
            };
            columns.push(retype(values, field.data_type()).map_err(fail)?);
        }
        out.push(RecordBatch::try_new(schema.clone(), columns).map_err(fail)?);
    }
    Ok(out)
}

/// The first number when `numbers` are consecutive (`n, n + 1, …`).
fn consecutive(numbers: &[Option<u32>]) -> Option<usize> {
    let first = (*numbers.first()?)?;
    numbers
        .iter()
        .enumerate()
        .all(|(i, n)| *n == Some(first.wrapping_add(i as u32)))
        .then_some(first as usize)
}

/// `values` as `data_type`: a sum of decimals takes the grouped plan's precision as is (the
/// scale is the same; a sum does not check its precision row by row either), anything else
/// is cast.
fn retype(
    values: ArrayRef,
    data_type: &DataType,
) -> Result<ArrayRef, datafusion::arrow::error::ArrowError> {
    match (values.data_type(), data_type) {
        (from, to) if from == to => Ok(values),
        (DataType::Decimal128(_, from), DataType::Decimal128(precision, to)) if from == to => {
            let values = values.as_primitive::<Decimal128Type>().clone();
            Ok(Arc::new(values.with_precision_and_scale(*precision, *to)?))
        }
        _ => cast(&values, data_type),
    }
}
