//! The rows of a grouped pass, for folding by member number instead of grouping by hashed key.
//!
//! When the universe's members are numbered densely (integer keys, see the engine's
//! `members.rs`), the aggregates of a grouped pass need no hash table: each is an array
//! indexed by member number, updated row by row. This module plans what DataFusion still does
//! for such a pass — the scan, the as-of cut, and per row the member key, each aggregated
//! column and each aggregate's filter, every distinct one once — and says how each aggregate
//! folds those columns ([`Fold`]). A pass with an aggregate that does not fold this way (an
//! ordered `first`/`last` of another column, a float `min`, a type without a fixed-width
//! native value) keeps its grouped plan ([`crate::plan::aggregate_plan`]).
//!
//! The values are the grouped plan's: the same rows, the same filters (a null filter keeps
//! nothing), nulls skipped; the engine casts each folded array to the type the grouped plan
//! gives the column.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{
    ident, lit, BinaryExpr, Expr as DfExpr, LogicalPlan, LogicalPlanBuilder, Operator, TableSource,
};
use ensemble_syntax::AggFunc;

use crate::catalog::RelatedSchema;
use crate::criteria::AggregateSpec;
use crate::error::{PlanContext, PlanError};

/// How an aggregate folds its rows into one value per member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Rows kept (or values present); 0 for none.
    Count,
    /// The sum of the values present: whole numbers as `Int64`, floats as `Float64`,
    /// decimals at their scale.
    Sum,
    /// The mean of the values present, as `Float64` (whole numbers and floats).
    Avg,
    /// The smallest value present, of the column's own type.
    Min,
    /// The largest value present, of the column's own type.
    Max,
}

/// One aggregate of a folded pass.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldedAggregate<'a> {
    /// The aggregate.
    pub spec: &'a AggregateSpec,
    /// How it folds.
    pub fold: Fold,
    /// The position of its value column in the rows (`None`: `count` of rows).
    pub value: Option<usize>,
    /// Which rows it folds (`None`: every row after the as-of cut).
    pub keep: Option<Keep>,
}

/// Which rows of a pass an aggregate folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The rows whose filter column, at this position in the rows, is true.
    Column(usize),
    /// The rows whose time column, at `column`, is at or after `start` (a raw timestamp in
    /// the column's unit): a window alone, its lower bound compared in the fold, with no
    /// filter column computed (the as-of cut is the upper bound).
    Since {
        /// The position of the time column in the rows.
        column: usize,
        /// The first instant of the window.
        start: i64,
    },
}

/// The rows of one pass and how its aggregates fold them. Column 0 of the rows is the member
/// key.
#[derive(Debug, Clone)]
pub struct MemberRows<'a> {
    /// The related table.
    pub table: &'a str,
    /// Scan, as-of cut and projection.
    pub plan: LogicalPlan,
    /// The aggregates, in the pass's order.
    pub aggregates: Vec<FoldedAggregate<'a>>,
}

/// The fold of `spec` over `table`, when it has one (see the module documentation).
pub fn fold_of(spec: &AggregateSpec, table: &RelatedSchema) -> Option<Fold> {
    let column_type = || {
        spec.column
            .as_deref()
            .and_then(|c| table.schema.field_with_name(c).ok())
            .map(|f| f.data_type().clone())
    };
    let on_time_column = spec.column.is_some() && spec.column == table.time;
    let fold = match spec.func {
        AggFunc::Count => return Some(Fold::Count),
        AggFunc::CountDistinct => return None,
        AggFunc::Sum => Fold::Sum,
        AggFunc::Avg => Fold::Avg,
        AggFunc::Min => Fold::Min,
        AggFunc::Max => Fold::Max,
        AggFunc::First if on_time_column => Fold::Min,
        AggFunc::Last if on_time_column => Fold::Max,
        AggFunc::First | AggFunc::Last => return None,
    };
    let ty = column_type()?;
    let integer = matches!(
        ty,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    );
    let float = matches!(ty, DataType::Float32 | DataType::Float64);
    let supported = match fold {
        Fold::Sum => integer || float || matches!(ty, DataType::Decimal128(_, _)),
        Fold::Avg => integer || float,
        // Floats keep the grouped plan: its NaN ordering is DataFusion's to define.
        Fold::Min | Fold::Max => matches!(
            ty,
            DataType::Int32
                | DataType::Int64
                | DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(_, _)
                | DataType::Decimal128(_, _)
        ),
        Fold::Count => true,
    };
    supported.then_some(fold)
}

