//! A session: a catalog, the definitions made so far, the evaluation date, and the steps of
//! evaluations (materialised, registered for SQL, reused while unchanged).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::common::Column;
use datafusion::datasource::{provider_as_source, TableProvider};
use datafusion::logical_expr::{
    ident, Expr as DfExpr, JoinType, LogicalPlan, LogicalPlanBuilder, TableSource,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use ensemble_compiler::plan as planner;
use ensemble_compiler::{
    build_graph, check_field, check_segment, CheckError, Definitions, StepGraph, StepOp,
};
use ensemble_syntax::{parse_script, parse_set_expr, AsOf, Diagnostic, SetExpr, StatementKind};

use crate::catalog::Catalog;
use crate::error::EngineError;
use crate::steps::{render_tree, Step, StepKind};

/// Where a definition's text came from, to render errors found in it later.
#[derive(Debug, Clone)]
struct DefinitionSource {
    text: Arc<str>,
    origin: String,
    /// The statement as written (canonical form), for `\save` and listings.
    statement: String,
}

/// A materialised step kept for reuse.
#[derive(Debug, Clone)]
struct CachedStep {
    table: Arc<MemTable>,
    count: usize,
    plan: String,
    named: bool,
}

/// Most cached steps kept beyond those of the last evaluation.
const MAX_CACHED_NAMED_STEPS: usize = 256;

/// The one grouped pass per related table that computed the per-member values.
#[derive(Debug, Clone)]
pub struct FeaturesPass {
    /// Members in the universe at the as-of date.
    pub rows: usize,
    /// Time spent.
    pub elapsed: Duration,
    /// The related tables scanned (once each).
    pub tables: Vec<String>,
    /// The DataFusion plan.
    pub plan: String,
}

/// The result of evaluating a set expression.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The evaluation date.
    pub as_of: NaiveDate,
    /// Every step, children before parents.
    pub steps: Vec<Step>,
    /// Index of the root step in `steps`.
    pub root: usize,
    /// The members (universe keys), sorted by key.
    pub members: Vec<RecordBatch>,
    /// The universe key column.
    pub key: String,
    /// The per-member aggregates pass, when one ran.
    pub features: Option<FeaturesPass>,
    /// Notes about how the expression was read.
    pub notes: Vec<Diagnostic>,
    /// Total wall time.
    pub elapsed: Duration,
}

impl Evaluation {
    /// Number of members of the result.
    pub fn count(&self) -> usize {
        self.steps[self.root].count
    }

    /// The step tree with counts (spec section 6).
    pub fn tree(&self) -> String {
        render_tree(&self.steps, self.root)
    }
}

/// What one statement did.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `as of …` set the evaluation date.
    AsOf(NaiveDate),
    /// A field was defined (or redefined).
    Field(String),
    /// A segment was defined (or redefined).
    Segment(String),
    /// A bare expression was evaluated.
    Evaluated(Box<Evaluation>),
}

/// What a script did, statement by statement.
#[derive(Debug, Clone, Default)]
pub struct ScriptRun {
    /// One outcome per statement, in order.
    pub outcomes: Vec<Outcome>,
    /// Notes about how the text was read.
    pub notes: Vec<Diagnostic>,
}

impl ScriptRun {
    /// The last evaluation of the script, if any.
    pub fn last_evaluation(&self) -> Option<&Evaluation> {
        self.outcomes.iter().rev().find_map(|o| match o {
            Outcome::Evaluated(e) => Some(e.as_ref()),
            _ => None,
        })
    }
}

/// Without evaluating: how an expression is read and the plans of its steps.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The fully parenthesised reading.
    pub parenthesized: String,
    /// Notes about how it was read.
    pub notes: Vec<Diagnostic>,
    /// The plan of the per-member aggregates pass, if the expression needs one.
    pub features_plan: Option<String>,
    /// `(id, label, expression, plan)` of each step.
    pub steps: Vec<(usize, String, String, String)>,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.parenthesized)?;
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        if let Some(plan) = &self.features_plan {
            writeln!(f, "\nfeatures (one pass per related table):\n{plan}")?;
        }
        for (id, label, text, plan) in &self.steps {
            let title = [label.as_str(), text.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("  ");
            writeln!(f, "\n#{id}  {title}\n{plan}")?;
        }
        Ok(())
    }
}

