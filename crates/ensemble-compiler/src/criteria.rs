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
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{cast, ident, lit, when, Expr as DfExpr};
use ensemble_syntax::*;

use crate::arithmetic::{CheckedArithmetic, CheckedOp};
use crate::catalog::{CatalogSchema, RelatedSchema};
use crate::definitions::Definitions;
use crate::error::{CheckError, CheckErrorKind};
use crate::types::ValueType;

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
    pub filter: Option<DfExpr>,
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

/// What a criterion needs from the data, collected while it is lowered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needs {
    /// Universe columns.
    pub columns: BTreeSet<String>,
    /// Aggregates, by canonical name.
    pub aggregates: BTreeMap<String, AggregateSpec>,
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
    }
}

/// A checked value expression: its DataFusion form and its type.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The DataFusion expression (over the features table, or a related table in a filter).
    pub expr: DfExpr,
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
    pub fn criterion(&mut self, expr: &Expr) -> Result<DfExpr, CheckError> {
        let lowered = self.lower(expr, Scope::Member)?;
        expect_boolean(&lowered, expr, "a criterion")?;
        Ok(lowered.expr)
    }

    /// Lowers a field's value expression (any type).
    pub fn value(&mut self, expr: &Expr) -> Result<Lowered, CheckError> {
        self.lower(expr, Scope::Member)
    }

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
    fn window_test(&self, date: DfExpr, start: NaiveDate) -> DfExpr {
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

    fn name(&mut self, name: &Ident, scope: Scope<'_>) -> Result<Lowered, CheckError> {
        match scope {
            Scope::Related(table) => related_column(table, &name.name, name.span).map_err(|error| {
                let universe = &self.catalog.universe;
                let is_member_value = universe.schema.field_with_name(&name.name).is_ok()
                    || self.definitions.fields.contains_key(&name.name);
                if is_member_value {
                    error.with_help(format!(
                        "'{}' belongs to the member, not to {}: close the aggregate first, as in (has {} where …) and {} …",
                        name.name, table.name, table.name, name.name
                    ))
                } else {
                    error
                }
            }),
            Scope::Member => {
                if let Some(start) = self.stack.iter().position(|n| *n == name.name) {
                    return Err(cycle_error(&self.stack[start..], &name.name, name.span));
                }
                if let Some(field) = self.definitions.fields.get(&name.name) {
                    if self.check_only {
                        if let Some(ty) = self.definitions.field_types.get(&name.name) {
                            return Ok(placeholder(*ty));
                        }
                    }
                    return self.field(&name.name, field, name.span);
                }
                let universe = &self.catalog.universe;
                if let Ok(field) = universe.schema.field_with_name(&name.name) {
                    let lowered = column_value(field, &name.name, name.span)?;
                    self.needs.columns.insert(name.name.clone());
                    return Ok(lowered);
                }
                if self.definitions.segments.contains_key(&name.name) {
                    return Err(CheckError::new(
                        CheckErrorKind::Type,
                        format!("'{}' is a segment, not a value", name.name),
                        name.span,
                    )
                    .with_help("segments are combined outside brackets: vip ∩ [criterion]"));
                }
                let candidates = universe
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .chain(self.definitions.fields.keys().map(String::as_str));
                let error = CheckError::new(
                    CheckErrorKind::UnknownName,
                    format!(
                        "unknown column or field '{}' (not a column of {} nor a field)",
                        name.name, universe.table
                    ),
                    name.span,
                );
                Err(match suggest(&name.name, candidates) {
                    Some(close) => error.with_suggestion(Some(close)),
                    // `[city = Paris]`: a text value written without quotes.
                    None => error.with_help(format!(
                        "if '{0}' is a text value, write it in quotes: '{0}'",
                        name.name
                    )),
                })
            }
        }
    }

    /// Lowers a field once per lowerer: later uses reuse the result (and what it needs), so
    /// a field used twice by another is not expanded twice.
    fn field(&mut self, name: &str, body: &Expr, span: Span) -> Result<Lowered, CheckError> {
        if let Some((lowered, needs)) = self.field_memo.get(name) {
            let lowered = lowered.clone();
            self.needs.extend(needs);
            return Ok(lowered);
        }
        if let Some(start) = self.stack.iter().position(|n| n == name) {
            return Err(cycle_error(&self.stack[start..], name, span));
        }
        self.stack.push(name.to_string());
        let outer_needs = std::mem::take(&mut self.needs);
        let lowered = self.lower(body, Scope::Member).and_then(|lowered| {
            if depth(&lowered.expr) > MAX_EXPANDED_DEPTH {
                return Err(CheckError::new(
                    CheckErrorKind::TooLarge,
                    format!(
                        "field '{name}' nests more than {MAX_EXPANDED_DEPTH} levels once the fields it uses are written out"
                    ),
                    body.span,
                )
                .with_help("a chain of fields each built on the previous one nests one level per field: shorten the chain"));
            }
            let nodes = count_nodes(&lowered.expr);
            if nodes > MAX_EXPANDED_NODES {
                return Err(CheckError::new(
                    CheckErrorKind::TooLarge,
                    format!(
                        "field '{name}' expands to more than {} operations once the fields it uses are written out",
                        MAX_EXPANDED_NODES
                    ),
                    body.span,
                )
                .with_help("a field that uses another field twice doubles in size: compute the repeated part once, or simplify"));
            }
            Ok(lowered)
        });
        let field_needs = std::mem::replace(&mut self.needs, outer_needs);
        self.stack.pop();
        let lowered = lowered.map_err(|mut error| {
            error.definition.get_or_insert_with(|| name.to_string());
            error
        })?;
        self.needs.extend(&field_needs);
        self.field_memo
            .insert(name.to_string(), (lowered.clone(), field_needs));
        Ok(lowered)
    }

    fn qualified(
        &mut self,
        table: &Ident,
        column: &Ident,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        if let Scope::Related(related) = scope {
            if table.name == related.name {
                return related_column(related, &column.name, column.span);
            }
            return Err(CheckError::new(
                CheckErrorKind::UnknownColumn,
                format!(
                    "inside an aggregate over {}, only its own columns are available",
                    related.name
                ),
                table.span,
            ));
        }
        let universe = &self.catalog.universe;
        if table.name == universe.table {
            let Ok(field) = universe.schema.field_with_name(&column.name) else {
                return Err(unknown_column(&universe.table, &universe.schema, column));
            };
            let lowered = column_value(field, &column.name, column.span)?;
            self.needs.columns.insert(column.name.clone());
            return Ok(lowered);
        }
        if let Some(related) = self.catalog.related.get(&table.name) {
            related_column(related, &column.name, column.span)?;
            return Err(CheckError::new(
                CheckErrorKind::Type,
                format!(
                    "{}.{} has many values per member: aggregate it",
                    table.name, column.name
                ),
                table.span.to(column.span),
            )
            .with_help(format!(
                "for example sum({0}.{1}), max({0}.{1}) or last({0}.{1})",
                table.name, column.name
            )));
        }
        Err(unknown_table(self.catalog, table))
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        whole: &Expr,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        let l = self.lower(left, scope)?;
        let r = self.lower(right, scope)?;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let word = if op == BinaryOp::And { "'and'" } else { "'or'" };
                expect_boolean(&l, left, word)?;
                expect_boolean(&r, right, word)?;
                Ok(boolean(if op == BinaryOp::And {
                    l.expr.and(r.expr)
                } else {
                    l.expr.or(r.expr)
                }))
            }
            op if op.is_comparison() => {
                expect_comparable(&l, left, &r, right)?;
                let (a, b) = (l.expr, r.expr);
                Ok(boolean(match op {
                    BinaryOp::Eq => a.eq(b),
                    BinaryOp::NotEq => a.not_eq(b),
                    BinaryOp::Lt => a.lt(b),
                    BinaryOp::LtEq => a.lt_eq(b),
                    BinaryOp::Gt => a.gt(b),
                    _ => a.gt_eq(b),
                }))
            }
            _ => {
                let symbol = format!("'{}'", op.symbol());
                expect_numeric(&l, left, &symbol)?;
                expect_numeric(&r, right, &symbol)?;
                let ty = l.ty.unify(r.ty).unwrap_or(ValueType::Float);
                let (a, b) = (l.expr, r.expr);
                let checked = match op {
                    BinaryOp::Add => CheckedOp::Add,
                    BinaryOp::Sub => CheckedOp::Sub,
                    _ => CheckedOp::Mul,
                };
                Ok(match op {
                    // Whole numbers never wrap around: an overflow is an error at this span.
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if ty == ValueType::Integer => {
                        Lowered {
                            expr: CheckedArithmetic::call(
                                checked,
                                a,
                                b,
                                whole.to_string(),
                                whole.span,
                                self.current_definition(),
                            ),
                            ty,
                        }
                    }
                    BinaryOp::Add => Lowered { expr: a + b, ty },
                    BinaryOp::Sub => Lowered { expr: a - b, ty },
                    BinaryOp::Mul => Lowered { expr: a * b, ty },
                    // Division by zero is unknown (null), for every numeric type; division of
                    // whole numbers is not truncated: 5 / 2 = 2.5.
                    _ if ty == ValueType::Integer || ty == ValueType::Float => Lowered {
                        expr: cast(a, DataType::Float64)
                            / f::nullif(cast(b, DataType::Float64), lit(0f64)),
                        ty: ValueType::Float,
                    },
                    _ => Lowered {
                        expr: a / f::nullif(b, lit(0i64)),
                        ty,
                    },
                })
            }
        }
    }

    fn call(
        &mut self,
        function: &Ident,
        args: &[Expr],
        span: Span,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        let name = function.name.to_ascii_lowercase();
        let mut lowered = Vec::with_capacity(args.len());
        for arg in args {
            lowered.push(self.lower(arg, scope)?);
        }
        let arity = |expected: &str, ok: bool| -> Result<(), CheckError> {
            if ok {
                Ok(())
            } else {
                Err(CheckError::new(
                    CheckErrorKind::Function,
                    format!("{name} takes {expected}, got {}", args.len()),
                    span,
                ))
            }
        };
        match name.as_str() {
            "days_since" | "months_since" | "years_since" => {
                arity("one date", args.len() == 1)?;
                let date = lowered.remove(0);
                expect_type(&date, &args[0], ValueType::Date, &name)?;
                let expr = match name.as_str() {
                    "days_since" => self.days_since(date.expr),
                    "months_since" => self.months_since(date.expr),
                    _ => self.months_since(date.expr) / lit(12i64),
                };
                Ok(Lowered {
                    expr,
                    ty: ValueType::Integer,
                })
            }
            "greatest" | "least" | "coalesce" => {
                arity("at least one value", !args.is_empty())?;
                let mut ty = ValueType::Null;
                for (value, arg) in lowered.iter().zip(args) {
                    ty = ty.unify(value.ty).ok_or_else(|| {
                        CheckError::new(
                            CheckErrorKind::Type,
                            format!("{name} mixes {ty} and {} values", value.ty),
                            arg.span,
                        )
                    })?;
                }
                let exprs = lowered.into_iter().map(|l| l.expr).collect();
                let expr = match name.as_str() {
                    "greatest" => f::greatest(exprs),
                    "least" => f::least(exprs),
                    _ => f::coalesce(exprs),
                };
                Ok(Lowered { expr, ty })
            }
            "lower" | "upper" => {
                arity("one string", args.len() == 1)?;
                let text = lowered.remove(0);
                expect_type(&text, &args[0], ValueType::String, &name)?;
                let text = cast(text.expr, DataType::Utf8);
                let expr = if name == "lower" {
                    f::lower(text)
                } else {
                    f::upper(text)
                };
                Ok(Lowered {
                    expr,
                    ty: ValueType::String,
                })
            }
            "abs" => {
                arity("one number", args.len() == 1)?;
                let number = lowered.remove(0);
                expect_numeric(&number, &args[0], "abs")?;
                Ok(Lowered {
                    expr: f::abs(number.expr),
                    ty: number.ty,
                })
            }
            "round" => {
                arity(
                    "a number and optionally a number of decimals",
                    matches!(args.len(), 1 | 2),
                )?;
                let number = lowered.remove(0);
                expect_numeric(&number, &args[0], "round")?;
                let digits = match lowered.pop() {
                    Some(digits) => {
                        expect_type(&digits, &args[1], ValueType::Integer, "round")?;
                        digits.expr
                    }
                    None => lit(0i64),
                };
                Ok(Lowered {
                    expr: f::round(vec![number.expr, digits]),
                    ty: number.ty,
                })
            }
            _ => {
                const FUNCTIONS: [&str; 10] = [
                    "days_since",
                    "months_since",
                    "years_since",
                    "greatest",
                    "least",
                    "coalesce",
                    "lower",
                    "upper",
                    "abs",
                    "round",
                ];
                let aggregate_hint = AggFunc::from_name(&name).map(|agg| {
                    format!(
                        "{0} aggregates a related table: {0}(purchases.amount); greatest/least compare values",
                        agg.name()
                    )
                });
                let error = CheckError::new(
                    CheckErrorKind::Function,
                    format!("unknown function '{}'", function.name),
                    function.span,
                );
                Err(match aggregate_hint {
                    Some(hint) => error.with_help(hint),
                    None => error.with_suggestion(suggest(&name, FUNCTIONS)),
                })
            }
        }
    }

    fn days_since(&self, date: DfExpr) -> DfExpr {
        let today = i64::from(days_from_epoch(self.as_of));
        lit(today) - cast(cast(date, DataType::Int32), DataType::Int64)
    }

    /// Whole calendar months from `date` to the as-of date: `months_since(d) >= n` exactly
    /// when `d <= n months ago` (with the month-end clamping of `N months ago`).
    fn months_since(&self, date: DfExpr) -> DfExpr {
        let part = |unit: &str, date: DfExpr| cast(f::date_part(lit(unit), date), DataType::Int64);
        let today_months = i64::from(self.as_of.year()) * 12 + i64::from(self.as_of.month0());
        let months = lit(today_months)
            - (part("year", date.clone()) * lit(12i64) + part("month", date.clone()) - lit(1i64));
        let before_day = when(
            part("day", date).gt(lit(i64::from(self.as_of.day()))),
            lit(1i64),
        )
        .otherwise(lit(0i64))
        .expect("a CASE with one branch and an ELSE is valid");
        months - before_day
    }

    fn aggregate(
        &mut self,
        aggregate: &Aggregate,
        span: Span,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        if let Scope::Related(table) = scope {
            return Err(CheckError::new(
                CheckErrorKind::Unsupported,
                format!(
                    "an aggregate cannot be nested inside a filter on {}",
                    table.name
                ),
                span,
            ));
        }
        let table = self.related_table(&aggregate.table)?;
        let func = aggregate.func;
        let (column_name, ty) = match &aggregate.column {
            None if matches!(func, AggFunc::Count) => (None, ValueType::Integer),
            None => {
                return Err(CheckError::new(
                    CheckErrorKind::Type,
                    format!(
                        "{} needs a column, for example {}({}.amount)",
                        func.name(),
                        func.name(),
                        table.name
                    ),
                    span,
                ))
            }
            Some(column) => {
                let value = related_column(table, &column.name, column.span)?;
                let ty = match func {
                    AggFunc::Count | AggFunc::CountDistinct => ValueType::Integer,
                    AggFunc::Sum | AggFunc::Avg => {
                        if !value.ty.is_numeric() {
                            return Err(CheckError::new(
                                CheckErrorKind::Type,
                                format!(
                                    "cannot {} {} column {}.{}",
                                    func.name(),
                                    value.ty,
                                    table.name,
                                    column.name
                                ),
                                column.span,
                            ));
                        }
                        if func == AggFunc::Avg && value.ty == ValueType::Integer {
                            ValueType::Float
                        } else {
                            value.ty
                        }
                    }
                    _ => value.ty,
                };
                (Some(column.name.clone()), ty)
            }
        };
        let mut conditions = Vec::new();
        if let Some(filter) = &aggregate.filter {
            let lowered = self.lower(filter, Scope::Related(table))?;
            expect_boolean(&lowered, filter, "'where'")?;
            conditions.push(lowered.expr);
        }
        if let Some(window) = &aggregate.window {
            let Some(time) = &table.time else {
                return Err(CheckError::new(
                    CheckErrorKind::NoTimeColumn,
                    format!("table {} has no time column for 'within'", table.name),
                    span,
                )
                .with_help(format!(
                    "set `time = \"…\"` under [tables.{}] in the catalog",
                    table.name
                )));
            };
            let start = self.date_before(window, span)?;
            let time_value = related_column(table, time, span)?;
            conditions.push(self.window_test(time_value.expr, start));
        }
        let filter = conditions.into_iter().reduce(DfExpr::and);
        let name = canonical_aggregate(aggregate);
        self.needs
            .aggregates
            .entry(name.clone())
            .or_insert_with(|| AggregateSpec {
                name: name.clone(),
                table: table.name.clone(),
                func,
                column: column_name,
                filter,
            });
        Ok(Lowered {
            expr: ident(name),
            ty,
        })
    }

    fn related_table(&self, name: &Ident) -> Result<&'a RelatedSchema, CheckError> {
        if name.name == self.catalog.universe.table {
            return Err(CheckError::new(
                CheckErrorKind::NotRelated,
                format!(
                    "{} is the universe: its columns are used directly, without aggregate",
                    name.name
                ),
                name.span,
            ));
        }
        let Some(table) = self.catalog.related.get(&name.name) else {
            return Err(unknown_table(self.catalog, name));
        };
        if table.key.is_none() {
            return Err(CheckError::new(
                CheckErrorKind::NotRelated,
                format!("table {} does not reference the universe", table.name),
                name.span,
            )
            .with_help(format!(
                "set `key = \"…\"` under [tables.{}] in the catalog to the column holding {}",
                table.name, self.catalog.universe.key
            )));
        }
        Ok(table)
    }
}

