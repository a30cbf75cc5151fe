//! Partitions in the step DAG: exclusive tiers, the first matching tier wins.
//!
//! With the tiers' own sets `c₁ … cₙ`, tier 1 is `c₁`, tier `i` is `cᵢ − (c₁ ∪ … ∪ cᵢ₋₁)` and
//! `else` is `all − (c₁ ∪ … ∪ cₙ)`. The running unions are steps shared by the tiers, so a
//! partition of n tiers costs n leaves and about 2n set operations, each a step with its
//! count. Tiers are therefore pairwise disjoint and, with `else`, cover the universe.

use ensemble_syntax::{suggest, Ident, SetOp, Span};

use crate::definitions::PartitionDef;
use crate::error::{CheckError, CheckErrorKind};
use crate::graph::{GraphBuilder, PartitionSteps, StepOp};

impl GraphBuilder<'_> {
    /// `partition.tier`: the tier's step.
    pub(crate) fn tier(&mut self, partition: &Ident, tier: &Ident) -> Result<usize, CheckError> {
        let position = self.partition(&partition.name, partition.span)?;
        let steps = &self.partitions[position];
        if let Some((_, index)) = steps.tiers.iter().find(|(name, _)| *name == tier.name) {
            return Ok(*index);
        }
        let names = steps.tiers.iter().map(|(name, _)| name.as_str());
        Err(CheckError::new(
            CheckErrorKind::UnknownName,
            format!("partition '{}' has no tier '{}'", partition.name, tier.name),
            tier.span,
        )
        .with_suggestion(suggest(&tier.name, names).map(|t| format!("{}.{t}", partition.name))))
    }

    /// A partition's name used as a set: the members of its tiers (with `else`, every member).
    pub(crate) fn whole_partition(&mut self, name: &str, span: Span) -> Result<usize, CheckError> {
        let position = self.partition(name, span)?;
        let tiers: Vec<usize> = self.partitions[position]
            .tiers
            .iter()
            .map(|(_, index)| *index)
            .collect();
        // One union of every tier (a partition has at least one).
        match tiers.as_slice() {
            [only] => Ok(*only),
            _ => Ok(self.set_step(SetOp::Union, tiers, name.to_string())),
        }
    }

    /// Expands a partition once per graph; returns its position in `self.partitions`.
    fn partition(&mut self, name: &str, span: Span) -> Result<usize, CheckError> {
        if let Some(position) = self.partitions.iter().position(|p| p.name == name) {
            return Ok(position);
        }
        if let Some(start) = self.segment_stack.iter().position(|n| n == name) {
            return Err(crate::criteria::cycle_error(
                &self.segment_stack[start..],
                name,
                span,
            ));
        }
        let definitions = self.definitions;
        let Some(partition) = definitions.partitions.get(name) else {
            return Err(self.unknown_partition(name, span));
        };
        let tiers = if self.check_only && self.defining.as_deref() != Some(name) {
            // Checked when it was defined: each tier stands for itself.
            partition
                .tier_names()
                .map(|tier| {
                    let key = format!("tier {name}.{tier}");
                    let index = self.add(key, StepOp::All, format!("{name}.{tier}"));
                    (tier.to_string(), index)
                })
                .collect()
        } else {
            self.segment_stack.push(name.to_string());
            let outer = self.lowerer.current_segment.replace(name.to_string());
            let tiers = self.expand_tiers(name, partition).map_err(|mut error| {
                error.definition.get_or_insert_with(|| name.to_string());
                error
            });
            self.lowerer.current_segment = outer;
            self.segment_stack.pop();
            tiers?
        };
        self.partitions.push(PartitionSteps {
            name: name.to_string(),
            tiers,
            outside: None,
            evaluated: false,
        });
        Ok(self.partitions.len() - 1)
    }

    fn expand_tiers(
        &mut self,
        name: &str,
        partition: &PartitionDef,
    ) -> Result<Vec<(String, usize)>, CheckError> {
        let mut tiers = Vec::new();
        let mut earlier: Option<usize> = None;
        for tier in &partition.tiers {
            let own = self.node(&tier.expr)?;
            let step = match earlier {
                None => own,
                Some(earlier) => {
                    let text = format!("{} − earlier tiers of {name}", tier.expr);
                    self.set_step(SetOp::Difference, vec![own, earlier], text)
                }
            };
            self.name_step(step, format!("{name}.{}", tier.name.name));
            tiers.push((tier.name.name.clone(), step));
            earlier = Some(match earlier {
                None => own,
                Some(earlier) => {
                    let text = format!("{name}: matched by a tier up to {}", tier.name.name);
                    self.set_step(SetOp::Union, vec![earlier, own], text)
                }
            });
        }
        if let (Some(rest), Some(matched)) = (&partition.otherwise, earlier) {
            let all = self.add("all".into(), StepOp::All, "all".into());
            let text = format!("all − every tier of {name}");
            let step = self.set_step(SetOp::Difference, vec![all, matched], text);
            self.name_step(step, format!("{name}.{}", rest.name));
            tiers.push((rest.name.clone(), step));
        }
        Ok(tiers)
    }

    fn name_step(&mut self, index: usize, name: String) {
        let names = &mut self.steps[index].names;
        if !names.contains(&name) {
            names.push(name);
        }
    }

    fn unknown_partition(&self, name: &str, span: Span) -> CheckError {
        if self.definitions.segments.contains_key(name) {
            return CheckError::new(
                CheckErrorKind::Type,
                format!("'{name}' is a segment, not a partition: it has no tiers"),
                span,
            );
        }
        let candidates = self.definitions.partitions.keys().map(String::as_str);
        CheckError::new(
            CheckErrorKind::UnknownName,
            format!("unknown partition '{name}'"),
            span,
        )
        .with_suggestion(suggest(name, candidates))
    }
}
