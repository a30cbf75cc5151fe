//! The universe's key must name each member exactly once.
//!
//! A null key would make every keyless row one member, and a duplicated key would count one
//! member once while exports and previews (which join steps back to the universe) repeat
//! its rows. Neither can be answered correctly, so an evaluation over such data is refused
//! with counts and an example. The check is one aggregate over the key column, run once per
//! state of the data files (the session remembers the fingerprint it checked).

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::datasource::{provider_as_source, TableProvider};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{ident, lit, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;

use crate::catalog::Catalog;
use crate::error::EngineError;

/// Refuses a universe whose key is null on some rows or repeated.
pub async fn check_universe_keys(
    ctx: &SessionContext,
    catalog: &Catalog,
) -> Result<(), EngineError> {
    let universe = &catalog.schema.universe;
    let Some(provider) = catalog.providers.get(&universe.table) else {
        return Ok(());
    };
    let key = universe.key.as_str();
    let context = format!("checking the keys of {}", universe.table);
    let counts = LogicalPlanBuilder::scan(universe.table.as_str(), source(provider), None)
        .and_then(|b| {
            b.aggregate(
                Vec::<datafusion::logical_expr::Expr>::new(),
                vec![
                    agg::count(lit(1i64)).alias("rows"),
                    agg::count(ident(key)).alias("keyed"),
                    agg::count_distinct(ident(key)).alias("distinct_keys"),
                ],
            )
        })
        .and_then(|b| b.build())
        .map_err(|e| EngineError::execution(&context, e))?;
    let frame = ctx
        .execute_logical_plan(counts)
        .await
        .map_err(|e| EngineError::execution(&context, e))?;
    let batches = frame
        .collect()
        .await
        .map_err(|e| EngineError::execution(&context, e))?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let value = |i: usize| {
        batch
            .column(i)
            .as_any()
            .downcast_ref::<Int64Array>()
            .map(|a| a.value(0))
            .unwrap_or(0)
    };
    let (rows, keyed, distinct) = (value(0), value(1), value(2));
    if rows == keyed && keyed == distinct {
        return Ok(());
    }
    let mut problems = Vec::new();
    if rows > keyed {
        problems.push(format!("{} row(s) with a null {key}", rows - keyed));
    }
    if keyed > distinct {
        let example = duplicate_example(ctx, catalog, &context).await?;
        problems.push(format!(
            "{} repeated {key} value(s){}",
            keyed - distinct,
            example
                .map(|e| format!(" (for example {e})"))
                .unwrap_or_default()
        ));
    }
    Err(EngineError::Catalog {
        path: catalog.path.clone(),
        message: format!(
            "the universe table {} has {}: each member must be exactly one row with a key",
            universe.table,
            problems.join(" and ")
        ),
    })
}

fn source(provider: &Arc<dyn TableProvider>) -> Arc<dyn datafusion::logical_expr::TableSource> {
    provider_as_source(provider.clone())
}

/// One key that appears more than once.
async fn duplicate_example(
    ctx: &SessionContext,
    catalog: &Catalog,
    context: &str,
) -> Result<Option<String>, EngineError> {
    let universe = &catalog.schema.universe;
    let key = universe.key.as_str();
    let provider = &catalog.providers[&universe.table];
    let plan = LogicalPlanBuilder::scan(universe.table.as_str(), source(provider), None)
        .and_then(|b| b.filter(ident(key).is_not_null()))
        .and_then(|b| b.aggregate(vec![ident(key)], vec![agg::count(lit(1i64)).alias("n")]))
        .and_then(|b| b.filter(ident("n").gt(lit(1i64))))
        .and_then(|b| b.sort(vec![ident(key).sort(true, false)]))
        .and_then(|b| b.limit(0, Some(1)))
        .and_then(|b| b.build())
        .map_err(|e| EngineError::execution(context, e))?;
    let frame = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(|e| EngineError::execution(context, e))?;
    let batches = frame
        .collect()
        .await
        .map_err(|e| EngineError::execution(context, e))?;
    Ok(batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| array_value_to_string(b.column(0), 0).ok()))
}
