//! The step store: materialised steps kept for reuse, the tables registered for SQL, the
//! last evaluation and the last size of each name. It decides nothing about what to compute
//! (that is `execute.rs`); it keeps what was computed.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::catalog::MemTable;
use datafusion::common::TableReference;
use datafusion::datasource::TableProvider;
use datafusion::prelude::SessionContext;

use super::results::Evaluation;
use crate::error::EngineError;

/// Most cached steps kept beyond those of the last evaluation.
const MAX_CACHED_NAMED_STEPS: usize = 256;

/// A materialised step kept for reuse.
#[derive(Debug, Clone)]
pub(super) struct CachedStep {
    pub(super) table: Arc<crate::member_table::MemberTable>,
    /// Its members' numbers (see `crate::members`).
    pub(super) members: Arc<roaring::RoaringBitmap>,
    pub(super) count: usize,
    pub(super) plan: String,
    /// Denoted by a name (a segment, a tier): kept across evaluations.
    pub(super) named: bool,
}

/// What a cached step is valid for: a step key at one date over one state of the data.
#[derive(Debug, Clone, Copy)]
pub(super) struct CacheScope {
    pub(super) as_of: NaiveDate,
    pub(super) fingerprint: u64,
}

impl CacheScope {
    /// The cache key of the step whose key is `key`.
    pub(super) fn key(&self, key: &str) -> String {
        format!("{}|{:016x}|{key}", self.as_of, self.fingerprint)
    }
}

/// The last features table: the per-member values of one evaluation date over one state of
/// the data, with what it holds.
#[derive(Debug, Clone)]
pub(super) struct CachedFeatures {
    /// `CacheScope::key` of the pass.
    pub(super) scope: String,
    /// Its columns: universe columns, aggregates and buckets.
    pub(super) needs: ensemble_compiler::Needs,
    /// The rows.
    pub(super) table: Arc<MemTable>,
    /// How many (one per member).
    pub(super) rows: usize,
}

impl CachedFeatures {
    /// Whether every value `needs` asks for is a column of this table.
    pub(super) fn covers(&self, needs: &ensemble_compiler::Needs) -> bool {
        needs.columns.is_subset(&self.needs.columns)
            && needs
                .aggregates
                .keys()
                .all(|k| self.needs.aggregates.contains_key(k))
            && needs
                .windows
                .keys()
                .all(|k| self.needs.windows.contains_key(k))
    }
}

/// The session's steps (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct StepStore {
    features: Option<CachedFeatures>,
    cache: HashMap<String, CachedStep>,
    order: Vec<String>,
    registered: Vec<String>,
    last: Option<Evaluation>,
    /// The last size of each name, with the date it was evaluated at.
    sizes: HashMap<String, (NaiveDate, usize)>,
}

impl StepStore {
    /// A cached step, by cache key.
    pub(super) fn get(&self, cache_key: &str) -> Option<&CachedStep> {
        self.cache.get(cache_key)
    }

    /// Forgets every cached step and the features table.
    pub(super) fn clear_cache(&mut self) {
        self.cache.clear();
        self.order.clear();
        self.features = None;
    }

    /// The last features table, if it was computed in `scope` (a `CacheScope::key`).
    pub(super) fn features(&self, scope: &str) -> Option<&CachedFeatures> {
        self.features.as_ref().filter(|f| f.scope == scope)
    }

    /// Keeps a features table (one at a time: it holds a row per member).
    pub(super) fn keep_features(&mut self, features: CachedFeatures) {
        self.features = Some(features);
    }

    /// The last evaluation.
    pub(super) fn last(&self) -> Option<&Evaluation> {
        self.last.as_ref()
    }

    /// The size of a segment, partition or tier at its last evaluation, if that evaluation was
    /// at `as_of` (and not forgotten since).
    pub(super) fn size(&self, name: &str, as_of: NaiveDate) -> Option<usize> {
        self.sizes
            .get(name)
            .filter(|(date, _)| *date == as_of)
            .map(|(_, size)| *size)
    }

    /// Forgets every size (a redefinition or a new date may change them).
    pub(super) fn forget_sizes(&mut self) {
        self.sizes.clear();
    }

    /// Makes `evaluation` the last one: its steps registered for SQL as `step_N` and under
    /// their names (replacing the previous evaluation's), its sizes recorded, and `fresh` kept
    /// in the cache with the named steps of earlier evaluations (bounded).
    pub(super) fn publish(
        &mut self,
        ctx: &SessionContext,
        evaluation: &Evaluation,
        tables: &[Arc<crate::member_table::MemberTable>],
        fresh: HashMap<String, CachedStep>,
    ) -> Result<(), EngineError> {
        self.register(ctx, evaluation, tables)?;
        self.keep(fresh);
        for step in &evaluation.steps {
            for name in &step.names {
                self.sizes
                    .insert(name.clone(), (evaluation.as_of, step.count));
            }
        }
        for partition in &evaluation.partitions {
            let inside = partition.tiers.iter().map(|t| t.2).sum();
            self.sizes
                .insert(partition.name.clone(), (evaluation.as_of, inside));
        }
        self.last = Some(evaluation.clone());
        Ok(())
    }

    /// Registers `step_N` and the step names (bare: a tier `statut.vip` is one table,
    /// queried as "statut.vip"), replacing the previous evaluation's.
    fn register(
        &mut self,
        ctx: &SessionContext,
        evaluation: &Evaluation,
        tables: &[Arc<crate::member_table::MemberTable>],
    ) -> Result<(), EngineError> {
        for name in self.registered.drain(..) {
            let _ = ctx.deregister_table(TableReference::bare(name.as_str()));
        }
        for (step, table) in evaluation.steps.iter().zip(tables) {
            for name in std::iter::once(&step.table).chain(&step.names) {
                let reference = TableReference::bare(name.as_str());
                let _ = ctx.deregister_table(reference.clone());
                ctx.register_table(reference, table.clone() as Arc<dyn TableProvider>)
                    .map_err(|e| EngineError::execution(format!("registering {name}"), e))?;
                self.registered.push(name.clone());
            }
        }
        Ok(())
    }

    /// Keeps the steps of this evaluation and the named steps of earlier ones (bounded).
    fn keep(&mut self, fresh: HashMap<String, CachedStep>) {
        let mut kept: Vec<String> = self
            .order
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
        self.order = order;
    }
}
