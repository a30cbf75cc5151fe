//! The tables a client sees besides the catalog's: a view per named set (its members with
//! the universe's columns), guarded by the minimum audience size, and the last evaluation's
//! steps.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{MemTable, Session as DfSession, TableProvider};
use datafusion::common::{Column, DataFusionError, Result};
use datafusion::datasource::{provider_as_source, TableType, ViewTable};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlanBuilder};
use datafusion::physical_plan::ExecutionPlan;
use ensemble::Evaluation;

use crate::state::Shared;

/// A set's members as a view: the universe's rows whose key is a member.
pub(crate) fn set_view(
    shared: &Shared,
    label: &str,
    evaluation: &Evaluation,
    universe: &Arc<dyn TableProvider>,
    universe_table: &str,
) -> Result<Arc<dyn TableProvider>> {
    let key = &evaluation.key;
    let key_schema = match evaluation.members.first() {
        Some(batch) => batch.schema(),
        None => {
            let field = universe.schema().field_with_name(key)?.clone();
            Arc::new(Schema::new(vec![field]))
        }
    };
    let keys = MemTable::try_new(key_schema, vec![evaluation.members.clone()])?;
    let members =
        LogicalPlanBuilder::scan("members", provider_as_source(Arc::new(keys)), None)?.build()?;
    let plan =
        LogicalPlanBuilder::scan(universe_table, provider_as_source(universe.clone()), None)?
            .join(
                members,
                JoinType::LeftSemi,
                (
                    vec![Column::new(Some(universe_table), key)],
                    vec![Column::new(Some("members"), key)],
                ),
                None,
            )?
            .build()?;
    let definition = format!("-- members of {label} as of {}", evaluation.as_of);
    Ok(Arc::new(AudienceGuard {
        label: label.to_string(),
        inner: Arc::new(ViewTable::new(plan, Some(definition))),
        members: evaluation.count(),
        min: shared.config.limits.min_audience,
    }))
}

/// A set's members, refused at member level below the minimum audience size: a scan that
/// reads no column (`SELECT count(*)`) is allowed, any other is an error.
#[derive(Debug)]
pub(crate) struct AudienceGuard {
    label: String,
    inner: Arc<dyn TableProvider>,
    members: usize,
    min: usize,
}

#[async_trait]
impl TableProvider for AudienceGuard {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.inner.get_table_definition()
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let counts_only = projection.is_some_and(|p| p.is_empty()) && filters.is_empty();
        if self.members < self.min && !counts_only {
            return Err(DataFusionError::Plan(format!(
                "{} has {} member(s), fewer than the server's minimum audience of {}: only \
                 its count may be read (SELECT count(*) …); the limit is ensemble serve's \
                 --min-audience",
                self.label, self.members, self.min
            )));
        }
        self.inner.scan(state, projection, filters, limit).await
    }
}

/// The last evaluation's steps, read when queried: the engine's one steps table
/// ([`ensemble::steps_schema`]).
#[derive(Debug)]
pub(crate) struct StepsTable {
    shared: Arc<Shared>,
}

impl StepsTable {
    pub(crate) fn new(shared: Arc<Shared>) -> StepsTable {
        StepsTable { shared }
    }
}

#[async_trait]
impl TableProvider for StepsTable {
    fn schema(&self) -> SchemaRef {
        ensemble::steps_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let steps = {
            let session = self.shared.session.lock().await;
            session
                .last_evaluation()
                .map(|e| e.steps.clone())
                .unwrap_or_default()
        };
        let table = MemTable::try_new(self.schema(), vec![vec![ensemble::steps_batch(&steps)?]])?;
        table.scan(state, projection, filters, limit).await
    }
}
