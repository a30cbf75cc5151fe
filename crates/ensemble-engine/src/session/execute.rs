//! Evaluating a step graph: the features pass, each step materialised or reused from the
//! step store.

use futures::StreamExt;
use roaring::RoaringBitmap;

use super::store::{CacheScope, CachedStep};
use super::*;
use crate::member_table::MemberTable;
use crate::members::MemberIndex;

impl Session {
    /// Evaluates a checked graph: the features pass for the leaves not cached, every step
    /// materialised or reused, the result published to the step store.
    pub(super) async fn evaluate_graph(
        &mut self,
        graph: StepGraph,
        notes: Vec<Diagnostic>,
        started: Instant,
    ) -> Result<Evaluation, EngineError> {
        let (fingerprint, index) = self.checked_scope().await?;
        let scope = CacheScope {
            as_of: self.as_of(),
            fingerprint,
        };
        let (features, features_source) = self.features_pass(&graph, scope).await?;
        let mut tables: Vec<Arc<MemberTable>> = Vec::with_capacity(graph.steps.len());
        let mut bitmaps: Vec<Arc<RoaringBitmap>> = Vec::with_capacity(graph.steps.len());
        let mut steps = Vec::with_capacity(graph.steps.len());
        let mut fresh = HashMap::new();
        let root = graph.root();
        for (position, node) in graph.steps.iter().enumerate() {
            if self.interrupt.is_interrupted() {
                return Err(EngineError::Cancelled);
            }
            let step_started = Instant::now();
            let cache_key = scope.key(&node.key);
            let (cached, reused) = match self.store.get(&cache_key) {
                Some(cached) => (cached.clone(), true),
                None => {
                    let step = match &node.op {
                        StepOp::Set { op, operands } => {
                            let inputs: Vec<&RoaringBitmap> =
                                operands.iter().map(|&i| bitmaps[i].as_ref()).collect();
                            let members = crate::members::combine(*op, &inputs);
                            let plan = crate::members::describe(*op, &step_tables(operands));
                            self.keep_members(&index, members, plan, node)
                        }
                        _ => {
                            let plan = self.leaf_plan(node, scope.as_of, &features_source)?;
                            let direct = match (&node.op, &features_source) {
                                (StepOp::Criterion(_), Some(features)) => {
                                    self.criterion_members(features, &plan, &index, position)
                                        .await?
                                }
                                _ => None,
                            };
                            match direct {
                                Some(members) => {
                                    let plan = plan.display_indent().to_string();
                                    self.keep_members(&index, members, plan, node)
                                }
                                None => {
                                    self.materialise_step(plan, position, node, index.clone())
                                        .await?
                                }
                            }
                        }
                    };
                    (step, false)
                }
            };
            let elapsed = if reused {
                Duration::ZERO
            } else {
                step_started.elapsed()
            };
            steps.push(step_of(position, node, &cached, elapsed, reused));
            tables.push(cached.table.clone());
            bitmaps.push(cached.members.clone());
            fresh.insert(cache_key, cached);
        }
        // The members' keys in key order: the evaluation's output, not a step's work.
        let members = index.batches(&bitmaps[root])?;
        let evaluation = Evaluation {
            as_of: scope.as_of,
            partitions: partition_counts(&graph, &steps),
            steps,
            root,
            members,
            key: self.catalog.schema.universe.key.clone(),
            features,
            notes,
            elapsed: started.elapsed(),
            numbers: bitmaps[root].clone(),
            tables,
        };
        self.store
            .publish(&self.ctx, &evaluation, &evaluation.tables, fresh)?;
        Ok(evaluation)
    }

    /// The data files' fingerprint and member numbers, built once per state of the data;
    /// the universe's keys are checked present and unique on the way (`integrity` counts
    /// and names a problem).
    pub(super) async fn checked_scope(&mut self) -> Result<(u64, Arc<MemberIndex>), EngineError> {
        let fingerprint = self.catalog.fingerprint();
        if let Some((built, index)) = &self.members {
            if *built == fingerprint {
                return Ok((fingerprint, index.clone()));
            }
        }
        // A new state of the data: its files are checked before anything reads them.
        self.catalog.check_files()?;
        let (index, verified) = MemberIndex::build(&self.ctx, &self.catalog).await?;
        if !verified {
            crate::integrity::check_universe_keys(&self.ctx, &self.catalog).await?;
        }
        let index = Arc::new(index);
        self.members = Some((fingerprint, index.clone()));
        Ok((fingerprint, index))
    }

    /// The plan of a leaf step not in the cache (`all` or a criterion over the features
    /// table); set operations are computed on member numbers, not planned.
    fn leaf_plan(
        &self,
        node: &ensemble_compiler::StepNode,
        as_of: NaiveDate,
        features: &Option<Arc<dyn TableSource>>,
    ) -> Result<LogicalPlan, EngineError> {
        let key = &self.catalog.schema.universe.key;
        let internal = |what: &str| {
            EngineError::execution(
                what,
                datafusion::error::DataFusionError::Internal(format!("{what} has no plan")),
            )
        };
        match (&node.op, features) {
            (StepOp::All, _) => self.all_plan(as_of),
            (StepOp::Criterion(leaf), Some(features)) => Ok(planner::criterion_plan(
                features.clone(),
                key,
                &leaf.predicate,
            )?),
            (StepOp::Criterion(_), None) => Err(internal("a criterion without a features pass")),
            (StepOp::Set { .. }, _) => Err(internal("a set operation")),
        }
    }

