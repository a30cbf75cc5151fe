//! Steps as sets of member numbers.
//!
//! Every member of the universe has a number, fixed for one state of the data files, in the
//! order of its key: for integer keys within 2³² of the smallest one, the key minus the
//! smallest; for any other key, its rank among the sorted keys. A step is kept as a
//! compressed bitmap of those numbers (`roaring`), so that set operations, overlaps and
//! counts cost microseconds to milliseconds whatever the number of members, and the keys of
//! any step come out already sorted. Steps stay tables for SQL, previews and exports: the
//! keys are rebuilt from the numbers when a step's table is read (`crate::member_table`).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, UInt32Array};
use datafusion::arrow::compute::{
    cast, filter, max as arrow_max, min as arrow_min, sort_to_indices, take,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{ident, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use ensemble_syntax::SetOp;
use roaring::{MultiOps, RoaringBitmap};

use crate::catalog::Catalog;
use crate::error::EngineError;

/// Rows per batch of the key tables rebuilt from bitmaps.
const BATCH_ROWS: usize = 8192;

/// Largest span of integer keys (in bits) turned into a plain bitset before compression;
/// sparser keys are sorted instead.
const MAX_BITSET_SPAN: u64 = 1 << 28;

/// Largest number of slots of a per-member aggregate folded by member number.
pub const MAX_DENSE_SPAN: u64 = 1 << 28;

/// The member numbers of one state of the data (see the module documentation).
#[derive(Debug)]
pub struct MemberIndex {
    /// The universe key's column, as steps' tables have it.
    schema: SchemaRef,
    numbering: Numbering,
    /// How many keys the universe has.
    members: usize,
}

#[derive(Debug)]
enum Numbering {
    /// Integer keys: the number is the key minus `min`, below `span`.
    Offset { min: i64, span: u64 },
    /// Other keys: the number is the rank among `sorted` (distinct, ascending).
    Ranked {
        sorted: ArrayRef,
        converter: RowConverter,
        ranks: HashMap<Box<[u8]>, u32, ahash::RandomState>,
    },
}

impl MemberIndex {
    /// Numbers the members of the catalog's universe table in one read of its keys, and
    /// tells whether it could verify on the way that every key is present and unique
    /// (`false`: a key is null or repeated, or keys too sparse to verify here; the caller then
    /// runs `integrity::check_universe_keys`, which counts and names the problem).
    pub async fn build(
        ctx: &SessionContext,
        catalog: &Catalog,
    ) -> Result<(Self, bool), EngineError> {
        let universe = &catalog.schema.universe;
        let field = universe
            .schema
            .field_with_name(&universe.key)
            .map_err(|e| EngineError::execution("the universe key", e.into()))?
            .clone();
        let schema = Arc::new(Schema::new(vec![field.clone()]));
        let context = format!("numbering the members of {}", universe.table);
        let provider = catalog.providers.get(&universe.table).ok_or_else(|| {
            EngineError::execution(
                &context,
                datafusion::error::DataFusionError::Plan("no universe table".into()),
            )
        })?;
        let plan = LogicalPlanBuilder::scan(
            universe.table.as_str(),
            provider_as_source(provider.clone()),
            None,
        )
        .and_then(|b| b.project(vec![ident(&universe.key)]))
        .and_then(|b| b.build())
        .map_err(|e| EngineError::execution(&context, e))?;
        let batches = collect(ctx, plan, &context).await?;
        let nulls: usize = batches.iter().map(|b| b.column(0).null_count()).sum();
        let offsets = if offset_type(field.data_type()) {
            offsets(&batches, &context)?
        } else {
            None
        };
        let (numbering, unique) = match offsets {
            Some((min, span, unique)) => (Numbering::Offset { min, span }, unique),
            None => ranked(&batches, &field, &context)?,
        };
        let members = batches.iter().map(RecordBatch::num_rows).sum();
        let index = MemberIndex {
            schema,
            numbering,
            members,
        };
        Ok((index, nulls == 0 && unique))
    }

    /// The numbers to fold per-member aggregates into (`crate::fold`), when the keys are
    /// integers dense enough for one slot per number (at most [`MAX_DENSE_SPAN`] numbers and
    /// four per member, or any span up to 65 536).
    pub(crate) fn dense_range(&self) -> Option<crate::fold::DenseRange> {
        match &self.numbering {
            Numbering::Offset { min, span }
                if *span <= MAX_DENSE_SPAN
                    && (*span <= 1 << 16 || *span <= 4 * self.members as u64) =>
            {
                Some(crate::fold::DenseRange {
                    min: *min,
                    span: *span as usize,
                })
            }
            _ => None,
        }
    }

    /// The schema of a step's table: the universe key alone.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// An empty set of members, to add universe keys to batch by batch (a step's plan
    /// streamed into its bitmap).
    pub fn collector(&self) -> MemberCollector<'_> {
        let gathered = match &self.numbering {
            Numbering::Offset { min, span } if *span <= MAX_BITSET_SPAN => Gathered::Bits {
                min: *min,
                span: *span,
                bytes: vec![0u8; span.div_ceil(8) as usize],
            },
            _ => Gathered::Numbers(Vec::new()),
        };
        MemberCollector {
            index: self,
            gathered,
        }
    }

    /// The number of every key of `keys` (universe keys), in order; `None` for a null key.
    pub fn numbers(&self, keys: &ArrayRef) -> Result<Vec<Option<u32>>, EngineError> {
        let context = "numbering members";
        match &self.numbering {
            Numbering::Offset { min, .. } => {
                let keys = cast(keys, &DataType::Int64)
                    .map_err(|e| EngineError::execution(context, e.into()))?;
                let keys = keys.as_primitive::<Int64Type>();
                Ok(keys
                    .iter()
                    .map(|k| k.map(|k| k.wrapping_sub(*min) as u32))
                    .collect())
            }
            Numbering::Ranked {
                converter, ranks, ..
            } => {
                let rows = converter
                    .convert_columns(std::slice::from_ref(keys))
                    .map_err(|e| EngineError::execution(context, e.into()))?;
                let mut numbers = Vec::with_capacity(keys.len());
                for (i, row) in rows.iter().enumerate() {
                    if keys.is_null(i) {
                        numbers.push(None);
                        continue;
                    }
                    let rank = ranks.get(row.as_ref()).ok_or_else(|| {
                        EngineError::execution(
                            context,
                            datafusion::error::DataFusionError::Internal(
                                "a key outside the universe".into(),
                            ),
                        )
                    })?;
                    numbers.push(Some(*rank));
                }
                Ok(numbers)
            }
        }
    }

    /// The keys of `members`, ascending, in batches of the step schema.
    pub fn batches(&self, members: &RoaringBitmap) -> Result<Vec<RecordBatch>, EngineError> {
        let context = "the keys of a step";
        let mut batches = Vec::new();
        let mut iter = members.iter();
        let mut buffer = vec![0u32; BATCH_ROWS];
        loop {
            let numbers = iter.next_many(&mut buffer);
            if numbers.is_empty() {
                break;
            }
            let keys: ArrayRef = match &self.numbering {
                Numbering::Offset { min, .. } => {
                    let keys: ArrayRef = Arc::new(Int64Array::from_iter_values(
                        numbers.iter().map(|n| min + i64::from(*n)),
                    ));
                    cast(&keys, self.schema.field(0).data_type())
                        .map_err(|e| EngineError::execution(context, e.into()))?
                }
                Numbering::Ranked { sorted, .. } => {
                    let indices = UInt32Array::from(numbers.to_vec());
                    take(sorted.as_ref(), &indices, None)
                        .map_err(|e| EngineError::execution(context, e.into()))?
                }
            };
            batches.push(
                RecordBatch::try_new(self.schema.clone(), vec![keys])
                    .map_err(|e| EngineError::execution(context, e.into()))?,
            );
        }
        Ok(batches)
    }
}

/// A set operation on steps' members, in one pass over all of them: `∪`, `∩` and `Δ` over
/// any number of operands (roaring's multi-operand operations, container by container), `−`
/// the first operand less all the others.
pub fn combine(op: SetOp, operands: &[&RoaringBitmap]) -> RoaringBitmap {
    let Some((first, rest)) = operands.split_first() else {
        return RoaringBitmap::new();
    };
    match op {
        SetOp::Union => operands.iter().copied().union(),
        SetOp::Intersect => operands.iter().copied().intersection(),
        SetOp::SymmetricDifference => operands.iter().copied().symmetric_difference(),
        SetOp::Difference => rest.iter().fold((*first).clone(), |acc, b| acc - *b),
    }
}

/// Most operands a set step's plan names one by one; a longer list is shortened.
const NAMED_OPERANDS: usize = 8;

/// How a set step is computed, as its plan shows it: `MemberBitmap: step_1 ∪ step_2 (union
/// of the members' numbers; …)`, a long list of operands shortened to its first and last.
pub fn describe(op: SetOp, operands: &[String]) -> String {
    let separator = format!(" {} ", op.symbol());
    let list = if operands.len() <= NAMED_OPERANDS {
        operands.join(&separator)
    } else {
        format!(
            "{}{separator}…{separator}{} ({} operands)",
            operands[..NAMED_OPERANDS - 1].join(&separator),
            operands[operands.len() - 1],
            operands.len()
        )
    };
    format!(
        "MemberBitmap: {list} ({} of the members' numbers; keys rebuilt in key order)",
        op.name()
    )
}

/// A set of members being gathered from keys (see [`MemberIndex::collector`]).
pub struct MemberCollector<'a> {
    index: &'a MemberIndex,
    gathered: Gathered,
}

