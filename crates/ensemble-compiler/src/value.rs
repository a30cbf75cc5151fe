//! The plan stage's per-member values: an ensemble-owned, typed-by-the-checker expression
//! tree for criteria, fields, aggregate filters and bucket values. The checker builds it
//! ([`crate::criteria`]); [`Value::to_df`] is the thin lowering to a DataFusion expression,
//! done only when a plan is built.
//!
//! The tree names only what the language needs: columns of the row being read (the features
//! table, or a related table inside an aggregate's filter), literals, casts, comparisons,
//! logic, arithmetic (whole numbers checked for overflow, at the span that wrote them), null
//! and range tests, string tests, a few functions and one conditional.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{self as df, Expr as DfExpr};
use ensemble_syntax::Span;

use crate::arithmetic::{CheckedArithmetic, CheckedOp};

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// `=`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

/// Arithmetic that needs no overflow check (decimals, floats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arithmetic {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// The functions values call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `contains(text, part)`.
    Contains,
    /// `starts_with(text, prefix)`.
    StartsWith,
    /// `date_part(part, date)`.
    DatePart,
    /// The largest value, skipping nulls.
    Greatest,
    /// The smallest value, skipping nulls.
    Least,
    /// The first non-null value.
    Coalesce,
    /// Lower case.
    Lower,
    /// Upper case.
    Upper,
    /// Absolute value.
    Abs,
    /// Rounding to a number of decimals.
    Round,
    /// Texts joined.
    Concat,
    /// Null when both arguments are equal, else the first.
    NullIf,
}

/// A per-member value (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A column of the row being read.
    Column(String),
    /// A constant.
    Literal(ScalarValue),
    /// A conversion.
    Cast(Box<Value>, DataType),
    /// `not v`.
    Not(Box<Value>),
    /// `-v`.
    Negative(Box<Value>),
    /// `a and b`.
    And(Box<Value>, Box<Value>),
    /// `a or b`.
    Or(Box<Value>, Box<Value>),
    /// `a op b`.
    Compare(Box<Value>, Comparison, Box<Value>),
    /// `a op b`, unchecked.
    Arithmetic(Box<Value>, Arithmetic, Box<Value>),
    /// Whole-number `a op b` that fails at `span` on overflow.
    Checked {
        /// The operation.
        op: CheckedOp,
        /// Left operand.
        left: Box<Value>,
        /// Right operand.
        right: Box<Value>,
        /// The operation as written.
        text: String,
        /// Where it was written.
        span: Span,
        /// The stored definition it belongs to.
        definition: Option<String>,
    },
    /// `v is [not] null`.
    IsNull {
        /// The value tested.
        value: Box<Value>,
        /// `is not null`.
        negated: bool,
    },
    /// `v [not] between low and high`.
    Between {
        /// The value tested.
        value: Box<Value>,
        /// Lower bound (included).
        low: Box<Value>,
        /// Upper bound (included).
        high: Box<Value>,
        /// `not between`.
        negated: bool,
    },
    /// `v [not] in (…)`.
    InList {
        /// The value tested.
        value: Box<Value>,
        /// The candidates.
        list: Vec<Value>,
        /// `not in`.
        negated: bool,
    },
    /// `text like pattern`.
    Like(Box<Value>, Box<Value>),
    /// A function call.
    Call(Function, Vec<Value>),
    /// `case when condition then value else otherwise end`.
    Case {
        /// The condition.
        when: Box<Value>,
        /// The value when it holds.
        then: Box<Value>,
        /// The value otherwise.
        otherwise: Box<Value>,
    },
}

