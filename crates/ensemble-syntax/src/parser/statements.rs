//! Statements: `as of`, fields, segments, evaluations, partitions (their tiers named once,
//! `else` last) and scores (their arguments named once).

use super::*;

impl Reader {
    pub(super) fn statement(&mut self, pair: Pair<'_, Rule>) -> Result<Statement, ParseError> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner = significant(pair.into_inner());
        let kind = match rule {
            Rule::as_of_stmt => {
                let value = inner.next().expect("as of has a date");
                match value.as_rule() {
                    Rule::today => StatementKind::AsOf(AsOf::Today),
                    _ => StatementKind::AsOf(AsOf::Date(date_literal(&value)?)),
                }
            }
            Rule::field_stmt => {
                let name = ident(inner.next().expect("field has a name"));
                let expr = self.expr(inner.next().expect("field has a value"))?;
                StatementKind::Field { name, expr }
            }
            Rule::segment_stmt => {
                let name = ident(inner.next().expect("segment has a name"));
                let expr = self.top_set_expr(inner.next().expect("segment has a value"))?;
                StatementKind::Segment { name, expr }
            }
            Rule::expr_stmt => {
                StatementKind::Evaluate(self.top_set_expr(inner.next().expect("an expression"))?)
            }
            Rule::partition_stmt => {
                let name = ident(inner.next().expect("partition has a name"));
                let (tiers, otherwise) = self.tiers(inner, span)?;
                StatementKind::Partition {
                    name,
                    tiers,
                    otherwise,
                }
            }
            Rule::score_stmt => {
                let name = ident(inner.next().expect("score has a name"));
                let function = ident(inner.next().expect("score has a function"));
                let mut args: Vec<ScoreArg> = Vec::new();
                for arg in inner {
                    let mut parts = significant(arg.into_inner());
                    let arg_name = ident(parts.next().expect("argument has a name"));
                    if args.iter().any(|a| a.name.name == arg_name.name) {
                        return Err(ParseError::Invalid {
                            message: format!("argument '{}' is given twice", arg_name.name),
                            help: "give each argument once".into(),
                            span: arg_name.span,
                        });
                    }
                    let value = self.expr(parts.next().expect("argument has a value"))?;
                    args.push(ScoreArg {
                        name: arg_name,
                        value,
                    });
                }
                StatementKind::Score {
                    name,
                    function,
                    args,
                }
            }
            Rule::overlap_stmt
            | Rule::kpi_stmt
            | Rule::transition_stmt
            | Rule::trend_stmt
            | Rule::snapshot_stmt
            | Rule::diff_stmt => StatementKind::Report(self.report(rule, inner)?),
            other => unreachable!("not a statement rule: {other:?}"),
        };
        Ok(Statement { kind, span })
    }

    /// The tiers of a partition: named once each, `else` last.
    fn tiers<'i>(
        &mut self,
        items: impl Iterator<Item = Pair<'i, Rule>>,
        span: Span,
    ) -> Result<(Vec<TierDef>, Option<Ident>), ParseError> {
        let mut tiers: Vec<TierDef> = Vec::new();
        let mut otherwise: Option<Ident> = None;
        for item in items {
            let rule = item.as_rule();
            let mut parts = significant(item.into_inner());
            let name = ident(parts.next().expect("a tier has a name"));
            if let Some(rest) = &otherwise {
                return Err(ParseError::Invalid {
                    message: format!("tier '{}' comes after 'else {}'", name.name, rest.name),
                    help: "'else' takes every member left: it must be the last tier".into(),
                    span: name.span,
                });
            }
            let taken = tiers.iter().map(|t| &t.name).chain(otherwise.iter());
            if taken.into_iter().any(|t| t.name == name.name) {
                return Err(ParseError::Invalid {
                    message: format!("tier '{}' is named twice", name.name),
                    help: "give each tier its own name".into(),
                    span: name.span,
                });
            }
            match rule {
                Rule::else_tier => otherwise = Some(name),
                _ => {
                    let expr = self.top_set_expr(parts.next().expect("a tier has a value"))?;
                    tiers.push(TierDef { name, expr });
                }
            }
        }
        if tiers.is_empty() {
            return Err(ParseError::Invalid {
                message: "a partition needs at least one tier".into(),
                help: "write tiers as 'name = set expression;', then optionally 'else name;'"
                    .into(),
                span,
            });
        }
        Ok((tiers, otherwise))
    }
}
