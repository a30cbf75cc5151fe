//! Evaluating a step graph: the features pass, each step materialised, the step cache.

use super::*;

impl Session {
    pub(super) async fn evaluate_graph(
        &mut self,
        graph: StepGraph,
        notes: Vec<Diagnostic>,
        started: Instant,
    ) -> Result<Evaluation, EngineError> {
        let as_of = self.as_of();
        let fingerprint = self.catalog.fingerprint();
        if self.keys_checked != Some(fingerprint) {
            crate::integrity::check_universe_keys(&self.ctx, &self.catalog).await?;
            self.keys_checked = Some(fingerprint);
        }
        let cache_key = |key: &str| format!("{as_of}|{fingerprint:016x}|{key}");

        // The per-member values of every criterion leaf that must be (re)computed, in one
        // grouped pass per related table.
        let mut needs = ensemble_compiler::Needs::default();
        for node in &graph.steps {
            if let StepOp::Criterion(leaf) = &node.op {
                if !self.cache.contains_key(&cache_key(&node.key)) {
                    needs.extend(&leaf.needs);
                }
            }
        }
        let has_uncached_leaf = graph.steps.iter().any(|n| {
            matches!(n.op, StepOp::Criterion(_)) && !self.cache.contains_key(&cache_key(&n.key))
        });
        let mut features = None;
        let mut features_source = None;
        if has_uncached_leaf {
            let pass_started = Instant::now();
            let (plan, tables) = self.features_plan(&needs, as_of)?;
            let plan_text = plan.display_indent().to_string();
            let (table, rows) = self.materialise(plan, "the per-member aggregates").await?;
            features_source = Some(provider_as_source(table));
            features = Some(FeaturesPass {
                rows,
                elapsed: pass_started.elapsed(),
                tables,
                plan: plan_text,
            });
        }

        let key = self.catalog.schema.universe.key.clone();
        let mut tables: Vec<Arc<MemTable>> = Vec::with_capacity(graph.steps.len());
        let mut steps = Vec::with_capacity(graph.steps.len());
        let mut new_cache = HashMap::new();
        for (index, node) in graph.steps.iter().enumerate() {
            if self.interrupt.is_interrupted() {
                return Err(EngineError::Cancelled);
            }
            let id = index + 1;
            let step_started = Instant::now();
            let cached = self.cache.get(&cache_key(&node.key)).cloned();
            let (cached_step, reused) = match cached {
                Some(cached) => (cached, true),
                None => {
                    let plan = match &node.op {
                        StepOp::All => self.all_plan(as_of)?,
                        StepOp::Criterion(leaf) => planner::criterion_plan(
                            features_source
                                .clone()
                                .expect("the features pass ran for uncached leaves"),
                            &key,
                            leaf.predicate.clone(),
                        )?,
                        StepOp::Set { op, left, right } => planner::set_plan(
                            *op,
                            (
                                &format!("step_{}", left + 1),
                                provider_as_source(tables[*left].clone()),
                            ),
                            (
                                &format!("step_{}", right + 1),
                                provider_as_source(tables[*right].clone()),
                            ),
                            &key,
                        )?,
                    };
                    let plan_text = plan.display_indent().to_string();
                    let (table, count) = self.materialise(plan, &format!("step #{id}")).await?;
                    (
                        CachedStep {
                            table,
                            count,
                            plan: plan_text,
                            named: !node.names.is_empty(),
                        },
                        false,
                    )
                }
            };
            tables.push(cached_step.table.clone());
            steps.push(Step {
                id,
                table: format!("step_{id}"),
                names: node.names.clone(),
                kind: match &node.op {
                    StepOp::All => StepKind::All,
                    StepOp::Criterion(_) => StepKind::Criterion,
                    StepOp::Set { op, left, right } => StepKind::Set {
                        op: *op,
                        left: left + 1,
                        right: right + 1,
                    },
                },
                text: node.text.clone(),
                count: cached_step.count,
                elapsed: if reused {
                    Duration::ZERO
                } else {
                    step_started.elapsed()
                },
                reused,
                plan: cached_step.plan.clone(),
            });
            new_cache.insert(cache_key(&node.key), cached_step);
        }

        let root = graph.root();
        let members = self.sorted_members(tables[root].clone()).await?;
        self.register_steps(&steps, &tables)?;
        self.update_cache(new_cache);
        let partitions: Vec<PartitionCounts> = graph
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
            .collect();
        let evaluation = Evaluation {
            as_of,
            steps,
            root,
            members,
            key,
            features,
            notes,
            partitions,
            elapsed: started.elapsed(),
        };
        for step in &evaluation.steps {
            for name in &step.names {
                self.sizes.insert(name.clone(), step.count);
            }
        }
        for partition in &evaluation.partitions {
            let inside = partition.tiers.iter().map(|t| t.2).sum();
            self.sizes.insert(partition.name.clone(), inside);
        }
        self.last = Some(evaluation.clone());
        Ok(evaluation)
    }

