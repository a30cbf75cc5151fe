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

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, PrimitiveArray,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{execute_stream_partitioned, SendableRecordBatchStream};
use datafusion::prelude::SessionContext;
use ensemble_compiler::{Fold, MemberRows};
use futures::StreamExt;

use crate::error::EngineError;

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

/// One aggregate's running values, one slot per member number.
enum Acc {
    Count(Vec<u32>),
    SumInt(Vec<i64>),
    SumFloat(Vec<f64>),
    SumDecimal(Vec<i128>, i8),
    Avg(Vec<f64>, Vec<u32>),
    Extreme64(Extreme<i64>, DataType),
    Extreme128(Extreme<i128>, DataType),
}

/// A running minimum or maximum.
struct Extreme<T> {
    values: Vec<T>,
    seen: Vec<bool>,
    max: bool,
}

impl<T: Copy + Ord + Default> Extreme<T> {
    fn new(span: usize, max: bool) -> Self {
        Extreme {
            values: vec![T::default(); span],
            seen: vec![false; span],
            max,
        }
    }

    #[inline]
    fn update(&mut self, n: usize, value: T) {
        let better = if self.max {
            value > self.values[n]
        } else {
            value < self.values[n]
        };
        if !self.seen[n] || better {
            self.values[n] = value;
            self.seen[n] = true;
        }
    }

    fn merge(&mut self, other: Extreme<T>) {
        for (n, (value, seen)) in other.values.into_iter().zip(other.seen).enumerate() {
            if seen {
                self.update(n, value);
            }
        }
    }

    fn nulls(&self) -> NullBuffer {
        NullBuffer::from(self.seen.clone())
    }
}

/// How an aggregate reads its rows: the fold, the value column and the filter column.
#[derive(Debug, Clone)]
struct Slot {
    fold: Fold,
    value: Option<usize>,
    keep: Option<usize>,
    value_type: Option<DataType>,
}

impl Slot {
    /// Whether its result depends on the order its rows are added in (a float sum or mean).
    fn order_sensitive(&self) -> bool {
        matches!(
            (self.fold, &self.value_type),
            (
                Fold::Sum | Fold::Avg,
                Some(DataType::Float16 | DataType::Float32 | DataType::Float64)
            )
        )
    }

    /// Bytes per member number of its running values.
    fn bytes(&self) -> usize {
        match (self.fold, &self.value_type) {
            (Fold::Count, _) => 4,
            (Fold::Avg, _) => 12,
            (Fold::Sum, Some(DataType::Decimal128(_, _))) => 16,
            (Fold::Sum, _) => 8,
            (Fold::Min | Fold::Max, Some(DataType::Decimal128(_, _))) => 17,
            (Fold::Min | Fold::Max, _) => 9,
        }
    }

    fn start(&self, span: usize) -> Result<Acc, DataFusionError> {
        let ty = self.value_type.clone();
        Ok(match (self.fold, ty) {
            (Fold::Count, _) => Acc::Count(vec![0; span]),
            (Fold::Avg, _) => Acc::Avg(vec![0.0; span], vec![0; span]),
            (Fold::Sum, Some(DataType::Decimal128(_, scale))) => {
                Acc::SumDecimal(vec![0; span], scale)
            }
            (Fold::Sum, Some(DataType::Float32 | DataType::Float64)) => {
                Acc::SumFloat(vec![0.0; span])
            }
            (Fold::Sum, _) => Acc::SumInt(vec![0; span]),
            (fold @ (Fold::Min | Fold::Max), Some(ty @ DataType::Decimal128(_, _))) => {
                Acc::Extreme128(Extreme::new(span, fold == Fold::Max), ty)
            }
            (fold @ (Fold::Min | Fold::Max), Some(ty)) => {
                Acc::Extreme64(Extreme::new(span, fold == Fold::Max), ty)
            }
            (Fold::Min | Fold::Max, None) => {
                return Err(DataFusionError::Internal(
                    "min or max without a column".into(),
                ))
            }
        })
    }
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
    let physical = ctx
        .state()
        .create_physical_plan(&rows.plan)
        .await
        .map_err(fail)?;
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
    let state = ctx.state();
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
                fold_stream(&mut accs, stream, &slots, range, &mut 0).await?;
                Ok::<_, DataFusionError>(accs)
            };
            (partition, folded.await)
        });
    }
    let mut folded: Vec<Option<Vec<Acc>>> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (partition, accs) = joined.map_err(|e| DataFusionError::External(Box::new(e)))?;
        if folded.len() <= partition {
            folded.resize_with(partition + 1, || None);
        }
        folded[partition] = Some(accs?);
    }
    let mut merged: Option<Vec<Acc>> = None;
    for accs in folded.into_iter().flatten() {
        merged = Some(match merged {
            None => accs,
            Some(mut into) => {
                for (a, b) in into.iter_mut().zip(accs) {
                    merge(a, b);
                }
                into
            }
        });
    }
    match merged {
        Some(accs) => Ok(accs),
        None => start(&slots, range),
    }
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