enum Gathered {
    /// Integer keys set straight into a bitset (key − `min`, below `span`): no list of numbers
    /// in between.
    Bits { min: i64, span: u64, bytes: Vec<u8> },
    /// Numbers in any order.
    Numbers(Vec<u32>),
}

impl MemberCollector<'_> {
    /// Adds the members whose keys are `keys` (universe keys). A key outside the universe's
    /// span of integers is no member's and is left out; a null key is left out.
    pub fn add(&mut self, keys: &ArrayRef) -> Result<(), EngineError> {
        match &mut self.gathered {
            Gathered::Bits { min, span, bytes } => {
                let keys = cast(keys, &DataType::Int64)
                    .map_err(|e| EngineError::execution("numbering members", e.into()))?;
                for key in keys.as_primitive::<Int64Type>().iter().flatten() {
                    let n = key.wrapping_sub(*min) as u64;
                    if n < *span {
                        bytes[(n >> 3) as usize] |= 1 << (n & 7);
                    }
                }
            }
            Gathered::Numbers(numbers) => {
                numbers.extend(self.index.numbers(keys)?.into_iter().flatten());
            }
        }
        Ok(())
    }

    /// Adds the members of the rows `selected` keeps (true, not null) among `keys`: a
    /// criterion's predicate over the features table, without filtering the keys first.
    pub fn add_selected(
        &mut self,
        keys: &ArrayRef,
        selected: &BooleanArray,
    ) -> Result<(), EngineError> {
        let fail = |e: datafusion::arrow::error::ArrowError| {
            EngineError::execution("numbering members", e.into())
        };
        let Gathered::Bits { min, span, bytes } = &mut self.gathered else {
            let kept = filter(keys, selected).map_err(fail)?;
            return self.add(&kept);
        };
        let mut rows = selected.values().clone();
        if let Some(nulls) = selected.nulls() {
            rows = &rows & nulls.inner();
        }
        if let Some(nulls) = keys.nulls() {
            rows = &rows & nulls.inner();
        }
        let keys = cast(keys, &DataType::Int64).map_err(fail)?;
        let keys = keys.as_primitive::<Int64Type>().values();
        for i in rows.set_indices() {
            let n = keys[i].wrapping_sub(*min) as u64;
            if n < *span {
                bytes[(n >> 3) as usize] |= 1 << (n & 7);
            }
        }
        Ok(())
    }

    /// The members gathered.
    pub fn finish(self) -> RoaringBitmap {
        match self.gathered {
            Gathered::Bits { bytes, .. } => RoaringBitmap::from_lsb0_bytes(0, &bytes),
            Gathered::Numbers(numbers) => from_numbers(numbers),
        }
    }
}

