//! Report statements: `overlap`, `kpi`, `transition`, `trend`, `snapshot` and `diff`, their
//! date ranges in order and their measures named once.

use super::*;

impl Reader {
    /// A report statement of rule `rule` from its significant parts.
    pub(super) fn report<'i>(
        &mut self,
        rule: Rule,
        inner: impl Iterator<Item = Pair<'i, Rule>>,
    ) -> Result<Report, ParseError> {
        let mut sets = Vec::new();
        let mut measures: Vec<Measure> = Vec::new();
        let mut name = None;
        let mut range = None;
        let mut amount = None;
        let mut every = None;
        for part in inner {
            match part.as_rule() {
                Rule::set_expr => sets.push(self.top_set_expr(part)?),
                Rule::ident => name = Some(ident(part)),
                Rule::date_range => range = Some(date_range(part)?),
                Rule::kpi_measure => measures.push(self.measure(part, &measures)?),
                Rule::integer => amount = Some(part),
                Rule::unit => every = Some(part),
                other => unreachable!("not a part of a report: {other:?}"),
            }
        }
        let name = || name.clone().expect("the grammar gives the report a name");
        let range = || range.expect("the grammar gives the report dates");
        Ok(match rule {
            Rule::overlap_stmt => Report::Overlap { sets },
            Rule::kpi_stmt => Report::Kpi { sets, measures },
            Rule::transition_stmt => Report::Transition {
                partition: name(),
                range: range(),
            },
            Rule::trend_stmt => Report::Trend {
                sets,
                range: range(),
                every: period(amount, every.expect("the grammar gives 'every' a unit"))?,
            },
            Rule::snapshot_stmt => Report::Snapshot { name: name() },
            Rule::diff_stmt => Report::Diff {
                name: name(),
                range: range(),
            },
            other => unreachable!("not a report rule: {other:?}"),
        })
    }

    /// `VALUE as NAME`, its name not taken by an earlier measure.
    fn measure(
        &mut self,
        pair: Pair<'_, Rule>,
        earlier: &[Measure],
    ) -> Result<Measure, ParseError> {
        let mut parts = significant(pair.into_inner());
        let expr = self.expr(parts.next().expect("a measure has a value"))?;
        let name = ident(parts.next().expect("a measure has a name"));
        if earlier.iter().any(|m| m.name.name == name.name) {
            return Err(ParseError::Invalid {
                message: format!("measure '{}' is named twice", name.name),
                help: "give each measure its own name".into(),
                span: name.span,
            });
        }
        Ok(Measure { expr, name })
    }
}

/// `from D1 to D2`, D1 not after D2.
fn date_range(pair: Pair<'_, Rule>) -> Result<DateRange, ParseError> {
    let span = span_of(&pair);
    let mut dates = significant(pair.into_inner());
    let from = date_literal(&dates.next().expect("a range has a first date"))?;
    let to = date_literal(&dates.next().expect("a range has a second date"))?;
    if from > to {
        return Err(ParseError::Invalid {
            message: format!("the dates are in the wrong order: {from} is after {to}"),
            help: format!("write 'from {to} to {from}'"),
            span,
        });
    }
    Ok(DateRange { from, to, span })
}

/// `every [N] unit`: one unit when no amount is written; never zero.
fn period(amount: Option<Pair<'_, Rule>>, unit: Pair<'_, Rule>) -> Result<Duration, ParseError> {
    let (count, span) = match &amount {
        Some(pair) => (
            pair.as_str()
                .parse::<u32>()
                .map_err(|_| ParseError::NumberTooLarge {
                    text: pair.as_str().to_string(),
                    span: span_of(pair),
                })?,
            Span::new(span_of(pair).start, span_of(&unit).end),
        ),
        None => (1, span_of(&unit)),
    };
    if count == 0 {
        return Err(ParseError::Invalid {
            message: "a trend cannot step by zero".into(),
            help: "write 'every month', 'every 3 months', 'every week'…".into(),
            span,
        });
    }
    Ok(Duration {
        amount: count,
        unit: date_unit(unit.as_str()),
    })
}
