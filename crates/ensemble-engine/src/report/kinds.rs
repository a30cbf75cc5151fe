//! The report kinds' findings and their tables.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::amount::{average_scale, Amount};
use super::table::{Column, ReportTable, Values};

/// Percent of `part` in `whole` (`None` for a share of nothing).
pub(crate) fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole != 0.0).then(|| 100.0 * part / whole)
}

/// The scale shared by sums that are all exact (`None` when one is a float, or for no sum).
fn exact_scale(sums: &[Option<Amount>]) -> Option<i8> {
    let mut scales = sums.iter().flatten().map(|sum| match sum {
        Amount::Exact { scale, .. } => Some(*scale),
        Amount::Float(_) => None,
    });
    let first = scales.next()??;
    scales.all(|s| s == Some(first)).then_some(first)
}

/// How sets overlap (`overlap a, b, c`).
#[derive(Debug, Clone, PartialEq)]
pub struct OverlapReport {
    /// The sets, as written (a partition stands for its tiers).
    pub sets: Vec<String>,
    /// `shared[i][j]`: members in both `i` and `j`; `shared[i][i]` is the size of `i`.
    pub shared: Vec<Vec<u64>>,
    /// Every non-empty exact combination, largest first.
    pub combinations: Vec<Combination>,
    /// Members of the universe.
    pub universe: u64,
    /// Members of the universe in none of the sets.
    pub outside: u64,
}

/// Members in exactly some of the sets of an overlap (an UpSet bar).
#[derive(Debug, Clone, PartialEq)]
pub struct Combination {
    /// For each set of the report, whether these members are in it.
    pub within: Vec<bool>,
    /// How many members.
    pub members: u64,
    /// The set expression of exactly these members (`a ∩ b − c`), to evaluate as steps.
    pub expression: String,
}

impl OverlapReport {
    /// Members of `i` also in `j`, as a percent of `i`.
    pub fn share(&self, i: usize, j: usize) -> Option<f64> {
        percent(self.shared[i][j] as f64, self.shared[i][i] as f64)
    }

    /// Jaccard index of `i` and `j`: shared members over members of either.
    pub fn jaccard(&self, i: usize, j: usize) -> Option<f64> {
        let either = self.shared[i][i] + self.shared[j][j] - self.shared[i][j];
        (either > 0).then(|| self.shared[i][j] as f64 / either as f64)
    }

    /// The matrix of counts, the pairs (shares and Jaccard) and the combinations.
    pub fn tables(&self) -> Vec<ReportTable> {
        let n = self.sets.len();
        let mut matrix = vec![
            Column::new("set", Values::Text(self.sets.clone())),
            Column::new(
                "members",
                Values::Count((0..n).map(|i| self.shared[i][i]).collect()),
            ),
        ];
        for (j, set) in self.sets.iter().enumerate() {
            matrix.push(Column::new(
                format!("∩ {set}"),
                Values::Count((0..n).map(|i| self.shared[i][j]).collect()),
            ));
        }
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (0..n).filter(move |j| *j != i).map(move |j| (i, j)))
            .collect();
        let text = |f: &dyn Fn(&(usize, usize)) -> String| pairs.iter().map(f).collect();
        let pairs_table = vec![
            Column::new("set", Values::Text(text(&|p| self.sets[p.0].clone()))),
            Column::new("other", Values::Text(text(&|p| self.sets[p.1].clone()))),
            Column::new(
                "members",
                Values::Count(pairs.iter().map(|p| self.shared[p.0][p.0]).collect()),
            ),
            Column::new(
                "shared",
                Values::Count(pairs.iter().map(|p| self.shared[p.0][p.1]).collect()),
            ),
            Column::new(
                "share_pct",
                Values::Percent(pairs.iter().map(|p| self.share(p.0, p.1)).collect()),
            ),
            Column::new(
                "jaccard",
                Values::Number {
                    values: pairs.iter().map(|p| self.jaccard(p.0, p.1)).collect(),
                    decimals: 3,
                },
            ),
        ];
        let combos = &self.combinations;
        let combinations = vec![
            Column::new(
                "combination",
                Values::Text(combos.iter().map(|c| c.expression.clone()).collect()),
            ),
            Column::new(
                "sets",
                Values::Count(
                    combos
                        .iter()
                        .map(|c| c.within.iter().filter(|w| **w).count() as u64)
                        .collect(),
                ),
            ),
            Column::new(
                "members",
                Values::Count(combos.iter().map(|c| c.members).collect()),
            ),
            Column::new(
                "universe_pct",
                Values::Percent(
                    combos
                        .iter()
                        .map(|c| percent(c.members as f64, self.universe as f64))
                        .collect(),
                ),
            ),
        ];
        vec![
            ReportTable::new("matrix", matrix),
            ReportTable::new("pairs", pairs_table),
            ReportTable::new("combinations", combinations),
        ]
    }
}

