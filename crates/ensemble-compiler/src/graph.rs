//! From a set expression to the DAG of steps that evaluates it.
//!
//! Every node, leaf or set operation, becomes a step. Steps are numbered children first (as
//! the spec's step tree shows them) and identical sub-expressions share one step: a step's
//! key is the canonical text of what it computes, with fields inlined, segments expanded and
//! the operands of commutative operations sorted.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use ensemble_syntax::{SetExpr, SetExprKind, SetOp, Span};

use crate::catalog::CatalogSchema;
use crate::criteria::{cycle_error, CriterionLowerer, Needs};
use crate::definitions::Definitions;
use crate::error::{CheckError, CheckErrorKind};

/// A criterion leaf, checked.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The predicate over the features table (lowered to DataFusion when planned).
    pub predicate: crate::value::Value,
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
    /// A set operation on earlier steps (indices into [`StepGraph::steps`]): two for a
    /// difference, two or more for `∪`, `∩` and `Δ`, computed in one pass over all of them.
    Set {
        /// The operation.
        op: SetOp,
        /// The inputs, in the order written.
        operands: Vec<usize>,
    },
}

/// One step of the DAG.
#[derive(Debug, Clone)]
pub struct StepNode {
    /// Canonical text of what the step computes, written from the language's tree with
    /// fields inlined and score fields written as buckets: equal keys, equal members (for
    /// one as-of date and one state of the data). An operand whose key is longer than 96 bytes appears
    /// as a 128-bit BLAKE3 digest of it (stable across Rust versions and platforms), so that
    /// keys stay short however deep the definitions nest.
    pub key: String,
    /// What it computes.
    pub op: StepOp,
    /// Segment names that denote this step.
    pub names: Vec<String>,
    /// The expression as the user wrote it (canonical form, names not expanded).
    pub text: String,
}

/// The steps of a partition's tiers within a graph.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionSteps {
    /// The partition's name.
    pub name: String,
    /// `(tier name, step index)` in matching order, `else` last.
    pub tiers: Vec<(String, usize)>,
    /// The members of the universe matching no tier (a partition without `else`), when the
    /// partition itself was evaluated.
    pub outside: Option<usize>,
    /// Whether the expression evaluated is the partition itself (`statut;`).
    pub evaluated: bool,
}

/// The steps of one expression, children before parents.
#[derive(Debug, Clone)]
pub struct StepGraph {
    /// The steps.
    pub steps: Vec<StepNode>,
    /// Index of the root step (the last one, except that the members outside a partition
    /// evaluated by itself come after it).
    pub root: usize,
    /// The partitions whose tiers the graph computes.
    pub partitions: Vec<PartitionSteps>,
}

impl StepGraph {
    /// Index of the root step.
    pub fn root(&self) -> usize {
        self.root
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
    Checker::new(catalog, definitions, as_of).graph(expr)
}

/// Checks and builds step DAGs for one catalog, set of definitions and evaluation date,
/// optionally interrupted from another thread.
///
/// Every segment and field is expanded once per graph, however often it is used, and step
/// keys stay short (see [`StepNode::key`]), so the work is linear in the size of the
/// definitions reached.
#[derive(Clone, Copy)]
pub struct Checker<'a> {
    catalog: &'a CatalogSchema,
    definitions: &'a Definitions,
    as_of: NaiveDate,
    cancel: Option<&'a AtomicBool>,
}

impl<'a> Checker<'a> {
    /// A checker over `catalog` and `definitions`, evaluating as of the end of `as_of`.
    pub fn new(catalog: &'a CatalogSchema, definitions: &'a Definitions, as_of: NaiveDate) -> Self {
        Checker {
            catalog,
            definitions,
            as_of,
            cancel: None,
        }
    }

