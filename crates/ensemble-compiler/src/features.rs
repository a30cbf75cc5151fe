//! The plan of the per-member values of an evaluation, as the plan stage decides it from what
//! the criterion leaves read ([`Needs`]): the universe columns, one pass per related table
//! (every aggregate over it in one grouped scan; each `count_distinct` in a two-step pass of
//! its own), and the bucket scores computed over those rows. [`crate::plan::lower_features`]
//! lowers it to one DataFusion plan.

use std::collections::{BTreeMap, BTreeSet};

use ensemble_syntax::AggFunc;

use crate::criteria::{AggregateSpec, Needs, WindowSpec};

/// How a pass scans its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// One grouped scan computing every aggregate of the pass, each with its own filter.
    Grouped,
    /// Distinct `(member, value)` pairs, then a count per member (`count_distinct`).
    DistinctCount,
}

/// One scan of a related table.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePass<'a> {
    /// The related table.
    pub table: &'a str,
    /// The pass's name in the plan (its member column is `__member_{label}`).
    pub label: String,
    /// How it scans.
    pub kind: PassKind,
    /// The aggregates it computes.
    pub aggregates: Vec<&'a AggregateSpec>,
}

/// The per-member values of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct FeaturesSpec<'a> {
    /// Universe columns the leaves read.
    pub columns: &'a BTreeSet<String>,
    /// The passes over related tables.
    pub passes: Vec<TablePass<'a>>,
    /// The bucket scores, computed over the joined rows.
    pub buckets: Vec<&'a WindowSpec>,
}

impl Needs {
    /// The passes and buckets that compute these needs.
    pub fn features(&self) -> FeaturesSpec<'_> {
        let mut by_table: BTreeMap<&str, Vec<&AggregateSpec>> = BTreeMap::new();
        for spec in self.aggregates.values() {
            by_table.entry(spec.table.as_str()).or_default().push(spec);
        }
        let mut passes = Vec::new();
        for (table, specs) in by_table {
            let (distinct, grouped): (Vec<_>, Vec<_>) = specs
                .into_iter()
                .partition(|s| s.func == AggFunc::CountDistinct);
            if !grouped.is_empty() {
                passes.push(TablePass {
                    table,
                    label: table.to_string(),
                    kind: PassKind::Grouped,
                    aggregates: grouped,
                });
            }
            for (i, spec) in distinct.into_iter().enumerate() {
                passes.push(TablePass {
                    table,
                    label: format!("{table}_distinct_{i}"),
                    kind: PassKind::DistinctCount,
                    aggregates: vec![spec],
                });
            }
        }
        FeaturesSpec {
            columns: &self.columns,
            passes,
            buckets: self.windows.values().collect(),
        }
    }
}

impl Needs {
    /// What these needs ask for beyond `known`: universe columns, aggregates and buckets
    /// `known` does not have (fields are not features: left out).
    pub fn beyond(&self, known: &Needs) -> Needs {
        Needs {
            columns: self.columns.difference(&known.columns).cloned().collect(),
            aggregates: self
                .aggregates
                .iter()
                .filter(|(name, _)| !known.aggregates.contains_key(*name))
                .map(|(name, spec)| (name.clone(), spec.clone()))
                .collect(),
            windows: self
                .windows
                .iter()
                .filter(|(name, _)| !known.windows.contains_key(*name))
                .map(|(name, spec)| (name.clone(), spec.clone()))
                .collect(),
            fields: BTreeMap::new(),
        }
    }

    /// Nothing asked for.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.aggregates.is_empty() && self.windows.is_empty()
    }
}

impl FeaturesSpec<'_> {
    /// The related tables scanned, each once, in order.
    pub fn tables(&self) -> Vec<String> {
        let mut tables: Vec<String> = self.passes.iter().map(|p| p.table.to_string()).collect();
        tables.dedup();
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, table: &str, func: AggFunc) -> (String, AggregateSpec) {
        let spec = AggregateSpec {
            name: name.into(),
            table: table.into(),
            func,
            column: Some("x".into()),
            filter: None,
        };
        (name.to_string(), spec)
    }

    #[test]
    fn one_grouped_pass_per_table_and_one_per_distinct_count() {
        let needs = Needs {
            aggregates: BTreeMap::from([
                spec("sum(purchases.x)", "purchases", AggFunc::Sum),
                spec("max(purchases.x)", "purchases", AggFunc::Max),
                spec(
                    "count_distinct(purchases.x)",
                    "purchases",
                    AggFunc::CountDistinct,
                ),
                spec("count(visits)", "visits", AggFunc::Count),
            ]),
            ..Needs::default()
        };
        let features = needs.features();
        let passes: Vec<(&str, PassKind, usize)> = features
            .passes
            .iter()
            .map(|p| (p.label.as_str(), p.kind, p.aggregates.len()))
            .collect();
        assert_eq!(
            passes,
            [
                ("purchases", PassKind::Grouped, 2),
                ("purchases_distinct_0", PassKind::DistinctCount, 1),
                ("visits", PassKind::Grouped, 1),
            ]
        );
        assert_eq!(features.tables(), ["purchases", "visits"]);
    }
}
