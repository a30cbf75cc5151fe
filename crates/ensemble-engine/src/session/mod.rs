//! A session: a catalog, the definitions made so far, the evaluation date, and the steps of
//! evaluations (materialised, registered for SQL, reused while unchanged).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::common::Column;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{
    ident, Expr as DfExpr, JoinType, LogicalPlan, LogicalPlanBuilder, TableSource,
};
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use ensemble_compiler::plan as planner;
use ensemble_compiler::{ArithmeticOverflow, CheckError, Checker, Definitions, StepGraph, StepOp};
use ensemble_syntax::{parse_script, parse_set_expr, Diagnostic, SetExpr, StatementKind};

use crate::catalog::Catalog;
use crate::error::EngineError;
use crate::options::SessionOptions;
use crate::steps::{render_tree, render_tree_with, Step, StepKind};

mod exclusive;
mod execute;
mod features;
mod inspect;
mod lookahead;
mod overlaps;
mod prefetch;
mod reports;
mod results;
mod script;
mod store;
mod why;

pub use exclusive::{Exclusivity, Overlap};
pub use overlaps::Overlaps;
pub use reports::{Audience, AudienceSpec};

pub use results::{
    Evaluation, Explanation, FeaturesPass, Outcome, PartitionCounts, ScriptCheck, ScriptRun,
};
pub use why::Why;

/// Where a definition's text came from, to render errors found in it later.
#[derive(Debug, Clone)]
struct DefinitionSource {
    text: Arc<str>,
    origin: String,
    /// The statement as written (canonical form), for `\save` and listings.
    statement: String,
}

/// What kind of definition a name has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionKind {
    /// `field`.
    Field,
    /// `segment`.
    Segment,
    /// `partition`.
    Partition,
    /// `score`.
    Score,
}

impl std::fmt::Display for DefinitionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DefinitionKind::Field => "field",
            DefinitionKind::Segment => "segment",
            DefinitionKind::Partition => "partition",
            DefinitionKind::Score => "score",
        })
    }
}

/// One definition of the session, as `\segments` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: DefinitionKind,
    /// The statement as written (canonical form).
    pub statement: String,
    /// Members at the last evaluation that computed it at the current date and definitions
    /// (segments and partitions).
    pub size: Option<usize>,
    /// A partition's tiers (`statut.vip`) with their sizes.
    pub tiers: Vec<(String, Option<usize>)>,
}

/// Stops a session's running check, plan or evaluation from another thread or task (the
/// REPL's Ctrl-C): the statement fails with [`EngineError::Cancelled`] and changes nothing.
#[derive(Debug, Clone, Default)]
pub struct Interrupter(Arc<AtomicBool>);