/// Key types numbered by offset (those castable to `Int64` without loss).
fn offset_type(data_type: &DataType) -> bool {
    data_type.is_integer() && *data_type != DataType::UInt64
}

/// A bitmap of numbers in any order: a plain bitset first when they are dense enough.
fn from_numbers(mut numbers: Vec<u32>) -> RoaringBitmap {
    let Some(max) = numbers.iter().max().copied() else {
        return RoaringBitmap::new();
    };
    let span = u64::from(max) + 1;
    if span <= MAX_BITSET_SPAN && span <= 64 * numbers.len() as u64 {
        let mut bytes = vec![0u8; span.div_ceil(8) as usize];
        for n in &numbers {
            bytes[(*n >> 3) as usize] |= 1 << (n & 7);
        }
        return RoaringBitmap::from_lsb0_bytes(0, &bytes);
    }
    numbers.sort_unstable();
    numbers.dedup();
    RoaringBitmap::from_sorted_iter(numbers).unwrap_or_default()
}

/// For integer keys all within 2³² of the smallest: the smallest (0 for no key), how many
/// numbers from it to the largest, and whether no key repeats (checked on a bitset when the
/// span allows); `None` when they spread wider.
fn offsets(
    batches: &[RecordBatch],
    context: &str,
) -> Result<Option<(i64, u64, bool)>, EngineError> {
    let mut keys = Vec::with_capacity(batches.len());
    for batch in batches {
        let column = cast(batch.column(0), &DataType::Int64)
            .map_err(|e| EngineError::execution(context, e.into()))?;
        keys.push(column.as_primitive::<Int64Type>().clone());
    }
    let lo = keys.iter().filter_map(arrow_min).min();
    let hi = keys.iter().filter_map(arrow_max).max();
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Some((0, 0, true)));
    };
    let Some(span) = hi.checked_sub(lo).filter(|s| *s <= i64::from(u32::MAX)) else {
        return Ok(None);
    };
    let bits = span as u64 + 1;
    if bits > MAX_BITSET_SPAN {
        return Ok(Some((lo, bits, false)));
    }
    let mut seen = vec![0u64; bits.div_ceil(64) as usize];
    let mut unique = true;
    for column in &keys {
        for key in column.iter().flatten() {
            let n = (key - lo) as usize;
            let bit = 1u64 << (n % 64);
            unique &= seen[n / 64] & bit == 0;
            seen[n / 64] |= bit;
        }
    }
    Ok(Some((lo, bits, unique)))
}

