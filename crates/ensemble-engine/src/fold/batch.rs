//! Folding one batch of a pass's rows into the running values.
//!
//! A batch's rows are numbered once (member key minus the smallest); each aggregate then adds
//! the rows it keeps. Where every row of the batch counts (no filter column, every key a
//! member, no null), a count or an integer sum goes run by run — consecutive rows of one
//! member, which a file clustered by member makes long — over contiguous slices the compiler
//! vectorises, and updates a member's slot once per run. A window alone ([`Keep::Since`]) is
//! compared inline on the raw time values, with no filter column.

use std::ops::Range;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use ensemble_compiler::Keep;

use super::values::{Acc, Slot, Touched};
use super::DenseRange;

/// The rows of a window: raw time values at or after `start`.
#[derive(Clone, Copy)]
struct Since<'a> {
    times: &'a [i64],
    start: i64,
}

impl Since<'_> {
    #[inline]
    fn keeps(&self, i: usize) -> bool {
        self.times[i] >= self.start
    }

    /// How many of the rows `rows` the window keeps.
    #[inline]
    fn count(&self, rows: Range<usize>) -> i64 {
        let kept = self.times[rows]
            .iter()
            .filter(|t| **t >= self.start)
            .count();
        kept as i64
    }

    /// The sum of `values` (the rows `rows`) the window keeps.
    #[inline]
    fn sum<T: Copy + Default>(
        &self,
        values: &[T],
        rows: Range<usize>,
        add: impl Fn(T, T) -> T,
    ) -> T {
        self.times[rows.clone()]
            .iter()
            .zip(&values[rows])
            .fold(T::default(), |sum, (t, v)| {
                add(sum, if *t >= self.start { *v } else { T::default() })
            })
    }
}

/// The sum of `values` over the rows `rows` a window (if any) keeps.
#[inline]
fn run_sum<T: Copy + Default>(
    since: Option<Since>,
    values: &[T],
    rows: Range<usize>,
    add: impl Fn(T, T) -> T,
) -> T {
    match since {
        None => values[rows]
            .iter()
            .fold(T::default(), |sum, v| add(sum, *v)),
        Some(since) => since.sum(values, rows, add),
    }
}

/// Which rows of a batch an aggregate adds.
struct Rows<'a> {
    /// The rows kept by the key, the filter column and the value's nulls; `None`: all.
    mask: Option<BooleanBuffer>,
    /// A window compared inline.
    since: Option<Since<'a>>,
}

/// The batch's rows numbered: `numbers[i]` is row `i`'s member number (0 for a row of no
/// member, which `members` then leaves out), and the runs of one member, computed on first
/// use.
struct Numbered {
    numbers: Vec<u32>,
    /// The rows of members of the universe with a key; `None`: every row.
    members: Option<BooleanBuffer>,
    runs: Option<Vec<Run>>,
}

/// Consecutive rows `start .. end` of member `number`.
#[derive(Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    number: usize,
}

impl Numbered {
    fn new(keys: &Int64Array, range: DenseRange) -> Numbered {
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
        let mut members = outside.then(|| {
            let values = keys.values();
            BooleanBuffer::collect_bool(values.len(), |i| {
                (values[i].wrapping_sub(range.min) as u64) < span
            })
        });
        if let Some(nulls) = keys.nulls() {
            members = Some(and(members.as_ref(), nulls.inner()));
        }
        Numbered {
            numbers,
            members,
            runs: None,
        }
    }

    /// The numbers the rows fell on; a row outside the universe (or a null key's slot)
    /// stands at number 0: the range only widens.
    fn touched(&self) -> Touched {
        match (self.numbers.iter().min(), self.numbers.iter().max()) {
            (Some(lo), Some(hi)) => Touched {
                lo: *lo as usize,
                hi: *hi as usize + 1,
            },
            _ => Touched::default(),
        }
    }