/// Folds one stream into `accs`, which `rows` rows were folded into before.
async fn fold_stream(
    accs: &mut [Acc],
    mut stream: SendableRecordBatchStream,
    slots: &[Slot],
    range: DenseRange,
    rows: &mut u64,
) -> Result<(), DataFusionError> {
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
        fold_batch(accs, slots, &batch, range)?;
    }
    Ok(())
}

/// The rows of a filter column that keep their row: true, not null.
fn truthy(array: &BooleanArray) -> BooleanBuffer {
    match array.nulls() {
        Some(nulls) => array.values() & nulls.inner(),
        None => array.values().clone(),
    }
}

fn fold_batch(
    accs: &mut [Acc],
    slots: &[Slot],
    batch: &RecordBatch,
    range: DenseRange,
) -> Result<(), DataFusionError> {
    let keys = cast(batch.column(0), &DataType::Int64)?;
    let keys = keys.as_primitive::<Int64Type>();
    let span = range.span as u64;
    let mut outside = false;
    let numbers: Vec<u32> = keys
        .values()
        .iter()
        .map(|key| {
            let n = key.wrapping_sub(range.min) as u64;
            outside |= n >= span;
            if n < span {
                n as u32
            } else {
                0
            }
        })
        .collect();
    // The rows of members of the universe; `None`: every row.
    let mut members = outside.then(|| {
        let values = keys.values();
        BooleanBuffer::collect_bool(values.len(), |i| {
            (values[i].wrapping_sub(range.min) as u64) < span
        })
    });
    if let Some(nulls) = keys.nulls() {
        members = Some(and(members.as_ref(), nulls.inner()));
    }
    for (acc, slot) in accs.iter_mut().zip(slots) {
        let mut rows = members.clone();
        if let Some(keep) = slot.keep {
            let keep = batch.column(keep);
            // A filter DataFusion types otherwise (a bare `null`) keeps what its cast keeps.
            let keep = match keep.as_boolean_opt() {
                Some(keep) => truthy(keep),
                None => truthy(cast(keep, &DataType::Boolean)?.as_boolean()),
            };
            rows = Some(and(rows.as_ref(), &keep));
        }
        let value = slot.value.map(|i| batch.column(i));
        if let Some(nulls) = value.and_then(|v| v.nulls()) {
            rows = Some(and(rows.as_ref(), nulls.inner()));
        }
        fold_column(acc, &numbers, rows.as_ref(), value)?;
    }
    Ok(())
}

/// `rows` (`None`: every row) and `other`.
fn and(rows: Option<&BooleanBuffer>, other: &BooleanBuffer) -> BooleanBuffer {
    match rows {
        Some(rows) => rows & other,
        None => other.clone(),
    }
}

/// Calls `f` with the position of every row of `rows` (`None`: each of `len` rows).
#[inline]
fn each_row(rows: Option<&BooleanBuffer>, len: usize, mut f: impl FnMut(usize)) {
    match rows {
        Some(rows) => rows.set_indices().for_each(f),
        None => (0..len).for_each(&mut f),
    }
}

