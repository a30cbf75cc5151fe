//! Bucket scores: `ntile(value, N)` and the fields of a score (`rfm.r`, `rfm.score`). Each
//! becomes a [`WindowSpec`] of the features table, keyed by what it ranks, so that a bucket
//! read by many criteria is computed once.

use super::*;
use crate::scores::{bucket_count, ScoreDef, SCORE_TEXT_FIELD};

impl CriterionLowerer<'_> {
    /// `ntile(value, N)`: the member's bucket of `value` among the universe members.
    pub(super) fn ntile_call(
        &mut self,
        args: &[Expr],
        span: Span,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        if let Scope::Related(table) = scope {
            return Err(CheckError::new(
                CheckErrorKind::Function,
                format!(
                    "ntile ranks members; it cannot be used inside an aggregate over {}",
                    table.name
                ),
                span,
            ));
        }
        let [value, buckets] = args else {
            return Err(CheckError::new(
                CheckErrorKind::Function,
                format!(
                    "ntile takes a value and a number of buckets, got {}",
                    args.len()
                ),
                span,
            )
            .with_help("for example ntile(sum(purchases.amount within 12 months), 3)"));
        };
        let buckets = bucket_count(buckets, "the number of buckets")?;
        let lowered = self.lower(value, Scope::Member)?;
        let label = format!("ntile({value}, {buckets})");
        self.bucket(lowered, value, buckets, "ntile", label)
    }

    /// The bucket of an already lowered value: a column of the features table.
    fn bucket(
        &mut self,
        value: Lowered,
        source: &Expr,
        buckets: i64,
        what: &str,
        label: String,
    ) -> Result<Lowered, CheckError> {
        if !(value.ty.is_numeric() || value.ty == ValueType::Date) {
            return Err(CheckError::new(
                CheckErrorKind::Type,
                format!("{what} ranks numbers and dates, not {} values", value.ty),
                source.span,
            )
            .with_help(
                "rank an amount, a count or a date, for example last(purchases.purchased_at)",
            ));
        }
        // Checking only, the key is never used to compute anything: skip expanding fields.
        let key = if self.check_only {
            format!("ntile({}, {buckets})", value.expr)
        } else {
            self.keys.bucket_key(source, buckets)
        };
        let name = crate::graph::key_part(&key).into_owned();
        self.needs
            .windows
            .entry(name.clone())
            .or_insert_with(|| WindowSpec {
                name: name.clone(),
                value: value.expr,
                buckets,
                label,
            });
        Ok(Lowered {
            expr: ident(name),
            ty: ValueType::Integer,
        })
    }

    /// `score.field`: a dimension's bucket, or the buckets written as one text. Only the
    /// buckets read are computed.
    pub(super) fn score_field(
        &mut self,
        name: &str,
        score: &ScoreDef,
        field: &Ident,
    ) -> Result<Lowered, CheckError> {
        if field.name == SCORE_TEXT_FIELD {
            let buckets = self.score_buckets(name, score, field.span)?;
            let any_null = buckets
                .iter()
                .map(|b| b.expr.clone().is_null())
                .reduce(Value::or)
                .unwrap_or_else(|| lit(true));
            // One digit per bucket ("545"); beyond 9 buckets a digit is not enough, so the
            // buckets are separated ("10-3-7").
            let separator = (score.buckets > 9).then(|| lit("-"));
            let mut parts = Vec::new();
            for (i, bucket) in buckets.into_iter().enumerate() {
                if let (Some(separator), true) = (&separator, i > 0) {
                    parts.push(separator.clone());
                }
                parts.push(cast(bucket.expr, DataType::Utf8));
            }
            let text = f::concat(parts);
            let expr = when(any_null, lit(ScalarValue::Utf8(None)))
                .otherwise(text)
                .map_err(|e| CheckError::new(CheckErrorKind::Type, e.to_string(), field.span))?;
            return Ok(Lowered {
                expr,
                ty: ValueType::String,
            });
        }
        match score.dimensions.iter().position(|d| d.field == field.name) {
            Some(index) => self.score_bucket(name, score, index, field.span),
            None => Err(CheckError::new(
                CheckErrorKind::UnknownColumn,
                format!("score '{name}' has no field '{}'", field.name),
                field.span,
            )
            .with_suggestion(suggest(&field.name, score.fields()))
            .or_help(format!(
                "its fields are {}",
                score
                    .fields()
                    .map(|f| format!("{name}.{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The bucket of every dimension of a score.
    fn score_buckets(
        &mut self,
        name: &str,
        score: &ScoreDef,
        span: Span,
    ) -> Result<Vec<Lowered>, CheckError> {
        (0..score.dimensions.len())
            .map(|index| self.score_bucket(name, score, index, span))
            .collect()
    }

    /// The bucket of one dimension of a score, lowered once per lowerer.
    fn score_bucket(
        &mut self,
        name: &str,
        score: &ScoreDef,
        index: usize,
        span: Span,
    ) -> Result<Lowered, CheckError> {
        let memo_key = (name.to_string(), index);
        if let Some((bucket, needs)) = self.score_memo.get(&memo_key) {
            let bucket = bucket.clone();
            self.needs.extend(needs);
            return Ok(bucket);
        }
        if let Some(start) = self.stack.iter().position(|n| n == name) {
            return Err(cycle_error(&self.stack[start..], name, span));
        }
        self.stack.push(name.to_string());
        let outer_needs = std::mem::take(&mut self.needs);
        let dimension = &score.dimensions[index];
        let what = format!("{}.{} ({})", name, dimension.field, dimension.argument);
        let label = format!("{name}.{}", dimension.field);
        let bucket = self
            .lower(&dimension.value, Scope::Member)
            .and_then(|value| self.bucket(value, &dimension.value, score.buckets, &what, label));
        let bucket_needs = std::mem::replace(&mut self.needs, outer_needs);
        self.stack.pop();
        let bucket = bucket.map_err(|mut error| {
            error.definition.get_or_insert_with(|| name.to_string());
            error
        })?;
        self.needs.extend(&bucket_needs);
        self.score_memo
            .insert(memo_key, (bucket.clone(), bucket_needs));
        Ok(bucket)
    }

    /// Checks a score's dimensions (names, types, cycles) as a definition.
    pub fn check_score(
        &mut self,
        name: &str,
        score: &ScoreDef,
        span: Span,
    ) -> Result<(), CheckError> {
        self.score_buckets(name, score, span).map(|_| ())
    }
}
