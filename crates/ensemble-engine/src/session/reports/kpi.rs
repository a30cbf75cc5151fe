//! `kpi SET, … [with VALUE as NAME, …]`: members, shares, revenue, basket, frequency and
//! recency per set or tier, and any extra measure, from one per-member table of values.

use datafusion::arrow::array::{Array, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::logical_expr::cast;
use ensemble_compiler::{CriterionLowerer, ValueType};
use ensemble_syntax::{Expr, Measure};

use super::*;
use crate::report::percent;
use crate::report::{KpiReport, KpiRow};

/// Where the default measures' text comes from, in errors.
const DEFAULTS_ORIGIN: &str = "<kpi defaults>";

/// The default measures, by name, over the revenue column `table.column` and the table's time
/// column: revenue and purchases over 12 months, days since the last purchase.
fn default_measures(table: &str, amount: &str, time: &str) -> String {
    format!(
        "kpi all with sum({table}.{amount} within 12 months) as revenue, \
         count({table} within 12 months) as purchases, \
         days_since(last({table}.{time})) as recency"
    )
}

/// The revenue column and the default measures over it.
pub(super) struct Revenue {
    /// `purchases.amount`.
    pub(super) column: String,
    /// The measures' text (their spans point into it).
    pub(super) text: String,
    /// Revenue, purchases and recency.
    pub(super) measures: Vec<Measure>,
}

/// Sums of each measure over one set's members.
#[derive(Debug, Clone, Default)]
pub(super) struct Sums {
    /// Per measure: the sum of its values, and how many members have one.
    pub(super) totals: Vec<(f64, u64)>,
    /// Values of the recency measure, for its median.
    recency: Vec<f64>,
}

impl Session {
    /// Evaluates each set, computes every measure per member in one pass over the features
    /// table, and sums the measures over each set's members.
    pub(super) async fn kpi_report(
        &mut self,
        sets: &[SetExpr],
        extra: &[Measure],
        source: &Source<'_>,
    ) -> Result<KpiReport, EngineError> {
        let mut targets = self.targets(sets);
        targets.push(Target {
            label: "all".into(),
            expr: SetExpr {
                kind: SetExprKind::All,
                span: Span::new(0, 0),
            },
        });
        let date = self.as_of();
        self.prefetch_targets(&targets, &[date]);
        let mut bitmaps = Vec::with_capacity(targets.len());
        for target in &targets {
            bitmaps.push(self.members_at(&target.expr, date, source).await?);
        }
        let revenue = self.revenue_measures()?;
        let defaults_text: Arc<str> = Arc::from(revenue.as_ref().map_or("", |r| r.text.as_str()));
        let defaults_source = Source {
            text: &defaults_text,
            origin: DEFAULTS_ORIGIN,
        };
        let defaults = revenue.as_ref().map_or(&[][..], |r| r.measures.as_slice());
        let default_count = defaults.len();
        let mut measures: Vec<(String, Expr, &Source<'_>)> = Vec::new();
        for measure in defaults {
            measures.push((
                measure.name.name.clone(),
                measure.expr.clone(),
                &defaults_source,
            ));
        }
        for measure in extra {
            measures.push((measure.name.name.clone(), measure.expr.clone(), source));
        }
        let recency = (default_count > 0).then_some(2);
        let sums = self.sum_measures(&measures, &bitmaps, recency).await?;
        let universe = bitmaps.last().map_or(0, |b| b.len());
        let total_revenue = sums.last().and_then(|s| s.totals.first()).map(|t| t.0);
        let rows = targets
            .iter()
            .zip(&bitmaps)
            .zip(sums)
            .map(|((target, members), sums)| {
                kpi_row(
                    &target.label,
                    members.len(),
                    universe,
                    sums,
                    default_count,
                    total_revenue,
                )
            })
            .collect();
        Ok(KpiReport {
            rows,
            revenue: revenue.map(|r| r.column),
            measures: extra.iter().map(|m| m.name.name.clone()).collect(),
        })
    }

    /// The revenue column (`purchases.amount`) and the default measures over it: the
    /// catalog's `revenue`, else `purchases.amount` when it exists, else none.
    pub(super) fn revenue_measures(&self) -> Result<Option<Revenue>, EngineError> {
        let schema = &self.catalog.schema;
        let named = self.catalog.file.revenue.clone();
        let column = named.clone().unwrap_or_else(|| "purchases.amount".into());
        let found = column.split_once('.').and_then(|(table, amount)| {
            let related = schema.related.get(table)?;
            related.schema.field_with_name(amount).ok()?;
            Some((table.to_string(), amount.to_string(), related.time.clone()?))
        });
        let Some((table, amount, time)) = found else {
            return match named {
                Some(named) => Err(EngineError::Catalog {
                    path: self.catalog.path.clone(),
                    message: format!(
                        "revenue = \"{named}\": expected TABLE.COLUMN of a related table with a \
                         time column"
                    ),
                }),
                None => Ok(None),
            };
        };
        let text = default_measures(&table, &amount, &time);
        let parsed = ensemble_syntax::parse_script(&text).map_err(|e| EngineError::Language {
            diagnostic: Box::new(e.diagnostic()),
            source_text: Arc::from(text.as_str()),
            origin: DEFAULTS_ORIGIN.into(),
        })?;
        let measures = match parsed.script.statements.into_iter().next().map(|s| s.kind) {
            Some(StatementKind::Report(ensemble_syntax::Report::Kpi { measures, .. })) => measures,
            _ => Vec::new(),
        };
        Ok(Some(Revenue {
            column,
            text,
            measures,
        }))
    }

    /// Every measure per member (one read of the features table), summed over each set.
    pub(super) async fn sum_measures(
        &mut self,
        measures: &[(String, Expr, &Source<'_>)],
        sets: &[Arc<RoaringBitmap>],
        recency: Option<usize>,
    ) -> Result<Vec<Sums>, EngineError> {
        let mut sums = vec![
            Sums {
                totals: vec![(0.0, 0); measures.len()],
                recency: Vec::new(),
            };
            sets.len()
        ];
        if measures.is_empty() {
            return Ok(sums);
        }
        let batches = self.measure_values(measures).await?;
        let (_, index) = self.checked_scope().await?;
        for batch in &batches {
            let numbers = index.numbers(batch.column(0))?;
            let columns: Vec<&Float64Array> = batch.columns()[1..]
                .iter()
                .map(|c| c.as_primitive::<Float64Type>())
                .collect();
            for (row, number) in numbers.iter().enumerate() {
                let Some(number) = number else { continue };
                for (set, into) in sets.iter().zip(sums.iter_mut()) {
                    if !set.contains(*number) {
                        continue;
                    }
                    for (m, column) in columns.iter().enumerate() {
                        if column.is_valid(row) {
                            let value = column.value(row);
                            into.totals[m].0 += value;
                            into.totals[m].1 += 1;
                            if Some(m) == recency {
                                into.recency.push(value);
                            }
                        }
                    }
                }
            }
        }
        Ok(sums)
    }

    /// The universe key and every measure as a number, one row per member at the session's
    /// date, from the session's features table (extended with what it lacks).
    async fn measure_values(
        &mut self,
        measures: &[(String, Expr, &Source<'_>)],
    ) -> Result<Vec<RecordBatch>, EngineError> {
        let as_of = self.as_of();
        let mut lowerer = CriterionLowerer::new(&self.catalog.schema, &self.definitions, as_of);
        let mut outputs = vec![ident(&self.catalog.schema.universe.key)];
        for (name, expr, source) in measures {
            let lowered = lowerer
                .value(expr)
                .map_err(|e| self.check_error(e, source.text, source.origin, None))?;
            if !matches!(
                lowered.ty,
                ValueType::Integer
                    | ValueType::Decimal
                    | ValueType::Float
                    | ValueType::Boolean
                    | ValueType::Null
            ) {
                let message = format!(
                    "measure '{name}' is {}: a measure must be a number",
                    lowered.ty
                );
                return Err(self.language_error(
                    Diagnostic::error(message, expr.span)
                        .with_help("sum, count, avg or an arithmetic of them"),
                    source.text,
                    source.origin,
                ));
            }
            outputs.push(cast(lowered.expr.to_df(), DataType::Float64).alias(name));
        }
        let needs = lowerer.needs.clone();
        self.project_features(needs, outputs, "the measures").await
    }
}

/// The row of one set: counts, the default measures (the first `defaults` of `sums`), extras.
fn kpi_row(
    set: &str,
    members: u64,
    universe: u64,
    mut sums: Sums,
    defaults: usize,
    total_revenue: Option<f64>,
) -> KpiRow {
    let revenue = (defaults > 0).then(|| sums.totals[0].0);
    let purchases = (defaults > 0).then(|| sums.totals[1].0);
    KpiRow {
        set: set.to_string(),
        members,
        share: percent(members as f64, universe as f64),
        revenue,
        revenue_share: revenue.zip(total_revenue).and_then(|(r, t)| percent(r, t)),
        average_basket: revenue
            .zip(purchases)
            .and_then(|(r, p)| (p > 0.0).then(|| r / p)),
        purchases_per_member: purchases.and_then(|p| (members > 0).then(|| p / members as f64)),
        median_recency: (defaults > 0).then(|| median(&mut sums.recency)).flatten(),
        extra: sums.totals[defaults..]
            .iter()
            .map(|(sum, count)| (*sum, (*count > 0).then(|| sum / *count as f64)))
            .collect(),
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