/// `filter` over rows the as-of cut kept: the cut itself (a window's upper bound is the
/// same test) holds on each of them, so it is not tested again; DataFusion's simplifier then
/// drops the `AND true`.
fn after_cut(filter: DfExpr, cut: Option<&DfExpr>) -> DfExpr {
    let Some(cut) = cut else {
        return filter;
    };
    filter
        .transform(|e| {
            Ok(if e == *cut {
                Transformed::yes(lit(true))
            } else {
                Transformed::no(e)
            })
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| unreachable!("the rewrite does not fail"))
}

/// The first instant of a window that is all of `filter` once the as-of cut is dropped —
/// `time >= start` on the table's timestamp column, `start` a literal of the column's unit —
/// with the time column's name.
fn window_start<'t>(filter: &DfExpr, table: &'t RelatedSchema) -> Option<(&'t str, i64)> {
    let time = table.time.as_deref()?;
    let DfExpr::BinaryExpr(BinaryExpr { left, op, right }) = filter else {
        return None;
    };
    match (left.as_ref(), op, right.as_ref()) {
        (_, Operator::And, DfExpr::Literal(ScalarValue::Boolean(Some(true)), _)) => {
            window_start(left, table)
        }
        (DfExpr::Literal(ScalarValue::Boolean(Some(true)), _), Operator::And, _) => {
            window_start(right, table)
        }
        (DfExpr::Column(column), Operator::GtEq, DfExpr::Literal(start, _))
            if column.relation.is_none() && column.name == time =>
        {
            let unit = match table.schema.field_with_name(time).ok()?.data_type() {
                DataType::Timestamp(unit, _) => *unit,
                _ => return None,
            };
            let start = match (unit, start) {
                (TimeUnit::Second, ScalarValue::TimestampSecond(Some(v), _))
                | (TimeUnit::Millisecond, ScalarValue::TimestampMillisecond(Some(v), _))
                | (TimeUnit::Microsecond, ScalarValue::TimestampMicrosecond(Some(v), _))
                | (TimeUnit::Nanosecond, ScalarValue::TimestampNanosecond(Some(v), _)) => *v,
                _ => return None,
            };
            Some((time, start))
        }
        _ => None,
    }
}

/// The rows plan of a grouped pass whose every aggregate folds; `None` when one does not.
pub fn member_rows_plan<'a>(
    source: Arc<dyn TableSource>,
    table: &'a RelatedSchema,
    as_of: NaiveDate,
    specs: &[&'a AggregateSpec],
) -> Result<Option<MemberRows<'a>>, PlanError> {
    let Some(key) = table.key.as_deref() else {
        return Ok(None);
    };
    // Member numbers are integer keys minus the smallest (`UInt64` may not fit `Int64`).
    let key_type = table
        .schema
        .field_with_name(key)
        .map(|f| f.data_type().clone());
    if !key_type.is_ok_and(|t| t.is_integer() && t != DataType::UInt64) {
        return Ok(None);
    }
    let mut folds = Vec::with_capacity(specs.len());
    for spec in specs {
        match fold_of(spec, table) {
            Some(fold) => folds.push(fold),
            None => return Ok(None),
        }
    }
    let what = format!("the rows of {}", table.name);
    let mut builder =
        LogicalPlanBuilder::scan(table.name.as_str(), source, None).planning(what.as_str())?;
    let cut = table
        .time
        .as_deref()
        .map(|time| crate::plan::as_of_cut(table, time, as_of));
    if let Some(cut) = &cut {
        builder = builder.filter(cut.clone()).planning(what.as_str())?;
    }
    // Column 0 is the key; every distinct value column and filter follows, once.
    let mut columns: Vec<DfExpr> = vec![ident(key)];
    let mut position = |expr: DfExpr| match columns.iter().position(|c| *c == expr) {
        Some(i) => i,
        None => {
            columns.push(expr);
            columns.len() - 1
        }
    };
    let mut aggregates = Vec::with_capacity(specs.len());
    for (spec, fold) in specs.iter().zip(folds) {
        let value = spec.column.as_deref().map(|c| position(ident(c)));
        let keep = spec.filter.as_ref().map(|f| {
            let filter = after_cut(f.to_df(), cut.as_ref());
            match window_start(&filter, table) {
                Some((time, start)) => Keep::Since {
                    column: position(ident(time)),
                    start,
                },
                None => Keep::Column(position(filter)),
            }
        });
        aggregates.push(FoldedAggregate {
            spec,
            fold,
            value,
            keep,
        });
    }
    let projection = columns
        .into_iter()
        .enumerate()
        .map(|(i, expr)| expr.alias(format!("__c{i}")));
    let plan = builder
        .project(projection)
        .planning(what.as_str())?
        .build()
        .planning(what)?;
    Ok(Some(MemberRows {
        table: table.name.as_str(),
        plan,
        aggregates,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};

    fn purchases(unit: TimeUnit) -> RelatedSchema {
        RelatedSchema {
            name: "purchases".into(),
            key: Some("customer_id".into()),
            time: Some("purchased_at".into()),
            schema: Arc::new(Schema::new(vec![
                Field::new("customer_id", DataType::Int64, false),
                Field::new("purchased_at", DataType::Timestamp(unit, None), true),
                Field::new("amount", DataType::Int64, true),
            ])),
        }
    }

    #[test]
    fn a_window_alone_is_compared_in_the_fold() {
        let table = purchases(TimeUnit::Microsecond);
        let start = lit(ScalarValue::TimestampMicrosecond(Some(42), None));
        let window = ident("purchased_at").gt_eq(start.clone());
        assert_eq!(
            window_start(&window.clone().and(lit(true)), &table),
            Some(("purchased_at", 42))
        );
        assert_eq!(
            window_start(&lit(true).and(window.clone()), &table),
            Some(("purchased_at", 42))
        );
        // Anything more than the window, another column or another unit keeps its column.
        let more = window.and(ident("amount").gt(lit(5i64)));
        assert_eq!(window_start(&more, &table), None);
        let other = ident("amount").gt_eq(start.clone());
        assert_eq!(window_start(&other, &table), None);
        let seconds = purchases(TimeUnit::Second);
        let window = ident("purchased_at").gt_eq(start);
        assert_eq!(window_start(&window, &seconds), None);
    }
}