/// The canonical text of an aggregate: the column name of its value in the features table.
pub fn canonical_aggregate(aggregate: &Aggregate) -> String {
    aggregate.to_string()
}

/// The number of days from 1970-01-01 to `date` (Arrow's Date32).
pub fn days_from_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    // Dates chrono can represent are within ±262 000 years: the day count fits an i32.
    (date - epoch).num_days() as i32
}

fn date_value(date: NaiveDate) -> Lowered {
    Lowered {
        expr: lit(ScalarValue::Date32(Some(days_from_epoch(date)))),
        ty: ValueType::Date,
    }
}

fn boolean(expr: DfExpr) -> Lowered {
    Lowered {
        expr,
        ty: ValueType::Boolean,
    }
}

fn literal_value(literal: &Literal, span: Span) -> Result<Lowered, CheckError> {
    Ok(match literal {
        Literal::Integer(i) => Lowered {
            expr: lit(*i),
            ty: ValueType::Integer,
        },
        Literal::Decimal(text) => Lowered {
            expr: lit(decimal_scalar(text).ok_or_else(|| {
                CheckError::new(
                    CheckErrorKind::Type,
                    format!("decimal {text} has more than 38 digits"),
                    span,
                )
            })?),
            ty: ValueType::Decimal,
        },
        Literal::String(s) => Lowered {
            expr: lit(s.clone()),
            ty: ValueType::String,
        },
        Literal::Boolean(b) => boolean(lit(*b)),
        Literal::Null => Lowered {
            expr: lit(ScalarValue::Null),
            ty: ValueType::Null,
        },
        Literal::Date(d) => date_value(*d),
    })
}