    pub(super) fn features_plan(
        &self,
        needs: &ensemble_compiler::Needs,
        as_of: NaiveDate,
    ) -> Result<(LogicalPlan, Vec<String>), EngineError> {
        let schema = &self.catalog.schema;
        let universe = planner::universe_plan(
            self.source_now(&schema.universe.table)?,
            &schema.universe,
            as_of,
            &needs.columns,
        )?;
        let mut by_table: std::collections::BTreeMap<&str, Vec<&ensemble_compiler::AggregateSpec>> =
            Default::default();
        for spec in needs.aggregates.values() {
            by_table.entry(spec.table.as_str()).or_default().push(spec);
        }
        let mut passes = Vec::new();
        let mut tables = Vec::new();
        for (table, specs) in by_table {
            let related = &schema.related[table];
            let (distinct, grouped): (Vec<_>, Vec<_>) = specs
                .into_iter()
                .partition(|s| s.func == ensemble_syntax::AggFunc::CountDistinct);
            if !grouped.is_empty() {
                let plan =
                    planner::aggregate_plan(self.source_now(table)?, related, as_of, &grouped)?;
                passes.push((plan, table.to_string(), grouped));
            }
            // Distinct counts take a two-step pass of their own (see `distinct_count_plan`).
            for (i, spec) in distinct.into_iter().enumerate() {
                let label = format!("{table}_distinct_{i}");
                let plan = planner::distinct_count_plan(
                    self.source_now(table)?,
                    related,
                    as_of,
                    spec,
                    &label,
                )?;
                passes.push((plan, label, vec![spec]));
            }
            tables.push(table.to_string());
        }
        let windows: Vec<&ensemble_compiler::WindowSpec> = needs.windows.values().collect();
        let plan = planner::features_plan(
            universe,
            &schema.universe.key,
            &needs.columns,
            passes,
            &windows,
        )?;
        Ok((plan, tables))
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
        let partitions = self.ctx.copied_config().target_partitions().max(1);
        let mut split = vec![Vec::new(); partitions];
        for (i, batch) in batches.into_iter().enumerate() {
            split[i % partitions].push(batch);
        }
        let table =
            MemTable::try_new(schema, split).map_err(|e| EngineError::execution(context, e))?;
        Ok((Arc::new(table), rows))
    }

    pub(super) async fn sorted_members(
        &self,
        table: Arc<MemTable>,
    ) -> Result<Vec<RecordBatch>, EngineError> {
        let key = &self.catalog.schema.universe.key;
        let plan = LogicalPlanBuilder::scan("result", provider_as_source(table), None)
            .and_then(|b| b.sort(vec![ident(key).sort(true, false)]))
            .and_then(|b| b.build())
            .map_err(|e| EngineError::execution("the result", e))?;
        Ok(self.collect(plan, "the result").await?.0)
    }

    /// Registers `step_N` and segment names for SQL, replacing the previous evaluation's.
    pub(super) fn register_steps(
        &mut self,
        steps: &[Step],
        tables: &[Arc<MemTable>],
    ) -> Result<(), EngineError> {
        // Names are bare: a tier `statut.vip` is one table, queried as "statut.vip".
        use datafusion::common::TableReference;
        for name in self.registered.drain(..) {
            let _ = self
                .ctx
                .deregister_table(TableReference::bare(name.as_str()));
        }
        for (step, table) in steps.iter().zip(tables) {
            for name in std::iter::once(&step.table).chain(&step.names) {
                let _ = self
                    .ctx
                    .deregister_table(TableReference::bare(name.as_str()));
                self.ctx
                    .register_table(
                        TableReference::bare(name.as_str()),
                        table.clone() as Arc<dyn TableProvider>,
                    )
                    .map_err(|e| EngineError::execution(format!("registering {name}"), e))?;
                self.registered.push(name.clone());
            }
        }
        Ok(())
    }

    /// Keeps the steps of this evaluation and the named steps of earlier ones (bounded).
    pub(super) fn update_cache(&mut self, fresh: HashMap<String, CachedStep>) {
        let mut kept: Vec<String> = self
            .cache_order
            .iter()
            .filter(|k| !fresh.contains_key(*k) && self.cache.get(*k).is_some_and(|c| c.named))
            .cloned()
            .collect();
        if kept.len() > MAX_CACHED_NAMED_STEPS {
            kept.drain(..kept.len() - MAX_CACHED_NAMED_STEPS);
        }
        let mut cache: HashMap<String, CachedStep> = kept
            .iter()
            .filter_map(|k| self.cache.remove(k).map(|c| (k.clone(), c)))
            .collect();
        let mut order = kept;
        for (key, step) in fresh {
            order.push(key.clone());
            cache.insert(key, step);
        }
        self.cache = cache;
        self.cache_order = order;
    }
}
