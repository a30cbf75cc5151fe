//! Operators and functions: comparisons, arithmetic (checked; division by zero is null),
//! function calls, and the type expectations they share.

use super::*;

impl<'a> CriterionLowerer<'a> {
    pub(super) fn binary(
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
                            expr: Value::checked(
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

    pub(super) fn call(
        &mut self,
        function: &Ident,
        args: &[Expr],
        span: Span,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        let name = function.name.to_ascii_lowercase();
        if name == "ntile" {
            return self.ntile_call(args, span, scope);
        }
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
                    None => error.with_suggestion(suggest(
                        &name,
                        ensemble_syntax::FUNCTIONS.iter().copied(),
                    )),
                })
            }
        }
    }

    pub(super) fn days_since(&self, date: Value) -> Value {
        let today = i64::from(days_from_epoch(self.as_of));
        lit(today) - cast(cast(date, DataType::Int32), DataType::Int64)
    }

    /// Whole calendar months from `date` to the as-of date: `months_since(d) >= n` exactly
    /// when `d <= n months ago` (with the month-end clamping of `N months ago`).
    pub(super) fn months_since(&self, date: Value) -> Value {
        let part = |unit: &str, date: Value| cast(f::date_part(lit(unit), date), DataType::Int64);
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
}

pub(super) fn expect_boolean(
    value: &Lowered,
    expr: &Expr,
    context: &str,
) -> Result<(), CheckError> {
    expect_type(value, expr, ValueType::Boolean, context)
}

pub(super) fn expect_type(
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

pub(super) fn expect_numeric(
    value: &Lowered,
    expr: &Expr,
    context: &str,
) -> Result<(), CheckError> {
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

pub(super) fn expect_comparable(
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
pub(super) fn describe_operand(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Name(name) => format!("column {name}"),
        ExprKind::Column { table, column } => format!("column {table}.{column}"),
        ExprKind::Literal(Literal::String(s)) => format!("\"{s}\""),
        _ => expr.to_string(),
    }
}

/// `a string`, `an integer`.
pub(super) fn a(ty: ValueType) -> String {
    let article = if ty.name().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {ty}")
}

pub(super) fn describe(expr: &Expr) -> String {
    format!("'{expr}'")
}