    fn runs(&mut self) -> &[Run] {
        let numbers = &self.numbers;
        self.runs.get_or_insert_with(|| {
            // Where a run starts: compared 64 rows at a time, then read bit by bit.
            let starts = BooleanBuffer::collect_bool(numbers.len(), |i| {
                i == 0 || numbers[i] != numbers[i - 1]
            });
            let mut runs: Vec<Run> = Vec::new();
            for start in starts.set_indices() {
                if let Some(last) = runs.last_mut() {
                    last.end = start;
                }
                runs.push(Run {
                    start,
                    end: numbers.len(),
                    number: numbers[start] as usize,
                });
            }
            runs
        })
    }
}

/// Folds `batch` (column 0 the member key) into `accs`; the numbers its rows fell on.
pub(super) fn fold_batch(
    accs: &mut [Acc],
    slots: &[Slot],
    batch: &RecordBatch,
    range: DenseRange,
) -> Result<Touched, DataFusionError> {
    let keys = cast(batch.column(0), &DataType::Int64)?;
    let mut numbered = Numbered::new(keys.as_primitive::<Int64Type>(), range);
    let mut times = Vec::new();
    for slot in slots {
        times.push(match slot.keep {
            Some(Keep::Since { column, .. }) => Some(as_i64(batch.column(column))?),
            _ => None,
        });
    }
    for ((acc, slot), times) in accs.iter_mut().zip(slots).zip(&times) {
        let mut mask = numbered.members.clone();
        let mut since = None;
        match slot.keep {
            None => {}
            Some(Keep::Column(keep)) => {
                let keep = batch.column(keep);
                // A filter DataFusion types otherwise (a bare `null`) keeps what its cast keeps.
                let keep = match keep.as_boolean_opt() {
                    Some(keep) => truthy(keep),
                    None => truthy(cast(keep, &DataType::Boolean)?.as_boolean()),
                };
                mask = Some(and(mask.as_ref(), &keep));
            }
            Some(Keep::Since { start, .. }) => {
                let times = times.as_ref().expect("read above for every window");
                // A row without a time is in no window.
                if let Some(nulls) = times.nulls() {
                    mask = Some(and(mask.as_ref(), nulls.inner()));
                }
                since = Some(Since {
                    times: times.values(),
                    start,
                });
            }
        }
        let value = slot.value.map(|i| batch.column(i));
        if let Some(nulls) = value.and_then(|v| v.nulls()) {
            mask = Some(and(mask.as_ref(), nulls.inner()));
        }
        fold_column(acc, &mut numbered, &Rows { mask, since }, value)?;
    }
    Ok(numbered.touched())
}

/// The rows of a filter column that keep their row: true, not null.
fn truthy(array: &BooleanArray) -> BooleanBuffer {
    match array.nulls() {
        Some(nulls) => array.values() & nulls.inner(),
        None => array.values().clone(),
    }
}

/// `rows` (`None`: every row) and `other`.
fn and(rows: Option<&BooleanBuffer>, other: &BooleanBuffer) -> BooleanBuffer {
    match rows {
        Some(rows) => rows & other,
        None => other.clone(),
    }
}

/// Calls `f` with the position of every row of `rows` among `len`.
#[inline]
fn each_row(rows: &Rows, len: usize, mut f: impl FnMut(usize)) {
    match (&rows.mask, rows.since) {
        (Some(mask), None) => mask.set_indices().for_each(f),
        (None, None) => (0..len).for_each(&mut f),
        (Some(mask), Some(since)) => mask.set_indices().filter(|i| since.keeps(*i)).for_each(f),
        (None, Some(since)) => (0..len).filter(|i| since.keeps(*i)).for_each(f),
    }
}