impl Value {
    /// Its children, for walks.
    pub fn children(&self) -> Vec<&Value> {
        match self {
            Value::Column(_) | Value::Literal(_) => Vec::new(),
            Value::Cast(v, _) | Value::Not(v) | Value::Negative(v) => vec![v],
            Value::IsNull { value, .. } => vec![value],
            Value::And(a, b)
            | Value::Or(a, b)
            | Value::Compare(a, _, b)
            | Value::Arithmetic(a, _, b)
            | Value::Like(a, b)
            | Value::Checked {
                left: a, right: b, ..
            } => vec![a, b],
            Value::Between {
                value, low, high, ..
            } => vec![value, low, high],
            Value::InList { value, list, .. } => std::iter::once(&**value).chain(list).collect(),
            Value::Call(_, args) => args.iter().collect(),
            Value::Case {
                when,
                then,
                otherwise,
            } => vec![when, then, otherwise],
        }
    }

    /// Nodes in the tree.
    pub fn node_count(&self) -> usize {
        1 + self
            .children()
            .iter()
            .map(|c| c.node_count())
            .sum::<usize>()
    }

    /// Levels in the tree.
    pub fn depth(&self) -> usize {
        1 + self.children().iter().map(|c| c.depth()).max().unwrap_or(0)
    }

    /// The columns it reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Value::Column(name) => vec![name.as_str()],
            other => other
                .children()
                .into_iter()
                .flat_map(Value::columns)
                .collect(),
        }
    }

    /// The thin lowering: the same value as a DataFusion expression.
    pub fn to_df(&self) -> DfExpr {
        let boxed = |v: &Value| v.to_df();
        match self {
            Value::Column(name) => df::ident(name),
            Value::Literal(scalar) => df::lit(scalar.clone()),
            Value::Cast(v, ty) => df::cast(boxed(v), ty.clone()),
            Value::Not(v) => !boxed(v),
            Value::Negative(v) => -boxed(v),
            Value::And(a, b) => boxed(a).and(boxed(b)),
            Value::Or(a, b) => boxed(a).or(boxed(b)),
            Value::Compare(a, op, b) => {
                let (a, b) = (boxed(a), boxed(b));
                match op {
                    Comparison::Eq => a.eq(b),
                    Comparison::NotEq => a.not_eq(b),
                    Comparison::Lt => a.lt(b),
                    Comparison::LtEq => a.lt_eq(b),
                    Comparison::Gt => a.gt(b),
                    Comparison::GtEq => a.gt_eq(b),
                }
            }
            Value::Arithmetic(a, op, b) => {
                let (a, b) = (boxed(a), boxed(b));
                match op {
                    Arithmetic::Add => a + b,
                    Arithmetic::Sub => a - b,
                    Arithmetic::Mul => a * b,
                    Arithmetic::Div => a / b,
                }
            }
            Value::Checked {
                op,
                left,
                right,
                text,
                span,
                definition,
            } => CheckedArithmetic::call(
                *op,
                boxed(left),
                boxed(right),
                text.clone(),
                *span,
                definition.clone(),
            ),
            Value::IsNull { value, negated } => match negated {
                false => boxed(value).is_null(),
                true => boxed(value).is_not_null(),
            },
            Value::Between {
                value,
                low,
                high,
                negated,
            } => match negated {
                false => boxed(value).between(boxed(low), boxed(high)),
                true => boxed(value).not_between(boxed(low), boxed(high)),
            },
            Value::InList {
                value,
                list,
                negated,
            } => boxed(value).in_list(list.iter().map(Value::to_df).collect(), *negated),
            Value::Like(text, pattern) => boxed(text).like(boxed(pattern)),
            Value::Call(function, args) => call(*function, args.iter().map(Value::to_df).collect()),
            Value::Case {
                when,
                then,
                otherwise,
            } => df::when(boxed(when), boxed(then))
                .otherwise(boxed(otherwise))
                .unwrap_or_else(|_| unreachable!("a CASE with one branch and an ELSE is valid")),
        }
    }
}

impl std::fmt::Display for Value {
    /// As its DataFusion lowering prints (in plans and check-only keys).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_df())
    }
}