/// An exact decimal literal: `19.99` is Decimal128(4, 2) holding 1999.
fn decimal_scalar(text: &str) -> Option<ScalarValue> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all: String = format!("{whole}{fraction}");
    let precision = u8::try_from(all.len()).ok().filter(|p| *p <= 38)?;
    let scale = i8::try_from(fraction.len()).ok()?;
    let mut value: i128 = all.parse().ok()?;
    if negative {
        value = -value;
    }
    Some(ScalarValue::Decimal128(
        Some(value),
        precision.max(1),
        scale,
    ))
}

/// A universe or related column as a value: timestamps are read as their calendar date.
fn column_value(field: &Field, name: &str, span: Span) -> Result<Lowered, CheckError> {
    let Some(ty) = ValueType::of_arrow(field.data_type()) else {
        return Err(CheckError::new(
            CheckErrorKind::Type,
            format!(
                "column {name} has type {}, which criteria cannot use",
                field.data_type()
            ),
            span,
        ));
    };
    let column = ident(name);
    let expr = match field.data_type() {
        DataType::Timestamp(_, _) | DataType::Date64 => cast(column, DataType::Date32),
        _ => column,
    };
    Ok(Lowered { expr, ty })
}

fn related_column(table: &RelatedSchema, column: &str, span: Span) -> Result<Lowered, CheckError> {
    match table.schema.field_with_name(column) {
        Ok(field) => column_value(field, column, span),
        Err(_) => Err(unknown_column(
            &table.name,
            &table.schema,
            &Ident {
                name: column.to_string(),
                span,
            },
        )),
    }
}