    /// The definitions checked against.
    pub fn definitions(&self) -> &'a Definitions {
        self.definitions
    }

    /// The same checker over other definitions.
    pub(crate) fn over<'b>(&self, definitions: &'b Definitions) -> Checker<'b>
    where
        'a: 'b,
    {
        Checker {
            catalog: self.catalog,
            definitions,
            as_of: self.as_of,
            cancel: self.cancel,
        }
    }

    /// Stops with a [`crate::CheckErrorKind::Cancelled`] error as soon as `flag` is set.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Checks `expr` and builds its step DAG.
    pub fn graph(&self, expr: &SetExpr) -> Result<StepGraph, CheckError> {
        ensemble_syntax::stack::with_large_stack(|| {
            let mut builder = self.builder(None);
            let root = builder.root(expr)?;
            Ok(StepGraph {
                steps: builder.steps,
                root,
                partitions: builder.partitions,
            })
        })
    }

    /// Checks a new definition's body. Segments and fields defined earlier were checked when
    /// they were defined: they are not expanded again, only `defining` itself (a cycle).
    /// `defining` must not be defined yet (a redefinition is checked by expansion, since
    /// earlier definitions may use it).
    pub(crate) fn check_new_segment(
        &self,
        defining: &str,
        expr: &SetExpr,
    ) -> Result<(), CheckError> {
        ensemble_syntax::stack::with_large_stack(|| {
            let mut builder = self.builder(Some(defining));
            builder.segment_stack.push(defining.to_string());
            builder.node(expr).map(|_| ())
        })
    }

    /// A lowerer with this checker's settings.
    pub(crate) fn lowerer(&self) -> CriterionLowerer<'a> {
        let mut lowerer = CriterionLowerer::new(self.catalog, self.definitions, self.as_of);
        lowerer.cancel = self.cancel;
        lowerer
    }

    pub(crate) fn builder(&self, check_only: Option<&str>) -> GraphBuilder<'a> {
        let mut lowerer = self.lowerer();
        lowerer.check_only = check_only.is_some();
        GraphBuilder {
            lowerer,
            definitions: self.definitions,
            steps: Vec::new(),
            by_key: HashMap::new(),
            segment_steps: HashMap::new(),
            segment_stack: Vec::new(),
            check_only: check_only.is_some(),
            partitions: Vec::new(),
            defining: check_only.map(str::to_string),
        }
    }
}

/// Longest child key written out in a parent's key; a longer one is replaced by its digest.
const MAX_INLINE_KEY: usize = 96;

/// A child's key as it appears in its parent's key: itself when short, else `{digest}`. A
/// digest cannot be mistaken for a written-out key (those start with `[`, `(` or `all`).
pub(crate) fn key_part(key: &str) -> Cow<'_, str> {
    if key.len() <= MAX_INLINE_KEY {
        return Cow::Borrowed(key);
    }
    // The first 128 bits of the key's BLAKE3 hash: the same on every platform and Rust
    // version, so that keys can be compared across processes and releases.
    let digest = blake3::hash(key.as_bytes());
    let hex: String = digest.as_bytes()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Cow::Owned(format!("{{{hex}}}"))
}

pub(crate) struct GraphBuilder<'a> {
    pub(crate) lowerer: CriterionLowerer<'a>,
    pub(crate) definitions: &'a Definitions,
    pub(crate) steps: Vec<StepNode>,
    by_key: HashMap<String, usize>,
    /// The step of each segment expanded so far: a segment used many times is built once.
    segment_steps: HashMap<String, usize>,
    pub(crate) segment_stack: Vec<String>,
    /// Checking a new definition: earlier segments are not expanded.
    pub(crate) check_only: bool,
    /// The partitions expanded so far.
    pub(crate) partitions: Vec<PartitionSteps>,
    /// The definition being checked (check-only mode): the one name that is expanded.
    pub(crate) defining: Option<String>,
}

