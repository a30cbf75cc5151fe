//! Lowers steps to DataFusion logical plans with `LogicalPlanBuilder` (never SQL text).
//!
//! An evaluation plans, in order:
//! 1. one **aggregate pass per related table** (one scan, grouped by member, every aggregate
//!    the criteria need as a column, each with its own `FILTER`);
//! 2. the **features** table: the universe at the as-of date, with the universe columns the
//!    criteria read, left-joined with the aggregate passes (empty aggregates become 0 or
//!    null, as the language says);
//! 3. one plan per **step**: a criterion filters the features table, `all` scans the
//!    universe, and set operations combine two materialised steps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType, ScalarValue};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{
    cast, ident, lit, when, Expr as DfExpr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder,
    SortExpr, TableSource,
};
use ensemble_syntax::AggFunc;

use crate::catalog::{CatalogSchema, RelatedSchema, UniverseSchema};
use crate::criteria::{days_from_epoch, AggregateSpec, WindowSpec};
use crate::error::{PlanContext, PlanError};
use crate::features::{FeaturesSpec, PassKind};
use crate::value::Value;

/// Name of the features table in plans.
pub const FEATURES_TABLE: &str = "features";

/// The column holding the member key in a related table's aggregate pass.
pub fn member_column(table: &str) -> String {
    format!("__member_{table}")
}

fn as_of_literal(as_of: NaiveDate) -> DfExpr {
    lit(ScalarValue::Date32(Some(days_from_epoch(as_of))))
}

fn as_date(expr: DfExpr) -> DfExpr {
    cast(expr, DataType::Date32)
}

/// Rows of `table` whose `time` falls on or before `as_of` (calendar days): a timestamp is
/// compared with the first instant of the next day, any other type as a date.
pub(crate) fn as_of_cut(table: &RelatedSchema, time: &str, as_of: NaiveDate) -> DfExpr {
    let data_type = table.schema.field_with_name(time).map(|f| f.data_type());
    match data_type
        .ok()
        .and_then(|t| crate::days::start_of_next_day(t, as_of))
    {
        Some(next_day) => ident(time).lt(lit(next_day)),
        None => as_date(ident(time)).lt_eq(as_of_literal(as_of)),
    }
}

/// The universe at the end of `as_of`: its key and the given columns, members whose `since`
/// date is after `as_of` left out (members with no `since` date are kept).
pub fn universe_plan(
    source: Arc<dyn TableSource>,
    universe: &UniverseSchema,
    as_of: NaiveDate,
    columns: &BTreeSet<String>,
) -> Result<LogicalPlan, PlanError> {
    let mut builder = LogicalPlanBuilder::scan(universe.table.as_str(), source, None)
        .planning("the universe scan")?;
    if let Some(since) = &universe.since {
        let present = as_date(ident(since))
            .lt_eq(as_of_literal(as_of))
            .or(ident(since).is_null());
        builder = builder
            .filter(present)
            .planning("the universe's as-of filter")?;
    }
    let projection = std::iter::once(ident(&universe.key))
        .chain(columns.iter().filter(|c| **c != universe.key).map(ident));
    builder
        .project(projection)
        .planning("the universe columns")?
        .build()
        .planning("the universe")
}

/// Every member of the universe at the as-of date, once.
pub fn all_plan(
    source: Arc<dyn TableSource>,
    universe: &UniverseSchema,
    as_of: NaiveDate,
) -> Result<LogicalPlan, PlanError> {
    let plan = universe_plan(source, universe, as_of, &BTreeSet::new())?;
    LogicalPlanBuilder::from(plan)
        .distinct()
        .planning("all")?
        .build()
        .planning("all")
}

/// One grouped pass over a related table computing every aggregate in `specs` per member.
/// Rows after the as-of date are invisible.
pub fn aggregate_plan(
    source: Arc<dyn TableSource>,
    table: &RelatedSchema,
    as_of: NaiveDate,
    specs: &[&AggregateSpec],
) -> Result<LogicalPlan, PlanError> {
    let label = table.name.as_str();
    let what = format!("the aggregates over {}", table.name);
    let key = table.key.as_deref().ok_or_else(|| PlanError::DataFusion {
        what: what.clone(),
        source: datafusion::error::DataFusionError::Plan(format!(
            "table {} does not reference the universe",
            table.name
        )),
    })?;
    let mut builder =
        LogicalPlanBuilder::scan(table.name.as_str(), source, None).planning(what.as_str())?;
    if let Some(time) = &table.time {
        builder = builder
            .filter(as_of_cut(table, time, as_of))
            .planning(what.as_str())?;
    }
    let aggregates = specs
        .iter()
        .map(|spec| aggregate_expr(spec, table))
        .collect::<Vec<_>>();
    builder
        .aggregate(vec![ident(key).alias(member_column(label))], aggregates)
        .planning(what.as_str())?
        .build()
        .planning(what)
}