/// An interactive or scripted session over one catalog.
pub struct Session {
    ctx: SessionContext,
    catalog: Catalog,
    definitions: Definitions,
    sources: HashMap<String, DefinitionSource>,
    order: Vec<String>,
    as_of: Option<NaiveDate>,
    pinned_as_of: bool,
    cache: HashMap<String, CachedStep>,
    cache_order: Vec<String>,
    registered: Vec<String>,
    last: Option<Evaluation>,
    sizes: HashMap<String, usize>,
}

impl Session {
    /// Opens a session on the catalog file at `path`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Session, EngineError> {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        let catalog = Catalog::open(path.as_ref(), &ctx).await?;
        Ok(Session {
            ctx,
            catalog,
            definitions: Definitions::default(),
            sources: HashMap::new(),
            order: Vec::new(),
            as_of: None,
            pinned_as_of: false,
            cache: HashMap::new(),
            cache_order: Vec::new(),
            registered: Vec::new(),
            last: None,
            sizes: HashMap::new(),
        })
    }

    /// The DataFusion context: catalog tables and the last evaluation's steps are registered.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The opened catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The definitions made so far.
    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// The definitions as a script that recreates them, in definition order.
    pub fn definitions_script(&self) -> String {
        let mut out = String::new();
        if let Some(date) = self.as_of {
            out.push_str(&format!("as of {date};\n"));
        }
        for name in &self.order {
            if let Some(source) = self.sources.get(name) {
                out.push_str(&source.statement);
                out.push_str(";\n");
            }
        }
        out
    }

    /// The evaluation date: the one set, or today.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// Sets the evaluation date (`as of` statements may change it again).
    pub fn set_as_of(&mut self, date: NaiveDate) {
        self.as_of = Some(date);
    }

    /// Fixes the evaluation date: later `as of` statements are ignored (the CLI's `--as-of`
    /// wins over the script).
    pub fn pin_as_of(&mut self, date: NaiveDate) {
        self.as_of = Some(date);
        self.pinned_as_of = true;
    }

    /// Every definition in order: `(name, is a segment, statement as written, last size)`.
    pub fn listing(&self) -> Vec<(String, bool, String, Option<usize>)> {
        self.order
            .iter()
            .filter_map(|name| {
                let source = self.sources.get(name)?;
                let segment = self.definitions.segments.contains_key(name);
                Some((
                    name.clone(),
                    segment,
                    source.statement.clone(),
                    self.sizes.get(name).copied(),
                ))
            })
            .collect()
    }

    /// All members of a step or segment of the last evaluation with the universe's columns,
    /// sorted by key.
    pub async fn members_with_columns(&self, name: &str) -> Result<Vec<RecordBatch>, EngineError> {
        self.preview(name, usize::MAX).await
    }

    /// Forgets every cached step: the next evaluation recomputes everything.
    pub fn clear_cache(&mut self) {
        self.cache.clear();
        self.cache_order.clear();
    }

    /// The last evaluation, if any.
    pub fn last_evaluation(&self) -> Option<&Evaluation> {
        self.last.as_ref()
    }

    /// Runs every statement of `source` in order. A failing statement changes nothing; the
    /// statements before it stay applied.
    pub async fn run_script(
        &mut self,
        source: &str,
        origin: &str,
    ) -> Result<ScriptRun, EngineError> {
        let text: Arc<str> = Arc::from(source);
        let parsed = parse_script(source).map_err(|e| EngineError::Language {
            diagnostic: Box::new(e.diagnostic()),
            source_text: text.clone(),
            origin: origin.to_string(),
        })?;
        let mut run = ScriptRun {
            outcomes: Vec::new(),
            notes: parsed.notes.clone(),
        };
        for statement in &parsed.script.statements {
            let statement_text = statement.to_string();
            let outcome = match &statement.kind {
                StatementKind::AsOf(as_of) => {
                    if !self.pinned_as_of {
                        self.as_of = Some(match as_of {
                            AsOf::Today => chrono::Local::now().date_naive(),
                            AsOf::Date(date) => *date,
                        });
                    }
                    Outcome::AsOf(self.as_of())
                }
                StatementKind::Field { name, expr } => {
                    self.check_new_name(&name.name, name.span, &text, origin, false)?;
                    check_field(
                        &name.name,
                        expr,
                        &self.catalog.schema,
                        &self.definitions,
                        self.as_of(),
                    )
                    .map_err(|e| self.check_error(e, &text, origin, Some(&name.name)))?;
                    self.definitions.segments.remove(&name.name);
                    self.definitions
                        .fields
                        .insert(name.name.clone(), expr.clone());
                    self.remember(&name.name, &text, origin, statement_text);
                    Outcome::Field(name.name.clone())
                }
                StatementKind::Segment { name, expr } => {
                    self.check_new_name(&name.name, name.span, &text, origin, true)?;
                    check_segment(
                        &name.name,
                        expr,
                        &self.catalog.schema,
                        &self.definitions,
                        self.as_of(),
                    )
                    .map_err(|e| self.check_error(e, &text, origin, Some(&name.name)))?;
                    self.definitions.fields.remove(&name.name);
                    self.definitions
                        .segments
                        .insert(name.name.clone(), expr.clone());
                    self.remember(&name.name, &text, origin, statement_text);
                    Outcome::Segment(name.name.clone())
                }
                StatementKind::Evaluate(expr) => {
                    let notes = parsed
                        .notes
                        .iter()
                        .filter(|n| {
                            n.span.start >= statement.span.start && n.span.end <= statement.span.end
                        })
                        .cloned()
                        .collect();
                    let evaluation = self.evaluate_parsed(expr, notes, &text, origin).await?;
                    Outcome::Evaluated(Box::new(evaluation))
                }
                StatementKind::Partition { name } | StatementKind::Score { name } => {
                    return Err(self.language_error(
                        Diagnostic::error(
                            format!(
                                "'{}': partitions and scores are not available yet",
                                name.name
                            ),
                            statement.span,
                        ),
                        &text,
                        origin,
                    ));
                }
            };
            run.outcomes.push(outcome);
        }
        Ok(run)
    }

    /// Evaluates one set expression given as text.
    pub async fn evaluate(&mut self, expression: &str) -> Result<Evaluation, EngineError> {
        let text: Arc<str> = Arc::from(expression);
        let (expr, notes) = parse_set_expr(expression).map_err(|e| EngineError::Language {
            diagnostic: Box::new(e.diagnostic()),
            source_text: text.clone(),
            origin: "<expression>".into(),
        })?;
        self.evaluate_parsed(&expr, notes, &text, "<expression>")
            .await
    }

    /// How an expression is read, and the DataFusion plan of each of its steps, without
    /// running anything.
    pub fn explain(&self, expression: &str) -> Result<Explanation, EngineError> {
        let text: Arc<str> = Arc::from(expression);
        let origin = "<expression>";
        let (expr, notes) = parse_set_expr(expression).map_err(|e| EngineError::Language {
            diagnostic: Box::new(e.diagnostic()),
            source_text: text.clone(),
            origin: origin.into(),
        })?;
        let as_of = self.as_of();
        let graph = build_graph(&expr, &self.catalog.schema, &self.definitions, as_of)
            .map_err(|e| self.check_error(e, &text, origin, None))?;
        let key = self.catalog.schema.universe.key.clone();
        let needs = graph.needs();
        let features = if needs.aggregates.is_empty() && needs.columns.is_empty() {
            None
        } else {
            Some(self.features_plan(&needs, as_of)?)
        };
        let features_source = features
            .as_ref()
            .map(|(plan, _)| empty_source(plan.schema().inner().clone()));
        let key_schema = self.key_schema()?;
        let mut steps = Vec::new();
        for (index, node) in graph.steps.iter().enumerate() {
            let plan = match &node.op {
                StepOp::All => self.all_plan(as_of)?,
                StepOp::Criterion(leaf) => planner::criterion_plan(
                    features_source
                        .clone()
                        .unwrap_or_else(|| empty_source(key_schema.clone())),
                    &key,
                    leaf.predicate.clone(),
                )?,
                StepOp::Set { op, left, right } => planner::set_plan(
                    *op,
                    (
                        &format!("step_{}", left + 1),
                        empty_source(key_schema.clone()),
                    ),
                    (
                        &format!("step_{}", right + 1),
                        empty_source(key_schema.clone()),
                    ),
                    &key,
                )?,
            };
            let label = step_label(&graph, index);
            steps.push((
                index + 1,
                label,
                node.text.clone(),
                plan.display_indent().to_string(),
            ));
        }
        Ok(Explanation {
            parenthesized: expr.to_string(),
            notes,
            features_plan: features.map(|(plan, _)| plan.display_indent().to_string()),
            steps,
        })
    }

    /// Runs a SQL query over the catalog tables and the last evaluation's steps.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let frame = self
            .ctx
            .sql(query)
            .await
            .map_err(|e| EngineError::execution("SQL", e))?;
        frame
            .collect()
            .await
            .map_err(|e| EngineError::execution("SQL", e))
    }

    /// The first `limit` members of a step or segment of the last evaluation, joined with
    /// the universe's columns, sorted by key.
    pub async fn preview(&self, name: &str, limit: usize) -> Result<Vec<RecordBatch>, EngineError> {
        let table = self.step_table(name)?;
        let universe = &self.catalog.schema.universe;
        let key = &universe.key;
        let step_source = self.source(&table).await?;
        let universe_source = self.source(&universe.table).await?;
        let universe_scan =
            LogicalPlanBuilder::scan(universe.table.as_str(), universe_source, None)
                .and_then(|b| b.build())
                .map_err(|e| EngineError::execution("preview", e))?;
        let columns: Vec<DfExpr> = universe
            .schema
            .fields()
            .iter()
            .map(|f| DfExpr::Column(Column::new(Some(universe.table.as_str()), f.name())))
            .collect();
        let plan = LogicalPlanBuilder::scan(table.as_str(), step_source, None)
            .and_then(|b| {
                b.join(
                    universe_scan,
                    JoinType::Inner,
                    (
                        vec![Column::new(Some(table.as_str()), key)],
                        vec![Column::new(Some(universe.table.as_str()), key)],
                    ),
                    None,
                )
            })
            .and_then(|b| b.project(columns))
            .and_then(|b| b.sort(vec![ident(key).sort(true, false)]))
            .and_then(|b| {
                if limit == usize::MAX {
                    Ok(b)
                } else {
                    b.limit(0, Some(limit))
                }
            })
            .and_then(|b| b.build())
            .map_err(|e| EngineError::execution("preview", e))?;
        Ok(self.collect(plan, "preview").await?.0)
    }

    fn step_table(&self, name: &str) -> Result<String, EngineError> {
        let name = name.trim_start_matches('#');
        let steps = self
            .last
            .as_ref()
            .map(|e| e.steps.as_slice())
            .unwrap_or(&[]);
        let found = steps.iter().find(|s| {
            s.table == name || s.names.iter().any(|n| n == name) || s.id.to_string() == name
        });
        match found {
            Some(step) => Ok(step.table.clone()),
            None => {
                let candidates = steps.iter().flat_map(|s| {
                    std::iter::once(s.table.as_str()).chain(s.names.iter().map(String::as_str))
                });
                Err(EngineError::UnknownStep {
                    name: name.to_string(),
                    suggestion: ensemble_syntax::suggest(name, candidates),
                })
            }
        }
    }

    fn remember(&mut self, name: &str, text: &Arc<str>, origin: &str, statement: String) {
        self.sources.insert(
            name.to_string(),
            DefinitionSource {
                text: text.clone(),
                origin: origin.to_string(),
                statement,
            },
        );
        self.order.retain(|n| n != name);
        self.order.push(name.to_string());
    }

    /// Names that would clash with tables (segments are registered as tables) or columns.
    fn check_new_name(
        &self,
        name: &str,
        span: ensemble_syntax::Span,
        text: &Arc<str>,
        origin: &str,
        segment: bool,
    ) -> Result<(), EngineError> {
        let schema = &self.catalog.schema;
        let clash = if schema.table_names().any(|t| t == name) {
            Some(format!("'{name}' is already a table of the catalog"))
        } else if name.starts_with("step_") && name[5..].chars().all(|c| c.is_ascii_digit()) {
            Some(format!("'{name}' is reserved for evaluation steps"))
        } else if !segment && schema.universe.schema.field_with_name(name).is_ok() {
            Some(format!(
                "field '{name}' would hide the column {}.{name}",
                schema.universe.table
            ))
        } else {
            None
        };
        match clash {
            Some(message) => Err(self.language_error(
                Diagnostic::error(message, span).with_help("choose another name"),
                text,
                origin,
            )),
            None => Ok(()),
        }
    }

    fn language_error(&self, diagnostic: Diagnostic, text: &Arc<str>, origin: &str) -> EngineError {
        EngineError::Language {
            diagnostic: Box::new(diagnostic),
            source_text: text.clone(),
            origin: origin.to_string(),
        }
    }

    /// Renders a check error against the text its span points into: the current text, or the
    /// stored definition it was found in.
    fn check_error(
        &self,
        error: CheckError,
        text: &Arc<str>,
        origin: &str,
        defining: Option<&str>,
    ) -> EngineError {
        let mut diagnostic = error.diagnostic();
        match error.definition.as_deref() {
            Some(name) if Some(name) != defining => {
                if let Some(source) = self.sources.get(name) {
                    diagnostic.message =
                        format!("in the definition of '{name}': {}", diagnostic.message);
                    return EngineError::Language {
                        diagnostic: Box::new(diagnostic),
                        source_text: source.text.clone(),
                        origin: source.origin.clone(),
                    };
                }
                self.language_error(diagnostic, text, origin)
            }
            _ => self.language_error(diagnostic, text, origin),
        }
    }

    async fn evaluate_parsed(
        &mut self,
        expr: &SetExpr,
        notes: Vec<Diagnostic>,
        text: &Arc<str>,
        origin: &str,
    ) -> Result<Evaluation, EngineError> {
        let started = Instant::now();
        let as_of = self.as_of();
        let graph = build_graph(expr, &self.catalog.schema, &self.definitions, as_of)
            .map_err(|e| self.check_error(e, text, origin, None))?;
        let fingerprint = self.catalog.fingerprint();
        let cache_key = |key: &str| format!("{as_of}|{fingerprint:016x}|{key}");

        // The per-member values of every criterion leaf that must be (re)computed, in one
        // grouped pass per related table.
        let mut needs = ensemble_compiler::Needs::default();
        for node in &graph.steps {
            if let StepOp::Criterion(leaf) = &node.op {
                if !self.cache.contains_key(&cache_key(&node.key)) {
                    needs.extend(&leaf.needs);
                }
            }
        }
        let has_uncached_leaf = graph.steps.iter().any(|n| {
            matches!(n.op, StepOp::Criterion(_)) && !self.cache.contains_key(&cache_key(&n.key))
        });
        let mut features = None;
        let mut features_source = None;
        if has_uncached_leaf {
            let pass_started = Instant::now();
            let (plan, tables) = self.features_plan(&needs, as_of)?;
            let plan_text = plan.display_indent().to_string();
            let (table, rows) = self.materialise(plan, "the per-member aggregates").await?;
            features_source = Some(provider_as_source(table));
            features = Some(FeaturesPass {
                rows,
                elapsed: pass_started.elapsed(),
                tables,
                plan: plan_text,
            });
        }

        let key = self.catalog.schema.universe.key.clone();
        let mut tables: Vec<Arc<MemTable>> = Vec::with_capacity(graph.steps.len());
        let mut steps = Vec::with_capacity(graph.steps.len());
        let mut new_cache = HashMap::new();
        for (index, node) in graph.steps.iter().enumerate() {
            let id = index + 1;
            let step_started = Instant::now();
            let cached = self.cache.get(&cache_key(&node.key)).cloned();
            let (cached_step, reused) = match cached {
                Some(cached) => (cached, true),
                None => {
                    let plan = match &node.op {
                        StepOp::All => self.all_plan(as_of)?,
                        StepOp::Criterion(leaf) => planner::criterion_plan(
                            features_source
                                .clone()
                                .expect("the features pass ran for uncached leaves"),
                            &key,
                            leaf.predicate.clone(),
                        )?,
                        StepOp::Set { op, left, right } => planner::set_plan(
                            *op,
                            (
                                &format!("step_{}", left + 1),
                                provider_as_source(tables[*left].clone()),
                            ),
                            (
                                &format!("step_{}", right + 1),
                                provider_as_source(tables[*right].clone()),
                            ),
                            &key,
                        )?,
                    };
                    let plan_text = plan.display_indent().to_string();
                    let (table, count) = self.materialise(plan, &format!("step #{id}")).await?;
                    (
                        CachedStep {
                            table,
                            count,
                            plan: plan_text,
                            named: !node.names.is_empty(),
                        },
                        false,
                    )
                }
            };
            tables.push(cached_step.table.clone());
            steps.push(Step {
                id,
                table: format!("step_{id}"),
                names: node.names.clone(),
                kind: match &node.op {
                    StepOp::All => StepKind::All,
                    StepOp::Criterion(_) => StepKind::Criterion,
                    StepOp::Set { op, left, right } => StepKind::Set {
                        op: *op,
                        left: left + 1,
                        right: right + 1,
                    },
                },
                text: node.text.clone(),
                count: cached_step.count,
                elapsed: if reused {
                    Duration::ZERO
                } else {
                    step_started.elapsed()
                },
                reused,
                plan: cached_step.plan.clone(),
            });
            new_cache.insert(cache_key(&node.key), cached_step);
        }

        let root = graph.root();
        let members = self.sorted_members(tables[root].clone()).await?;
        self.register_steps(&steps, &tables)?;
        self.update_cache(new_cache);
        let evaluation = Evaluation {
            as_of,
            steps,
            root,
            members,
            key,
            features,
            notes,
            elapsed: started.elapsed(),
        };
        for step in &evaluation.steps {
            for name in &step.names {
                self.sizes.insert(name.clone(), step.count);
            }
        }
        self.last = Some(evaluation.clone());
        Ok(evaluation)
    }

    fn features_plan(
        &self,
        needs: &ensemble_compiler::Needs,
        as_of: NaiveDate,
    ) -> Result<(LogicalPlan, Vec<String>), EngineError> {
        let schema = &self.catalog.schema;
        let universe = planner::universe_plan(
            self.source_now(&schema.universe.table)?,
            &schema.universe,
            as_of,
            &needs.columns,
        )?;
        let mut by_table: std::collections::BTreeMap<&str, Vec<&ensemble_compiler::AggregateSpec>> =
            Default::default();
        for spec in needs.aggregates.values() {
            by_table.entry(spec.table.as_str()).or_default().push(spec);
        }
        let mut passes = Vec::new();
        let mut tables = Vec::new();
        for (table, specs) in by_table {
            let related = &schema.related[table];
            let (distinct, grouped): (Vec<_>, Vec<_>) = specs
                .into_iter()
                .partition(|s| s.func == ensemble_syntax::AggFunc::CountDistinct);
            if !grouped.is_empty() {
                let plan =
                    planner::aggregate_plan(self.source_now(table)?, related, as_of, &grouped)?;
                passes.push((plan, table.to_string(), grouped));
            }
            // Distinct counts take a two-step pass of their own (see `distinct_count_plan`).
            for (i, spec) in distinct.into_iter().enumerate() {
                let label = format!("{table}_distinct_{i}");
                let plan = planner::distinct_count_plan(
                    self.source_now(table)?,
                    related,
                    as_of,
                    spec,
                    &label,
                )?;
                passes.push((plan, label, vec![spec]));
            }
            tables.push(table.to_string());
        }
        let plan = planner::features_plan(universe, &schema.universe.key, &needs.columns, passes)?;
        Ok((plan, tables))
    }

    fn all_plan(&self, as_of: NaiveDate) -> Result<LogicalPlan, EngineError> {
        let universe = &self.catalog.schema.universe;
        Ok(planner::all_plan(
            self.source_now(&universe.table)?,
            universe,
            as_of,
        )?)
    }

    fn key_schema(&self) -> Result<SchemaRef, EngineError> {
        let universe = &self.catalog.schema.universe;
        let field = universe
            .schema
            .field_with_name(&universe.key)
            .map_err(|e| EngineError::execution("the universe key", e.into()))?;
        Ok(Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            field.clone(),
        ])))
    }

    /// The catalog table `name` as a plan source.
    fn source_now(&self, name: &str) -> Result<Arc<dyn TableSource>, EngineError> {
        let provider = self.catalog.providers.get(name).ok_or_else(|| {
            EngineError::execution(
                name,
                datafusion::error::DataFusionError::Plan(format!(
                    "table {name} is not in the catalog"
                )),
            )
        })?;
        Ok(provider_as_source(provider.clone()))
    }

    async fn source(&self, name: &str) -> Result<Arc<dyn TableSource>, EngineError> {
        let provider = self
            .ctx
            .table_provider(name)
            .await
            .map_err(|e| EngineError::execution(name, e))?;
        Ok(provider_as_source(provider))
    }

    async fn collect(
        &self,
        plan: LogicalPlan,
        context: &str,
    ) -> Result<(Vec<RecordBatch>, SchemaRef), EngineError> {
        let frame = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| EngineError::execution(context, e))?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame
            .collect()
            .await
            .map_err(|e| EngineError::execution(context, e))?;
        let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
        Ok((batches, schema))
    }

    /// Runs a plan and keeps its result in memory, spread over the session's partitions.
    async fn materialise(
        &self,
        plan: LogicalPlan,
        context: &str,
    ) -> Result<(Arc<MemTable>, usize), EngineError> {
        let (batches, schema) = self.collect(plan, context).await?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let partitions = self.ctx.copied_config().target_partitions().max(1);
        let mut split = vec![Vec::new(); partitions];
        for (i, batch) in batches.into_iter().enumerate() {
            split[i % partitions].push(batch);
        }
        let table =
            MemTable::try_new(schema, split).map_err(|e| EngineError::execution(context, e))?;
        Ok((Arc::new(table), rows))
    }

    async fn sorted_members(&self, table: Arc<MemTable>) -> Result<Vec<RecordBatch>, EngineError> {
        let key = &self.catalog.schema.universe.key;
        let plan = LogicalPlanBuilder::scan("result", provider_as_source(table), None)
            .and_then(|b| b.sort(vec![ident(key).sort(true, false)]))
            .and_then(|b| b.build())
            .map_err(|e| EngineError::execution("the result", e))?;
        Ok(self.collect(plan, "the result").await?.0)
    }

    /// Registers `step_N` and segment names for SQL, replacing the previous evaluation's.
    fn register_steps(
        &mut self,
        steps: &[Step],
        tables: &[Arc<MemTable>],
    ) -> Result<(), EngineError> {
        for name in self.registered.drain(..) {
            let _ = self.ctx.deregister_table(name.as_str());
        }
        for (step, table) in steps.iter().zip(tables) {
            for name in std::iter::once(&step.table).chain(&step.names) {
                let _ = self.ctx.deregister_table(name.as_str());
                self.ctx
                    .register_table(name.as_str(), table.clone() as Arc<dyn TableProvider>)
                    .map_err(|e| EngineError::execution(format!("registering {name}"), e))?;
                self.registered.push(name.clone());
            }
        }
        Ok(())
    }

    /// Keeps the steps of this evaluation and the named steps of earlier ones (bounded).
    fn update_cache(&mut self, fresh: HashMap<String, CachedStep>) {
        let mut kept: Vec<String> = self
            .cache_order
            .iter()
            .filter(|k| !fresh.contains_key(*k) && self.cache.get(*k).is_some_and(|c| c.named))
            .cloned()
            .collect();
        if kept.len() > MAX_CACHED_NAMED_STEPS {
            kept.drain(..kept.len() - MAX_CACHED_NAMED_STEPS);
        }
        let mut cache: HashMap<String, CachedStep> = kept
            .iter()
            .filter_map(|k| self.cache.remove(k).map(|c| (k.clone(), c)))
            .collect();
        let mut order = kept;
        for (key, step) in fresh {
            order.push(key.clone());
            cache.insert(key, step);
        }
        self.cache = cache;
        self.cache_order = order;
    }
}

fn step_label(graph: &StepGraph, index: usize) -> String {
    let node = &graph.steps[index];
    if !node.names.is_empty() {
        return node.names.join(", ");
    }
    match &node.op {
        StepOp::All => "all".into(),
        StepOp::Criterion(_) => String::new(),
        StepOp::Set { op, left, right } => format!("#{} {} #{}", left + 1, op.symbol(), right + 1),
    }
}

fn empty_source(schema: SchemaRef) -> Arc<dyn TableSource> {
    provider_as_source(Arc::new(datafusion::catalog::empty::EmptyTable::new(
        schema,
    )))
}
