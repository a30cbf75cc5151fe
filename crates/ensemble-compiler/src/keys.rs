//! Canonical keys written from the language's own tree: the expression with every field
//! inlined and every score field written as the bucket it is (`rfm.r` as
//! `ntile(<recency>, 5)`), printed by the syntax tree's canonical `Display`. Equal keys mean
//! equal values for one evaluation date and one state of the data; a redefined field changes
//! every key that reads it.
//!
//! Keys are written after an expression has been checked in full (no cycle, bounded size).

use std::collections::HashMap;

use ensemble_syntax::{Expr, ExprKind, Ident, Literal};

use crate::definitions::Definitions;
use crate::scores::SCORE_TEXT_FIELD;

/// Writes canonical keys over one set of definitions (each field expanded once).
pub(crate) struct Keys<'a> {
    definitions: &'a Definitions,
    fields: HashMap<String, Expr>,
}

impl<'a> Keys<'a> {
    /// Keys over `definitions`.
    pub(crate) fn new(definitions: &'a Definitions) -> Self {
        Keys {
            definitions,
            fields: HashMap::new(),
        }
    }

    /// The canonical text of `expr`, fields inlined.
    pub(crate) fn key(&mut self, expr: &Expr) -> String {
        self.expand(expr).to_string()
    }

    /// `ntile(value, buckets)` with `value` expanded.
    pub(crate) fn bucket_key(&mut self, value: &Expr, buckets: i64) -> String {
        format!("ntile({}, {buckets})", self.key(value))
    }

    fn expand(&mut self, expr: &Expr) -> Expr {
        let span = expr.span;
        let boxed = |keys: &mut Self, e: &Expr| Box::new(keys.expand(e));
        let kind = match &expr.kind {
            ExprKind::Name(name) => {
                if let Some(body) = self.definitions.fields.get(&name.name) {
                    return self.field(&name.name, body);
                }
                expr.kind.clone()
            }
            ExprKind::Column { table, column } => match self.definitions.scores.get(&table.name) {
                Some(score) => self.score_field(score, column),
                None => expr.kind.clone(),
            },
            ExprKind::Unary { op, expr: inner } => ExprKind::Unary {
                op: *op,
                expr: boxed(self, inner),
            },
            ExprKind::Binary { op, left, right } => ExprKind::Binary {
                op: *op,
                left: boxed(self, left),
                right: boxed(self, right),
            },
            ExprKind::IsNull {
                expr: inner,
                negated,
            } => ExprKind::IsNull {
                expr: boxed(self, inner),
                negated: *negated,
            },
            ExprKind::Between {
                expr: inner,
                low,
                high,
                negated,
            } => ExprKind::Between {
                expr: boxed(self, inner),
                low: boxed(self, low),
                high: boxed(self, high),
                negated: *negated,
            },
            ExprKind::InList {
                expr: inner,
                list,
                negated,
            } => ExprKind::InList {
                expr: boxed(self, inner),
                list: list.iter().map(|item| self.expand(item)).collect(),
                negated: *negated,
            },
            ExprKind::StringTest {
                op,
                expr: inner,
                pattern,
                negated,
            } => ExprKind::StringTest {
                op: *op,
                expr: boxed(self, inner),
                pattern: boxed(self, pattern),
                negated: *negated,
            },
            ExprKind::Within {
                expr: inner,
                window,
            } => ExprKind::Within {
                expr: boxed(self, inner),
                window: *window,
            },
            ExprKind::DateTest {
                op,
                expr: inner,
                bound,
            } => ExprKind::DateTest {
                op: *op,
                expr: boxed(self, inner),
                bound: boxed(self, bound),
            },
            ExprKind::Call { function, args } => ExprKind::Call {
                function: function.clone(),
                args: args.iter().map(|arg| self.expand(arg)).collect(),
            },
            // Aggregates read their related table's columns, never fields: their canonical
            // text is already complete.
            ExprKind::Literal(_)
            | ExprKind::Today
            | ExprKind::RelativeDate(_)
            | ExprKind::Aggregate(_)
            | ExprKind::Exists { .. } => expr.kind.clone(),
        };
        Expr { kind, span }
    }

    fn field(&mut self, name: &str, body: &Expr) -> Expr {
        if let Some(expanded) = self.fields.get(name) {
            return expanded.clone();
        }
        let expanded = self.expand(body);
        self.fields.insert(name.to_string(), expanded.clone());
        expanded
    }

    /// `rfm.r` as `ntile(<recency>, N)`; `rfm.score` as the buckets it writes.
    fn score_field(&mut self, score: &crate::scores::ScoreDef, field: &Ident) -> ExprKind {
        let call = |name: &str, args: Vec<Expr>, span| ExprKind::Call {
            function: Ident {
                name: name.to_string(),
                span,
            },
            args,
        };
        let mut buckets = Vec::new();
        for dimension in &score.dimensions {
            let buckets_literal = Expr {
                kind: ExprKind::Literal(Literal::Integer(score.buckets)),
                span: field.span,
            };
            let value = self.expand(&dimension.value);
            let bucket = call("ntile", vec![value, buckets_literal], field.span);
            if dimension.field == field.name {
                return bucket;
            }
            buckets.push(Expr {
                kind: bucket,
                span: field.span,
            });
        }
        debug_assert_eq!(
            field.name, SCORE_TEXT_FIELD,
            "checked before keys are written"
        );
        call("buckets_text", buckets, field.span)
    }
}
