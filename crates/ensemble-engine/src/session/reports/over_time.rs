//! `transition P from D1 to D2` and `trend SETS from D1 to D2 every N unit`: full
//! point-in-time evaluations at each date, counted on member numbers.

use ensemble_syntax::{DateRange, DateUnit, Duration as Period};

use super::*;
use crate::report::{TransitionReport, TrendReport};

/// Most dates a trend may have.
pub const MAX_TREND_DATES: usize = 1000;

/// Row label of members in the universe at the second date only.
const ENTERED: &str = "(entered)";
/// Column label of members in the universe at the first date only.
const LEFT: &str = "(left)";
/// Label of universe members in no tier of a partition without `else`.
const NO_TIER: &str = "(no tier)";

impl Session {
    /// The tiers of `partition` at both dates and the members moving between them.
    pub(super) async fn transition_report(
        &mut self,
        partition: &Ident,
        range: &DateRange,
        source: &Source<'_>,
    ) -> Result<TransitionReport, EngineError> {
        let (targets, complete) = self.partition_targets(partition, source)?;
        self.prefetch_targets(&targets, &[range.from, range.to]);
        let mut labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
        let mut at = Vec::new();
        for (done, date) in [range.from, range.to].into_iter().enumerate() {
            self.tell_progress(done, 2, &format!("tiers at {date}"));
            let universe = self.universe_at(date, source).await?;
            let mut tiers = Vec::new();
            for target in &targets {
                tiers.push(self.members_at(&target.expr, date, source).await?);
            }
            if !complete {
                let mut rest = universe.as_ref().clone();
                for tier in &tiers {
                    rest -= tier.as_ref();
                }
                tiers.push(Arc::new(rest));
            }
            at.push((universe, tiers));
        }
        if !complete {
            labels.push(NO_TIER.into());
        }
        let (before_all, before) = &at[0];
        let (after_all, after) = &at[1];
        let entered = after_all.as_ref() - before_all.as_ref();
        let left = before_all.as_ref() - after_all.as_ref();
        let mut counts: Vec<Vec<u64>> = before
            .iter()
            .map(|row| {
                after
                    .iter()
                    .map(|column| row.intersection_len(column))
                    .chain([row.intersection_len(&left)])
                    .collect()
            })
            .collect();
        counts.push(
            after
                .iter()
                .map(|column| entered.intersection_len(column))
                .chain([0])
                .collect(),
        );
        let short = |label: &String| {
            label
                .strip_prefix(&format!("{}.", partition.name))
                .unwrap_or(label)
                .to_string()
        };
        Ok(TransitionReport {
            partition: partition.name.clone(),
            from: range.from,
            to: range.to,
            rows: labels.iter().map(short).chain([ENTERED.into()]).collect(),
            columns: labels.iter().map(short).chain([LEFT.into()]).collect(),
            counts,
        })
    }

    /// Each set's size (and the universe's) at every date of the range.
    pub(super) async fn trend_report(
        &mut self,
        sets: &[SetExpr],
        range: &DateRange,
        every: &Period,
        source: &Source<'_>,
    ) -> Result<TrendReport, EngineError> {
        let dates = trend_dates(range, every).ok_or_else(|| {
            self.language_error(
                Diagnostic::error(
                    format!(
                        "more than {MAX_TREND_DATES} dates from {} to {}",
                        range.from, range.to
                    ),
                    range.span,
                )
                .with_help("step by a longer period"),
                source.text,
                source.origin,
            )
        })?;
        let targets = self.targets(sets);
        self.prefetch_targets(&targets, &dates);
        let revenue = self.revenue_measures()?;
        let revenue_text: Arc<str> = Arc::from(revenue.as_ref().map_or("", |r| r.text.as_str()));
        let revenue_source = Source {
            text: &revenue_text,
            origin: "<kpi defaults>",
        };
        let measure: Vec<_> = revenue
            .iter()
            .flat_map(|r| r.measures.first())
            .map(|m| (m.name.name.clone(), m.expr.clone(), &revenue_source))
            .collect();
        let mut revenues = Vec::with_capacity(dates.len());
        let mut sizes = Vec::with_capacity(dates.len());
        let mut universe = Vec::with_capacity(dates.len());
        for (done, date) in dates.iter().enumerate() {
            if self.interrupt.is_interrupted() {
                return Err(EngineError::Cancelled);
            }
            self.tell_progress(done, dates.len(), &format!("trend at {date}"));
            universe.push(self.universe_at(*date, source).await?.len());
            let mut members = Vec::with_capacity(targets.len());
            for target in &targets {
                members.push(self.members_at(&target.expr, *date, source).await?);
            }
            sizes.push(members.iter().map(|m| m.len()).collect());
            if !measure.is_empty() {
                // The revenue of each set over the 12 months to this date.
                let at = self.at_date(*date);
                let sums = self.sum_measures(&measure, &members, None).await;
                drop(at);
                revenues.push(sums?.iter().map(|s| s.totals[0].0).collect());
            }
        }
        Ok(TrendReport {
            revenue: (!measure.is_empty()).then_some(revenues),
            sets: targets.into_iter().map(|t| t.label).collect(),
            dates,
            sizes,
            universe,
        })
    }
}

