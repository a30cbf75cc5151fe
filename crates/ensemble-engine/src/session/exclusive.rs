//! Checking that existing sets behave like tiers: pairwise disjoint (exclusive) and covering
//! the universe (complete), with the count and a few member keys of every overlap and of the
//! gap. A partition is both by construction; this checks segments written by hand.

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::*;

/// How many member keys an overlap or the gap shows.
const EXAMPLES: usize = 5;

/// Members shared by two sets, or in none of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// What it is: `a ∩ b`, or `all − (a ∪ b ∪ …)` for the gap.
    pub expression: String,
    /// How many members.
    pub count: usize,
    /// The first few member keys, in key order.
    pub examples: Vec<String>,
}

/// What [`Session::check_exclusive`] found.
#[derive(Debug, Clone)]
pub struct Exclusivity {
    /// Each set and its size.
    pub sets: Vec<(String, usize)>,
    /// Every pair of sets that shares members.
    pub overlaps: Vec<Overlap>,
    /// The members of the universe in none of the sets.
    pub gap: Overlap,
    /// The evaluation date.
    pub as_of: NaiveDate,
}

impl Exclusivity {
    /// No two sets share a member.
    pub fn is_exclusive(&self) -> bool {
        self.overlaps.is_empty()
    }

    /// Every member of the universe is in one of the sets.
    pub fn is_complete(&self) -> bool {
        self.gap.count == 0
    }
}

impl std::fmt::Display for Exclusivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let yes_no = |ok: bool| if ok { "yes" } else { "no" };
        writeln!(
            f,
            "as of {}: exclusive: {} ({} overlapping pair(s)); complete: {} ({} member(s) in none)",
            self.as_of,
            yes_no(self.is_exclusive()),
            self.overlaps.len(),
            yes_no(self.is_complete()),
            crate::group_thousands(self.gap.count)
        )?;
        let rows: Vec<&Overlap> = self.overlaps.iter().chain([&self.gap]).collect();
        let width = rows.iter().map(|o| o.expression.chars().count()).max();
        for overlap in rows.into_iter().filter(|o| o.count > 0) {
            writeln!(
                f,
                "  {:width$}  {:>10}  e.g. {}",
                overlap.expression,
                crate::group_thousands(overlap.count),
                overlap.examples.join(", "),
                width = width.unwrap_or(0)
            )?;
        }
        Ok(())
    }
}

impl Session {
    /// Evaluates each set expression of `sets` (segments, tiers, any expression), every
    /// pairwise intersection and the members of the universe in none, and reports the
    /// overlaps and the gap with their counts and a few member keys.
    pub async fn check_exclusive(&mut self, sets: &[String]) -> Result<Exclusivity, EngineError> {
        let mut sizes = Vec::with_capacity(sets.len());
        for set in sets {
            sizes.push((set.clone(), self.evaluate(set).await?.count()));
        }
        let operand = |set: &String| format!("({set})");
        let mut overlaps = Vec::new();
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                let expression = format!("{} ∩ {}", operand(a), operand(b));
                let overlap = self.members_of(&expression).await?;
                if overlap.count > 0 {
                    overlaps.push(Overlap {
                        expression: format!("{a} ∩ {b}"),
                        ..overlap
                    });
                }
            }
        }
        let union = sets.iter().map(operand).collect::<Vec<_>>().join(" ∪ ");
        let mut gap = self.members_of(&format!("all − ({union})")).await?;
        gap.expression = "in none".into();
        Ok(Exclusivity {
            sets: sizes,
            overlaps,
            gap,
            as_of: self.as_of(),
        })
    }

    async fn members_of(&mut self, expression: &str) -> Result<Overlap, EngineError> {
        let evaluation = self.evaluate(expression).await?;
        let mut examples = Vec::new();
        let options = FormatOptions::default();
        'batches: for batch in &evaluation.members {
            let formatter = ArrayFormatter::try_new(batch.column(0).as_ref(), &options)
                .map_err(|e| EngineError::execution("member keys", e.into()))?;
            for row in 0..batch.num_rows() {
                if examples.len() == EXAMPLES {
                    break 'batches;
                }
                examples.push(formatter.value(row).to_string());
            }
        }
        Ok(Overlap {
            expression: expression.to_string(),
            count: evaluation.count(),
            examples,
        })
    }
}