/// A `count_distinct` aggregate in two grouped steps — distinct `(member, value)` pairs, then
/// a count per member — labelled `label` for the join. DataFusion's one-step COUNT(DISTINCT)
/// keeps a hash set per member, which does not scale to millions of members; this plan stays
/// within hash-aggregate memory (and spills like any aggregate).
pub fn distinct_count_plan(
    source: Arc<dyn TableSource>,
    table: &RelatedSchema,
    as_of: NaiveDate,
    spec: &AggregateSpec,
    label: &str,
) -> Result<LogicalPlan, PlanError> {
    let what = format!("{} over {}", spec.name, table.name);
    let key = table.key.as_deref().ok_or_else(|| PlanError::DataFusion {
        what: what.clone(),
        source: datafusion::error::DataFusionError::Plan(format!(
            "table {} does not reference the universe",
            table.name
        )),
    })?;
    let column = spec
        .column
        .as_deref()
        .ok_or_else(|| PlanError::DataFusion {
            what: what.clone(),
            source: datafusion::error::DataFusionError::Plan(
                "count_distinct needs a column".into(),
            ),
        })?;
    let mut builder =
        LogicalPlanBuilder::scan(table.name.as_str(), source, None).planning(what.as_str())?;
    let mut condition = ident(column).is_not_null();
    if let Some(time) = &table.time {
        condition = condition.and(as_of_cut(table, time, as_of));
    }
    if let Some(filter) = &spec.filter {
        condition = condition.and(filter.to_df());
    }
    builder = builder.filter(condition).planning(what.as_str())?;
    let member = member_column(label);
    builder
        .aggregate(
            vec![ident(key).alias(&member), ident(column).alias("__value")],
            Vec::<DfExpr>::new(),
        )
        .planning(what.as_str())?
        .aggregate(
            vec![ident(&member)],
            vec![agg::count(ident("__value")).alias(&spec.name)],
        )
        .planning(what.as_str())?
        .build()
        .planning(what)
}

fn aggregate_expr(spec: &AggregateSpec, table: &RelatedSchema) -> DfExpr {
    let is_time = |name: &str| {
        matches!(
            table.schema.field_with_name(name).map(|f| f.data_type()),
            Ok(DataType::Timestamp(_, _) | DataType::Date64)
        )
    };
    let on_time_column = spec.column.is_some() && spec.column == table.time;
    // The earliest or latest timestamp's date is the date of the earliest or latest
    // timestamp: cast once per member, not once per row.
    let cast_after = spec.column.as_deref().is_some_and(is_time)
        && (matches!(spec.func, AggFunc::Min | AggFunc::Max)
            || (on_time_column && matches!(spec.func, AggFunc::First | AggFunc::Last)));
    let column = |name: &str| {
        if is_time(name) && !cast_after {
            as_date(ident(name))
        } else {
            ident(name)
        }
    };
    let value = spec.column.as_deref().map(column);
    let by_time = || -> Vec<SortExpr> {
        table
            .time
            .as_deref()
            .map(|time| vec![ident(time).sort(true, false)])
            .unwrap_or_default()
    };
    let value_or_one = || value.clone().unwrap_or_else(|| lit(1i64));
    let expr = match spec.func {
        AggFunc::Count => agg::count(value_or_one()),
        AggFunc::CountDistinct => agg::count_distinct(value_or_one()),
        AggFunc::Sum => agg::sum(value_or_one()),
        AggFunc::Avg => agg::avg(value_or_one()),
        AggFunc::Min => agg::min(value_or_one()),
        AggFunc::Max => agg::max(value_or_one()),
        AggFunc::First if on_time_column => agg::min(value_or_one()),
        AggFunc::Last if on_time_column => agg::max(value_or_one()),
        AggFunc::First => agg::first_value(value_or_one(), by_time()),
        AggFunc::Last => agg::last_value(value_or_one(), by_time()),
    };
    let expr = match (&spec.filter, spec.func) {
        // DataFusion's DISTINCT aggregates do not apply a FILTER clause: count the values of
        // the rows the filter keeps instead (nulls are not counted). The engine plans
        // `count_distinct` with [`distinct_count_plan`]; this form serves other callers.
        (Some(filter), AggFunc::CountDistinct) => agg::count_distinct(
            when(filter.to_df(), value_or_one())
                .end()
                .unwrap_or_else(|_| unreachable!("a CASE with one branch is valid")),
        ),
        // Building an aggregate with a filter only fails on non-aggregate expressions.
        (Some(filter), _) => expr.filter(filter.to_df()).build().unwrap_or_else(|_| {
            unreachable!("the aggregate functions above accept a FILTER clause")
        }),
        (None, _) => expr,
    };
    let expr = if cast_after { as_date(expr) } else { expr };
    expr.alias(&spec.name)
}

