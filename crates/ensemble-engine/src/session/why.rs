//! `why`: for one member and one expression, every value the leaves read and, at every step
//! of the tree, whether the member is in or out.

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::logical_expr::{cast, lit};

use super::script::EXPRESSION_ORIGIN;
use super::*;

/// Why a member is in or out of an expression, node by node.
#[derive(Debug, Clone)]
pub struct Why {
    /// The member key, as given.
    pub key: String,
    /// The expression, as written.
    pub expression: String,
    /// Whether the member is in the universe at the evaluation date.
    pub in_universe: bool,
    /// `(what, value)` of every universe column, aggregate, bucket score and field the
    /// criterion leaves read, for this member.
    pub values: Vec<(String, String)>,
    /// The evaluation (every step, with its count).
    pub evaluation: Evaluation,
    /// Whether the member is in each step (same order as `evaluation.steps`).
    pub membership: Vec<bool>,
}

impl Why {
    /// Whether the member is in the result.
    pub fn is_member(&self) -> bool {
        self.membership[self.evaluation.root]
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let as_of = self.evaluation.as_of;
        if !self.in_universe {
            writeln!(
                f,
                "member {} is not in the universe at {as_of}: it is in no step",
                self.key
            )?;
        } else {
            let verdict = if self.is_member() { "IN" } else { "OUT" };
            writeln!(
                f,
                "member {} at {as_of}: {verdict} {}",
                self.key, self.expression
            )?;
        }
        if !self.values.is_empty() && self.in_universe {
            writeln!(f, "\nvalues read")?;
            let width = self.values.iter().map(|v| v.0.chars().count()).max();
            for (what, value) in &self.values {
                writeln!(f, "  {what:width$}  {value}", width = width.unwrap_or(0))?;
            }
        }
        writeln!(f)?;
        let membership = &self.membership;
        let steps = &self.evaluation.steps;
        let tree = render_tree_with(steps, self.evaluation.root, &|step| {
            let inside = membership[step.id - 1];
            format!(
                "{}  of {}",
                if inside { "in " } else { "out" },
                crate::group_thousands(step.count)
            )
        });
        f.write_str(&tree)
    }
}

impl Session {
    /// Evaluates `expression` and explains, for the member whose key is `key` (compared as
    /// text), the values its leaves read and whether it is in each step.
    pub async fn why(&mut self, key: &str, expression: &str) -> Result<Why, EngineError> {
        let (expr, notes, text) = self.start_expression(expression)?;
        let origin = EXPRESSION_ORIGIN;
        self.why_parsed(key, &expr, notes, &text, origin).await
    }

    /// Explains `key`'s membership of `expression` (as [`Session::why`]) at `as_of`, leaving
    /// the session's evaluation date as it was.
    pub async fn why_at(
        &mut self,
        key: &str,
        expression: &str,
        as_of: NaiveDate,
    ) -> Result<Why, EngineError> {
        let _at = self.at_date(as_of);
        self.why(key, expression).await
    }

    /// Applies a script's definitions, then explains `key`'s membership of its last bare
    /// expression (earlier bare expressions are checked, not evaluated).
    pub async fn why_script(
        &mut self,
        key: &str,
        source: &str,
        origin: &str,
    ) -> Result<Option<Why>, EngineError> {
        match self.define_all(source, origin)? {
            None => Ok(None),
            Some(last) => self
                .why_parsed(key, &last.expr, last.notes, &last.text, origin)
                .await
                .map(Some),
        }
    }

    async fn why_parsed(
        &mut self,
        key: &str,
        expr: &SetExpr,
        notes: Vec<Diagnostic>,
        text: &Arc<str>,
        origin: &str,
    ) -> Result<Why, EngineError> {
        let started = Instant::now();
        let graph = self
            .checker()
            .graph(expr)
            .map_err(|e| self.check_error(e, text, origin, None))?;
        let needs = graph.needs();
        let evaluation = self
            .evaluate_graph(graph, notes, started)
            .await
            .map_err(|error| self.locate_overflow(error, text, origin))?;
        let universe_key = self.catalog.schema.universe.key.clone();
        let is_key = cast(
            ident(&universe_key),
            datafusion::arrow::datatypes::DataType::Utf8,
        )
        .eq(lit(key.to_string()));
        let mut membership = Vec::with_capacity(evaluation.steps.len());
        for step in &evaluation.steps {
            let source = self.source(&step.table).await?;
            let plan = LogicalPlanBuilder::scan(step.table.as_str(), source, None)
                .and_then(|b| b.filter(is_key.clone()))
                .and_then(|b| b.build())
                .map_err(|e| EngineError::execution("why", e))?;
            let (batches, _) = self.collect(plan, "why").await?;
            membership.push(batches.iter().any(|b| b.num_rows() > 0));
        }
        let (in_universe, values) = self.member_values(&needs, is_key).await?;
        Ok(Why {
            key: key.to_string(),
            expression: expr.to_string(),
            in_universe,
            values,
            evaluation,
            membership,
        })
    }

    /// The member's row of the features table: every value the leaves read.
    async fn member_values(
        &self,
        needs: &ensemble_compiler::Needs,
        is_key: DfExpr,
    ) -> Result<(bool, Vec<(String, String)>), EngineError> {
        let (plan, _) = self.features_plan(needs, self.as_of())?;
        let mut labels = Vec::new();
        let mut outputs = Vec::new();
        let mut add = |label: String, expr: DfExpr| {
            if !labels.contains(&label) {
                outputs.push(expr.alias(format!("__why_{}", labels.len())));
                labels.push(label);
            }
        };
        for column in &needs.columns {
            add(column.clone(), ident(column));
        }
        for aggregate in needs.aggregates.keys() {
            add(aggregate.clone(), ident(aggregate));
        }
        for window in needs.windows.values() {
            add(window.label.clone(), ident(&window.name));
        }
        for (field, expr) in &needs.fields {
            add(format!("{field} (field)"), expr.to_df());
        }
        let mut builder = LogicalPlanBuilder::from(plan)
            .filter(is_key)
            .map_err(|e| EngineError::execution("why", e))?;
        if !outputs.is_empty() {
            builder = builder
                .project(outputs)
                .map_err(|e| EngineError::execution("why", e))?;
        }
        let plan = builder
            .build()
            .map_err(|e| EngineError::execution("why", e))?;
        let (batches, _) = self.collect(plan, "the member's values").await?;
        let Some(batch) = batches.into_iter().find(|b| b.num_rows() > 0) else {
            return Ok((false, Vec::new()));
        };
        let options = FormatOptions::default().with_null("null");
        let mut values = Vec::with_capacity(labels.len());
        for (label, column) in labels.into_iter().zip(batch.columns()) {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options)
                .map_err(|e| EngineError::execution("why", e.into()))?;
            values.push((label, formatter.value(0).to_string()));
        }
        Ok((true, values))
    }
}