/// Measures per set (`kpi …`).
#[derive(Debug, Clone, PartialEq)]
pub struct KpiReport {
    /// One row per set or tier, then the universe (`all`).
    pub rows: Vec<KpiRow>,
    /// The revenue column the default measures read (`purchases.amount`), if the catalog has
    /// one.
    pub revenue: Option<String>,
    /// The extra measures' names, in the order of [`KpiRow::extra`].
    pub measures: Vec<String>,
}

/// The measures of one set.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiRow {
    /// The set, as written (`statut.vip`, `all`).
    pub set: String,
    /// Its members.
    pub members: u64,
    /// Its members as a percent of the universe.
    pub share: Option<f64>,
    /// Revenue of its members over the last 12 months: exact for a decimal or whole-number
    /// revenue column (at the column's scale).
    pub revenue: Option<Amount>,
    /// That revenue as a percent of the universe's.
    pub revenue_share: Option<f64>,
    /// Revenue per purchase over the last 12 months: for a decimal revenue at scale `s`, a
    /// decimal at scale `s + 4` rounded once (see [`Amount::mean`]).
    pub average_basket: Option<Amount>,
    /// Purchases over the last 12 months per member.
    pub purchases_per_member: Option<f64>,
    /// Median, over its members who ever bought, of the days since their last purchase.
    pub median_recency: Option<f64>,
    /// Each extra measure: its sum over the members (exact for decimals and whole numbers),
    /// and its mean over members with a value (see [`Amount::mean`]).
    pub extra: Vec<(Amount, Option<Amount>)>,
}

impl KpiReport {
    /// One table: a row per set.
    pub fn tables(&self) -> Vec<ReportTable> {
        let rows = &self.rows;
        let number = |f: &dyn Fn(&KpiRow) -> Option<f64>, decimals| Values::Number {
            values: rows.iter().map(f).collect(),
            decimals,
        };
        let mut columns = vec![
            Column::new(
                "set",
                Values::Text(rows.iter().map(|r| r.set.clone()).collect()),
            ),
            Column::new(
                "members",
                Values::Count(rows.iter().map(|r| r.members).collect()),
            ),
            Column::new(
                "share_pct",
                Values::Percent(rows.iter().map(|r| r.share).collect()),
            ),
        ];
        if self.revenue.is_some() {
            let revenue: Vec<Option<Amount>> = rows.iter().map(|r| r.revenue).collect();
            let scale = exact_scale(&revenue);
            let basket = rows.iter().map(|r| r.average_basket).collect();
            columns.extend([
                Column::new("revenue_12m", Values::amounts(revenue, scale, 0)),
                Column::new(
                    "revenue_share_pct",
                    Values::Percent(rows.iter().map(|r| r.revenue_share).collect()),
                ),
                Column::new(
                    "average_basket",
                    Values::amounts(basket, scale.map(average_scale), 2),
                ),
                Column::new(
                    "purchases_per_member",
                    number(&|r| r.purchases_per_member, 2),
                ),
                Column::new("median_days_since_last", number(&|r| r.median_recency, 0)),
            ]);
        }
        for (i, name) in self.measures.iter().enumerate() {
            let sums: Vec<Option<Amount>> = rows.iter().map(|r| Some(r.extra[i].0)).collect();
            let scale = exact_scale(&sums);
            let means = rows.iter().map(|r| r.extra[i].1).collect();
            columns.push(Column::new(name.clone(), Values::amounts(sums, scale, 2)));
            columns.push(Column::new(
                format!("{name}_avg"),
                Values::amounts(means, scale.map(average_scale), 2),
            ));
        }
        vec![ReportTable::new("kpi", columns)]
    }

