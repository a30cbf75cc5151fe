//! What sessions return: evaluations, script runs and checks, explanations.

use datafusion::datasource::TableProvider;

use super::*;

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
    /// Whether the session's features table already held every value (no table scanned).
    pub reused: bool,
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
    /// The partitions whose tiers were computed, with each tier's count.
    pub partitions: Vec<PartitionCounts>,
    /// Total wall time.
    pub elapsed: Duration,
    /// The members' numbers (see `crate::members`), for overlaps.
    pub(super) numbers: Arc<roaring::RoaringBitmap>,
    /// Each step's materialised table (same order as `steps`), for [`Evaluation::step_members`].
    pub(super) tables: Vec<Arc<crate::member_table::MemberTable>>,
}

/// A partition's tiers in one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionCounts {
    /// The partition's name.
    pub name: String,
    /// `(tier, step id, members)` in matching order, `else` last.
    pub tiers: Vec<(String, usize, usize)>,
    /// Members of the universe in no tier (a partition without `else` evaluated by itself).
    pub outside: Option<usize>,
    /// Whether the expression evaluated is the partition itself.
    pub evaluated: bool,
}

impl PartitionCounts {
    /// Members in a tier, plus those outside when counted: the universe.
    pub fn total(&self) -> usize {
        self.tiers.iter().map(|t| t.2).sum::<usize>() + self.outside.unwrap_or(0)
    }

    /// The tiers as a table: name, step, members and share of the universe.
    pub fn table(&self) -> String {
        let total = self.total().max(1) as f64;
        let mut rows: Vec<(String, String, usize)> = self
            .tiers
            .iter()
            .map(|(tier, id, count)| (format!("{}.{tier}", self.name), format!("#{id}"), *count))
            .collect();
        if let Some(outside) = self.outside {
            rows.push(("(in no tier)".into(), String::new(), outside));
        }
        let name_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let counts: Vec<String> = rows.iter().map(|r| crate::group_thousands(r.2)).collect();
        let count_width = counts.iter().map(String::len).max().unwrap_or(0).max(7);
        let mut out = format!(
            "{:name_width$}  {:>4}  {:>count_width$}  {:>6}\n",
            "tier", "step", "members", "share"
        );
        for ((name, id, count), text) in rows.iter().zip(&counts) {
            let share = 100.0 * *count as f64 / total;
            out.push_str(&format!(
                "{name:name_width$}  {id:>4}  {text:>count_width$}  {share:>5.1} %\n"
            ));
        }
        out
    }
}

impl Evaluation {
    /// Number of members of the result.
    pub fn count(&self) -> usize {
        self.steps[self.root].count
    }

    /// The partition evaluated, when the expression is a partition's name (`statut;`).
    pub fn partition(&self) -> Option<&PartitionCounts> {
        self.partitions.iter().find(|p| p.evaluated)
    }

    /// The step tree with counts (spec section 6).
    pub fn tree(&self) -> String {
        render_tree(&self.steps, self.root)
    }

    /// The members of the step whose id is `id` (`#id`, 1-based): the universe keys in key
    /// order, built from the step's member numbers. `None` for an unknown id.
    ///
    /// Unlike the session's `step_N` tables, which the next evaluation replaces, these stay
    /// the steps of this evaluation.
    pub fn step_members(&self, id: usize) -> Option<Vec<RecordBatch>> {
        let table = self.tables.get(id.checked_sub(1)?)?;
        // Keys rebuilt from numbers of the same index: the types cannot disagree.
        table.keys().ok()
    }

    /// The schema of the steps' member tables (the universe key column).
    pub fn step_schema(&self) -> Option<SchemaRef> {
        self.tables.first().map(|table| table.schema())
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
    /// A partition was defined (or redefined).
    Partition(String),
    /// A score was defined (or redefined).
    Score(String),
    /// A bare expression was evaluated.
    Evaluated(Box<Evaluation>),
    /// A report ran (`overlap`, `kpi`, `transition`, `trend`, `snapshot`, `diff`).
    Report(Box<crate::report::Report>),
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

/// What checking a script found (see [`Session::check_script`]).
#[derive(Debug)]
pub struct ScriptCheck {
    /// Statements in the script.
    pub statements: usize,
    /// Every error, in source order, follow-on errors left out.
    pub errors: Vec<EngineError>,
    /// Notes about how the text was read.
    pub notes: Vec<Diagnostic>,
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
    /// The bucket scores computed in that pass (`rfm.r (5 buckets)`).
    pub buckets: Vec<String>,
    /// The partitions whose tiers are steps: `statut: vip #3, bons #5, …`.
    pub partitions: Vec<String>,
    /// `(id, label, expression, plan)` of each step.
    pub steps: Vec<(usize, String, String, String)>,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.parenthesized)?;
        for note in &self.notes {
            writeln!(f, "{note}")?;
        }
        for partition in &self.partitions {
            writeln!(f, "\npartition {partition}")?;
        }
        if !self.buckets.is_empty() {
            writeln!(
                f,
                "\nbucket scores (window functions over the features table): {}",
                self.buckets.join(", ")
            )?;
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
