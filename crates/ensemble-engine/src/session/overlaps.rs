//! How sets overlap: the members every pair of sets shares, counted on member numbers
//! (one bitmap intersection per pair, nothing materialised).

use std::time::Duration;

use super::*;

/// The members shared by every pair of sets (see [`Session::overlaps`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Overlaps {
    /// The sets as given.
    pub sets: Vec<String>,
    /// `shared[i][j]`: members in both set `i` and set `j`; `shared[i][i]` is set `i`'s size.
    pub shared: Vec<Vec<usize>>,
    /// The evaluation date.
    pub as_of: NaiveDate,
    /// Time spent counting the pairs (the sets' evaluations aside).
    pub counting: Duration,
}

impl Overlaps {
    /// The size of set `i`.
    pub fn size(&self, i: usize) -> usize {
        self.shared[i][i]
    }

    /// Members of set `i` also in set `j`, as a share of set `i` (0 for an empty set).
    pub fn share(&self, i: usize, j: usize) -> f64 {
        match self.size(i) {
            0 => 0.0,
            size => self.shared[i][j] as f64 / size as f64,
        }
    }
}

impl std::fmt::Display for Overlaps {
    /// The matrix: one row and one column per set, shared members in each cell.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cells: Vec<Vec<String>> = self
            .shared
            .iter()
            .map(|row| row.iter().map(|n| crate::group_thousands(*n)).collect())
            .collect();
        let name_width = self
            .sets
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = (0..self.sets.len())
            .map(|j| {
                cells
                    .iter()
                    .map(|row| row[j].len())
                    .chain([self.sets[j].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        write!(f, "{:name_width$}", "")?;
        for (set, width) in self.sets.iter().zip(&widths) {
            write!(f, "  {set:>width$}")?;
        }
        writeln!(f)?;
        for (set, row) in self.sets.iter().zip(&cells) {
            write!(f, "{set:name_width$}")?;
            for (cell, width) in row.iter().zip(&widths) {
                write!(f, "  {cell:>width$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Session {
    /// Evaluates each set expression of `sets` (reusing what the session has) and counts the
    /// members every pair shares.
    pub async fn overlaps(&mut self, sets: &[String]) -> Result<Overlaps, EngineError> {
        let mut numbers = Vec::with_capacity(sets.len());
        for set in sets {
            numbers.push(self.evaluate(set).await?.numbers);
        }
        let started = Instant::now();
        let mut shared = vec![vec![0; sets.len()]; sets.len()];
        for (i, a) in numbers.iter().enumerate() {
            shared[i][i] = a.len() as usize;
            for (j, b) in numbers.iter().enumerate().skip(i + 1) {
                let both = a.intersection_len(b) as usize;
                shared[i][j] = both;
                shared[j][i] = both;
            }
        }
        Ok(Overlaps {
            sets: sets.to_vec(),
            shared,
            as_of: self.as_of(),
            counting: started.elapsed(),
        })
    }
}
