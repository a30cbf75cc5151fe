//! Evaluations and their steps, and `why`: every step's members, count, time and plan, as
//! Python objects whose members are Arrow data.

use std::sync::Arc;

use arrow::datatypes::Schema;
use chrono::NaiveDate;
use ensemble::{StepKind, Why as EngineWhy};
use pyo3::exceptions::{PyIndexError, PyKeyError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};

use crate::errors::InternalError;
use crate::html;
use crate::table::{Batches, Table};

/// The result of evaluating a set expression: its members (the universe keys, sorted) and
/// every step that computed them. `pyarrow.table(ev)` and `polars.DataFrame(ev)` read the
/// members.
#[pyclass(frozen, module = "ensemble", name = "Evaluation")]
pub struct Evaluation {
    pub(crate) inner: Arc<ensemble::Evaluation>,
}

impl Evaluation {
    /// Wraps an engine evaluation.
    pub(crate) fn new(inner: ensemble::Evaluation) -> Evaluation {
        Evaluation {
            inner: Arc::new(inner),
        }
    }

    fn members_data(&self) -> Batches {
        let schema = match self.inner.members.first() {
            Some(batch) => batch.schema(),
            None => self
                .inner
                .step_schema()
                .unwrap_or_else(|| Arc::new(Schema::empty())),
        };
        Batches::new(schema, self.inner.members.clone())
    }

    fn summary(&self) -> String {
        let count = self.inner.count();
        format!(
            "{} member{} as of {} in {:.1?}",
            ensemble::group_thousands(count),
            if count == 1 { "" } else { "s" },
            self.inner.as_of,
            self.inner.elapsed
        )
    }

    fn step_at(&self, index: usize) -> Step {
        Step {
            evaluation: self.inner.clone(),
            index,
        }
    }
}

#[pymethods]
impl Evaluation {
    /// Number of members.
    #[getter]
    fn count(&self) -> usize {
        self.inner.count()
    }

    /// The evaluation date.
    #[getter]
    fn as_of(&self) -> NaiveDate {
        self.inner.as_of
    }

    /// The expression, in canonical form.
    #[getter]
    fn expression(&self) -> String {
        self.inner.steps[self.inner.root].text.clone()
    }

    /// The universe key column (the members table's only column).
    #[getter]
    fn key(&self) -> String {
        self.inner.key.clone()
    }

    /// Total wall time, in seconds.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.inner.elapsed.as_secs_f64()
    }

    /// The members (universe keys, sorted), as an Arrow table.
    #[getter]
    fn members(&self) -> Table {
        Table::new(self.members_data())
    }

    /// Every step, children before parents; the last is the root.
    #[getter]
    fn steps(&self) -> Vec<Step> {
        (0..self.inner.steps.len())
            .map(|i| self.step_at(i))
            .collect()
    }

    /// The root step (the expression's result).
    #[getter]
    fn root(&self) -> Step {
        self.step_at(self.inner.root)
    }

    /// A step by id (`3` for `#3`) or by a name that denotes it (`"vip"`, `"statut.vip"`).
    fn step(&self, which: &Bound<'_, PyAny>) -> PyResult<Step> {
        let steps = &self.inner.steps;
        if let Ok(id) = which.extract::<usize>() {
            return match id.checked_sub(1).filter(|i| *i < steps.len()) {
                Some(index) => Ok(self.step_at(index)),
                None => Err(PyIndexError::new_err(format!(
                    "no step #{id}: this evaluation has steps #1 to #{}",
                    steps.len()
                ))),
            };
        }
        let name: String = which.extract()?;
        steps
            .iter()
            .position(|s| s.names.contains(&name) || s.table == name)
            .map(|index| self.step_at(index))
            .ok_or_else(|| {
                PyKeyError::new_err(format!("no step of this evaluation is named '{name}'"))
            })
    }

    /// One row per step, as an Arrow table: the engine's one steps table (id, step, label,
    /// kind, operator, operands, expression, members, elapsed_ms, reused, plan).
    fn steps_table(&self) -> PyResult<Table> {
        let batch = ensemble::steps_batch(&self.inner.steps)
            .map_err(|e| InternalError::new_err(format!("the steps table: {e}")))?;
        Ok(Table::new(Batches::new(batch.schema(), vec![batch])))
    }

    /// The step tree with counts, as the terminal prints it.
    #[getter]
    fn tree(&self) -> String {
        self.inner.tree()
    }

    /// Notes about how the expression was read (precedence, for example).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.notes.iter().map(|n| n.message.clone()).collect()
    }

    /// The partitions whose tiers were computed: `{name: {tier: members}}`, tiers in matching
    /// order.
    #[getter]
    fn partitions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let partitions = PyDict::new(py);
        for partition in &self.inner.partitions {
            let tiers = PyDict::new(py);
            for (tier, _, members) in &partition.tiers {
                tiers.set_item(tier, members)?;
            }
            partitions.set_item(&partition.name, tiers)?;
        }
        Ok(partitions)
    }

    /// The members' Arrow C stream (Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.members_data().stream(py, requested_schema)
    }

    /// The members' Arrow C schema (Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        self.members_data().schema_capsule(py)
    }

    fn __len__(&self) -> usize {
        self.inner.count()
    }

    pub(crate) fn __repr__(&self) -> String {
        format!("{}{}", self.inner.tree(), self.summary())
    }

    pub(crate) fn _repr_html_(&self) -> String {
        let mut out = html::pre(&self.inner.tree());
        for note in &self.inner.notes {
            out.push_str(&format!(
                "<div style=\"color:#666\">note: {}</div>",
                html::escape(&note.message)
            ));
        }
        out.push_str(&format!("<div>{}</div>", html::escape(&self.summary())));
        out
    }
}