/// The values of a column as 64-bit integers (whole numbers, dates, timestamps).
fn as_i64(array: &ArrayRef) -> Result<Int64Array, DataFusionError> {
    Ok(match array.data_type() {
        DataType::Int32 => array.as_primitive::<Int32Type>().unary(i64::from),
        DataType::Date32 => array.as_primitive::<Date32Type>().unary(i64::from),
        _ => cast(array, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .clone(),
    })
}

fn fold_column(
    acc: &mut Acc,
    numbers: &[u32],
    rows: Option<&BooleanBuffer>,
    value: Option<&ArrayRef>,
) -> Result<(), DataFusionError> {
    let value =
        || value.ok_or_else(|| DataFusionError::Internal("an aggregate without its column".into()));
    let len = numbers.len();
    let at = |i: usize| numbers[i] as usize;
    match acc {
        Acc::Count(counts) => each_row(rows, len, |i| counts[at(i)] += 1),
        Acc::SumInt(sums) => {
            let values = cast(value()?, &DataType::Int64)?;
            let values = values.as_primitive::<Int64Type>().values();
            each_row(rows, len, |i| {
                sums[at(i)] = sums[at(i)].wrapping_add(values[i]);
            });
        }
        Acc::SumFloat(sums) => {
            let values = cast(value()?, &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>().values();
            each_row(rows, len, |i| sums[at(i)] += values[i]);
        }
        Acc::SumDecimal(sums, _) => {
            let values = value()?.as_primitive::<Decimal128Type>().values();
            each_row(rows, len, |i| {
                sums[at(i)] = sums[at(i)].wrapping_add(values[i]);
            });
        }
        Acc::Avg(sums, counts) => {
            let values = cast(value()?, &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>().values();
            each_row(rows, len, |i| {
                sums[at(i)] += values[i];
                counts[at(i)] += 1;
            });
        }
        Acc::Extreme64(extreme, _) => {
            let values = as_i64(value()?)?;
            let values = values.values();
            each_row(rows, len, |i| extreme.update(at(i), values[i]));
        }
        Acc::Extreme128(extreme, _) => {
            let values = value()?.as_primitive::<Decimal128Type>().values();
            each_row(rows, len, |i| extreme.update(at(i), values[i]));
        }
    }
    Ok(())
}

fn add_into<T: Copy + std::ops::Add<Output = T>>(into: &mut [T], from: Vec<T>) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = *a + b;
    }
}

fn merge(into: &mut Acc, from: Acc) {
    match (into, from) {
        (Acc::Count(a), Acc::Count(b)) => add_into(a, b),
        (Acc::SumInt(a), Acc::SumInt(b)) => {
            for (a, b) in a.iter_mut().zip(b) {
                *a = a.wrapping_add(b);
            }
        }
        (Acc::SumFloat(a), Acc::SumFloat(b)) => add_into(a, b),
        (Acc::SumDecimal(a, _), Acc::SumDecimal(b, _)) => {
            for (a, b) in a.iter_mut().zip(b) {
                *a = a.wrapping_add(b);
            }
        }
        (Acc::Avg(sa, ca), Acc::Avg(sb, cb)) => {
            add_into(sa, sb);
            add_into(ca, cb);
        }
        (Acc::Extreme64(a, _), Acc::Extreme64(b, _)) => a.merge(b),
        (Acc::Extreme128(a, _), Acc::Extreme128(b, _)) => a.merge(b),
        _ => unreachable!("partitions fold the same slots in the same order"),
    }
}

/// The folded values as an array indexed by member number.
fn finish(acc: Acc) -> Result<ArrayRef, datafusion::arrow::error::ArrowError> {
    Ok(match acc {
        Acc::Count(counts) => Arc::new(Int64Array::from_iter_values(
            counts.into_iter().map(i64::from),
        )),
        Acc::SumInt(sums) => Arc::new(Int64Array::from(sums)),
        Acc::SumFloat(sums) => Arc::new(Float64Array::from(sums)),
        Acc::SumDecimal(sums, scale) => {
            Arc::new(Decimal128Array::from(sums).with_precision_and_scale(38, scale)?)
        }
        Acc::Avg(sums, counts) => {
            let nulls = NullBuffer::from_iter(counts.iter().map(|c| *c > 0));
            let means =
                sums.into_iter()
                    .zip(&counts)
                    .map(|(s, c)| if *c > 0 { s / f64::from(*c) } else { 0.0 });
            Arc::new(Float64Array::new(means.collect(), Some(nulls)))
        }
        Acc::Extreme64(extreme, ty) => {
            let nulls = Some(extreme.nulls());
            match ty {
                DataType::Int32 | DataType::Date32 => {
                    let values: Vec<i32> = extreme.values.iter().map(|v| *v as i32).collect();
                    if ty == DataType::Date32 {
                        Arc::new(Date32Array::new(values.into(), nulls))
                    } else {
                        Arc::new(Int32Array::new(values.into(), nulls))
                    }
                }
                ty => {
                    let values: ArrayRef = Arc::new(PrimitiveArray::<Int64Type>::new(
                        extreme.values.into(),
                        nulls,
                    ));
                    cast(&values, &ty)?
                }
            }
        }
        Acc::Extreme128(extreme, ty) => {
            let nulls = Some(extreme.nulls());
            let array = Decimal128Array::new(extreme.values.into(), nulls);
            match ty {
                DataType::Decimal128(precision, scale) => {
                    Arc::new(array.with_precision_and_scale(precision, scale)?)
                }
                _ => Arc::new(array),
            }
        }
    })
}

#[cfg(test)]
mod tests;
