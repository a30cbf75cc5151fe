//! Checks value expressions (criteria and fields) and lowers them to DataFusion expressions.
//!
//! A criterion is evaluated once per universe member, over a *features* table: one row per
//! member with the universe columns the criteria use and one column per aggregate (named by
//! the aggregate's canonical text, so identical aggregates are computed once). Aggregate
//! filters are lowered against the related table's own columns.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::ScalarValue;
use ensemble_syntax::*;

use crate::arithmetic::CheckedOp;
use crate::catalog::{CatalogSchema, RelatedSchema};
use crate::definitions::Definitions;
use crate::error::{CheckError, CheckErrorKind};
use crate::types::ValueType;
use crate::value::dsl::{cast, f, ident, lit, when};
use crate::value::Value;

mod aggregates;
mod names;
mod operators;
mod ranks;
mod values;

use names::*;
use operators::*;
use values::*;

pub use aggregates::canonical_aggregate;
pub(crate) use names::cycle_error;
pub(crate) use values::cancelled;
pub use values::days_from_epoch;

/// An aggregate over a related table, computed once per member in the features table.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateSpec {
    /// Canonical text, also the column name in the features table.
    pub name: String,
    /// The related table.
    pub table: String,
    /// The function.
    pub func: AggFunc,
    /// The aggregated column (`None` counts rows).
    pub column: Option<String>,
    /// The row filter (`where` and `within`), over the related table's columns.
    pub filter: Option<Value>,
}

impl AggregateSpec {
    /// Whether the aggregate over no rows is 0 rather than null (`count`, `sum`).
    pub fn zero_when_empty(&self) -> bool {
        matches!(
            self.func,
            AggFunc::Count | AggFunc::CountDistinct | AggFunc::Sum
        )
    }
}

/// A bucket score over the members (`ntile(value, N)`, the dimensions of a score),
/// computed once per evaluation in the features table by the bucket rule (see
/// [`crate::scores`]).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    /// Canonical key, also the column name in the features table.
    pub name: String,
    /// The value ranked, over the features table's columns (it may read other buckets).
    pub value: Value,
    /// Number of buckets.
    pub buckets: i64,
    /// How the language writes it (`rfm.r`, `ntile(ca_12m, 3)`), for `why`.
    pub label: String,
}

/// What a criterion needs from the data, collected while it is lowered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// Universe columns.
    pub columns: BTreeSet<String>,
    /// Aggregates, by canonical name.
    pub aggregates: BTreeMap<String, AggregateSpec>,
    /// Bucket scores, by canonical name.
    pub windows: BTreeMap<String, WindowSpec>,
    /// The fields read, with their values over the features table (for `why`; the
    /// features pass does not compute them).
    pub fields: BTreeMap<String, Value>,
}

impl Needs {
    /// Adds everything `other` needs.
    pub fn extend(&mut self, other: &Needs) {
        self.columns.extend(other.columns.iter().cloned());
        for (name, spec) in &other.aggregates {
            self.aggregates
                .entry(name.clone())
                .or_insert_with(|| spec.clone());
        }
        for (name, spec) in &other.windows {
            self.windows
                .entry(name.clone())
                .or_insert_with(|| spec.clone());
        }
        for (name, expr) in &other.fields {
            self.fields
                .entry(name.clone())
                .or_insert_with(|| expr.clone());
        }
    }

    /// The features columns these needs produce: universe columns, aggregates, buckets.
    pub fn feature_columns(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .chain(self.aggregates.keys())
            .chain(self.windows.keys())
            .map(String::as_str)
    }
}

/// A checked value expression: its DataFusion form and its type.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The DataFusion expression (over the features table, or a related table in a filter).
    pub expr: Value,
    /// The language type.
    pub ty: ValueType,
}

/// Where names are looked up.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// Per member: universe columns, fields and aggregates.
    Member,
    /// Inside an aggregate's `where`: the related table's columns.
    Related(&'a RelatedSchema),
}

/// Most nodes a field may expand to once the fields it uses are inlined: a chain such as
/// `field f2 = f1 + f1; field f3 = f2 + f2; …` doubles at each step, and is refused here
/// instead of exhausting memory.
pub const MAX_EXPANDED_NODES: usize = 50_000;