/// Adds `value(i)` of every row of `rows` into `slots[number of i]` with `add` (associative,
/// with `T::default()` its zero: counts and wrapping integer sums); `run_sum` is the same sum
/// over a run of rows the window (if any) keeps, when every row counts. A member's rows are
/// added up first and its slot updated once per run: in a file clustered by member, adding into the
/// slot row by row would make each addition wait for the store of the one before.
#[inline]
fn add_runs<T: Copy + Default>(
    slots: &mut [T],
    numbered: &mut Numbered,
    rows: &Rows,
    value: impl Fn(usize) -> T,
    run_sum: impl Fn(Range<usize>) -> T,
    add: impl Fn(T, T) -> T,
) {
    if rows.mask.is_none() {
        // Every row counts: whole runs, each a contiguous slice (a window as a select).
        for run in numbered.runs() {
            let slot = &mut slots[run.number];
            *slot = add(*slot, run_sum(run.start..run.end));
        }
        return;
    }
    // No member has this number: member numbers stay below `MAX_DENSE_SPAN`.
    const NONE: u32 = u32::MAX;
    let numbers = &numbered.numbers;
    let mut current = NONE;
    let mut run = T::default();
    each_row(rows, numbers.len(), |i| {
        let n = numbers[i];
        if n != current {
            if current != NONE {
                let slot = &mut slots[current as usize];
                *slot = add(*slot, run);
            }
            current = n;
            run = T::default();
        }
        run = add(run, value(i));
    });
    if current != NONE {
        let slot = &mut slots[current as usize];
        *slot = add(*slot, run);
    }
}

