//! Small readers of pest pairs: names, literals, durations, spans.

use super::*;

/// Skips the pairs of keyword tokens, which carry no information once matched.
pub(super) fn significant<'i>(pairs: Pairs<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pairs.filter(|pair| !is_keyword(pair.as_rule()))
}

pub(super) fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_after
            | Rule::kw_ago
            | Rule::kw_all
            | Rule::kw_and
            | Rule::kw_as
            | Rule::kw_before
            | Rule::kw_between
            | Rule::kw_contains
            | Rule::kw_else
            | Rule::kw_except
            | Rule::kw_false
            | Rule::kw_field
            | Rule::kw_has
            | Rule::kw_in
            | Rule::kw_inter
            | Rule::kw_intersect
            | Rule::kw_is
            | Rule::kw_like
            | Rule::kw_minus
            | Rule::kw_no
            | Rule::kw_not
            | Rule::kw_null
            | Rule::kw_of
            | Rule::kw_or
            | Rule::kw_partition
            | Rule::kw_sauf
            | Rule::kw_score
            | Rule::kw_segment
            | Rule::kw_starts
            | Rule::kw_today
            | Rule::kw_true
            | Rule::kw_union
            | Rule::kw_where
            | Rule::kw_with
            | Rule::kw_within
            | Rule::kw_xor
            | Rule::kw_overlap
            | Rule::kw_kpi
            | Rule::kw_transition
            | Rule::kw_trend
            | Rule::kw_snapshot
            | Rule::kw_diff
            | Rule::kw_from
            | Rule::kw_to
            | Rule::kw_every
    )
}

pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    Span::new(span.start(), span.end())
}

pub(super) fn negate_literal(literal: &Literal) -> Option<Literal> {
    match literal {
        Literal::Integer(i) => i.checked_neg().map(Literal::Integer),
        Literal::Decimal(d) if !d.starts_with('-') => Some(Literal::Decimal(format!("-{d}"))),
        _ => None,
    }
}

pub(super) fn first(pair: Pair<'_, Rule>) -> Pair<'_, Rule> {
    significant(pair.into_inner())
        .next()
        .expect("the grammar gives this rule a child")
}

pub(super) fn ident(pair: Pair<'_, Rule>) -> Ident {
    let pair = if matches!(pair.as_rule(), Rule::ident | Rule::member_word) {
        pair
    } else {
        first(pair)
    };
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

pub(super) fn qualified(pair: Pair<'_, Rule>) -> (Ident, Ident) {
    let mut inner = pair.into_inner();
    let table = ident(inner.next().expect("table name"));
    let column = ident(inner.next().expect("column name"));
    (table, column)
}

pub(super) fn date_literal(pair: &Pair<'_, Rule>) -> Result<NaiveDate, ParseError> {
    crate::dates::parse_date(pair.as_str()).map_err(|_| ParseError::InvalidDate {
        text: pair.as_str().to_string(),
        span: span_of(pair),
    })
}

pub(super) fn number(pair: &Pair<'_, Rule>) -> Result<Literal, ParseError> {
    let text = pair.as_str();
    if text.contains('.') {
        return Ok(Literal::Decimal(text.to_string()));
    }
    text.parse::<i64>()
        .map(Literal::Integer)
        .map_err(|_| ParseError::NumberTooLarge {
            text: text.to_string(),
            span: span_of(pair),
        })
}

pub(super) fn duration(pair: Pair<'_, Rule>) -> Result<Duration, ParseError> {
    let mut inner = significant(pair.into_inner());
    let amount_pair = inner.next().expect("a duration has an amount");
    let amount = amount_pair
        .as_str()
        .parse::<u32>()
        .map_err(|_| ParseError::NumberTooLarge {
            text: amount_pair.as_str().to_string(),
            span: span_of(&amount_pair),
        })?;
    let unit = date_unit(inner.next().expect("a duration has a unit").as_str());
    Ok(Duration { amount, unit })
}

/// The unit of a `unit` token (`days`, `Month`…).
pub(super) fn date_unit(text: &str) -> DateUnit {
    match text.to_ascii_lowercase().trim_end_matches('s') {
        "day" => DateUnit::Day,
        "week" => DateUnit::Week,
        "month" => DateUnit::Month,
        _ => DateUnit::Year,
    }
}

pub(super) fn string(pair: Pair<'_, Rule>) -> String {
    let quote = if pair.as_str().starts_with('"') {
        "\""
    } else {
        "'"
    };
    let inner = first(pair);
    inner.as_str().replace(&format!("{quote}{quote}"), quote)
}
