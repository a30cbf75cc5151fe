//! Operators and comparisons on [`Value`]s, named like DataFusion's.

use std::ops;

use crate::arithmetic::CheckedOp;
use crate::value::{Arithmetic, Comparison, Value};

fn compare(a: Value, op: Comparison, b: Value) -> Value {
    Value::Compare(Box::new(a), op, Box::new(b))
}

impl Value {
    /// `self and other`.
    pub fn and(self, other: Value) -> Value {
        Value::And(Box::new(self), Box::new(other))
    }

    /// `self or other`.
    pub fn or(self, other: Value) -> Value {
        Value::Or(Box::new(self), Box::new(other))
    }

    /// `self = other`.
    pub fn eq(self, other: Value) -> Value {
        compare(self, Comparison::Eq, other)
    }

    /// `self != other`.
    pub fn not_eq(self, other: Value) -> Value {
        compare(self, Comparison::NotEq, other)
    }

    /// `self < other`.
    pub fn lt(self, other: Value) -> Value {
        compare(self, Comparison::Lt, other)
    }

    /// `self <= other`.
    pub fn lt_eq(self, other: Value) -> Value {
        compare(self, Comparison::LtEq, other)
    }

    /// `self > other`.
    pub fn gt(self, other: Value) -> Value {
        compare(self, Comparison::Gt, other)
    }

    /// `self >= other`.
    pub fn gt_eq(self, other: Value) -> Value {
        compare(self, Comparison::GtEq, other)
    }

    /// `self is null`.
    pub fn is_null(self) -> Value {
        Value::IsNull {
            value: Box::new(self),
            negated: false,
        }
    }

    /// `self is not null`.
    pub fn is_not_null(self) -> Value {
        Value::IsNull {
            value: Box::new(self),
            negated: true,
        }
    }

    /// `self between low and high`.
    pub fn between(self, low: Value, high: Value) -> Value {
        self.range(low, high, false)
    }

    /// `self not between low and high`.
    pub fn not_between(self, low: Value, high: Value) -> Value {
        self.range(low, high, true)
    }

    fn range(self, low: Value, high: Value, negated: bool) -> Value {
        Value::Between {
            value: Box::new(self),
            low: Box::new(low),
            high: Box::new(high),
            negated,
        }
    }

    /// `self [not] in (list)`.
    pub fn in_list(self, list: Vec<Value>, negated: bool) -> Value {
        Value::InList {
            value: Box::new(self),
            list,
            negated,
        }
    }

    /// `self like pattern`.
    pub fn like(self, pattern: Value) -> Value {
        Value::Like(Box::new(self), Box::new(pattern))
    }

    /// Whole-number `self op other`, failing at `span` on overflow.
    pub fn checked(
        op: CheckedOp,
        left: Value,
        right: Value,
        text: String,
        span: ensemble_syntax::Span,
        definition: Option<String>,
    ) -> Value {
        Value::Checked {
            op,
            left: Box::new(left),
            right: Box::new(right),
            text,
            span,
            definition,
        }
    }
}

macro_rules! arithmetic {
    ($trait:ident, $method:ident, $op:ident) => {
        impl ops::$trait for Value {
            type Output = Value;
            fn $method(self, other: Value) -> Value {
                Value::Arithmetic(Box::new(self), Arithmetic::$op, Box::new(other))
            }
        }
    };
}

arithmetic!(Add, add, Add);
arithmetic!(Sub, sub, Sub);
arithmetic!(Mul, mul, Mul);
arithmetic!(Div, div, Div);

impl ops::Not for Value {
    type Output = Value;
    fn not(self) -> Value {
        Value::Not(Box::new(self))
    }
}

impl ops::Neg for Value {
    type Output = Value;
    fn neg(self) -> Value {
        Value::Negative(Box::new(self))
    }
}
