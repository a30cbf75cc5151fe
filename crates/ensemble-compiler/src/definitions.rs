//! The session's named definitions, as the checker sees them.

use std::collections::BTreeMap;

use ensemble_syntax::{Expr, Ident, SetExpr, TierDef};

use crate::scores::ScoreDef;
use crate::types::ValueType;

/// A partition: exclusive tiers, the first matching tier wins.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionDef {
    /// The tiers in matching order.
    pub tiers: Vec<TierDef>,
    /// The `else` tier, which takes every member matching no tier.
    pub otherwise: Option<Ident>,
}

impl PartitionDef {
    /// The names of the tiers, `else` last.
    pub fn tier_names(&self) -> impl Iterator<Item = &str> {
        self.tiers
            .iter()
            .map(|t| t.name.name.as_str())
            .chain(self.otherwise.iter().map(|o| o.name.as_str()))
    }
}

/// Named fields, segments, partitions and scores defined so far (one namespace: defining a
/// name as one kind replaces a definition of another kind).
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    /// `field name = expr`.
    pub fields: BTreeMap<String, Expr>,
    /// `segment name = set-expr`.
    pub segments: BTreeMap<String, SetExpr>,
    /// `partition name { … }`.
    pub partitions: BTreeMap<String, PartitionDef>,
    /// `score name = rfm(…)`.
    pub scores: BTreeMap<String, ScoreDef>,
    /// The type of each field as found when it was checked: checking a new definition reads
    /// it instead of expanding the field again, so that checking a script is linear in its
    /// size. A field missing here is expanded.
    pub field_types: BTreeMap<String, ValueType>,
}

impl Definitions {
    /// Whether `name` is defined, as a field, a segment, a partition or a score.
    pub fn contains(&self, name: &str) -> bool {
        self.fields.contains_key(name)
            || self.segments.contains_key(name)
            || self.partitions.contains_key(name)
            || self.scores.contains_key(name)
    }

    /// Whether `name` denotes a set: a segment, a partition or a tier (`statut.vip`).
    pub fn names_a_set(&self, name: &str) -> bool {
        if self.segments.contains_key(name) || self.partitions.contains_key(name) {
            return true;
        }
        name.split_once('.').is_some_and(|(partition, tier)| {
            self.partitions
                .get(partition)
                .is_some_and(|p| p.tier_names().any(|t| t == tier))
        })
    }

    /// Forgets `name` whatever its kind; forgetting a field or a score forgets every known
    /// field type (fields using it may change type; they are found again by expansion).
    fn forget(&mut self, name: &str) {
        if self.fields.remove(name).is_some() || self.scores.remove(name).is_some() {
            self.field_types.clear();
        }
        self.segments.remove(name);
        self.partitions.remove(name);
    }

    /// Adds or replaces a field of type `ty`.
    pub fn define_field(&mut self, name: &str, expr: Expr, ty: ValueType) {
        if self.contains(name) {
            self.field_types.clear();
        }
        self.forget(name);
        self.fields.insert(name.to_string(), expr);
        self.field_types.insert(name.to_string(), ty);
    }

    /// Adds or replaces a segment.
    pub fn define_segment(&mut self, name: &str, expr: SetExpr) {
        self.forget(name);
        self.segments.insert(name.to_string(), expr);
    }

    /// Adds or replaces a partition.
    pub fn define_partition(&mut self, name: &str, partition: PartitionDef) {
        self.forget(name);
        self.partitions.insert(name.to_string(), partition);
    }

    /// Adds or replaces a score.
    pub fn define_score(&mut self, name: &str, score: ScoreDef) {
        if self.contains(name) {
            self.field_types.clear();
        }
        self.forget(name);
        self.scores.insert(name.to_string(), score);
    }
}
