//! From a set expression to the DAG of steps that evaluates it.
//!
//! Every node, leaf or set operation, becomes a step. Steps are numbered children first (as
//! the spec's step tree shows them) and identical sub-expressions share one step: a step's
//! key is the canonical text of what it computes, with fields inlined, segments expanded and
//! the operands of commutative operations sorted.

use std::collections::HashMap;

use chrono::NaiveDate;
use datafusion::logical_expr::Expr as DfExpr;
use ensemble_syntax::{SetExpr, SetExprKind, SetOp, Span};

use crate::catalog::CatalogSchema;
use crate::criteria::{cycle_error, CriterionLowerer, Needs};
use crate::definitions::Definitions;
use crate::error::{CheckError, CheckErrorKind};

/// A criterion leaf, lowered.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The predicate over the features table.
    pub predicate: DfExpr,
    /// The universe columns and aggregates the predicate reads.
    pub needs: Needs,
}

/// What a step computes.
#[derive(Debug, Clone)]
pub enum StepOp {
    /// The whole universe at the as-of date.
    All,
    /// The members for whom a criterion holds.
    Criterion(Leaf),
    /// A set operation on two earlier steps (indices into [`StepGraph::steps`]).
    Set {
        /// The operation.
        op: SetOp,
        /// Left input.
        left: usize,
        /// Right input.
        right: usize,
    },
}

/// One step of the DAG.
#[derive(Debug, Clone)]
pub struct StepNode {
    /// Canonical text of what the step computes: equal keys, equal members (for one as-of
    /// date and one state of the data).
    pub key: String,
    /// What it computes.
    pub op: StepOp,
    /// Segment names that denote this step.
    pub names: Vec<String>,
    /// The expression as the user wrote it (canonical form, names not expanded).
    pub text: String,
}

/// The steps of one expression, children before parents; the last step is the root.
#[derive(Debug, Clone)]
pub struct StepGraph {
    /// The steps.
    pub steps: Vec<StepNode>,
}

impl StepGraph {
    /// Index of the root step.
    pub fn root(&self) -> usize {
        self.steps.len() - 1
    }

    /// Everything the criterion leaves need, merged.
    pub fn needs(&self) -> Needs {
        let mut needs = Needs::default();
        for step in &self.steps {
            if let StepOp::Criterion(leaf) = &step.op {
                needs.extend(&leaf.needs);
            }
        }
        needs
    }
}

/// Checks `expr` against the catalog and the definitions and builds its step DAG (with a
/// stack deep enough for the deepest tree the parser accepts).
pub fn build_graph(
    expr: &SetExpr,
    catalog: &CatalogSchema,
    definitions: &Definitions,
    as_of: NaiveDate,
) -> Result<StepGraph, CheckError> {
    ensemble_syntax::stack::with_large_stack(|| build_graph_here(expr, catalog, definitions, as_of))
}

fn build_graph_here(
    expr: &SetExpr,
    catalog: &CatalogSchema,
    definitions: &Definitions,
    as_of: NaiveDate,
) -> Result<StepGraph, CheckError> {
    let mut builder = GraphBuilder {
        lowerer: CriterionLowerer::new(catalog, definitions, as_of),
        definitions,
        steps: Vec::new(),
        by_key: HashMap::new(),
        segment_stack: Vec::new(),
    };
    builder.node(expr)?;
    Ok(StepGraph {
        steps: builder.steps,
    })
}

struct GraphBuilder<'a> {
    lowerer: CriterionLowerer<'a>,
    definitions: &'a Definitions,
    steps: Vec<StepNode>,
    by_key: HashMap<String, usize>,
    segment_stack: Vec<String>,
}

impl GraphBuilder<'_> {
    fn node(&mut self, expr: &SetExpr) -> Result<usize, CheckError> {
        match &expr.kind {
            SetExprKind::All => Ok(self.add("all".into(), StepOp::All, expr.to_string())),
            SetExprKind::Criterion(criterion) => {
                self.lowerer.needs = Needs::default();
                let predicate = self.lowerer.criterion(criterion)?;
                let needs = std::mem::take(&mut self.lowerer.needs);
                let key = format!("[{predicate}]");
                Ok(self.add(
                    key,
                    StepOp::Criterion(Leaf { predicate, needs }),
                    expr.to_string(),
                ))
            }
            SetExprKind::Segment(name) => self.segment(&name.name, name.span),
            SetExprKind::Tier { partition, .. } => Err(CheckError::new(
                CheckErrorKind::Unsupported,
                format!(
                    "unknown partition '{}': partitions are not available yet",
                    partition.name
                ),
                expr.span,
            )),
            SetExprKind::Binary { op, left, right } => {
                let left = self.node(left)?;
                let right = self.node(right)?;
                let (a, b) = (&self.steps[left].key, &self.steps[right].key);
                let key = match op {
                    SetOp::Difference => format!("({a} {} {b})", op.symbol()),
                    // Commutative: `a ∩ b` and `b ∩ a` are one step.
                    _ => {
                        let (a, b) = if a <= b { (a, b) } else { (b, a) };
                        format!("({a} {} {b})", op.symbol())
                    }
                };
                Ok(self.add(
                    key,
                    StepOp::Set {
                        op: *op,
                        left,
                        right,
                    },
                    expr.to_string(),
                ))
            }
        }
    }

    fn segment(&mut self, name: &str, span: Span) -> Result<usize, CheckError> {
        let definitions = self.definitions;
        let Some(body) = definitions.segments.get(name) else {
            return Err(self.unknown_segment(name, span));
        };
        if let Some(start) = self.segment_stack.iter().position(|n| n == name) {
            return Err(cycle_error(&self.segment_stack[start..], name, span));
        }
        self.segment_stack.push(name.to_string());
        let index = self.node(body).map_err(|mut error| {
            error.definition.get_or_insert_with(|| name.to_string());
            error
        });
        self.segment_stack.pop();
        let index = index?;
        let step = &mut self.steps[index];
        if !step.names.iter().any(|n| n == name) {
            step.names.push(name.to_string());
        }
        Ok(index)
    }

    fn unknown_segment(&self, name: &str, span: Span) -> CheckError {
        if self.definitions.fields.contains_key(name) {
            return CheckError::new(
                CheckErrorKind::Type,
                format!("'{name}' is a field, not a segment"),
                span,
            )
            .with_help(format!("use it in a criterion, for example [{name} > 0]"));
        }
        let candidates = self.definitions.segments.keys().map(String::as_str);
        CheckError::new(
            CheckErrorKind::UnknownName,
            format!("unknown segment '{name}'"),
            span,
        )
        .with_suggestion(ensemble_syntax::suggest(name, candidates))
    }

    fn add(&mut self, key: String, op: StepOp, text: String) -> usize {
        if let Some(&index) = self.by_key.get(&key) {
            return index;
        }
        let index = self.steps.len();
        self.by_key.insert(key.clone(), index);
        self.steps.push(StepNode {
            key,
            op,
            names: Vec::new(),
            text,
        });
        index
    }
}
