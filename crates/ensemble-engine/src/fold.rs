//! Folds the rows of a grouped pass into one array per aggregate, indexed by member number
//! (see `ensemble_compiler::member_rows` and `members.rs`): no hash table, no join with the
//! universe. DataFusion scans, cuts at the as-of date and computes every filter and value
//! column, one stream per partition; each partition folds on its own task into arrays of its
//! own, merged in partition order (so float sums do not depend on which task ends first).
//!
//! The arrays live outside DataFusion's operators but not outside its memory pool: they are
//! reserved before the scan starts. A pool too small for one set per partition folds the
//! partitions in turn into one set (when no float sum or mean depends on the order of its
//! additions); one too small for that gets no arrays, and the caller plans a grouped
//! aggregate, which can spill.

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{execute_stream_partitioned, SendableRecordBatchStream};
use datafusion::prelude::SessionContext;
use ensemble_compiler::MemberRows;
use futures::StreamExt;

use crate::error::EngineError;

mod batch;
mod values;

use batch::fold_batch;
use values::{finish, merge, Acc, Slot, Touched};

/// Rows per batch of a folded pass.
const FOLD_BATCH_ROWS: usize = 32 * 1024;

/// The numbers a pass folds into: keys `min ..= min + span - 1`; rows of other keys belong to
/// no member of the universe and are skipped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DenseRange {
    /// The smallest key.
    pub min: i64,
    /// How many numbers.
    pub span: usize,
}

/// Folds `rows` into one array per aggregate (in `rows.aggregates` order), each of length
/// `range.span`, indexed by member number: counts and sums are 0 for a member without rows,
/// the others null; sums are `Int64`, `Float64` or `Decimal128(38, scale)`, averages
/// `Float64`, extremes of the column's type. `None` when the memory pool cannot hold the
/// arrays: the caller then plans the pass as a grouped aggregate, which can spill.
pub(crate) async fn fold_rows(
    ctx: &SessionContext,
    rows: &MemberRows<'_>,
    range: DenseRange,
    context: &str,
) -> Result<Option<Vec<ArrayRef>>, EngineError> {
    let fail = |e| EngineError::execution(context, e);
    let state = ctx.state();
    let physical = state.create_physical_plan(&rows.plan).await.map_err(fail)?;
    let schema = physical.schema();
    let slots: Vec<Slot> = rows
        .aggregates
        .iter()
        .map(|a| Slot {
            fold: a.fold,
            value: a.value,
            keep: a.keep,
            value_type: a.value.map(|i| schema.field(i).data_type().clone()),
        })
        .collect();
    // Larger batches than the session's: fewer rounds of filter, projection and fold.
    let config = state.config().clone().with_batch_size(FOLD_BATCH_ROWS);
    let task = Arc::new(TaskContext::from(&state).with_session_config(config));
    let streams = execute_stream_partitioned(physical, task).map_err(fail)?;
    let per_member: usize = slots.iter().map(Slot::bytes).sum();
    let reservation = MemoryConsumer::new(format!("per-member aggregates of {}", rows.table))
        .register(&ctx.runtime_env().memory_pool);
    // Each partition's running values, then the output arrays; or, where no sum depends on
    // the order of its additions, one set of running values for the partitions in turn.
    let parallel = per_member * range.span * (streams.len() + 1);
    let in_turn = per_member * range.span * 2;
    let accs = if reservation.try_grow(parallel).is_ok() {
        fold_in_parallel(streams, Arc::new(slots), range)
            .await
            .map_err(fail)?
    } else if !slots.iter().any(Slot::order_sensitive) && reservation.try_grow(in_turn).is_ok() {
        fold_in_turn(streams, &slots, range).await.map_err(fail)?
    } else {
        return Ok(None);
    };
    accs.into_iter()
        .map(|acc| finish(acc).map_err(|e| fail(e.into())))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Folds every partition on its own task into running values of its own, merged in
/// partition order.
async fn fold_in_parallel(
    streams: Vec<SendableRecordBatchStream>,
    slots: Arc<Vec<Slot>>,
    range: DenseRange,
) -> Result<Vec<Acc>, DataFusionError> {
    let mut tasks = tokio::task::JoinSet::new();
    for (partition, stream) in streams.into_iter().enumerate() {
        let slots = slots.clone();
        tasks.spawn(async move {
            let folded = async {
                let mut accs = start(&slots, range)?;
                let touched = fold_stream(&mut accs, stream, &slots, range, &mut 0).await?;
                Ok::<_, DataFusionError>((accs, touched))
            };
            (partition, folded.await)
        });
    }
    let mut folded: Vec<Option<(Vec<Acc>, Touched)>> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (partition, accs) = joined.map_err(|e| DataFusionError::External(Box::new(e)))?;
        if folded.len() <= partition {
            folded.resize_with(partition + 1, || None);
        }
        folded[partition] = Some(accs?);
    }
    let mut merged: Option<Vec<Acc>> = None;
    for (accs, touched) in folded.into_iter().flatten() {
        merged = Some(match merged {
            None => accs,
            Some(mut into) => {
                merge_all(&mut into, &accs, touched);
                into
            }
        });
    }
    match merged {
        Some(accs) => Ok(accs),
        None => start(&slots, range),
    }
}

/// Merges a later partition's running values into `into`, aggregate by aggregate: on two
/// threads when there are several, since the merge of the last partition to finish is all
/// that runs then.
fn merge_all(into: &mut [Acc], from: &[Acc], touched: Touched) {
    let merge_each = |into: &mut [Acc], from: &[Acc]| {
        for (a, b) in into.iter_mut().zip(from) {
            merge(a, b, touched);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if into.len() < 2 || cores < 2 {
        return merge_each(into, from);
    }
    let half = into.len() / 2;
    let (into_first, into_rest) = into.split_at_mut(half);
    let (from_first, from_rest) = from.split_at(half);
    std::thread::scope(|scope| {
        scope.spawn(|| merge_each(into_first, from_first));
        merge_each(into_rest, from_rest);
    });
}

/// Folds the partitions one after another into one set of running values: on two partitions,
/// two sets of arrays (running values and output) instead of three, one core decoding.
async fn fold_in_turn(
    streams: Vec<SendableRecordBatchStream>,
    slots: &[Slot],
    range: DenseRange,
) -> Result<Vec<Acc>, DataFusionError> {
    let mut accs = start(slots, range)?;
    let mut rows = 0;
    for stream in streams {
        fold_stream(&mut accs, stream, slots, range, &mut rows).await?;
    }
    Ok(accs)
}

/// Empty running values for `slots`.
fn start(slots: &[Slot], range: DenseRange) -> Result<Vec<Acc>, DataFusionError> {
    slots.iter().map(|s| s.start(range.span)).collect()
}

/// Folds one stream into `accs`, which `rows` rows were folded into before; the numbers its
/// rows fell on.
async fn fold_stream(
    accs: &mut [Acc],
    mut stream: SendableRecordBatchStream,
    slots: &[Slot],
    range: DenseRange,
    rows: &mut u64,
) -> Result<Touched, DataFusionError> {
    let mut touched = Touched::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        *rows += batch.num_rows() as u64;
        // No count can pass the number of rows folded into it.
        if *rows > u64::from(u32::MAX) {
            return Err(DataFusionError::Execution(format!(
                "more than {} rows folded into one set of per-member counts",
                u32::MAX
            )));
        }
        touched.add(fold_batch(accs, slots, &batch, range)?);
    }
    Ok(touched)
}

#[cfg(test)]
mod tests;