/// Keys numbered by their rank in ascending order, and whether none repeats.
fn ranked(
    batches: &[RecordBatch],
    field: &Field,
    context: &str,
) -> Result<(Numbering, bool), EngineError> {
    let fail = |e: datafusion::arrow::error::ArrowError| EngineError::execution(context, e.into());
    let columns: Vec<&dyn Array> = batches.iter().map(|b| b.column(0).as_ref()).collect();
    let all = if columns.is_empty() {
        datafusion::arrow::array::new_empty_array(field.data_type())
    } else {
        datafusion::arrow::compute::concat(&columns).map_err(fail)?
    };
    let order = sort_to_indices(&all, None, None).map_err(fail)?;
    let sorted = take(all.as_ref(), &order, None).map_err(fail)?;
    let converter =
        RowConverter::new(vec![SortField::new(field.data_type().clone())]).map_err(fail)?;
    let rows = converter
        .convert_columns(std::slice::from_ref(&sorted))
        .map_err(fail)?;
    let mut ranks = HashMap::with_capacity_and_hasher(rows.num_rows(), ahash::RandomState::new());
    let mut unique = true;
    for (rank, row) in rows.iter().enumerate() {
        unique &= ranks.insert(Box::from(row.as_ref()), rank as u32).is_none();
    }
    let numbering = Numbering::Ranked {
        sorted,
        converter,
        ranks,
    };
    Ok((numbering, unique))
}

async fn collect(
    ctx: &SessionContext,
    plan: datafusion::logical_expr::LogicalPlan,
    context: &str,
) -> Result<Vec<RecordBatch>, EngineError> {
    ctx.execute_logical_plan(plan)
        .await
        .map_err(|e| EngineError::execution(context, e))?
        .collect()
        .await
        .map_err(|e| EngineError::execution(context, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse_numbers_make_the_same_sets() {
        let dense = from_numbers(vec![5, 1, 3, 2]);
        assert_eq!(dense.iter().collect::<Vec<_>>(), vec![1, 2, 3, 5]);
        let sparse = from_numbers(vec![4_000_000_000, 7, 7]);
        assert_eq!(sparse.iter().collect::<Vec<_>>(), vec![7, 4_000_000_000]);
        assert!(from_numbers(Vec::new()).is_empty());
    }

    #[test]
    fn set_operations_follow_the_language() {
        let a: RoaringBitmap = [1, 2, 3].into_iter().collect();
        let b: RoaringBitmap = [2, 3, 4].into_iter().collect();
        let members = |op| combine(op, &[&a, &b]).iter().collect::<Vec<_>>();
        assert_eq!(members(SetOp::Union), vec![1, 2, 3, 4]);
        assert_eq!(members(SetOp::Intersect), vec![2, 3]);
        assert_eq!(members(SetOp::Difference), vec![1]);
        assert_eq!(members(SetOp::SymmetricDifference), vec![1, 4]);
    }

    #[test]
    fn operations_over_many_operands_fold_left() {
        let a: RoaringBitmap = [1, 2, 3, 5].into_iter().collect();
        let b: RoaringBitmap = [2, 3, 4].into_iter().collect();
        let c: RoaringBitmap = [3, 5, 6].into_iter().collect();
        let members = |op| combine(op, &[&a, &b, &c]).iter().collect::<Vec<_>>();
        assert_eq!(members(SetOp::Union), vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(members(SetOp::Intersect), vec![3]);
        // (a − b) − c and ((a Δ b) Δ c): a member in an odd number of operands.
        assert_eq!(members(SetOp::Difference), vec![1]);
        assert_eq!(members(SetOp::SymmetricDifference), vec![1, 3, 4, 6]);
        assert!(combine(SetOp::Union, &[]).is_empty());
    }

    #[test]
    fn long_operand_lists_are_shortened_in_plans() {
        let names: Vec<String> = (1..=20).map(|i| format!("step_{i}")).collect();
        let plan = describe(SetOp::Union, &names);
        assert!(plan.starts_with("MemberBitmap: step_1 ∪ step_2"), "{plan}");
        assert!(plan.contains("∪ … ∪ step_20 (20 operands)"), "{plan}");
        assert_eq!(
            describe(SetOp::Difference, &names[..2]),
            "MemberBitmap: step_1 − step_2 (difference of the members' numbers; keys rebuilt \
             in key order)"
        );
    }
}
