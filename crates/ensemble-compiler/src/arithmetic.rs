//! Whole-number arithmetic that never wraps.
//!
//! DataFusion's `+`, `-` and `*` on 64-bit integers wrap around on overflow, so
//! `[points_balance * 9223372036854775807 > 1]` would select members whose product came out
//! negative. The language instead runs whole-number `+`, `-` and `*` through
//! [`CheckedArithmetic`], a scalar function over arrow's checked kernels: an overflow stops the
//! evaluation with an [`ArithmeticOverflow`] error that carries the operation's span, which the
//! engine renders with the source line and a caret.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use ensemble_syntax::Span;

/// The three operations that can overflow a 64-bit integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckedOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
}

impl CheckedOp {
    fn function_name(self) -> &'static str {
        match self {
            CheckedOp::Add => "checked_add",
            CheckedOp::Sub => "checked_sub",
            CheckedOp::Mul => "checked_mul",
        }
    }

    fn apply(self, left: &ArrayRef, right: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        match self {
            CheckedOp::Add => numeric::add(left, right),
            CheckedOp::Sub => numeric::sub(left, right),
            CheckedOp::Mul => numeric::mul(left, right),
        }
    }
}

/// An integer operation overflowed while evaluating a criterion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("integer overflow in {text}: the result does not fit in a 64-bit integer")]
pub struct ArithmeticOverflow {
    /// The operation as written (canonical form).
    pub text: String,
    /// Where it is in the source.
    pub span: Span,
    /// The stored definition the span belongs to, if not the evaluated text.
    pub definition: Option<String>,
}

impl ArithmeticOverflow {
    /// Finds an overflow anywhere in a DataFusion error's chain of causes.
    pub fn find(error: &DataFusionError) -> Option<&ArithmeticOverflow> {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(error) = current {
            if let Some(found) = error.downcast_ref::<ArithmeticOverflow>() {
                return Some(found);
            }
            if let Some(DataFusionError::Shared(inner)) = error.downcast_ref::<DataFusionError>() {
                current = Some(inner.as_ref());
                continue;
            }
            current = error.source();
        }
        None
    }
}

/// `checked_add/sub/mul(a, b)` over 64-bit integers, failing with [`ArithmeticOverflow`].
#[derive(Debug, PartialEq, Eq)]
pub struct CheckedArithmetic {
    op: CheckedOp,
    overflow: ArithmeticOverflow,
    signature: Signature,
}

impl std::hash::Hash for CheckedArithmetic {
    /// Spans never distinguish two expressions (as everywhere in the syntax tree).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.op.hash(state);
        self.overflow.text.hash(state);
        self.overflow.definition.hash(state);
    }
}

impl CheckedArithmetic {
    /// The DataFusion expression `op(left, right)`; an overflow reports `text` at `span`.
    pub fn call(
        op: CheckedOp,
        left: DfExpr,
        right: DfExpr,
        text: String,
        span: Span,
        definition: Option<String>,
    ) -> DfExpr {
        let function = CheckedArithmetic {
            op,
            overflow: ArithmeticOverflow {
                text,
                span,
                definition,
            },
            signature: Signature::user_defined(Volatility::Immutable),
        };
        ScalarUDF::from(function).call(vec![left, right])
    }
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        self.op.function_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }

    /// Every whole-number type (`Int8` … `UInt64`) and null are cast to `Int64`; a `UInt64`
    /// value past `i64::MAX` fails the cast instead of wrapping.
    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        arg_types
            .iter()
            .map(|t| {
                if t.is_integer() || *t == DataType::Null {
                    Ok(DataType::Int64)
                } else {
                    Err(DataFusionError::Plan(format!(
                        "{} takes whole numbers, not {t}",
                        self.name()
                    )))
                }
            })
            .collect()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let all_scalars = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [left, right] = arrays.as_slice() else {
            return Err(DataFusionError::Internal(format!(
                "{} takes two arguments",
                self.name()
            )));
        };
        let result = self.op.apply(left, right).map_err(|error| match error {
            ArrowError::ArithmeticOverflow(_) => {
                DataFusionError::External(Box::new(self.overflow.clone()))
            }
            other => DataFusionError::ArrowError(Box::new(other), None),
        })?;
        if all_scalars && result.len() == 1 {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&result, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::Field;

    fn invoke(op: CheckedOp, left: Vec<i64>, right: Vec<i64>) -> DfResult<ColumnarValue> {
        let function = CheckedArithmetic {
            op,
            overflow: ArithmeticOverflow {
                text: "a * b".into(),
                span: Span::new(3, 8),
                definition: None,
            },
            signature: Signature::uniform(2, vec![DataType::Int64], Volatility::Immutable),
        };
        let rows = left.len();
        let field = Arc::new(Field::new("x", DataType::Int64, true));
        function.invoke_with_args(ScalarFunctionArgs {
            args: vec![
                ColumnarValue::Array(Arc::new(Int64Array::from(left))),
                ColumnarValue::Array(Arc::new(Int64Array::from(right))),
            ],
            arg_fields: vec![field.clone(), field.clone()],
            number_rows: rows,
            return_field: field,
            config_options: Default::default(),
        })
    }

    #[test]
    fn computes_in_range_values() {
        let ColumnarValue::Array(array) = invoke(CheckedOp::Mul, vec![3, -4], vec![5, 6]).unwrap()
        else {
            panic!("an array")
        };
        let values = array.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(values.values(), &[15, -24]);
    }

    #[test]
    fn overflow_is_an_error_with_its_span() {
        let error = invoke(CheckedOp::Mul, vec![2, -3], vec![i64::MAX, 1]).unwrap_err();
        let overflow = ArithmeticOverflow::find(&error).expect("an overflow");
        assert!(overflow.span.same_range(&Span::new(3, 8)));
        assert!(overflow.to_string().contains("integer overflow in a * b"));
        let shared = DataFusionError::Shared(Arc::new(error));
        assert!(ArithmeticOverflow::find(&shared).is_some());
        assert!(invoke(CheckedOp::Add, vec![i64::MAX], vec![1]).is_err());
        assert!(invoke(CheckedOp::Sub, vec![i64::MIN], vec![1]).is_err());
    }
}
