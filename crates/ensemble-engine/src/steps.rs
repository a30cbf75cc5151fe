//! Steps: the materialised intermediate tables of an evaluation, and their tree.

use std::fmt::Write as _;
use std::time::Duration;

use ensemble_syntax::SetOp;

/// What a step computed.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// The whole universe.
    All,
    /// A criterion leaf.
    Criterion,
    /// A set operation on earlier steps (their 1-based ids, in the order written): two for a
    /// difference, two or more for `∪`, `∩` and `Δ`.
    Set {
        /// The operation.
        op: SetOp,
        /// The inputs' ids.
        operands: Vec<usize>,
    },
}

impl StepKind {
    /// The kind's one name, as every steps table shows it: `all`, `criterion` or `set`.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::All => "all",
            StepKind::Criterion => "criterion",
            StepKind::Set { .. } => "set",
        }
    }
}

/// Most operands a set step's label names one by one.
const LABELLED_OPERANDS: usize = 4;

/// The label of a set operation on the steps `ids`: `#2 ∩ #3`, or for a long list its first
/// and last operands and their number (`#1 ∪ #2 ∪ … ∪ #200 (200 sets)`).
pub fn set_label(op: SetOp, ids: &[usize]) -> String {
    let separator = format!(" {} ", op.symbol());
    let id = |i: &usize| format!("#{i}");
    if ids.len() <= LABELLED_OPERANDS {
        return ids.iter().map(id).collect::<Vec<_>>().join(&separator);
    }
    format!(
        "{}{separator}{}{separator}…{separator}{} ({} sets)",
        id(&ids[0]),
        id(&ids[1]),
        id(&ids[ids.len() - 1]),
        group_thousands(ids.len())
    )
}

/// One materialised step.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based id, children before parents (`#3`).
    pub id: usize,
    /// The table it is registered under (`step_3`).
    pub table: String,
    /// Segment names that denote it (also registered as tables).
    pub names: Vec<String>,
    /// What it computed.
    pub kind: StepKind,
    /// The expression as written (canonical form).
    pub text: String,
    /// Number of members.
    pub count: usize,
    /// Time spent computing it (zero when reused).
    pub elapsed: Duration,
    /// Whether it was reused from an earlier evaluation instead of being recomputed.
    pub reused: bool,
    /// The DataFusion logical plan that computed it.
    pub plan: String,
}

impl Step {
    /// The short label of the step tree: its name, or `#a op #b`.
    pub fn label(&self) -> String {
        if !self.names.is_empty() {
            return self.names.join(", ");
        }
        match &self.kind {
            StepKind::All => "all".into(),
            StepKind::Criterion => String::new(),
            StepKind::Set { op, operands } => set_label(*op, operands),
        }
    }
}

/// Renders the steps as the spec's tree: id, label, expression, member count.
///
/// `root` is the index of the root in `steps`. A step shared by two parents is shown in full
/// once and then referred to by its id.
pub fn render_tree(steps: &[Step], root: usize) -> String {
    render_tree_with(steps, root, &|step| {
        let mut count = group_thousands(step.count);
        if step.reused {
            count.push_str(" (reused)");
        }
        count
    })
}