impl GraphBuilder<'_> {
    pub(crate) fn node(&mut self, expr: &SetExpr) -> Result<usize, CheckError> {
        self.lowerer.check_cancelled(expr.span)?;
        match &expr.kind {
            SetExprKind::All => Ok(self.add("all".into(), StepOp::All, expr.to_string())),
            SetExprKind::Criterion(criterion) => {
                self.lowerer.needs = Needs::default();
                let predicate = self.lowerer.criterion(criterion)?;
                let needs = std::mem::take(&mut self.lowerer.needs);
                // The key is written from the language's tree (fields inlined); checking
                // only, it just tells steps apart.
                let key = if self.check_only {
                    format!("[{predicate}]")
                } else {
                    format!("[{}]", self.lowerer.keys.key(criterion))
                };
                Ok(self.add(
                    key,
                    StepOp::Criterion(Leaf { predicate, needs }),
                    expr.to_string(),
                ))
            }
            SetExprKind::Segment(name) if self.definitions.partitions.contains_key(&name.name) => {
                self.whole_partition(&name.name, name.span)
            }
            SetExprKind::Segment(name) => self.segment(&name.name, name.span),
            SetExprKind::Tier { partition, tier } => self.tier(partition, tier),
            SetExprKind::Operation { op, operands } => {
                let operands = operands
                    .iter()
                    .map(|operand| self.node(operand))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.set_step(*op, operands, expr.to_string()))
            }
        }
    }

    /// The root of a graph: a partition evaluated by itself also counts the members
    /// outside it (when it has no `else`).
    fn root(&mut self, expr: &SetExpr) -> Result<usize, CheckError> {
        let index = self.node(expr)?;
        if let SetExprKind::Segment(name) = &expr.kind {
            let position = self.partitions.iter().position(|p| p.name == name.name);
            if let Some(position) = position {
                self.partitions[position].evaluated = true;
            }
            let without_else = self
                .definitions
                .partitions
                .get(&name.name)
                .is_some_and(|p| p.otherwise.is_none());
            if let (Some(position), true, false) = (position, without_else, self.check_only) {
                let all = self.add("all".into(), StepOp::All, "all".into());
                let text = format!("all − {}", name.name);
                let outside = self.set_step(SetOp::Difference, vec![all, index], text);
                self.partitions[position].outside = Some(outside);
            }
        }
        Ok(index)
    }

    /// A set operation on steps, keyed by its operands (those of commutative operations
    /// sorted: `a ∩ b` and `b ∩ a` are one step).
    pub(crate) fn set_step(&mut self, op: SetOp, operands: Vec<usize>, text: String) -> usize {
        let mut parts: Vec<Cow<'_, str>> = operands
            .iter()
            .map(|&operand| key_part(&self.steps[operand].key))
            .collect();
        if op.is_associative() {
            parts.sort_unstable();
        }
        let key = format!("({})", parts.join(&format!(" {} ", op.symbol())));
        self.add(key, StepOp::Set { op, operands }, text)
    }

    fn segment(&mut self, name: &str, span: Span) -> Result<usize, CheckError> {
        if let Some(start) = self.segment_stack.iter().position(|n| n == name) {
            return Err(cycle_error(&self.segment_stack[start..], name, span));
        }
        if let Some(&index) = self.segment_steps.get(name) {
            return Ok(index);
        }
        let definitions = self.definitions;
        let Some(body) = definitions.segments.get(name) else {
            return Err(self.unknown_segment(name, span));
        };
        if self.check_only {
            // Checked when it was defined; it stands for itself.
            let index = self.add(format!("segment {name}"), StepOp::All, name.to_string());
            self.segment_steps.insert(name.to_string(), index);
            return Ok(index);
        }
        self.segment_stack.push(name.to_string());
        let outer = self.lowerer.current_segment.replace(name.to_string());
        let index = self.node(body).map_err(|mut error| {
            error.definition.get_or_insert_with(|| name.to_string());
            error
        });
        self.lowerer.current_segment = outer;
        self.segment_stack.pop();
        let index = index?;
        self.segment_steps.insert(name.to_string(), index);
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

    pub(crate) fn add(&mut self, key: String, op: StepOp, text: String) -> usize {
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
