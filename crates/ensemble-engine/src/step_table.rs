//! The steps table: one row per step of an evaluation, the one schema that the server's
//! `steps` table, Python's `Evaluation.steps_table()` and any other reader share.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, Int64Builder, ListBuilder, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use crate::steps::{Step, StepKind};

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("step", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("operator", DataType::Utf8, true),
        Field::new(
            "operands",
            DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false))),
            true,
        ),
        Field::new("expression", DataType::Utf8, false),
        Field::new("members", DataType::Int64, false),
        Field::new("elapsed_ms", DataType::Float64, false),
        Field::new("reused", DataType::Boolean, false),
        Field::new("plan", DataType::Utf8, false),
    ]))
});

/// The steps table's schema:
///
/// | column | type | what |
/// |---|---|---|
/// | `id` | int64 | the step's 1-based id (`#3`) |
/// | `step` | text | the table it is registered under (`step_3`) |
/// | `label` | text | its names, or `#2 ∩ #3` |
/// | `kind` | text | `all`, `criterion` or `set` ([`StepKind::name`]) |
/// | `operator` | text, null | a set operation's symbol (`∪`, `∩`, `−`, `Δ`) |
/// | `operands` | list of int64, null | a set operation's operand ids, in the order written |
/// | `expression` | text | the expression as written (canonical form) |
/// | `members` | int64 | its number of members |
/// | `elapsed_ms` | float64 | milliseconds spent computing it (0 when reused) |
/// | `reused` | boolean | whether it came from an earlier evaluation |
/// | `plan` | text | the plan that computed it |
pub fn steps_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// The steps as one record batch of [`steps_schema`].
pub fn steps_batch(steps: &[Step]) -> Result<RecordBatch, ArrowError> {
    let text = |f: &dyn Fn(&Step) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(steps.iter().map(f)))
    };
    let mut operands = ListBuilder::new(Int64Builder::new())
        .with_field(Arc::new(Field::new_list_field(DataType::Int64, false)));
    for step in steps {
        match &step.kind {
            StepKind::Set { operands: ids, .. } => {
                operands
                    .values()
                    .extend(ids.iter().map(|&id| Some(id as i64)));
                operands.append(true);
            }
            _ => operands.append_null(),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            steps.iter().map(|s| s.id as i64),
        )),
        text(&|s| s.table.clone()),
        text(&|s| s.label()),
        text(&|s| s.kind.name().to_string()),
        Arc::new(StringArray::from_iter(steps.iter().map(
            |s| match &s.kind {
                StepKind::Set { op, .. } => Some(op.symbol()),
                _ => None,
            },
        ))),
        Arc::new(operands.finish()),
        text(&|s| s.text.clone()),
        Arc::new(Int64Array::from_iter_values(
            steps.iter().map(|s| s.count as i64),
        )),
        Arc::new(Float64Array::from_iter_values(
            steps.iter().map(|s| s.elapsed.as_secs_f64() * 1000.0),
        )),
        Arc::new(BooleanArray::from_iter(
            steps.iter().map(|s| Some(s.reused)),
        )),
        text(&|s| s.plan.clone()),
    ];
    RecordBatch::try_new(steps_schema(), columns)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    use ensemble_syntax::SetOp;

    use super::*;

    fn step(id: usize, kind: StepKind) -> Step {
        Step {
            id,
            table: format!("step_{id}"),
            names: Vec::new(),
            kind,
            text: format!("text {id}"),
            count: id * 10,
            elapsed: Duration::from_millis(id as u64),
            reused: id == 1,
            plan: String::new(),
        }
    }

    #[test]
    fn one_row_per_step_with_operands_listed() {
        let steps = vec![
            step(1, StepKind::All),
            step(2, StepKind::Criterion),
            step(3, StepKind::Criterion),
            step(
                4,
                StepKind::Set {
                    op: SetOp::Union,
                    operands: vec![1, 2, 3],
                },
            ),
        ];
        let batch = steps_batch(&steps).unwrap();
        assert_eq!(batch.num_rows(), 4);
        assert_eq!(batch.schema(), steps_schema());
        let kinds = batch.column_by_name("kind").unwrap().as_string::<i32>();
        let kinds: Vec<&str> = kinds.iter().map(Option::unwrap).collect();
        assert_eq!(kinds, ["all", "criterion", "criterion", "set"]);
        let operators = batch.column_by_name("operator").unwrap().as_string::<i32>();
        assert!(operators.is_null(0));
        assert_eq!(operators.value(3), "∪");
        let operands = batch.column_by_name("operands").unwrap().as_list::<i32>();
        assert!(operands.is_null(2));
        let last = operands.value(3);
        assert_eq!(last.as_primitive::<Int64Type>().values(), &[1, 2, 3]);
        let label = batch.column_by_name("label").unwrap().as_string::<i32>();
        assert_eq!(label.value(3), "#1 ∪ #2 ∪ #3");
    }
}