impl Interrupter {
    /// Asks the running statement to stop.
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether an interrupt is pending.
    pub fn is_interrupted(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// The evaluation date of an inner evaluation, set while it lives (see `Session::at_date`).
pub(super) struct DateOverride {
    slot: Arc<std::sync::Mutex<Option<NaiveDate>>>,
    previous: Option<NaiveDate>,
}

impl Drop for DateOverride {
    fn drop(&mut self) {
        if let Ok(mut current) = self.slot.lock() {
            *current = self.previous;
        }
    }
}

/// An interactive or scripted session over one catalog.
pub struct Session {
    ctx: SessionContext,
    interrupt: Interrupter,
    catalog: Catalog,
    definitions: Definitions,
    sources: HashMap<String, DefinitionSource>,
    order: Vec<String>,
    as_of: Option<NaiveDate>,
    /// The date of the evaluations of a report over time or of `evaluate_at`, while they run
    /// (see [`DateOverride`]).
    date_override: Arc<std::sync::Mutex<Option<NaiveDate>>>,
    pinned_as_of: bool,
    store: store::StepStore,
    /// While a script runs: what its bare expressions will read, by date, for the first
    /// features pass to compute at once (see `lookahead`); set for the span of a script or
    /// report by a `prefetch::PrefetchScope`, which restores it even when dropped midway.
    prefetch: prefetch::Prefetch,
    /// The member numbers, with the data fingerprint they were built (and the universe keys
    /// checked) for.
    members: Option<(u64, Arc<crate::members::MemberIndex>)>,
    /// Told how far a long report got (see [`Session::on_progress`]).
    progress: Option<ProgressHook>,
}

/// Called as a report over several dates evaluates each one: `(done, total, what)`.
pub type ProgressHook = Arc<dyn Fn(usize, usize, &str) + Send + Sync>;

impl Session {
    /// Opens a session on the catalog file at `path`, with the default options.
    pub async fn open(path: impl AsRef<Path>) -> Result<Session, EngineError> {
        Session::open_with(path, &SessionOptions::default()).await
    }

    /// Opens a session on the catalog file at `path`.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: &SessionOptions,
    ) -> Result<Session, EngineError> {
        let config = SessionConfig::new().with_information_schema(true);
        // The catalog's own limit; a catalog that cannot be read is reported by `open`.
        let setting = ensemble_catalog::CatalogFile::read(path.as_ref())
            .ok()
            .and_then(|file| file.memory_limit);
        let ctx = SessionContext::new_with_config_rt(config, options.runtime(setting.as_deref())?);
        let catalog = Catalog::open(path.as_ref(), &ctx).await?;
        Ok(Session {
            ctx,
            interrupt: Interrupter::default(),
            catalog,
            definitions: Definitions::default(),
            sources: HashMap::new(),
            order: Vec::new(),
            as_of: None,
            date_override: Arc::default(),
            pinned_as_of: false,
            store: store::StepStore::default(),
            prefetch: HashMap::new(),
            members: None,
            progress: None,
        })
    }

    /// Reports over several dates (`trend`, `transition`) call `hook` after each date, so a
    /// terminal can show their progress; `None` stops the calls.
    pub fn on_progress(&mut self, hook: Option<ProgressHook>) {
        self.progress = hook;
    }

    /// Tells the progress hook, if any, that `done` of `total` steps of `what` are done.
    pub(super) fn tell_progress(&self, done: usize, total: usize, what: &str) {
        if let Some(hook) = &self.progress {
            hook(done, total, what);
        }
    }

    /// A handle that stops this session's running statement (checking, planning or
    /// executing) from another task or thread. Each statement starts uninterrupted.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupt.clone()
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

    /// The evaluation date: the one set (`as of`, `--as-of`), else the catalog's default
    /// (`as_of` in the catalog file, written by the generator), else today.
    pub fn as_of(&self) -> NaiveDate {
        self.overridden_date()
            .or(self.as_of)
            .or(self.catalog.as_of)
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// Where the evaluation date comes from: `"set"`, `"catalog"` or `"today"`.
    pub fn as_of_origin(&self) -> &'static str {
        match (self.overridden_date().or(self.as_of), self.catalog.as_of) {
            (Some(_), _) => "set",
            (None, Some(_)) => "catalog",
            (None, None) => "today",
        }
    }

    fn overridden_date(&self) -> Option<NaiveDate> {
        self.date_override.lock().ok().and_then(|date| *date)
    }

    /// Evaluates at `date` until the returned guard is dropped — also when the statement's
    /// future is dropped midway (an interrupt), so that the session's date is never left
    /// changed.
    pub(super) fn at_date(&self, date: NaiveDate) -> DateOverride {
        let slot = self.date_override.clone();
        let previous = slot
            .lock()
            .ok()
            .and_then(|mut current| current.replace(date));
        DateOverride { slot, previous }
    }

    /// Sets the evaluation date (`as of` statements may change it again).
    pub fn set_as_of(&mut self, date: NaiveDate) {
        if date != self.as_of() {
            self.store.forget_sizes();
        }
        self.as_of = Some(date);
    }

    /// Fixes the evaluation date: later `as of` statements are ignored (the CLI's `--as-of`
    /// wins over the script).
    pub fn pin_as_of(&mut self, date: NaiveDate) {
        self.set_as_of(date);
        self.pinned_as_of = true;
    }

    /// Every definition in order, with its last size (and, for a partition, its tiers').
    pub fn listing(&self) -> Vec<Listed> {
        let as_of = self.as_of();
        self.order
            .iter()
            .filter_map(|name| {
                let source = self.sources.get(name)?;
                let definitions = &self.definitions;
                let kind = if definitions.segments.contains_key(name) {
                    DefinitionKind::Segment
                } else if definitions.partitions.contains_key(name) {
                    DefinitionKind::Partition
                } else if definitions.scores.contains_key(name) {
                    DefinitionKind::Score
                } else {
                    DefinitionKind::Field
                };
                let tiers = definitions
                    .partitions
                    .get(name)
                    .map(|p| {
                        p.tier_names()
                            .map(|tier| {
                                let full = format!("{name}.{tier}");
                                let size = self.store.size(&full, as_of);
                                (full, size)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Some(Listed {
                    name: name.clone(),
                    kind,
                    statement: source.statement.clone(),
                    size: self.store.size(name, as_of),
                    tiers,
                })
            })
            .collect()
    }

    /// Reads the catalog file and its tables' schemas again (after an import or a change
    /// of the file). Definitions are kept; cached steps are dropped. On error the session
    /// keeps the catalog it had.
    pub async fn reload_catalog(&mut self) -> Result<(), EngineError> {
        let path = self.catalog.path.clone();
        let catalog = Catalog::open(&path, &self.ctx).await?;
        // Tables the new catalog no longer has must not stay queryable.
        for name in self.catalog.providers.keys() {
            if !catalog.providers.contains_key(name) {
                let _ = self.ctx.deregister_table(name.as_str());
            }
        }
        self.catalog = catalog;
        self.members = None;
        self.clear_cache();
        Ok(())
    }

    /// Forgets every cached step: the next evaluation recomputes everything.
    pub fn clear_cache(&mut self) {
        self.store.clear_cache();
    }

    /// The last evaluation, if any.
    pub fn last_evaluation(&self) -> Option<&Evaluation> {
        self.store.last()
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
        StepOp::Set { op, operands } => {
            let ids: Vec<usize> = operands.iter().map(|i| i + 1).collect();
            crate::steps::set_label(*op, &ids)
        }
    }
}

fn empty_source(schema: SchemaRef) -> Arc<dyn TableSource> {
    provider_as_source(Arc::new(datafusion::catalog::empty::EmptyTable::new(
        schema,
    )))
}