    pub(crate) fn notes(&self) -> Vec<String> {
        match &self.revenue {
            Some(revenue) => vec![format!(
                "Revenue is the sum of {revenue} over the 12 months to the evaluation date; \
                 shares are of the universe (the row 'all')."
            )],
            None => vec![
                "The catalog names no revenue column (set 'revenue = \"TABLE.COLUMN\"'): only \
                 counts and the extra measures are shown."
                    .to_string(),
            ],
        }
    }
}

/// How members moved between the tiers of a partition from one date to another.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionReport {
    /// The partition.
    pub partition: String,
    /// The first date.
    pub from: NaiveDate,
    /// The second date.
    pub to: NaiveDate,
    /// Row labels: the tiers at the first date, then `(entered)`: members of the universe at
    /// the second date only.
    pub rows: Vec<String>,
    /// Column labels: the tiers at the second date, then `(left)`: members of the universe at
    /// the first date only.
    pub columns: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
}

impl TransitionReport {
    /// Members of row `i`.
    pub fn row_total(&self, i: usize) -> u64 {
        self.counts[i].iter().sum()
    }

    /// Members of column `j`.
    pub fn column_total(&self, j: usize) -> u64 {
        self.counts.iter().map(|row| row[j]).sum()
    }

    /// The counts, then the row percentages.
    pub fn tables(&self) -> Vec<ReportTable> {
        let mut counts = vec![
            Column::new(
                format!("{} \\ {}", self.from, self.to),
                Values::Text(self.rows.clone()),
            ),
            Column::new(
                "total",
                Values::Count((0..self.rows.len()).map(|i| self.row_total(i)).collect()),
            ),
        ];
        let mut shares = counts.clone();
        shares.truncate(1);
        for (j, column) in self.columns.iter().enumerate() {
            counts.push(Column::new(
                column.clone(),
                Values::Count(self.counts.iter().map(|row| row[j]).collect()),
            ));
            shares.push(Column::new(
                column.clone(),
                Values::Percent(
                    (0..self.rows.len())
                        .map(|i| percent(self.counts[i][j] as f64, self.row_total(i) as f64))
                        .collect(),
                ),
            ));
        }
        vec![
            ReportTable::new("counts", counts),
            ReportTable::new("row_pct", shares),
        ]
    }
}

/// Sizes of sets at regular dates (`trend …`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrendReport {
    /// The sets, as written (a partition stands for its tiers).
    pub sets: Vec<String>,
    /// The dates, ascending.
    pub dates: Vec<NaiveDate>,
    /// `sizes[date][set]`.
    pub sizes: Vec<Vec<u64>>,
    /// Members of the universe at each date.
    pub universe: Vec<u64>,
    /// `revenue[date][set]`: the set's revenue over the 12 months to the date, when the
    /// catalog has a revenue column (see [`KpiReport::revenue`]); exact as in [`KpiRow::revenue`].
    pub revenue: Option<Vec<Vec<Amount>>>,
}

