//! Snapshots of what the compiler produces: lowered criteria, step DAGs and logical plans.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::empty::EmptyTable;
use datafusion::datasource::provider_as_source;
use ensemble_compiler::plan;
use ensemble_compiler::*;
use ensemble_syntax::{parse_script, StatementKind};

fn catalog() -> CatalogSchema {
    let customers: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("signup_date", DataType::Date32, true),
        Field::new("city", DataType::Utf8, true),
        Field::new("points", DataType::Int64, true),
    ]));
    let purchases: SchemaRef = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new(
            "purchased_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("amount", DataType::Decimal128(10, 2), false),
        Field::new("channel", DataType::Utf8, true),
    ]));
    let stores: SchemaRef = Arc::new(Schema::new(vec![Field::new(
        "store_id",
        DataType::Int64,
        false,
    )]));
    let mut related = BTreeMap::new();
    related.insert(
        "purchases".to_string(),
        RelatedSchema {
            name: "purchases".into(),
            key: Some("customer_id".into()),
            time: Some("purchased_at".into()),
            schema: purchases,
        },
    );
    related.insert(
        "stores".to_string(),
        RelatedSchema {
            name: "stores".into(),
            key: None,
            time: None,
            schema: stores,
        },
    );
    CatalogSchema {
        universe: UniverseSchema {
            table: "customers".into(),
            key: "customer_id".into(),
            since: Some("signup_date".into()),
            schema: customers,
        },
        related,
    }
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date")
}

fn definitions(script: &str) -> Definitions {
    let mut definitions = Definitions::default();
    for statement in parse_script(script).expect("parses").script.statements {
        match statement.kind {
            StatementKind::Field { name, expr } => {
                definitions.fields.insert(name.name, expr);
            }
            StatementKind::Segment { name, expr } => {
                definitions.segments.insert(name.name, expr);
            }
            _ => {}
        }
    }
    definitions
}

fn graph(expression: &str, definitions: &Definitions) -> StepGraph {
    let (expr, _) = ensemble_syntax::parse_set_expr(expression).expect("parses");
    build_graph(&expr, &catalog(), definitions, as_of())
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

#[test]
fn lowered_criteria() {
    let definitions = definitions("field ca = sum(purchases.amount within 12 months);");
    let criteria = [
        "[city = 'Paris' and points between 10 and 20]",
        "[signup_date within 30 days]",
        "[months_since(signup_date) >= 6]",
        "[days_since(signup_date) < 7]",
        "[points / 2 > 3]",
        "[ca >= 1000.50]",
        "[has purchases where channel = 'web' within 2 weeks]",
        "[no purchases]",
        "[last(purchases.channel) = 'app' and first(purchases.purchased_at) before 2025-01-01]",
        "[city contains 'ar' or city starts with 'P' or city like 'L%']",
    ];
    let mut out = String::new();
    for criterion in criteria {
        let graph = graph(criterion, &definitions);
        let StepOp::Criterion(leaf) = &graph.steps[0].op else {
            panic!("a leaf")
        };
        out.push_str(&format!("{criterion}\n  predicate: {}\n", leaf.predicate));
        for spec in leaf.needs.aggregates.values() {
            let filter = spec
                .filter
                .as_ref()
                .map(|f| f.to_string())
                .unwrap_or_default();
            out.push_str(&format!(
                "  aggregate: {:?} {} column={:?} filter={filter}\n",
                spec.func, spec.table, spec.column
            ));
        }
        if !leaf.needs.columns.is_empty() {
            out.push_str(&format!("  columns: {:?}\n", leaf.needs.columns));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn step_dags_share_identical_sub_expressions() {
    let definitions = definitions(
        "segment a = [points > 1]; segment b = [city = 'Paris']; segment c = [points > 1];",
    );
    let dag = graph("(a ∩ b) ∪ (b ∩ c) - a", &definitions);
    let mut out = String::new();
    for (i, step) in dag.steps.iter().enumerate() {
        out.push_str(&format!(
            "#{} names={:?} key={}\n",
            i + 1,
            step.names,
            step.key
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn logical_plans() {
    let definitions = definitions("field ca = sum(purchases.amount within 12 months);");
    let dag = graph(
        "[ca >= 1000] ∩ [has purchases within 30 days] - [city = 'Paris']",
        &definitions,
    );
    let needs = dag.needs();
    let catalog = catalog();
    let source = |schema: SchemaRef| provider_as_source(Arc::new(EmptyTable::new(schema)));
    let universe = plan::universe_plan(
        source(catalog.universe.schema.clone()),
        &catalog.universe,
        as_of(),
        &needs.columns,
    )
    .expect("plans");
    let specs: Vec<&AggregateSpec> = needs.aggregates.values().collect();
    let purchases = &catalog.related["purchases"];
    let pass = plan::aggregate_plan(source(purchases.schema.clone()), purchases, as_of(), &specs)
        .expect("plans");
    let features = plan::features_plan(
        universe,
        "customer_id",
        &needs.columns,
        vec![(pass, "purchases".into(), specs)],
        &[],
    )
    .expect("plans");
    let out = format!("features:\n{}\n", features.display_indent());
    insta::assert_snapshot!(out);
}

#[test]
fn check_errors() {
    let definitions = definitions("segment a = [points > 1];");
    let catalog = catalog();
    let cases = [
        "[count(stores) > 1]",
        "[has purchases within 30 days] ∩ [count(customers) > 1]",
        "[sum(purchases.amount where purchases.amount > sum(purchases.amount)) > 1]",
        "[sum(purchases.amount where customers.points > 1) > 1]",
    ];
    let mut out = String::new();
    for case in cases {
        let (expr, _) = ensemble_syntax::parse_set_expr(case).expect("parses");
        let error = build_graph(&expr, &catalog, &definitions, as_of()).expect_err(case);
        out.push_str(&format!(
            "{case}\n  {:?}: {}\n  help: {:?}\n",
            error.kind, error.message, error.help
        ));
    }
    insta::assert_snapshot!(out);
}
