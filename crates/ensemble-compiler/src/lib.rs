//! The compiler: checks segment-language trees against the catalog's Arrow schemas and the
//! session's definitions, builds the DAG of steps of an expression, and lowers every step to
//! a DataFusion `LogicalPlan` with `LogicalPlanBuilder`.
//!
//! Depends on `ensemble-syntax` and DataFusion; knows nothing of files or sessions (the
//! engine supplies table sources and materialises steps).
#![warn(missing_docs)]

pub mod catalog;
pub mod criteria;
pub mod definitions;
pub mod error;
pub mod graph;
pub mod plan;
pub mod types;

pub use catalog::{CatalogSchema, RelatedSchema, UniverseSchema};
pub use criteria::{AggregateSpec, CriterionLowerer, Lowered, Needs};
pub use definitions::Definitions;
pub use error::{CheckError, CheckErrorKind, PlanError};
pub use graph::{build_graph, Leaf, StepGraph, StepNode, StepOp};
pub use types::ValueType;

use chrono::NaiveDate;
use ensemble_syntax::{Expr, SetExpr};

/// Checks a field definition as if it were added to `definitions`: names, types, cycles.
pub fn check_field(
    name: &str,
    expr: &Expr,
    catalog: &CatalogSchema,
    definitions: &Definitions,
    as_of: NaiveDate,
) -> Result<ValueType, CheckError> {
    let mut candidate = definitions.clone();
    candidate.fields.insert(name.to_string(), expr.clone());
    ensemble_syntax::stack::with_large_stack(|| {
        let mut lowerer = CriterionLowerer::new(catalog, &candidate, as_of);
        lowerer.stack.push(name.to_string());
        Ok(lowerer.value(expr)?.ty)
    })
}

/// Checks a segment definition as if it were added to `definitions`: names, types, cycles.
pub fn check_segment(
    name: &str,
    expr: &SetExpr,
    catalog: &CatalogSchema,
    definitions: &Definitions,
    as_of: NaiveDate,
) -> Result<(), CheckError> {
    let mut candidate = definitions.clone();
    candidate.segments.insert(name.to_string(), expr.clone());
    let reference = SetExpr {
        kind: ensemble_syntax::SetExprKind::Segment(ensemble_syntax::Ident {
            name: name.to_string(),
            span: expr.span,
        }),
        span: expr.span,
    };
    build_graph(&reference, catalog, &candidate, as_of).map(|_| ())
}