fn unknown_column(
    table: &str,
    schema: &datafusion::arrow::datatypes::Schema,
    column: &Ident,
) -> CheckError {
    let candidates = schema.fields().iter().map(|f| f.name().as_str());
    CheckError::new(
        CheckErrorKind::UnknownColumn,
        format!("unknown column '{table}.{}'", column.name),
        column.span,
    )
    .with_suggestion(suggest(&column.name, candidates).map(|c| format!("{table}.{c}")))
}

fn unknown_table(catalog: &CatalogSchema, table: &Ident) -> CheckError {
    CheckError::new(
        CheckErrorKind::UnknownTable,
        format!("unknown table '{}'", table.name),
        table.span,
    )
    .with_suggestion(suggest(&table.name, catalog.table_names()))
}

/// The error of a check stopped by Ctrl-C.
pub(crate) fn cancelled(span: Span) -> CheckError {
    CheckError::new(CheckErrorKind::Cancelled, "cancelled", span)
}

/// Nodes of a lowered expression.
fn count_nodes(expr: &DfExpr) -> usize {
    let mut nodes = 0usize;
    let _ = expr.apply(|_| {
        nodes += 1;
        Ok(if nodes > MAX_EXPANDED_NODES {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    nodes
}

/// Levels of a lowered expression; stops descending past [`MAX_EXPANDED_DEPTH`], so a
/// deep tree costs no more than a shallow one of the same size.
fn depth(expr: &DfExpr) -> usize {
    fn walk(expr: &DfExpr, level: usize) -> usize {
        if level > MAX_EXPANDED_DEPTH {
            return level;
        }
        let mut deepest = level;
        let _ = expr.apply_children(|child| {
            deepest = deepest.max(walk(child, level + 1));
            Ok(TreeNodeRecursion::Continue)
        });
        deepest
    }
    walk(expr, 1)
}

/// A stand-in of a known type for a field that was checked when it was defined.
fn placeholder(ty: ValueType) -> Lowered {
    let data_type = match ty {
        ValueType::Integer => DataType::Int64,
        ValueType::Decimal => DataType::Decimal128(38, 10),
        ValueType::Float => DataType::Float64,
        ValueType::String => DataType::Utf8,
        ValueType::Boolean => DataType::Boolean,
        ValueType::Date => DataType::Date32,
        ValueType::Null => DataType::Null,
    };
    Lowered {
        expr: lit(ScalarValue::try_from(&data_type).unwrap_or(ScalarValue::Null)),
        ty,
    }
}

pub(crate) fn cycle_error(path: &[String], back_to: &str, span: Span) -> CheckError {
    let mut names: Vec<&str> = path.iter().map(String::as_str).collect();
    names.push(back_to);
    CheckError::new(
        CheckErrorKind::Cycle,
        format!("cycle: {}", names.join(" → ")),
        span,
    )
    .with_help("a definition cannot depend on itself")
}

fn expect_boolean(value: &Lowered, expr: &Expr, context: &str) -> Result<(), CheckError> {
    expect_type(value, expr, ValueType::Boolean, context)
}

fn expect_type(
    value: &Lowered,
    expr: &Expr,
    expected: ValueType,
    context: &str,
) -> Result<(), CheckError> {
    if value.ty == expected || value.ty == ValueType::Null {
        return Ok(());
    }
    Err(CheckError::new(
        CheckErrorKind::Type,
        format!(
            "{context} needs {}, but {} is {}",
            a(expected),
            describe(expr),
            a(value.ty)
        ),
        expr.span,
    ))
}

fn expect_numeric(value: &Lowered, expr: &Expr, context: &str) -> Result<(), CheckError> {
    if value.ty.is_numeric() || value.ty == ValueType::Null {
        return Ok(());
    }
    Err(CheckError::new(
        CheckErrorKind::Type,
        format!(
            "{context} needs a number, but {} is {}",
            describe(expr),
            a(value.ty)
        ),
        expr.span,
    ))
}

fn expect_comparable(
    left: &Lowered,
    left_expr: &Expr,
    right: &Lowered,
    right_expr: &Expr,
) -> Result<(), CheckError> {
    if left.ty.comparable_with(right.ty) {
        return Ok(());
    }
    let help = (left.ty == ValueType::Date && right.ty == ValueType::String)
        .then_some("dates are written without quotes: 2026-01-31");
    let error = CheckError::new(
        CheckErrorKind::Type,
        format!(
            "cannot compare {} {} with {} {}",
            left.ty,
            describe_operand(left_expr),
            right.ty,
            describe_operand(right_expr)
        ),
        left_expr.span.to(right_expr.span),
    );
    Err(match help {
        Some(help) => error.with_help(help),
        None => error,
    })
}

/// `column signup_date`, `"abc"`, `sum(purchases.amount)`.
fn describe_operand(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Name(name) => format!("column {name}"),
        ExprKind::Column { table, column } => format!("column {table}.{column}"),
        ExprKind::Literal(Literal::String(s)) => format!("\"{s}\""),
        _ => expr.to_string(),
    }
}

/// `a string`, `an integer`.
fn a(ty: ValueType) -> String {
    let article = if ty.name().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {ty}")
}

fn describe(expr: &Expr) -> String {
    format!("'{expr}'")
}
