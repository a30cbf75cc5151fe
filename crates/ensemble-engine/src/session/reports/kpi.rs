//! `kpi SET, … [with VALUE as NAME, …]`: members, shares, revenue, basket, frequency and
//! recency per set or tier, and any extra measure, from one per-member table of values.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, SchemaRef};
use datafusion::logical_expr::cast;
use ensemble_compiler::{CriterionLowerer, ValueType};
use ensemble_syntax::{Expr, Measure};

use super::*;
use crate::report::percent;
use crate::report::{Amount, KpiReport, KpiRow, MAX_DIGITS};

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
    /// Per measure: the sum of its values (exact for decimals and whole numbers), and how
    /// many members have one.
    pub(super) totals: Vec<(Amount, u64)>,
    /// Values of the recency measure, for its median.
    recency: Vec<f64>,
}

/// How a measure is summed: exactly at a scale (whole numbers at 0, decimals at their own),
/// or as floats.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Exact(i8),
    Float,
}

impl Kind {
    /// The kind of a measure computed as `ty`.
    fn of(ty: &DataType) -> Kind {
        match ty {
            DataType::Decimal32(_, scale)
            | DataType::Decimal64(_, scale)
            | DataType::Decimal128(_, scale)
            | DataType::Decimal256(_, scale)
                if (0..=MAX_DIGITS as i8).contains(scale) =>
            {
                Kind::Exact(*scale)
            }
            ty if ty.is_integer() => Kind::Exact(0),
            _ => Kind::Float,
        }
    }

    fn zero(self) -> Amount {
        match self {
            Kind::Exact(scale) => Amount::zero(scale),
            Kind::Float => Amount::Float(0.0),
        }
    }
}

/// One batch's values of a measure, as its [`Kind`] sums them.
enum MeasureArray {
    Exact(Decimal128Array, i8),
    Float(Float64Array),
}

impl MeasureArray {
    /// `array` as `kind` reads it (a 38-digit decimal at its scale, or floats).
    fn read(array: &ArrayRef, kind: Kind) -> Result<MeasureArray, EngineError> {
        use datafusion::arrow::compute::cast;
        let failed = |e: datafusion::arrow::error::ArrowError| {
            EngineError::execution("the measures", e.into())
        };
        Ok(match kind {
            Kind::Exact(scale) => {
                let exact =
                    cast(array, &DataType::Decimal128(MAX_DIGITS, scale)).map_err(failed)?;
                MeasureArray::Exact(exact.as_primitive::<Decimal128Type>().clone(), scale)
            }
            Kind::Float => {
                let float = cast(array, &DataType::Float64).map_err(failed)?;
                MeasureArray::Float(float.as_primitive::<Float64Type>().clone())
            }
        })
    }

    /// The value at `row` (`None` when null).
    fn get(&self, row: usize) -> Option<Amount> {
        match self {
            MeasureArray::Exact(array, scale) => array.is_valid(row).then(|| Amount::Exact {
                units: array.value(row),
                scale: *scale,
            }),
            MeasureArray::Float(array) => {
                array.is_valid(row).then(|| Amount::Float(array.value(row)))
            }
        }
    }
}

