//! Looking at results without evaluating: explanations, SQL, previews.

use super::script::EXPRESSION_ORIGIN;
use super::*;

impl Session {
    /// All members of a step or segment of the last evaluation with the universe's columns,
    /// sorted by key.
    pub async fn members_with_columns(&self, name: &str) -> Result<Vec<RecordBatch>, EngineError> {
        self.preview(name, usize::MAX).await
    }

    /// How an expression is read, and the DataFusion plan of each of its steps, without
    /// running anything.
    pub fn explain(&self, expression: &str) -> Result<Explanation, EngineError> {
        let (expr, notes, text) = self.start_expression(expression)?;
        let origin = EXPRESSION_ORIGIN;
        self.explain_parsed(&expr, notes, &text, origin)
    }

    /// Applies a script's definitions and explains its last bare expression, evaluating
    /// nothing (earlier bare expressions are checked, not run).
    pub fn explain_script(
        &mut self,
        source: &str,
        origin: &str,
    ) -> Result<Option<Explanation>, EngineError> {
        match self.define_all(source, origin)? {
            None => Ok(None),
            Some(last) => self
                .explain_parsed(&last.expr, last.notes, &last.text, origin)
                .map(Some),
        }
    }

    fn explain_parsed(
        &self,
        expr: &SetExpr,
        notes: Vec<Diagnostic>,
        text: &Arc<str>,
        origin: &str,
    ) -> Result<Explanation, EngineError> {
        let as_of = self.as_of();
        let graph = self
            .checker()
            .graph(expr)
            .map_err(|e| self.check_error(e, text, origin, None))?;
        let key = self.catalog.schema.universe.key.clone();
        let needs = graph.needs();
        let features = if needs.feature_columns().next().is_none() {
            None
        } else {
            Some(self.features_plan(&needs, as_of)?)
        };
        let features_source = features
            .as_ref()
            .map(|(plan, _)| empty_source(plan.schema().inner().clone()));
        let key_schema = self.key_schema()?;
        let mut steps = Vec::new();
        for (index, node) in graph.steps.iter().enumerate() {
            let plan = match &node.op {
                StepOp::All => self.all_plan(as_of)?.display_indent().to_string(),
                StepOp::Criterion(leaf) => planner::criterion_plan(
                    features_source
                        .clone()
                        .unwrap_or_else(|| empty_source(key_schema.clone())),
                    &key,
                    &leaf.predicate,
                )?
                .display_indent()
                .to_string(),
                StepOp::Set { op, operands } => {
                    crate::members::describe(*op, &super::execute::step_tables(operands))
                }
            };
            steps.push((
                index + 1,
                step_label(&graph, index),
                node.text.clone(),
                plan,
            ));
        }
        let buckets = needs
            .windows
            .values()
            .map(|w| format!("{} ({} buckets)", w.label, w.buckets))
            .collect();
        let partitions = graph
            .partitions
            .iter()
            .map(|p| {
                let tiers = p
                    .tiers
                    .iter()
                    .map(|(tier, index)| format!("{tier} #{}", index + 1));
                format!("{}: {}", p.name, tiers.collect::<Vec<_>>().join(", "))
            })
            .collect();
        Ok(Explanation {
            parenthesized: expr.to_string(),
            notes,
            features_plan: features.map(|(plan, _)| plan.display_indent().to_string()),
            buckets,
            partitions,
            steps,
        })
    }

    /// Runs a read-only SQL query over the catalog tables and the last evaluation's steps:
    /// DDL (`CREATE`, `DROP`), DML (`INSERT`, `COPY … TO`) and statements (`SET`) are refused,
    /// so that a query can neither lose the session's tables nor write files.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let ctx = self.ctx.clone();
        let query = query.to_string();
        // A very deep SQL expression recurses as deep in DataFusion: plan and run it where
        // the stack allows.
        crate::deep::on_large_stack(async move {
            let frame = ctx
                .sql_with_options(&query, read_only)
                .await
                .map_err(|e| match e {
                    datafusion::error::DataFusionError::Plan(message)
                        if ["DDL", "DML", "Statement"]
                            .iter()
                            .any(|kind| message.starts_with(&format!("{kind} not supported"))) =>
                    {
                        EngineError::ReadOnly { message }
                    }
                    other => EngineError::execution("SQL", other),
                })?;
            frame
                .collect()
                .await
                .map_err(|e| EngineError::execution("SQL", e))
        })
        .await?
    }

    /// The first `limit` members of a step or segment of the last evaluation, joined with
    /// the universe's columns, sorted by key.
    pub async fn preview(&self, name: &str, limit: usize) -> Result<Vec<RecordBatch>, EngineError> {
        let table = self.step_table(name)?;
        let universe = &self.catalog.schema.universe;
        let key = &universe.key;
        let step_source = self.source(&table).await?;
        let universe_source = self.source(&universe.table).await?;
        let universe_scan =
            LogicalPlanBuilder::scan(universe.table.as_str(), universe_source, None)
                .and_then(|b| b.build())
                .map_err(|e| EngineError::execution("preview", e))?;
        let columns: Vec<DfExpr> = universe
            .schema
            .fields()
            .iter()
            .map(|f| DfExpr::Column(Column::new(Some(universe.table.as_str()), f.name())))
            .collect();
        let plan = LogicalPlanBuilder::scan(table.as_str(), step_source, None)
            .and_then(|b| {
                b.join(
                    universe_scan,
                    JoinType::Inner,
                    (
                        vec![Column::new(Some(table.as_str()), key)],
                        vec![Column::new(Some(universe.table.as_str()), key)],
                    ),
                    None,
                )
            })
            .and_then(|b| b.project(columns))
            .and_then(|b| b.sort(vec![ident(key).sort(true, false)]))
            .and_then(|b| {
                if limit == usize::MAX {
                    Ok(b)
                } else {
                    b.limit(0, Some(limit))
                }
            })
            .and_then(|b| b.build())
            .map_err(|e| EngineError::execution("preview", e))?;
        Ok(self.collect(plan, "preview").await?.0)
    }

    pub(super) fn step_table(&self, name: &str) -> Result<String, EngineError> {
        let name = name.trim_start_matches('#');
        let steps = self.store.last().map(|e| e.steps.as_slice()).unwrap_or(&[]);
        let found = steps.iter().find(|s| {
            s.table == name || s.names.iter().any(|n| n == name) || s.id.to_string() == name
        });
        match found {
            Some(step) => Ok(step.table.clone()),
            None => {
                let candidates = steps.iter().flat_map(|s| {
                    std::iter::once(s.table.as_str()).chain(s.names.iter().map(String::as_str))
                });
                Err(EngineError::UnknownStep {
                    name: name.to_string(),
                    suggestion: ensemble_syntax::suggest(name, candidates),
                })
            }
        }
    }
}