    /// Runs a leaf's plan and keeps its members: the keys it streams are numbered batch by
    /// batch, not kept.
    async fn materialise_step(
        &self,
        plan: LogicalPlan,
        position: usize,
        node: &ensemble_compiler::StepNode,
        index: Arc<MemberIndex>,
    ) -> Result<CachedStep, EngineError> {
        let plan_text = plan.display_indent().to_string();
        let context = format!("step #{}", position + 1);
        let fail = |e| EngineError::execution(&context, e);
        let mut stream = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(fail)?
            .execute_stream()
            .await
            .map_err(fail)?;
        let mut collector = index.collector();
        while let Some(batch) = stream.next().await {
            collector.add(batch.map_err(fail)?.column(0))?;
        }
        let members = collector.finish();
        Ok(self.keep_members(&index, members, plan_text, node))
    }

    /// The members of a criterion over the in-memory features table, its predicate evaluated
    /// batch by batch straight into their numbers: the same rows as the leaf's plan (a scan,
    /// the predicate as a filter, the key), without planning and running three operators
    /// per leaf. `None` when the features table is not in memory or the predicate does not
    /// build as one expression; the caller then runs the plan.
    async fn criterion_members(
        &self,
        features: &Arc<dyn TableSource>,
        plan: &LogicalPlan,
        index: &MemberIndex,
        position: usize,
    ) -> Result<Option<RoaringBitmap>, EngineError> {
        let Ok(provider) = datafusion::datasource::source_as_provider(features) else {
            return Ok(None);
        };
        let Some(table) = provider.downcast_ref::<MemTable>() else {
            return Ok(None);
        };
        let schema = provider.schema();
        let key = &self.catalog.schema.universe.key;
        let (Ok(key_column), Ok(columns)) = (
            schema.index_of(key),
            datafusion::common::DFSchema::try_from_qualified_schema(
                planner::FEATURES_TABLE,
                &schema,
            ),
        ) else {
            return Ok(None);
        };
        // The predicate as the optimised plan filters (simplified, coerced: some functions,
        // `coalesce` among them, only run once rewritten).
        let Ok(optimised) = self.ctx.state().optimize(plan) else {
            return Ok(None);
        };
        let Some(predicate) = filter_over_scan(&optimised) else {
            return Ok(None);
        };
        let Ok(predicate) = self.ctx.create_physical_expr(predicate.clone(), &columns) else {
            return Ok(None);
        };
        let context = format!("step #{}", position + 1);
        let mut partitions = Vec::with_capacity(table.batches.len());
        for partition in &table.batches {
            partitions.push(partition.read().await.clone());
        }
        // One thread per partition of the features table (the session's cores), for a few
        // milliseconds of evaluation each.
        let selected = std::thread::scope(|scope| {
            let select = |batches| select(index, predicate.as_ref(), batches, key_column, &context);
            let Some((first, rest)) = partitions.split_first() else {
                return Vec::new();
            };
            let others: Vec<_> = rest
                .iter()
                .map(|batches| scope.spawn(move || select(batches)))
                .collect();
            let mut selected = vec![select(first)];
            for other in others {
                selected.push(
                    other
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
            selected
        });
        let mut members = RoaringBitmap::new();
        for part in selected {
            match part? {
                Some(part) => members |= part,
                None => return Ok(None),
            }
        }
        Ok(Some(members))
    }

    /// Keeps a step's members as a table whose keys are built when it is read.
    fn keep_members(
        &self,
        index: &Arc<MemberIndex>,
        members: RoaringBitmap,
        plan: String,
        node: &ensemble_compiler::StepNode,
    ) -> CachedStep {
        let members = Arc::new(members);
        let partitions = self.ctx.copied_config().target_partitions();
        let table = MemberTable::new(index.clone(), members.clone(), partitions);
        CachedStep {
            table: Arc::new(table),
            count: members.len() as usize,
            members,
            plan,
            named: !node.names.is_empty(),
        }
    }

    pub(super) fn all_plan(&self, as_of: NaiveDate) -> Result<LogicalPlan, EngineError> {
        let universe = &self.catalog.schema.universe;
        Ok(planner::all_plan(
            self.source_now(&universe.table)?,
            universe,
            as_of,
        )?)
    }

    pub(super) fn key_schema(&self) -> Result<SchemaRef, EngineError> {
        let universe = &self.catalog.schema.universe;
        let field = universe
            .schema
            .field_with_name(&universe.key)
            .map_err(|e| EngineError::execution("the universe key", e.into()))?;
        Ok(Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            field.clone(),
        ])))
    }

    /// The catalog table `name` as a plan source.
    pub(super) fn source_now(&self, name: &str) -> Result<Arc<dyn TableSource>, EngineError> {
        let provider = self.catalog.providers.get(name).ok_or_else(|| {
            EngineError::execution(
                name,
                datafusion::error::DataFusionError::Plan(format!(
                    "table {name} is not in the catalog"
                )),
            )
        })?;
        Ok(provider_as_source(provider.clone()))
    }

    pub(super) async fn source(&self, name: &str) -> Result<Arc<dyn TableSource>, EngineError> {
        let provider = self
            .ctx
            .table_provider(name)
            .await
            .map_err(|e| EngineError::execution(name, e))?;
        Ok(provider_as_source(provider))
    }

    pub(super) async fn collect(
        &self,
        plan: LogicalPlan,
        context: &str,
    ) -> Result<(Vec<RecordBatch>, SchemaRef), EngineError> {
        let frame = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| EngineError::execution(context, e))?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame
            .collect()
            .await
            .map_err(|e| EngineError::execution(context, e))?;
        let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
        Ok((batches, schema))
    }

    /// Runs a plan and keeps its result in memory, spread over the session's partitions.
    pub(super) async fn materialise(
        &self,
        plan: LogicalPlan,
        context: &str,
    ) -> Result<(Arc<MemTable>, usize), EngineError> {
        let (batches, schema) = self.collect(plan, context).await?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Ok((self.mem_table(schema, batches, context)?, rows))
    }

    /// Batches as an in-memory table spread over the session's partitions.
    pub(super) fn mem_table(
        &self,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        context: &str,
    ) -> Result<Arc<MemTable>, EngineError> {
        let partitions = self.ctx.copied_config().target_partitions();
        let split = crate::member_table::spread(batches, partitions);
        let table =
            MemTable::try_new(schema, split).map_err(|e| EngineError::execution(context, e))?;
        Ok(Arc::new(table))
    }
}

