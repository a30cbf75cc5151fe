//! The limits of every client query, applied to its physical plan whichever protocol sent
//! it: the last physical optimizer rule wraps the plan's root in [`LimitedExec`], which runs
//! the query with a memory pool of its own (operators that can spill do, one that cannot
//! fails naming the limit) and ends its stream with an error at the deadline.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::StreamExt;

use crate::config::Limits;

/// The optimizer rule that puts every query under the server's limits.
#[derive(Debug)]
pub(crate) struct QueryLimits {
    limits: Limits,
}

impl QueryLimits {
    pub(crate) fn new(limits: Limits) -> QueryLimits {
        QueryLimits { limits }
    }
}

impl PhysicalOptimizerRule for QueryLimits {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(LimitedExec {
            input: plan,
            limits: self.limits.clone(),
            runtime: OnceLock::new(),
            started: OnceLock::new(),
        }))
    }

    fn name(&self) -> &str {
        "ensemble_query_limits"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A query's root: its input runs with the query's own memory pool and stops at the
/// deadline, counted from the first partition executed.
#[derive(Debug)]
pub(crate) struct LimitedExec {
    input: Arc<dyn ExecutionPlan>,
    limits: Limits,
    runtime: OnceLock<Arc<RuntimeEnv>>,
    started: OnceLock<Instant>,
}

impl DisplayAs for LimitedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "QueryLimits: timeout={} s, memory={} bytes",
            self.limits.timeout.as_secs(),
            self.limits.query_memory
        )
    }
}

impl LimitedExec {
    fn runtime(&self, parent: &RuntimeEnv) -> Result<Arc<RuntimeEnv>> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime.clone());
        }
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(self.limits.query_memory),
            NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN),
        );
        let runtime = RuntimeEnvBuilder::from_runtime_env(parent)
            .with_memory_pool(Arc::new(pool))
            .build_arc()?;
        Ok(self.runtime.get_or_init(|| runtime).clone())
    }
}

impl ExecutionPlan for LimitedExec {
    fn name(&self) -> &'static str {
        "QueryLimits"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(LimitedExec {
            input: children.swap_remove(0),
            limits: self.limits.clone(),
            runtime: OnceLock::new(),
            started: OnceLock::new(),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let runtime = self.runtime(&context.runtime_env())?;
        let task = Arc::new(TaskContext::new(
            context.task_id(),
            context.session_id(),
            context.session_config().clone(),
            context.scalar_functions().clone(),
            context.higher_order_functions().clone(),
            context.aggregate_functions().clone(),
            context.window_functions().clone(),
            runtime,
        ));
        let started = *self.started.get_or_init(Instant::now);
        let stream = self
            .input
            .execute(partition, task)
            .map_err(|e| explain(e, &self.limits))?;
        let schema = stream.schema();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            limited(stream, started + self.limits.timeout, self.limits.clone()),
        )))
    }
}

/// `stream` until `deadline`: then one error, and the end (dropping the input cancels it).
fn limited(
    stream: SendableRecordBatchStream,
    deadline: Instant,
    limits: Limits,
) -> impl futures::Stream<Item = Result<datafusion::arrow::record_batch::RecordBatch>> {
    futures::stream::unfold(Some(stream), move |state| {
        let limits = limits.clone();
        async move {
            let mut stream = state?;
            let deadline = tokio::time::Instant::from_std(deadline);
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(batch))) => Some((Ok(batch), Some(stream))),
                Ok(Some(Err(e))) => Some((Err(explain(e, &limits)), None)),
                Ok(None) => None,
                Err(_) => Some((Err(timed_out(limits.timeout)), None)),
            }
        }
    })
}

fn timed_out(timeout: Duration) -> DataFusionError {
    DataFusionError::ResourcesExhausted(format!(
        "the query ran longer than the server's timeout of {} s (ensemble serve --query-timeout)",
        timeout.as_secs()
    ))
}

/// Names the server's limit in an out-of-memory error, wherever it is in the chain.
fn explain(error: DataFusionError, limits: &Limits) -> DataFusionError {
    if matches!(error.find_root(), DataFusionError::ResourcesExhausted(_)) {
        DataFusionError::Context(
            format!(
                "the query needs more memory than the server's limit per query of {} bytes \
                 (ensemble serve --query-memory)",
                limits.query_memory
            ),
            Box::new(error),
        )
    } else {
        error
    }
}