/// The values of a column as 64-bit integers (whole numbers, dates, timestamps).
pub(super) fn as_i64(array: &ArrayRef) -> Result<Int64Array, DataFusionError> {
    Ok(match array.data_type() {
        DataType::Int64 => array.as_primitive::<Int64Type>().clone(),
        DataType::Int32 => array.as_primitive::<Int32Type>().unary(i64::from),
        DataType::Date32 => array.as_primitive::<Date32Type>().unary(i64::from),
        _ => cast(array, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .clone(),
    })
}

fn fold_column(
    acc: &mut Acc,
    numbered: &mut Numbered,
    rows: &Rows,
    value: Option<&ArrayRef>,
) -> Result<(), DataFusionError> {
    let value =
        || value.ok_or_else(|| DataFusionError::Internal("an aggregate without its column".into()));
    let len = numbered.numbers.len();
    let numbers = &numbered.numbers;
    let at = |i: usize| numbers[i] as usize;
    match acc {
        Acc::Count(counts) => {
            let run_count = |run: Range<usize>| match rows.since {
                None => run.len() as i64,
                Some(since) => since.count(run),
            };
            add_runs(counts, numbered, rows, |_| 1, run_count, i64::wrapping_add);
        }
        Acc::SumInt(sums) => {
            let values = as_i64(value()?)?;
            let values = values.values();
            let run = |run| run_sum(rows.since, values, run, i64::wrapping_add);
            add_runs(sums, numbered, rows, |i| values[i], run, i64::wrapping_add);
        }
        Acc::SumFloat(sums) => {
            let values = cast(value()?, &DataType::Float64)?;
            let values = values.as_primitive::<Float64Type>().values();
            each_row(rows, len, |i| sums[at(i)] += values[i]);
        }
        Acc::SumDecimal(sums, _) => {
            let values = value()?.as_primitive::<Decimal128Type>().values();
            let run = |run| run_sum(rows.since, values, run, i128::wrapping_add);
            add_runs(sums, numbered, rows, |i| values[i], run, i128::wrapping_add);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{BooleanArray, Decimal128Array, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
    use ensemble_compiler::Fold;

    use super::*;

    /// Rows of keys `keys` (min 10, span 6), times 0..n (every seventh null), values
    /// (every fifth null) and a filter column (every third row false).
    fn batch(keys: Vec<Option<i64>>) -> RecordBatch {
        let n = keys.len() as i64;
        let times = (0..n).map(|i| (i % 7 != 3).then_some(i));
        let values = (0..n).map(|i| (i % 5 != 2).then_some(i * 3 - 20));
        let keep = (0..n).map(|i| Some(i % 3 != 0));
        let decimals = (0..n).map(|i| Some(i128::from(i) * 100 + 1));
        let schema = Schema::new(vec![
            Field::new("key", DataType::Int64, true),
            Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            Field::new("value", DataType::Int64, true),
            Field::new("keep", DataType::Boolean, true),
            Field::new("amount", DataType::Decimal128(10, 2), true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(keys)),
                Arc::new(TimestampMicrosecondArray::from_iter(times)),
                Arc::new(Int64Array::from_iter(values)),
                Arc::new(BooleanArray::from_iter(keep)),
                Arc::new(
                    Decimal128Array::from_iter(decimals)
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ],
        )
        .unwrap()
    }

    fn slot(fold: Fold, value: Option<usize>, keep: Option<Keep>, ty: Option<DataType>) -> Slot {
        Slot {
            fold,
            value,
            keep,
            value_type: ty,
        }
    }

    /// Each slot's values, computed row by row: counts and sums as `i128`.
    fn by_row(batch: &RecordBatch, slots: &[Slot], range: DenseRange) -> Vec<Vec<i128>> {
        let keys = batch.column(0).as_primitive::<Int64Type>();
        let times = batch
            .column(1)
            .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        let keep = batch.column(3).as_boolean();
        let mut out = vec![vec![0i128; range.span]; slots.len()];
        for (s, slot) in slots.iter().enumerate() {
            for i in 0..batch.num_rows() {
                let Some(n) = keys.is_valid(i).then(|| keys.value(i) - range.min) else {
                    continue;
                };
                if n < 0 || n >= range.span as i64 {
                    continue;
                }
                let kept = match slot.keep {
                    None => true,
                    Some(Keep::Column(_)) => keep.value(i),
                    Some(Keep::Since { start, .. }) => times.is_valid(i) && times.value(i) >= start,
                };
                let value = match slot.value {
                    None => Some(1),
                    Some(2) => {
                        let v = batch.column(2).as_primitive::<Int64Type>();
                        v.is_valid(i).then(|| i128::from(v.value(i)))
                    }
                    Some(c) => Some(batch.column(c).as_primitive::<Decimal128Type>().value(i)),
                };
                if let (true, Some(v)) = (kept, value) {
                    out[s][n as usize] += v;
                }
            }
        }
        out
    }

    fn folded(accs: &[Acc]) -> Vec<Vec<i128>> {
        accs.iter()
            .map(|acc| match acc {
                Acc::Count(v) | Acc::SumInt(v) => v.iter().map(|x| i128::from(*x)).collect(),
                Acc::SumDecimal(v, _) => v.clone(),
                _ => unreachable!("the test folds counts and sums"),
            })
            .collect()
    }

    #[test]
    fn windows_runs_and_filters_add_up_as_row_by_row() {
        let since = |start| Some(Keep::Since { column: 1, start });
        let decimal = Some(DataType::Decimal128(10, 2));
        let slots = [
            slot(Fold::Count, None, None, None),
            slot(Fold::Count, None, since(9), None),
            slot(Fold::Sum, Some(2), since(4), Some(DataType::Int64)),
            slot(
                Fold::Sum,
                Some(2),
                Some(Keep::Column(3)),
                Some(DataType::Int64),
            ),
            slot(Fold::Sum, Some(4), since(0), decimal.clone()),
            slot(Fold::Sum, Some(4), None, decimal),
        ];
        let range = DenseRange { min: 10, span: 6 };
        let clustered: Vec<Option<i64>> = [10, 10, 10, 11, 12, 12, 12, 12, 14, 15, 15, 15]
            .into_iter()
            .chain([15, 15, 13, 13, 10, 10, 11])
            .map(Some)
            .collect();
        let mut outside = clustered.clone();
        outside[2] = Some(99);
        outside[5] = None;
        outside[13] = Some(3);
        for keys in [clustered, outside] {
            let batch = batch(keys);
            let mut accs: Vec<Acc> = slots.iter().map(|s| s.start(range.span).unwrap()).collect();
            let touched = fold_batch(&mut accs, &slots, &batch, range).unwrap();
            assert_eq!(folded(&accs), by_row(&batch, &slots, range));
            assert!(touched.lo == 0 && touched.hi == 6);
        }
    }
}