/// Renders the steps as [`render_tree`] does, with `last(step)` as the last column.
pub fn render_tree_with(steps: &[Step], root: usize, last: &dyn Fn(&Step) -> String) -> String {
    let mut rows = Vec::new();
    let mut shown = vec![false; steps.len()];
    collect_rows(
        steps,
        root,
        (String::new(), String::new()),
        true,
        &mut shown,
        &mut rows,
        last,
    );
    let heads: Vec<String> = rows
        .iter()
        .map(|(prefix, label, _, _)| format!("{prefix}  {label}"))
        .collect();
    let head_width = heads.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    let text_width = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
    let count_width = rows.iter().map(|r| r.3.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (head, (_, _, text, count)) in heads.iter().zip(&rows) {
        let line = format!(
            "{head}{}  {text}{}  {}{count}",
            pad(head, head_width),
            pad(text, text_width),
            pad(count, count_width),
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

type Row = (String, String, String, String);

fn collect_rows(
    steps: &[Step],
    index: usize,
    (lead, child_lead): (String, String),
    is_root: bool,
    shown: &mut [bool],
    rows: &mut Vec<Row>,
    last_column: &dyn Fn(&Step) -> String,
) {
    let step = &steps[index];
    let already = shown[index];
    shown[index] = true;
    let show_text = is_root || !step.names.is_empty() || !matches!(step.kind, StepKind::Set { .. });
    let mut text = if show_text {
        shortened(&step.text)
    } else {
        String::new()
    };
    if already && matches!(step.kind, StepKind::Set { .. }) {
        text = "(shown above)".into();
    }
    let count = last_column(step);
    rows.push((format!("{lead}#{}", step.id), step.label(), text, count));
    if already {
        return;
    }
    if let StepKind::Set { operands, .. } = &step.kind {
        let children = operands;
        for (i, id) in children.iter().enumerate() {
            let last = i == children.len() - 1;
            let (branch, next) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            if let Some(child) = steps.iter().position(|s| s.id == *id) {
                collect_rows(
                    steps,
                    child,
                    (
                        format!("{child_lead}{branch}"),
                        format!("{child_lead}{next}"),
                    ),
                    false,
                    shown,
                    rows,
                    last_column,
                );
            }
        }
    }
}

/// Longest expression the tree prints in full (a union of 200 segments is longer).
const TREE_TEXT: usize = 120;

/// `text`, cut to [`TREE_TEXT`] characters with an ellipsis when longer.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(TREE_TEXT - 1) {
        Some((cut, _)) if text[cut..].chars().nth(1).is_some() => format!("{}…", &text[..cut]),
        _ => text.to_string(),
    }
}

fn pad(text: &str, width: usize) -> String {
    " ".repeat(width.saturating_sub(text.chars().count()))
}

/// `412311` → `412 311`, as the spec's step tree prints counts.
pub fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: usize, names: &[&str], kind: StepKind, text: &str, count: usize) -> Step {
        Step {
            id,
            table: format!("step_{id}"),
            names: names.iter().map(|s| s.to_string()).collect(),
            kind,
            text: text.into(),
            count,
            elapsed: Duration::ZERO,
            reused: false,
            plan: String::new(),
        }
    }

    #[test]
    fn the_spec_tree() {
        let steps = vec![
            step(
                1,
                &["clients"],
                StepKind::Criterion,
                "[has purchases within 12 months]",
                498_120,
            ),
            step(
                2,
                &["acheteurs_recents"],
                StepKind::Criterion,
                "[has purchases within 30 days]",
                101_772,
            ),
            step(
                3,
                &["vip"],
                StepKind::Criterion,
                "[ca_12m >= 1000]",
                120_004,
            ),
            step(
                4,
                &[],
                StepKind::Set {
                    op: SetOp::Intersect,
                    operands: vec![2, 3],
                },
                "acheteurs_recents ∩ vip",
                85_809,
            ),
            step(
                5,
                &[],
                StepKind::Set {
                    op: SetOp::Difference,
                    operands: vec![1, 4],
                },
                "clients − (acheteurs_recents ∩ vip)",
                412_311,
            ),
        ];
        insta::assert_snapshot!(render_tree(&steps, 4));
    }

    #[test]
    fn a_union_of_many_shows_as_one_step_with_its_operands() {
        let mut steps: Vec<Step> = (1..=6)
            .map(|id| step(id, &[&format!("u{id}")], StepKind::Criterion, "[…]", id))
            .collect();
        steps.push(step(
            7,
            &[],
            StepKind::Set {
                op: SetOp::Union,
                operands: (1..=6).collect(),
            },
            "u1 ∪ u2 ∪ u3 ∪ u4 ∪ u5 ∪ u6",
            21,
        ));
        assert_eq!(steps[6].label(), "#1 ∪ #2 ∪ … ∪ #6 (6 sets)");
        insta::assert_snapshot!(render_tree(&steps, 6));
        assert_eq!(set_label(SetOp::Intersect, &[2, 3]), "#2 ∩ #3");
        let long = "u ∪ ".repeat(100);
        assert_eq!(shortened(&long).chars().count(), TREE_TEXT);
        assert!(shortened(&long).ends_with('…'));
        let fits = "x".repeat(TREE_TEXT);
        assert_eq!(shortened(&fits), fits);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1 000");
        assert_eq!(group_thousands(412_311), "412 311");
        assert_eq!(group_thousands(12_345_678), "12 345 678");
    }
}