/// One materialised step of an evaluation: a criterion leaf, `all`, or a set operation.
/// `pyarrow.table(step)` reads its members.
#[pyclass(frozen, module = "ensemble", name = "Step")]
pub struct Step {
    evaluation: Arc<ensemble::Evaluation>,
    index: usize,
}

impl Step {
    fn step(&self) -> &ensemble::Step {
        &self.evaluation.steps[self.index]
    }

    fn members_data(&self) -> PyResult<Batches> {
        let id = self.step().id;
        let batches = self
            .evaluation
            .step_members(id)
            .ok_or_else(|| InternalError::new_err(format!("step #{id} has no members table")))?;
        let schema = match batches.first() {
            Some(batch) => batch.schema(),
            None => self
                .evaluation
                .step_schema()
                .unwrap_or_else(|| Arc::new(Schema::empty())),
        };
        Ok(Batches::new(schema, batches))
    }
}

#[pymethods]
impl Step {
    /// 1-based id (`3` for `#3`), children before parents.
    #[getter]
    fn id(&self) -> usize {
        self.step().id
    }

    /// The short label of the step tree: its names, or `#a op #b`.
    #[getter]
    fn label(&self) -> String {
        self.step().label()
    }

    /// Segment (or tier) names that denote the step.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.step().names.clone()
    }

    /// The table the session registered it under for SQL (`step_3`), while this is its last
    /// evaluation.
    #[getter]
    fn table(&self) -> String {
        self.step().table.clone()
    }

    /// `"all"`, `"criterion"` or `"set"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.step().kind.name()
    }

    /// For a set operation: `(symbol, operand ids)`, for example `("∩", [2, 3])`; a union,
    /// intersection or symmetric difference lists all its operands.
    #[getter]
    fn operation(&self) -> Option<(String, Vec<usize>)> {
        match &self.step().kind {
            StepKind::Set { op, operands } => Some((op.symbol().to_string(), operands.clone())),
            _ => None,
        }
    }

    /// The expression, in canonical form.
    #[getter]
    fn expression(&self) -> String {
        self.step().text.clone()
    }

    /// Number of members.
    #[getter]
    fn count(&self) -> usize {
        self.step().count
    }

    /// Time spent computing it, in seconds (zero when reused).
    #[getter]
    fn elapsed(&self) -> f64 {
        self.step().elapsed.as_secs_f64()
    }

    /// Whether it was reused from an earlier evaluation.
    #[getter]
    fn reused(&self) -> bool {
        self.step().reused
    }

    /// The DataFusion logical plan that computed it.
    #[getter]
    fn plan(&self) -> String {
        self.step().plan.clone()
    }

    /// Its members (universe keys), as an Arrow table.
    #[getter]
    fn members(&self) -> PyResult<Table> {
        Ok(Table::new(self.members_data()?))
    }

    /// The members' Arrow C stream (Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.members_data()?.stream(py, requested_schema)
    }

    /// The members' Arrow C schema (Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        self.members_data()?.schema_capsule(py)
    }

    fn __len__(&self) -> usize {
        self.step().count
    }

    fn __repr__(&self) -> String {
        let step = self.step();
        let label = step.label();
        let title = [label.as_str(), step.text.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("  ");
        format!(
            "<Step #{} {title}: {} members{}>",
            step.id,
            ensemble::group_thousands(step.count),
            if step.reused { " (reused)" } else { "" }
        )
    }
}

/// Why a member is in or out of an expression: the values its leaves read and, at every step,
/// whether it is in.
#[pyclass(frozen, module = "ensemble", name = "Why")]
pub struct Why {
    pub(crate) inner: EngineWhy,
    evaluation: Arc<ensemble::Evaluation>,
}

impl Why {
    /// Wraps an engine explanation.
    pub(crate) fn new(inner: EngineWhy) -> Why {
        let evaluation = Arc::new(inner.evaluation.clone());
        Why { inner, evaluation }
    }
}

#[pymethods]
impl Why {
    /// The member key, as given.
    #[getter]
    fn key(&self) -> String {
        self.inner.key.clone()
    }

    /// The expression.
    #[getter]
    fn expression(&self) -> String {
        self.inner.expression.clone()
    }

    /// Whether the member is in the result.
    #[getter]
    fn is_member(&self) -> bool {
        self.inner.is_member()
    }

    /// Whether the member is in the universe at the evaluation date.
    #[getter]
    fn in_universe(&self) -> bool {
        self.inner.in_universe
    }

    /// `{what: value}` for every value the leaves read, in order (values as text).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let values = PyDict::new(py);
        for (what, value) in &self.inner.values {
            values.set_item(what, value)?;
        }
        Ok(values)
    }

    /// Whether the member is in each step (`{step id: in}`).
    #[getter]
    fn membership<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let membership = PyDict::new(py);
        for (step, inside) in self
            .inner
            .evaluation
            .steps
            .iter()
            .zip(&self.inner.membership)
        {
            membership.set_item(step.id, *inside)?;
        }
        Ok(membership)
    }

    /// The evaluation behind the explanation.
    #[getter]
    fn evaluation(&self) -> Evaluation {
        Evaluation {
            inner: self.evaluation.clone(),
        }
    }

    fn __bool__(&self) -> bool {
        self.inner.is_member()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        self.inner.to_string()
    }

    fn _repr_html_(&self) -> String {
        html::pre(&self.inner.to_string())
    }
}