/// The dates of a trend: the first date, then one period later each time, up to the last date
/// (included when it falls on a step). From a month's last day, monthly and yearly steps land
/// on months' last days (`2024-06-30`, `2024-07-31`…); from another day, on the same day,
/// or the month's last when it is shorter. `None` beyond [`MAX_TREND_DATES`].
pub fn trend_dates(range: &DateRange, every: &Period) -> Option<Vec<NaiveDate>> {
    let start = range.from;
    let month_end = start
        .succ_opt()
        .is_some_and(|next| next.month0() != start.month0());
    let mut dates = Vec::new();
    for step in 0u32.. {
        let amount = every.amount.checked_mul(step)?;
        let date = match every.unit {
            DateUnit::Day => start.checked_add_days(chrono::Days::new(amount.into())),
            DateUnit::Week => start.checked_add_days(chrono::Days::new(u64::from(amount) * 7)),
            DateUnit::Month => add_months(start, amount, month_end),
            DateUnit::Year => add_months(start, amount.checked_mul(12)?, month_end),
        }?;
        if date > range.to {
            break;
        }
        if dates.len() == MAX_TREND_DATES {
            return None;
        }
        dates.push(date);
    }
    Some(dates)
}

use chrono::Datelike;

/// `start` plus `months`, on the month's last day when `month_end`.
fn add_months(start: NaiveDate, months: u32, month_end: bool) -> Option<NaiveDate> {
    let date = start.checked_add_months(chrono::Months::new(months))?;
    if !month_end {
        return Some(date);
    }
    let first_of_next = date
        .with_day(1)?
        .checked_add_months(chrono::Months::new(1))?;
    first_of_next.pred_opt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ensemble_syntax::Span;

    fn dates(from: &str, to: &str, amount: u32, unit: DateUnit) -> Vec<String> {
        let range = DateRange {
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
            span: Span::new(0, 0),
        };
        trend_dates(&range, &Period { amount, unit })
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn month_ends_stay_month_ends() {
        assert_eq!(
            dates("2024-01-31", "2024-05-01", 1, DateUnit::Month),
            ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
        );
        assert_eq!(
            dates("2024-01-15", "2024-03-15", 1, DateUnit::Month),
            ["2024-01-15", "2024-02-15", "2024-03-15"]
        );
        assert_eq!(
            dates("2024-06-30", "2026-06-30", 1, DateUnit::Year),
            ["2024-06-30", "2025-06-30", "2026-06-30"]
        );
        assert_eq!(
            dates("2026-06-01", "2026-06-20", 1, DateUnit::Week).len(),
            3
        );
    }

    #[test]
    fn too_many_dates_are_refused() {
        let range = DateRange {
            from: "2000-01-01".parse().unwrap(),
            to: "2026-01-01".parse().unwrap(),
            span: Span::new(0, 0),
        };
        let daily = Period {
            amount: 1,
            unit: DateUnit::Day,
        };
        assert!(trend_dates(&range, &daily).is_none());
    }
}