/// Deepest nesting of a field once the fields it uses are written out: deeper expressions
/// would overflow the stacks of the query engine's recursive passes. It matches the
/// parser's limit on the depth of a written expression.
pub const MAX_EXPANDED_DEPTH: usize = ensemble_syntax::MAX_TREE_DEPTH;

/// Checks and lowers value expressions for one evaluation date.
pub struct CriterionLowerer<'a> {
    catalog: &'a CatalogSchema,
    definitions: &'a Definitions,
    as_of: NaiveDate,
    /// Definitions being expanded, to report cycles.
    pub(crate) stack: Vec<String>,
    /// What the lowered expressions need.
    pub needs: Needs,
    /// Each field lowered once per lowerer, with what it needs.
    field_memo: HashMap<String, (Lowered, Needs)>,
    /// Checking only: fields whose type is known (`Definitions::field_types`) are not expanded.
    pub(crate) check_only: bool,
    /// The segment whose definition is being lowered, to locate evaluation errors.
    pub(crate) current_segment: Option<String>,
    /// Set from another thread to stop checking (Ctrl-C).
    pub(crate) cancel: Option<&'a AtomicBool>,
    /// Each score dimension's bucket lowered once per lowerer, by `(score, dimension)`.
    score_memo: HashMap<(String, usize), (Lowered, Needs)>,
    /// Canonical keys of criteria and buckets, from the language's tree.
    pub(crate) keys: crate::keys::Keys<'a>,
}

impl<'a> CriterionLowerer<'a> {
    /// A lowerer over `catalog` and `definitions`, evaluating as of the end of `as_of`.
    pub fn new(catalog: &'a CatalogSchema, definitions: &'a Definitions, as_of: NaiveDate) -> Self {
        CriterionLowerer {
            catalog,
            definitions,
            as_of,
            stack: Vec::new(),
            needs: Needs::default(),
            field_memo: HashMap::new(),
            check_only: false,
            current_segment: None,
            cancel: None,
            score_memo: HashMap::new(),
            keys: crate::keys::Keys::new(definitions),
        }
    }

