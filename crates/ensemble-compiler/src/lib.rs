//! The compiler: checks segment-language trees against the catalog's Arrow schemas and the
//! session's definitions, builds the DAG of steps of an expression, and lowers every step to
//! a DataFusion `LogicalPlan` with `LogicalPlanBuilder`.
//!
//! Depends on `ensemble-syntax` and DataFusion; knows nothing of files or sessions (the
//! engine supplies table sources and materialises steps).
#![warn(missing_docs)]

pub mod arithmetic;
mod buckets;
pub mod catalog;
pub mod criteria;
mod days;
pub mod definitions;
pub mod error;
pub mod features;
pub mod graph;
mod keys;
pub mod member_rows;
mod partitions;
pub mod plan;
pub mod scores;
pub mod types;
pub mod value;
mod value_ops;

pub use arithmetic::ArithmeticOverflow;
pub use catalog::{CatalogSchema, RelatedSchema, UniverseSchema};
pub use criteria::{AggregateSpec, CriterionLowerer, Lowered, Needs, WindowSpec};
pub use criteria::{MAX_EXPANDED_DEPTH, MAX_EXPANDED_NODES};
pub use definitions::{Definitions, PartitionDef};
pub use error::{CheckError, CheckErrorKind, PlanError};
pub use features::{FeaturesSpec, PassKind, TablePass};
pub use graph::{build_graph, Checker, Leaf, PartitionSteps, StepGraph, StepNode, StepOp};
pub use member_rows::{Fold, FoldedAggregate, Keep, MemberRows};
pub use scores::{ScoreDef, ScoreDimension, MAX_BUCKETS};
pub use types::ValueType;
pub use value::Value;

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
    Checker::new(catalog, definitions, as_of).check_field(name, expr)
}

/// Checks a segment definition as if it were added to `definitions`: names, types, cycles.
pub fn check_segment(
    name: &str,
    expr: &SetExpr,
    catalog: &CatalogSchema,
    definitions: &Definitions,
    as_of: NaiveDate,
) -> Result<(), CheckError> {
    Checker::new(catalog, definitions, as_of).check_segment(name, expr)
}

impl Checker<'_> {
    /// Checks a field definition as if it were added to the definitions; returns its type.
    ///
    /// A new name is checked against the recorded types of the fields it uses (linear in
    /// its own size); a redefinition is checked by expanding everything it reaches, since
    /// earlier definitions may use it (a cycle).
    pub fn check_field(&self, name: &str, expr: &Expr) -> Result<ValueType, CheckError> {
        if self.definitions().contains(name) {
            let mut candidate = self.definitions().clone();
            candidate.field_types.clear();
            candidate.fields.insert(name.to_string(), expr.clone());
            return self.over(&candidate).field_type(name, expr, false);
        }
        self.field_type(name, expr, true)
    }

    /// Checks a segment definition as if it were added to the definitions.
    pub fn check_segment(&self, name: &str, expr: &SetExpr) -> Result<(), CheckError> {
        if !self.definitions().contains(name) {
            return self.check_new_segment(name, expr);
        }
        let mut candidate = self.definitions().clone();
        candidate.fields.remove(name);
        candidate.segments.insert(name.to_string(), expr.clone());
        let reference = SetExpr {
            kind: ensemble_syntax::SetExprKind::Segment(ensemble_syntax::Ident {
                name: name.to_string(),
                span: expr.span,
            }),
            span: expr.span,
        };
        self.over(&candidate).graph(&reference).map(|_| ())
    }

    /// Checks a partition definition as if it were added to the definitions: every tier's
    /// set, and cycles through other partitions and segments.
    pub fn check_partition(&self, name: &str, partition: &PartitionDef) -> Result<(), CheckError> {
        let mut candidate = self.definitions().clone();
        let redefinition = candidate.contains(name);
        candidate.define_partition(name, partition.clone());
        let span = partition.tiers[0].expr.span;
        let reference = SetExpr {
            kind: ensemble_syntax::SetExprKind::Segment(ensemble_syntax::Ident {
                name: name.to_string(),
                span,
            }),
            span,
        };
        let checker = self.over(&candidate);
        if redefinition {
            return checker.graph(&reference).map(|_| ());
        }
        // A new partition: earlier definitions stand for themselves, its tiers are expanded
        // (the step graph's walk, on a large stack segment of this thread).
        ensemble_syntax::stack::with_large_stack(|| {
            checker.builder(Some(name)).node(&reference).map(|_| ())
        })
        .map_err(|mut error| {
            if error.definition.as_deref() == Some(name) {
                error.definition = None;
            }
            error
        })
    }

    /// Checks a score definition as if it were added to the definitions (each dimension a
    /// number or a date, names, cycles).
    pub fn check_score(
        &self,
        name: &str,
        score: &ScoreDef,
        span: ensemble_syntax::Span,
    ) -> Result<(), CheckError> {
        let mut candidate = self.definitions().clone();
        let redefinition = candidate.contains(name);
        candidate.define_score(name, score.clone());
        let checker = self.over(&candidate);
        let mut lowerer = checker.lowerer();
        lowerer.check_only = !redefinition;
        lowerer.check_score(name, score, span).map_err(|mut error| {
            if error.definition.as_deref() == Some(name) {
                error.definition = None;
            }
            error
        })
    }

    fn field_type(
        &self,
        name: &str,
        expr: &Expr,
        check_only: bool,
    ) -> Result<ValueType, CheckError> {
        let mut lowerer = self.lowerer();
        lowerer.check_only = check_only;
        lowerer.stack.push(name.to_string());
        Ok(lowerer.value(expr)?.ty)
    }
}
