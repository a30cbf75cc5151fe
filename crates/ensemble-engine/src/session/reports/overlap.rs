//! `overlap a, b, c`: pairwise intersections and every exact combination, on member numbers.

use super::*;
use crate::report::{Combination, OverlapReport};

impl Session {
    /// Evaluates each set (reusing the session's steps), then counts every pair and every
    /// exact combination of the sets.
    pub(super) async fn overlap_report(
        &mut self,
        sets: &[SetExpr],
        source: &Source<'_>,
    ) -> Result<OverlapReport, EngineError> {
        let targets = self.targets(sets);
        if targets.len() < 2 {
            let span = sets.first().map_or(Span::new(0, 0), |s| s.span);
            return Err(self.language_error(
                Diagnostic::error("an overlap needs two sets or more", span).with_help(
                    "list the sets: 'overlap a, b, c' (a partition stands for its tiers)",
                ),
                source.text,
                source.origin,
            ));
        }
        let date = self.as_of();
        self.prefetch_targets(&targets, &[date]);
        let mut members = Vec::with_capacity(targets.len());
        for target in &targets {
            members.push(self.members_at(&target.expr, date, source).await?);
        }
        let universe = self.universe_at(date, source).await?;
        let bitmaps: Vec<&RoaringBitmap> = members.iter().map(|m| m.as_ref()).collect();
        let labels: Vec<String> = targets.into_iter().map(|t| t.label).collect();
        Ok(count_overlaps(labels, &bitmaps, &universe))
    }
}

/// The pairwise counts and the exact combinations of `sets` (named `labels`).
pub(crate) fn count_overlaps(
    labels: Vec<String>,
    sets: &[&RoaringBitmap],
    universe: &RoaringBitmap,
) -> OverlapReport {
    let n = sets.len();
    let mut shared = vec![vec![0u64; n]; n];
    for i in 0..n {
        shared[i][i] = sets[i].len();
        for j in i + 1..n {
            let both = sets[i].intersection_len(sets[j]);
            shared[i][j] = both;
            shared[j][i] = both;
        }
    }
    let mut any = RoaringBitmap::new();
    for set in sets {
        any |= *set;
    }
    let mut combinations: Vec<Combination> = exact_combinations(&any, sets)
        .into_iter()
        .map(|(within, members)| Combination {
            expression: combination_expression(&labels, &within),
            within,
            members,
        })
        .collect();
    // Largest first; ties in the order of the sets (a combination with the first set first).
    combinations.sort_by(|a, b| b.members.cmp(&a.members).then(b.within.cmp(&a.within)));
    OverlapReport {
        sets: labels,
        shared,
        combinations,
        universe: universe.len(),
        outside: universe.len() - universe.intersection_len(&any),
    }
}

/// Splits `members` set by set into the members in and out of each: the non-empty leaves are
/// the exact combinations (at most one per member, however many sets).
fn exact_combinations(members: &RoaringBitmap, sets: &[&RoaringBitmap]) -> Vec<(Vec<bool>, u64)> {
    let mut parts: Vec<(Vec<bool>, RoaringBitmap)> = vec![(Vec::new(), members.clone())];
    for set in sets {
        let mut next = Vec::with_capacity(parts.len() * 2);
        for (within, part) in parts {
            let inside = &part & *set;
            let outside = part - *set;
            for (is_in, bitmap) in [(true, inside), (false, outside)] {
                if !bitmap.is_empty() {
                    let mut within = within.clone();
                    within.push(is_in);
                    next.push((within, bitmap));
                }
            }
        }
        parts = next;
    }
    parts
        .into_iter()
        .filter(|(within, _)| within.iter().any(|w| *w))
        .map(|(within, bitmap)| (within, bitmap.len()))
        .collect()
}

/// `a ∩ b − (c ∪ d)`: the members in exactly the sets marked `within`.
fn combination_expression(labels: &[String], within: &[bool]) -> String {
    let operand = |label: &String| {
        if label.contains(' ') {
            format!("({label})")
        } else {
            label.clone()
        }
    };
    let pick = |wanted: bool| -> Vec<String> {
        labels
            .iter()
            .zip(within)
            .filter(|(_, w)| **w == wanted)
            .map(|(l, _)| operand(l))
            .collect()
    };
    let inside = pick(true).join(" ∩ ");
    match pick(false).as_slice() {
        [] => inside,
        [one] => format!("{inside} − {one}"),
        many => format!("{inside} − ({})", many.join(" ∪ ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_partition_the_union() {
        let a: RoaringBitmap = (0..10).collect();
        let b: RoaringBitmap = (5..15).collect();
        let c: RoaringBitmap = (8..9).chain(20..22).collect();
        let universe: RoaringBitmap = (0..30).collect();
        let labels = vec!["a".to_string(), "b".to_string(), "c x".to_string()];
        let report = count_overlaps(labels, &[&a, &b, &c], &universe);
        let found: Vec<(String, u64)> = report
            .combinations
            .iter()
            .map(|c| (c.expression.clone(), c.members))
            .collect();
        assert_eq!(
            found,
            vec![
                ("a − (b ∪ (c x))".to_string(), 5),
                ("b − (a ∪ (c x))".to_string(), 5),
                ("a ∩ b − (c x)".to_string(), 4),
                ("(c x) − (a ∪ b)".to_string(), 2),
                ("a ∩ b ∩ (c x)".to_string(), 1),
            ]
        );
        let total: u64 = report.combinations.iter().map(|c| c.members).sum();
        assert_eq!(total + report.outside, 30);
        assert_eq!(report.shared[0][1], 5);
        assert_eq!(report.jaccard(0, 1), Some(5.0 / 15.0));
    }
}