/// The predicate of a criterion's optimised plan when it is a projection of a filter over a
/// plain scan of the features table (a predicate folded to a constant leaves no filter).
fn filter_over_scan(plan: &LogicalPlan) -> Option<&DfExpr> {
    let LogicalPlan::Projection(projection) = plan else {
        return None;
    };
    let LogicalPlan::Filter(filter) = projection.input.as_ref() else {
        return None;
    };
    match filter.input.as_ref() {
        LogicalPlan::TableScan(scan) if scan.filters.is_empty() && scan.fetch.is_none() => {
            Some(&filter.predicate)
        }
        _ => None,
    }
}

/// The members of the rows of `batches` that `predicate` keeps (true, not null: a filter's
/// rows); `None` when the predicate is not boolean.
fn select(
    index: &MemberIndex,
    predicate: &dyn datafusion::physical_expr::PhysicalExpr,
    batches: &[RecordBatch],
    key_column: usize,
    context: &str,
) -> Result<Option<RoaringBitmap>, EngineError> {
    use datafusion::arrow::array::AsArray;
    let mut collector = index.collector();
    for batch in batches {
        let kept = predicate
            .evaluate(batch)
            .and_then(|v| v.into_array(batch.num_rows()))
            .map_err(|e| EngineError::execution(context, e))?;
        let Some(kept) = kept.as_boolean_opt() else {
            return Ok(None);
        };
        collector.add_selected(batch.column(key_column), kept)?;
    }
    Ok(Some(collector.finish()))
}

/// The step of an evaluation, as inspected.
fn step_of(
    index: usize,
    node: &ensemble_compiler::StepNode,
    cached: &CachedStep,
    elapsed: Duration,
    reused: bool,
) -> Step {
    let id = index + 1;
    Step {
        id,
        table: format!("step_{id}"),
        names: node.names.clone(),
        kind: match &node.op {
            StepOp::All => StepKind::All,
            StepOp::Criterion(_) => StepKind::Criterion,
            StepOp::Set { op, operands } => StepKind::Set {
                op: *op,
                operands: operands.iter().map(|i| i + 1).collect(),
            },
        },
        text: node.text.clone(),
        count: cached.count,
        elapsed,
        reused,
        plan: cached.plan.clone(),
    }
}

/// Each partition's tiers with their counts.
fn partition_counts(graph: &StepGraph, steps: &[Step]) -> Vec<PartitionCounts> {
    graph
        .partitions
        .iter()
        .map(|p| PartitionCounts {
            name: p.name.clone(),
            tiers: p
                .tiers
                .iter()
                .map(|(tier, index)| (tier.clone(), index + 1, steps[*index].count))
                .collect(),
            outside: p.outside.map(|index| steps[index].count),
            evaluated: p.evaluated,
        })
        .collect()
}

/// The tables of the steps at `indices` (0-based): `step_1`, `step_2`, ….
pub(super) fn step_tables(indices: &[usize]) -> Vec<String> {
    indices.iter().map(|i| format!("step_{}", i + 1)).collect()
}