impl TrendReport {
    /// One row per date: the universe, then each set's size and share of the universe.
    pub fn tables(&self) -> Vec<ReportTable> {
        let mut columns = vec![
            Column::new("date", Values::Date(self.dates.clone())),
            Column::new("universe", Values::Count(self.universe.clone())),
        ];
        for (s, set) in self.sets.iter().enumerate() {
            columns.push(Column::new(
                set.clone(),
                Values::Count(self.sizes.iter().map(|row| row[s]).collect()),
            ));
            columns.push(Column::new(
                format!("{set}_pct"),
                Values::Percent(
                    self.sizes
                        .iter()
                        .zip(&self.universe)
                        .map(|(row, all)| percent(row[s] as f64, *all as f64))
                        .collect(),
                ),
            ));
            if let Some(revenue) = &self.revenue {
                let sums: Vec<Option<Amount>> = revenue.iter().map(|row| Some(row[s])).collect();
                let scale = exact_scale(&sums);
                columns.push(Column::new(
                    format!("{set}_revenue_12m"),
                    Values::amounts(sums, scale, 0),
                ));
            }
        }
        vec![ReportTable::new("trend", columns)]
    }
}

/// A membership saved by `snapshot NAME`.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotReport {
    /// The segment or partition.
    pub name: String,
    /// The Parquet file written.
    pub path: PathBuf,
    /// `(tier, members)`: one row named after the segment, or one per tier.
    pub tiers: Vec<(String, u64)>,
}

impl SnapshotReport {
    /// One row per tier (or the segment).
    pub fn tables(&self) -> Vec<ReportTable> {
        vec![ReportTable::new(
            "snapshot",
            vec![
                Column::new(
                    "set",
                    Values::Text(self.tiers.iter().map(|t| t.0.clone()).collect()),
                ),
                Column::new(
                    "members",
                    Values::Count(self.tiers.iter().map(|t| t.1).collect()),
                ),
            ],
        )]
    }
}

/// Entries and exits between two snapshots (`diff NAME from D1 to D2`).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffReport {
    /// The segment or partition.
    pub name: String,
    /// The first snapshot's date.
    pub from: NaiveDate,
    /// The second snapshot's date.
    pub to: NaiveDate,
    /// One row per tier (or the segment alone), then `(total)` for a partition.
    pub rows: Vec<DiffRow>,
    /// The definitions at the two dates, when they differ.
    pub changed_definition: Option<(String, String)>,
    /// Member keys that entered and left (first few of each, in key order).
    pub examples: Vec<(String, Vec<String>)>,
}

/// How one tier (or the segment) changed between two snapshots.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRow {
    /// The tier, or the segment.
    pub set: String,
    /// Members at the first date.
    pub before: u64,
    /// Members at the second date.
    pub after: u64,
    /// Members at the second date that were not in it at the first.
    pub entered: u64,
    /// Members at the first date that are not in it at the second.
    pub left: u64,
    /// Members in it at both dates.
    pub stayed: u64,
}

impl DiffReport {
    /// One row per tier or the segment.
    pub fn tables(&self) -> Vec<ReportTable> {
        let rows = &self.rows;
        let count = |f: fn(&DiffRow) -> u64| Values::Count(rows.iter().map(f).collect());
        vec![ReportTable::new(
            "diff",
            vec![
                Column::new(
                    "set",
                    Values::Text(rows.iter().map(|r| r.set.clone()).collect()),
                ),
                Column::new(self.from.to_string(), count(|r| r.before)),
                Column::new(self.to.to_string(), count(|r| r.after)),
                Column::new("entered", count(|r| r.entered)),
                Column::new("left", count(|r| r.left)),
                Column::new("stayed", count(|r| r.stayed)),
            ],
        )]
    }

    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some((before, after)) = &self.changed_definition {
            notes.push(format!(
                "The definition changed between the two snapshots:\n  {}: {before}\n  {}: {after}",
                self.from, self.to
            ));
        }
        for (what, keys) in &self.examples {
            if !keys.is_empty() {
                notes.push(format!("{what}, e.g. {}", keys.join(", ")));
            }
        }
        notes
    }
}
