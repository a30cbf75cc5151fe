//! The running values of a folded pass, one slot per member number: what each aggregate
//! reads ([`Slot`]), how partitions' values merge and how they become the output arrays.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, PrimitiveArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::error::DataFusionError;
use ensemble_compiler::{Fold, Keep};

use crate::pages::{zeroed, ZeroBits};

/// The member numbers a partition's rows fell on, `lo .. hi` (wider is allowed): its running
/// values outside are untouched, so a merge adds only that range (a file clustered by member
/// gives each partition its own range).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Touched {
    pub(super) lo: usize,
    pub(super) hi: usize,
}

impl Touched {
    pub(super) fn add(&mut self, other: Touched) {
        if other.lo >= other.hi {
            return;
        }
        if self.lo >= self.hi {
            *self = other;
        } else {
            self.lo = self.lo.min(other.lo);
            self.hi = self.hi.max(other.hi);
        }
    }
}

/// One aggregate's running values, one slot per member number.
pub(super) enum Acc {
    /// Counts as the features table types them (`Int64`), so that the folded array is the
    /// output as is: no conversion pass over fresh memory after the merge.
    Count(Vec<i64>),
    SumInt(Vec<i64>),
    SumFloat(Vec<f64>),
    SumDecimal(Vec<i128>, i8),
    Avg(Vec<f64>, Vec<u32>),
    Extreme64(Extreme<i64>, DataType),
    Extreme128(Extreme<i128>, DataType),
}

/// A running minimum or maximum.
pub(super) struct Extreme<T> {
    values: Vec<T>,
    seen: Vec<bool>,
    max: bool,
}

impl<T: ZeroBits + Ord> Extreme<T> {
    fn new(span: usize, max: bool) -> Self {
        Extreme {
            values: zeroed(span),
            seen: zeroed(span),
            max,
        }
    }

    #[inline]
    pub(super) fn update(&mut self, n: usize, value: T) {
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

    fn merge(&mut self, other: &Extreme<T>, touched: Touched) {
        for n in touched.lo..touched.hi {
            if other.seen[n] {
                self.update(n, other.values[n]);
            }
        }
    }

    fn nulls(&self) -> NullBuffer {
        NullBuffer::from(self.seen.clone())
    }
}

/// How an aggregate reads its rows: the fold, the value column and the filter column.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) fold: Fold,
    pub(super) value: Option<usize>,
    pub(super) keep: Option<Keep>,
    pub(super) value_type: Option<DataType>,
}

impl Slot {
    /// Whether its result depends on the order its rows are added in (a float sum or mean).
    pub(super) fn order_sensitive(&self) -> bool {
        matches!(
            (self.fold, &self.value_type),
            (
                Fold::Sum | Fold::Avg,
                Some(DataType::Float16 | DataType::Float32 | DataType::Float64)
            )
        )
    }

    /// Bytes per member number of its running values.
    pub(super) fn bytes(&self) -> usize {
        match (self.fold, &self.value_type) {
            (Fold::Count, _) => 8,
            (Fold::Avg, _) => 12,
            (Fold::Sum, Some(DataType::Decimal128(_, _))) => 16,
            (Fold::Sum, _) => 8,
            (Fold::Min | Fold::Max, Some(DataType::Decimal128(_, _))) => 17,
            (Fold::Min | Fold::Max, _) => 9,
        }
    }

    pub(super) fn start(&self, span: usize) -> Result<Acc, DataFusionError> {
        let ty = self.value_type.clone();
        Ok(match (self.fold, ty) {
            (Fold::Count, _) => Acc::Count(zeroed(span)),
            (Fold::Avg, _) => Acc::Avg(zeroed(span), zeroed(span)),
            (Fold::Sum, Some(DataType::Decimal128(_, scale))) => {
                Acc::SumDecimal(zeroed(span), scale)
            }
            (Fold::Sum, Some(DataType::Float32 | DataType::Float64)) => Acc::SumFloat(zeroed(span)),
            (Fold::Sum, _) => Acc::SumInt(zeroed(span)),
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

/// Adds `from` into `into` over the numbers `touched` (`add`: wrapping for integers).
fn add_into<T: Copy>(into: &mut [T], from: &[T], touched: Touched, add: impl Fn(T, T) -> T) {
    let range = touched.lo..touched.hi;
    for (a, b) in into[range.clone()].iter_mut().zip(&from[range]) {
        *a = add(*a, *b);
    }
}

/// Adds the running values `from` of a later partition into `into`, over the numbers its
/// rows fell on.
pub(super) fn merge(into: &mut Acc, from: &Acc, touched: Touched) {
    if touched.lo >= touched.hi {
        return;
    }
    match (into, from) {
        (Acc::Count(a), Acc::Count(b)) => add_into(a, b, touched, i64::wrapping_add),
        (Acc::SumInt(a), Acc::SumInt(b)) => add_into(a, b, touched, i64::wrapping_add),
        (Acc::SumFloat(a), Acc::SumFloat(b)) => add_into(a, b, touched, |a, b| a + b),
        (Acc::SumDecimal(a, _), Acc::SumDecimal(b, _)) => {
            add_into(a, b, touched, i128::wrapping_add)
        }
        (Acc::Avg(sa, ca), Acc::Avg(sb, cb)) => {
            add_into(sa, sb, touched, |a, b| a + b);
            add_into(ca, cb, touched, |a, b| a + b);
        }
        (Acc::Extreme64(a, _), Acc::Extreme64(b, _)) => a.merge(b, touched),
        (Acc::Extreme128(a, _), Acc::Extreme128(b, _)) => a.merge(b, touched),
        _ => unreachable!("partitions fold the same slots in the same order"),
    }
}

/// The folded values as an array indexed by member number.
pub(super) fn finish(acc: Acc) -> Result<ArrayRef, datafusion::arrow::error::ArrowError> {
    Ok(match acc {
        Acc::Count(counts) => Arc::new(Int64Array::from(counts)),
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
mod tests {
    use super::*;

    #[test]
    fn a_merge_adds_only_the_numbers_a_partition_touched() {
        let mut into = Acc::Count(vec![1, 1, 1, 1]);
        let from = Acc::Count(vec![0, 2, 3, 0]);
        merge(&mut into, &from, Touched { lo: 1, hi: 3 });
        let Acc::Count(counts) = &into else {
            unreachable!()
        };
        assert_eq!(counts, &vec![1, 3, 4, 1]);
        // Nothing touched: nothing added.
        merge(&mut into, &from, Touched::default());
        let Acc::Count(counts) = &into else {
            unreachable!()
        };
        assert_eq!(counts, &vec![1, 3, 4, 1]);
        let mut touched = Touched::default();
        touched.add(Touched { lo: 5, hi: 9 });
        touched.add(Touched::default());
        touched.add(Touched { lo: 2, hi: 4 });
        assert_eq!((touched.lo, touched.hi), (2, 9));
    }
}
