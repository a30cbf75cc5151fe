//! A step as a table: its members' numbers, with the keys built from them when the table is
//! read (SQL, previews, exports), not when the step is computed.
//!
//! A step is kept as a bitmap of member numbers (`crate::members`); a set operation costs a
//! bitmap operation, and a step nobody reads costs no key column. Reading the table builds
//! its keys in key order from the numbers each time (a few nanoseconds per member), so that
//! kept steps hold bitmaps, a few bits per member, rather than keys.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::memory::MemorySourceConfig;
use datafusion::catalog::Session as DfSession;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use roaring::RoaringBitmap;

use crate::error::EngineError;
use crate::members::MemberIndex;

/// A step's members as a table of the universe key (see the module documentation).
#[derive(Debug)]
pub struct MemberTable {
    index: Arc<MemberIndex>,
    members: Arc<RoaringBitmap>,
    /// Partitions a scan spreads the batches over.
    partitions: usize,
}

impl MemberTable {
    /// The table of `members`, whose keys are built from `index` when it is read, spread
    /// over `partitions` partitions.
    pub fn new(index: Arc<MemberIndex>, members: Arc<RoaringBitmap>, partitions: usize) -> Self {
        MemberTable {
            index,
            members,
            partitions,
        }
    }

    /// The members' keys in key order, as batches of the step schema.
    pub fn keys(&self) -> Result<Vec<RecordBatch>, EngineError> {
        self.index.batches(&self.members)
    }
}

#[async_trait]
impl TableProvider for MemberTable {
    fn schema(&self) -> SchemaRef {
        self.index.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // No filter is pushed down here, so a limit is on the members themselves: the keys
        // of the first ones only (a preview).
        let keys = match limit {
            Some(n) if (n as u64) < self.members.len() => {
                let first: RoaringBitmap = self.members.iter().take(n).collect();
                self.index.batches(&first)
            }
            _ => self.keys(),
        }
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        let partitions = spread(keys, self.partitions);
        let plan: Arc<dyn ExecutionPlan> =
            MemorySourceConfig::try_new_exec(&partitions, self.schema(), projection.cloned())?;
        Ok(plan)
    }
}

/// `batches` dealt in turn over `partitions` partitions (at least one), as in-memory tables
/// hold them.
pub(crate) fn spread(batches: Vec<RecordBatch>, partitions: usize) -> Vec<Vec<RecordBatch>> {
    let partitions = partitions.max(1);
    let mut split = vec![Vec::new(); partitions];
    for (i, batch) in batches.into_iter().enumerate() {
        split[i % partitions].push(batch);
    }
    split
}