fn call(function: Function, mut args: Vec<DfExpr>) -> DfExpr {
    let mut next = || args.remove(0);
    match function {
        Function::Contains => {
            let text = next();
            f::contains(text, next())
        }
        Function::StartsWith => {
            let text = next();
            f::starts_with(text, next())
        }
        Function::DatePart => {
            let part = next();
            f::date_part(part, next())
        }
        Function::Lower => f::lower(next()),
        Function::Upper => f::upper(next()),
        Function::Abs => f::abs(next()),
        Function::NullIf => {
            let value = next();
            f::nullif(value, next())
        }
        Function::Greatest => f::greatest(args),
        Function::Least => f::least(args),
        Function::Coalesce => f::coalesce(args),
        Function::Round => f::round(args),
        Function::Concat => f::concat(args),
    }
}

/// Builders named like DataFusion's, so that the checker reads as a query is written.
pub mod dsl {
    use super::*;

    /// A constant.
    pub fn lit(value: impl Into<ScalarValue>) -> Value {
        Value::Literal(value.into())
    }

    /// A column of the row being read.
    pub fn ident(name: impl Into<String>) -> Value {
        Value::Column(name.into())
    }

    /// A conversion.
    pub fn cast(value: Value, ty: DataType) -> Value {
        Value::Cast(Box::new(value), ty)
    }

    /// `case when condition then value …`: finish with [`CaseBuilder::otherwise`].
    pub fn when(condition: Value, then: Value) -> CaseBuilder {
        CaseBuilder { condition, then }
    }

    /// A conditional waiting for its `else`.
    pub struct CaseBuilder {
        condition: Value,
        then: Value,
    }

    impl CaseBuilder {
        /// The value when the condition does not hold.
        pub fn otherwise(self, otherwise: Value) -> Result<Value, std::convert::Infallible> {
            Ok(Value::Case {
                when: Box::new(self.condition),
                then: Box::new(self.then),
                otherwise: Box::new(otherwise),
            })
        }
    }

    /// The functions, as `f::name(…)`.
    pub mod f {
        use super::super::{Function, Value};

        fn call(function: Function, args: Vec<Value>) -> Value {
            Value::Call(function, args)
        }

        /// `contains(text, part)`.
        pub fn contains(text: Value, part: Value) -> Value {
            call(Function::Contains, vec![text, part])
        }

        /// `starts_with(text, prefix)`.
        pub fn starts_with(text: Value, prefix: Value) -> Value {
            call(Function::StartsWith, vec![text, prefix])
        }

        /// `date_part(part, date)`.
        pub fn date_part(part: Value, date: Value) -> Value {
            call(Function::DatePart, vec![part, date])
        }

        /// The largest value, skipping nulls.
        pub fn greatest(values: Vec<Value>) -> Value {
            call(Function::Greatest, values)
        }

        /// The smallest value, skipping nulls.
        pub fn least(values: Vec<Value>) -> Value {
            call(Function::Least, values)
        }

        /// The first non-null value.
        pub fn coalesce(values: Vec<Value>) -> Value {
            call(Function::Coalesce, values)
        }

        /// Lower case.
        pub fn lower(text: Value) -> Value {
            call(Function::Lower, vec![text])
        }

        /// Upper case.
        pub fn upper(text: Value) -> Value {
            call(Function::Upper, vec![text])
        }

        /// Absolute value.
        pub fn abs(number: Value) -> Value {
            call(Function::Abs, vec![number])
        }

        /// Rounding: `[number, digits]`.
        pub fn round(args: Vec<Value>) -> Value {
            call(Function::Round, args)
        }

        /// Texts joined.
        pub fn concat(texts: Vec<Value>) -> Value {
            call(Function::Concat, texts)
        }

        /// Null when both are equal, else the first.
        pub fn nullif(value: Value, other: Value) -> Value {
            call(Function::NullIf, vec![value, other])
        }
    }
}