/// An error for a sum or an average past 38 digits.
fn overflow(what: &str) -> EngineError {
    EngineError::Overflow {
        message: format!("{what} does not fit a decimal of {MAX_DIGITS} digits"),
    }
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
            .collect::<Result<_, _>>()?;
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

    /// Every measure per member (one read of the features table), summed over each set:
    /// exactly for whole numbers and decimals (at their scale), as floats otherwise.
    pub(super) async fn sum_measures(
        &mut self,
        measures: &[(String, Expr, &Source<'_>)],
        sets: &[Arc<RoaringBitmap>],
        recency: Option<usize>,
    ) -> Result<Vec<Sums>, EngineError> {
        if measures.is_empty() {
            return Ok(vec![Sums::default(); sets.len()]);
        }
        let (batches, schema) = self.measure_values(measures).await?;
        let kinds: Vec<Kind> = schema.fields()[1..]
            .iter()
            .map(|f| Kind::of(f.data_type()))
            .collect();
        let mut sums = vec![
            Sums {
                totals: kinds.iter().map(|k| (k.zero(), 0)).collect(),
                recency: Vec::new(),
            };
            sets.len()
        ];
        let (_, index) = self.checked_scope().await?;
        for batch in &batches {
            let numbers = index.numbers(batch.column(0))?;
            let columns = batch.columns()[1..]
                .iter()
                .zip(&kinds)
                .map(|(c, kind)| MeasureArray::read(c, *kind))
                .collect::<Result<Vec<_>, _>>()?;
            for (row, number) in numbers.iter().enumerate() {
                let Some(number) = number else { continue };
                for (set, into) in sets.iter().zip(sums.iter_mut()) {
                    if !set.contains(*number) {
                        continue;
                    }
                    for (m, column) in columns.iter().enumerate() {
                        let Some(value) = column.get(row) else {
                            continue;
                        };
                        let (total, count) = &mut into.totals[m];
                        *total = total
                            .checked_add(value)
                            .ok_or_else(|| overflow(&format!("the sum of '{}'", measures[m].0)))?;
                        *count += 1;
                        if Some(m) == recency {
                            into.recency.push(value.to_f64());
                        }
                    }
                }
            }
        }
        Ok(sums)
    }

    /// The universe key and every measure as a number, one row per member at the session's
    /// date, from the session's features table (extended with what it lacks): decimals as
    /// they are, whole numbers and booleans as `Int64`, the rest as `Float64`.
    async fn measure_values(
        &mut self,
        measures: &[(String, Expr, &Source<'_>)],
    ) -> Result<(Vec<RecordBatch>, SchemaRef), EngineError> {
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
            let value = lowered.expr.to_df();
            outputs.push(
                match lowered.ty {
                    ValueType::Decimal => value,
                    ValueType::Integer | ValueType::Boolean => cast(value, DataType::Int64),
                    _ => cast(value, DataType::Float64),
                }
                .alias(name),
            );
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
    total_revenue: Option<Amount>,
) -> Result<KpiRow, EngineError> {
    let revenue = (defaults > 0).then(|| sums.totals[0].0);
    let purchases = (defaults > 0).then(|| sums.totals[1].0);
    let average_basket = match revenue.zip(purchases) {
        Some((revenue, purchases)) => average(revenue, purchases, "the average basket", set)?,
        None => None,
    };
    let mut extra = Vec::with_capacity(sums.totals.len().saturating_sub(defaults));
    for (sum, count) in &sums.totals[defaults..] {
        let mean = match *count {
            0 => None,
            count => Some(
                sum.mean(count)
                    .ok_or_else(|| overflow(&format!("an average over {set}")))?,
            ),
        };
        extra.push((*sum, mean));
    }
    Ok(KpiRow {
        set: set.to_string(),
        members,
        share: percent(members as f64, universe as f64),
        revenue,
        revenue_share: revenue
            .zip(total_revenue)
            .and_then(|(r, t)| percent(r.to_f64(), t.to_f64())),
        average_basket,
        purchases_per_member: purchases
            .and_then(|p| (members > 0).then(|| p.to_f64() / members as f64)),
        median_recency: (defaults > 0).then(|| median(&mut sums.recency)).flatten(),
        extra,
    })
}

/// `sum / count` (count a whole number of purchases), exact for an exact sum (see
/// [`Amount::mean`]); `None` for a count of zero.
fn average(
    sum: Amount,
    count: Amount,
    what: &str,
    set: &str,
) -> Result<Option<Amount>, EngineError> {
    let whole = match count {
        Amount::Exact { units, scale: 0 } => u64::try_from(units).ok(),
        _ => None,
    };
    match whole {
        Some(0) => Ok(None),
        Some(count) => sum
            .mean(count)
            .map(Some)
            .ok_or_else(|| overflow(&format!("{what} of {set}"))),
        None => {
            let count = count.to_f64();
            Ok((count != 0.0).then(|| Amount::Float(sum.to_f64() / count)))
        }
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
    fn whole_numbers_and_decimals_are_summed_exactly() {
        assert_eq!(Kind::of(&DataType::Decimal128(20, 2)), Kind::Exact(2));
        assert_eq!(Kind::of(&DataType::Decimal256(40, 3)), Kind::Exact(3));
        assert_eq!(Kind::of(&DataType::Int64), Kind::Exact(0));
        assert_eq!(Kind::of(&DataType::Float64), Kind::Float);
        // A scale past 38 digits, or a negative one, is not a 38-digit decimal.
        assert_eq!(Kind::of(&DataType::Decimal256(76, 50)), Kind::Float);
        assert_eq!(Kind::of(&DataType::Decimal128(10, -2)), Kind::Float);
        let cents: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(1999), None])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        );
        let read = MeasureArray::read(&cents, Kind::Exact(2)).unwrap();
        assert_eq!(
            read.get(0),
            Some(Amount::Exact {
                units: 1999,
                scale: 2
            })
        );
        assert_eq!(read.get(1), None);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
