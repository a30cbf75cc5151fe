//! `fold_rows` on a small table: numbering, the memory tiers.

use super::*;
use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::datasource::provider_as_source;
use datafusion::execution::memory_pool::GreedyMemoryPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{ident, LogicalPlanBuilder};
use datafusion::prelude::SessionConfig;
use ensemble_compiler::Fold;
use ensemble_compiler::{AggregateSpec, FoldedAggregate};
use ensemble_syntax::AggFunc;

fn context(limit: Option<usize>) -> SessionContext {
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = limit {
        runtime = runtime.with_memory_pool(Arc::new(GreedyMemoryPool::new(limit)));
    }
    let config = SessionConfig::new().with_target_partitions(2);
    SessionContext::new_with_config_rt(config, runtime.build_arc().unwrap())
}

/// Rows of keys 10, 12, 12, 99 (outside) and null, with values 1..=5 (the fourth null),
/// in two partitions.
fn plan() -> datafusion::logical_expr::LogicalPlan {
    let schema = Arc::new(Schema::new(vec![
        Field::new("key", DataType::Int64, true),
        Field::new("qty", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![
                Some(10),
                Some(12),
                Some(12),
                Some(99),
                None,
            ])),
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(2),
                Some(3),
                None,
                Some(5),
            ])),
        ],
    )
    .unwrap();
    let partitions = vec![vec![batch.slice(0, 2)], vec![batch.slice(2, 3)]];
    let table = MemTable::try_new(schema, partitions).unwrap();
    LogicalPlanBuilder::scan("t", provider_as_source(Arc::new(table)), None)
        .and_then(|b| b.project(vec![ident("key"), ident("qty")]))
        .and_then(|b| b.build())
        .unwrap()
}

fn spec(func: AggFunc) -> AggregateSpec {
    AggregateSpec {
        name: format!("{func:?}"),
        table: "t".into(),
        func,
        column: Some("qty".into()),
        filter: None,
    }
}

fn folded(spec: &AggregateSpec, fold: Fold) -> FoldedAggregate<'_> {
    FoldedAggregate {
        spec,
        fold,
        value: Some(1),
        keep: None,
    }
}

#[tokio::test]
async fn folds_by_number_and_gives_way_to_a_small_pool() {
    let (count, sum, max) = (spec(AggFunc::Count), spec(AggFunc::Sum), spec(AggFunc::Max));
    let rows = MemberRows {
        table: "t",
        plan: plan(),
        aggregates: vec![
            folded(&count, Fold::Count),
            folded(&sum, Fold::Sum),
            folded(&max, Fold::Max),
        ],
    };
    // Members 10, 11 and 12: numbers 0, 1, 2.
    let range = DenseRange { min: 10, span: 3 };
    let arrays = fold_rows(&context(None), &rows, range, "test")
        .await
        .unwrap()
        .expect("room for the arrays");
    let text = |a: &ArrayRef| {
        (0..a.len())
            .map(|i| datafusion::arrow::util::display::array_value_to_string(a, i).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(text(&arrays[0]), ["1", "0", "2"]);
    assert_eq!(text(&arrays[1]), ["1", "0", "5"]);
    assert_eq!(text(&arrays[2]), ["1", "", "3"]);
    // Room for one set of running values, not one per partition: the partitions in turn.
    // 21 bytes a member (count 4, sum 8, max 9) for 3 members: 126 bytes in turn, 189
    // for two partitions and the output.
    let in_turn = fold_rows(&context(Some(150)), &rows, range, "test")
        .await
        .unwrap()
        .expect("room for one set");
    assert_eq!(
        in_turn.iter().map(text).collect::<Vec<_>>(),
        arrays.iter().map(text).collect::<Vec<_>>()
    );
    // A pool too small for them: no arrays, and no error (the caller plans the pass).
    let refused = fold_rows(&context(Some(16)), &rows, range, "test")
        .await
        .unwrap();
    assert!(refused.is_none());
}