    /// Stops with a "cancelled" error once the cancel flag is set.
    pub(crate) fn check_cancelled(&self, span: Span) -> Result<(), CheckError> {
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(cancelled(span)),
            _ => Ok(()),
        }
    }

    /// The stored definition being lowered (innermost field, else the segment).
    fn current_definition(&self) -> Option<String> {
        self.stack
            .last()
            .cloned()
            .or_else(|| self.current_segment.clone())
    }

    /// Lowers a criterion: it must be true or false.
    pub fn criterion(&mut self, expr: &Expr) -> Result<Value, CheckError> {
        let lowered = self.lower(expr, Scope::Member)?;
        expect_boolean(&lowered, expr, "a criterion")?;
        Ok(lowered.expr)
    }

    /// Lowers a field's value expression (any type).
    pub fn value(&mut self, expr: &Expr) -> Result<Lowered, CheckError> {
        self.lower(expr, Scope::Member)
    }

    #[recursive::recursive]
    fn lower(&mut self, expr: &Expr, scope: Scope<'_>) -> Result<Lowered, CheckError> {
        self.check_cancelled(expr.span)?;
        match &expr.kind {
            ExprKind::Literal(literal) => literal_value(literal, expr.span),
            ExprKind::Today => Ok(date_value(self.as_of)),
            ExprKind::RelativeDate(duration) => {
                Ok(date_value(self.date_before(duration, expr.span)?))
            }
            ExprKind::Name(name) => self.name(name, scope),
            ExprKind::Column { table, column } => self.qualified(table, column, scope),
            ExprKind::Unary { op, expr: operand } => {
                let inner = self.lower(operand, scope)?;
                match op {
                    UnaryOp::Not => {
                        expect_boolean(&inner, operand, "'not'")?;
                        Ok(Lowered {
                            expr: !inner.expr,
                            ty: ValueType::Boolean,
                        })
                    }
                    UnaryOp::Neg => {
                        expect_numeric(&inner, operand, "'-'")?;
                        Ok(Lowered {
                            expr: -inner.expr,
                            ty: inner.ty,
                        })
                    }
                }
            }
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, expr, scope),
            ExprKind::IsNull {
                expr: operand,
                negated,
            } => {
                let inner = self.lower(operand, scope)?;
                let test = if *negated {
                    inner.expr.is_not_null()
                } else {
                    inner.expr.is_null()
                };
                Ok(boolean(test))
            }
            ExprKind::Between {
                expr: operand,
                low,
                high,
                negated,
            } => {
                let value = self.lower(operand, scope)?;
                let low_value = self.lower(low, scope)?;
                let high_value = self.lower(high, scope)?;
                expect_comparable(&value, operand, &low_value, low)?;
                expect_comparable(&value, operand, &high_value, high)?;
                let test = if *negated {
                    value.expr.not_between(low_value.expr, high_value.expr)
                } else {
                    value.expr.between(low_value.expr, high_value.expr)
                };
                Ok(boolean(test))
            }
            ExprKind::InList {
                expr: operand,
                list,
                negated,
            } => {
                let value = self.lower(operand, scope)?;
                let mut items = Vec::with_capacity(list.len());
                for item in list {
                    let lowered = self.lower(item, scope)?;
                    expect_comparable(&value, operand, &lowered, item)?;
                    items.push(lowered.expr);
                }
                Ok(boolean(value.expr.in_list(items, *negated)))
            }
            ExprKind::StringTest {
                op,
                expr: operand,
                pattern,
                negated,
            } => {
                let value = self.lower(operand, scope)?;
                let pattern_value = self.lower(pattern, scope)?;
                expect_type(&value, operand, ValueType::String, op.keyword())?;
                expect_type(&pattern_value, pattern, ValueType::String, op.keyword())?;
                let text = cast(value.expr, DataType::Utf8);
                let test = match op {
                    StringOp::Like => text.like(pattern_value.expr),
                    StringOp::Contains => f::contains(text, pattern_value.expr),
                    StringOp::StartsWith => f::starts_with(text, pattern_value.expr),
                };
                Ok(boolean(if *negated { !test } else { test }))
            }
            ExprKind::Within {
                expr: operand,
                window,
            } => {
                let value = self.lower(operand, scope)?;
                expect_type(&value, operand, ValueType::Date, "'within'")?;
                let start = self.date_before(window, expr.span)?;
                Ok(boolean(self.window_test(value.expr, start)))
            }
            ExprKind::DateTest {
                op,
                expr: operand,
                bound,
            } => {
                let value = self.lower(operand, scope)?;
                let bound_value = self.lower(bound, scope)?;
                let word = match op {
                    DateTestOp::Before => "'before'",
                    DateTestOp::After => "'after'",
                };
                expect_type(&value, operand, ValueType::Date, word)?;
                expect_type(&bound_value, bound, ValueType::Date, word)?;
                let test = match op {
                    DateTestOp::Before => value.expr.lt(bound_value.expr),
                    DateTestOp::After => value.expr.gt(bound_value.expr),
                };
                Ok(boolean(test))
            }
            ExprKind::Call { function, args } => self.call(function, args, expr.span, scope),
            ExprKind::Aggregate(aggregate) => self.aggregate(aggregate, expr.span, scope),
            ExprKind::Exists {
                negated,
                table,
                filter,
                window,
            } => {
                let aggregate = Aggregate {
                    func: AggFunc::Count,
                    table: table.clone(),
                    column: None,
                    filter: filter.clone(),
                    window: *window,
                };
                let count = self.aggregate(&aggregate, expr.span, scope)?;
                let test = if *negated {
                    count.expr.eq(lit(0i64))
                } else {
                    count.expr.gt(lit(0i64))
                };
                Ok(boolean(test))
            }
        }
    }

    /// `start < d <= today`: the window's dates, the as-of cut included.
    pub(super) fn window_test(&self, date: Value, start: NaiveDate) -> Value {
        date.clone()
            .gt(date_value(start).expr)
            .and(date.lt_eq(date_value(self.as_of).expr))
    }

    fn date_before(&self, duration: &Duration, span: Span) -> Result<NaiveDate, CheckError> {
        duration.before(self.as_of).ok_or_else(|| {
            CheckError::new(
                CheckErrorKind::Type,
                format!("{duration} before {} is outside the calendar", self.as_of),
                span,
            )
        })
    }
}
