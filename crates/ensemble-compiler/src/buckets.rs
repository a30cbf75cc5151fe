//! Lowers bucket scores (`ntile`, the dimensions of a score) to DataFusion window functions
//! over the features table, by the bucket rule of [`crate::scores`]:
//! `1 + (N × (RANK() − 1)) / COUNT(value)`, in integers, over the members whose value is not
//! null (they rank first: nulls sort last), a null value giving a null bucket.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_window::expr_fn::rank;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    cast, ident, lit, when, Expr as DfExpr, ExprFunctionExt, LogicalPlanBuilder,
    WindowFunctionDefinition,
};

use crate::criteria::WindowSpec;
use crate::error::{PlanContext, PlanError};

const WHAT: &str = "the bucket scores";

/// Adds every bucket in `windows` as a column of `builder`'s rows (one row per member). A
/// bucket whose value reads other buckets is computed in a later layer.
pub(crate) fn with_buckets(
    mut builder: LogicalPlanBuilder,
    mut windows: Vec<&WindowSpec>,
) -> Result<LogicalPlanBuilder, PlanError> {
    let mut layer = 0;
    while !windows.is_empty() {
        let schema = builder.schema().clone();
        let (ready, waiting): (Vec<&WindowSpec>, Vec<&WindowSpec>) =
            windows.into_iter().partition(|w| {
                w.value
                    .columns()
                    .into_iter()
                    .all(|column| schema.has_column_with_unqualified_name(column))
            });
        if ready.is_empty() {
            return Err(PlanError::DataFusion {
                what: WHAT.into(),
                source: datafusion::error::DataFusionError::Plan(format!(
                    "{} reads a column the features table does not have",
                    waiting[0].name
                )),
            });
        }
        let kept: Vec<DfExpr> = schema.columns().into_iter().map(DfExpr::Column).collect();
        let name = |what: &str, i: usize| format!("__bucket_{what}_{layer}_{i}");
        let mut values = kept.clone();
        let mut ranks = Vec::new();
        // Window plans take bare window expressions: their output columns are named by them.
        let named = |expr: &DfExpr| ident(expr.schema_name().to_string());
        let mut rank_columns = Vec::new();
        for (i, window) in ready.iter().enumerate() {
            let value = name("value", i);
            values.push(window.value.to_df().alias(&value));
            let ranked = rank()
                .order_by(vec![ident(&value).sort(true, false)])
                .build()
                .planning(WHAT)?;
            let count = DfExpr::from(WindowFunction::new(
                WindowFunctionDefinition::AggregateUDF(count_udaf()),
                vec![ident(&value)],
            ));
            rank_columns.push((named(&ranked), named(&count)));
            ranks.push(ranked);
            ranks.push(count);
        }
        let plan = builder
            .project(values)
            .planning(WHAT)?
            .build()
            .planning(WHAT)?;
        let plan = LogicalPlanBuilder::window_plan(plan, ranks).planning(WHAT)?;
        let mut outputs = kept;
        for (i, (window, (rank, count))) in ready.iter().zip(rank_columns).enumerate() {
            let below = cast(rank, DataType::Int64) - lit(1i64);
            let bucket = lit(1i64) + (lit(window.buckets) * below) / count;
            let expr = when(
                ident(name("value", i)).is_null(),
                lit(ScalarValue::Int64(None)),
            )
            .otherwise(bucket)
            .planning(WHAT)?;
            outputs.push(expr.alias(&window.name));
        }
        builder = LogicalPlanBuilder::from(plan)
            .project(outputs)
            .planning(WHAT)?;
        windows = waiting;
        layer += 1;
    }
    Ok(builder)
}