/// Lowers the features plan of the plan stage: the universe at the as-of date, one plan per
/// table pass, joined, then the buckets. `sources` holds the universe and every related
/// table the passes scan.
pub fn lower_features(
    spec: &FeaturesSpec<'_>,
    catalog: &CatalogSchema,
    as_of: NaiveDate,
    sources: &BTreeMap<String, Arc<dyn TableSource>>,
) -> Result<LogicalPlan, PlanError> {
    let universe = &catalog.universe;
    let universe_rows = universe_plan(
        table_source(sources, &universe.table)?,
        universe,
        as_of,
        spec.columns,
    )?;
    let passes = lower_passes(spec, catalog, as_of, sources)?;
    features_plan(
        universe_rows,
        &universe.key,
        spec.columns,
        passes,
        &spec.buckets,
    )
}

/// Extends a features table the session already has (`known`, whose columns besides the key
/// are `known_columns`) with the aggregates and buckets of `spec`: only the new passes scan
/// their tables. `spec` must need no universe column `known` lacks.
pub fn lower_features_onto(
    known: LogicalPlan,
    known_columns: &BTreeSet<String>,
    spec: &FeaturesSpec<'_>,
    catalog: &CatalogSchema,
    as_of: NaiveDate,
    sources: &BTreeMap<String, Arc<dyn TableSource>>,
) -> Result<LogicalPlan, PlanError> {
    let passes = lower_passes(spec, catalog, as_of, sources)?;
    features_plan(
        known,
        &catalog.universe.key,
        known_columns,
        passes,
        &spec.buckets,
    )
}

fn table_source(
    sources: &BTreeMap<String, Arc<dyn TableSource>>,
    table: &str,
) -> Result<Arc<dyn TableSource>, PlanError> {
    sources
        .get(table)
        .cloned()
        .ok_or_else(|| PlanError::DataFusion {
            what: format!("the scan of {table}"),
            source: datafusion::error::DataFusionError::Plan(format!(
                "no source for table {table}"
            )),
        })
}

/// A pass's plan, its label (its member column is [`member_column`]`(label)`) and the
/// aggregates it computes.
pub type LoweredPass<'a> = (LogicalPlan, String, Vec<&'a AggregateSpec>);

/// One plan per table pass of `spec`, with its label and aggregates.
fn lower_passes<'a>(
    spec: &FeaturesSpec<'a>,
    catalog: &CatalogSchema,
    as_of: NaiveDate,
    sources: &BTreeMap<String, Arc<dyn TableSource>>,
) -> Result<Vec<LoweredPass<'a>>, PlanError> {
    let mut passes = Vec::with_capacity(spec.passes.len());
    for pass in &spec.passes {
        let related = catalog
            .related
            .get(pass.table)
            .ok_or_else(|| PlanError::DataFusion {
                what: format!("the pass over {}", pass.table),
                source: datafusion::error::DataFusionError::Plan(format!(
                    "{} is not a related table",
                    pass.table
                )),
            })?;
        let source = table_source(sources, pass.table)?;
        let plan = match pass.kind {
            PassKind::Grouped => aggregate_plan(source, related, as_of, &pass.aggregates)?,
            PassKind::DistinctCount => {
                distinct_count_plan(source, related, as_of, pass.aggregates[0], &pass.label)?
            }
        };
        passes.push((plan, pass.label.clone(), pass.aggregates.clone()));
    }
    Ok(passes)
}

/// The features table: universe (key and `columns`) left-joined with every aggregate pass,
/// then the bucket scores (`windows`) computed over those rows (see [`crate::scores`]).
/// Each pass is `(plan, label, specs)`: its member column is [`member_column`]`(label)`.
pub fn features_plan(
    universe: LogicalPlan,
    key: &str,
    columns: &BTreeSet<String>,
    passes: Vec<LoweredPass<'_>>,
    windows: &[&WindowSpec],
) -> Result<LogicalPlan, PlanError> {
    let mut builder = LogicalPlanBuilder::from(universe);
    let mut outputs = vec![ident(key)];
    outputs.extend(columns.iter().filter(|c| c.as_str() != key).map(ident));
    for (plan, label, specs) in passes {
        builder = builder
            .join(
                plan,
                JoinType::Left,
                (
                    vec![Column::from_name(key)],
                    vec![Column::from_name(member_column(&label))],
                ),
                None,
            )
            .planning(format!("the join of {label} with the universe"))?;
        for spec in specs {
            let value = ident(&spec.name);
            outputs.push(if spec.zero_when_empty() {
                coalesce(vec![value, lit(0i64)]).alias(&spec.name)
            } else {
                value
            });
        }
    }
    let builder = builder.project(outputs).planning("the features table")?;
    crate::buckets::with_buckets(builder, windows.to_vec())?
        .build()
        .planning("the features table")
}

/// The members of the features table for whom `predicate` holds. The features table has one
/// row per member (universe keys are checked unique before any evaluation): no `DISTINCT`.
pub fn criterion_plan(
    features: Arc<dyn TableSource>,
    key: &str,
    predicate: &Value,
) -> Result<LogicalPlan, PlanError> {
    LogicalPlanBuilder::scan(FEATURES_TABLE, features, None)
        .planning("a criterion")?
        .filter(predicate.to_df())
        .planning("a criterion")?
        .project(vec![ident(key)])
        .planning("a criterion")?
        .build()
        .planning("a criterion")
}
