//! The server only reads. Whether a statement would change anything is decided on its
//! DataFusion plan — never on its text or first word, which comments, parentheses and `WITH`
//! can disguise: a plan holding DDL, DML, `COPY … TO` or a statement (`SET`, transactions)
//! anywhere, an `EXPLAIN`'s plan and subqueries included, is refused.

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SQLOptions, SessionContext};

/// Plans allowed through DataFusion's own check (a second line behind [`change`]): no DDL,
/// no DML, no statements.
pub(crate) fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Why a statement was not run.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// It would change something: what, in the client's words (`INSERT INTO customers`).
    Writes(String),
    /// It could not be planned.
    Plan(DataFusionError),
}

impl Refusal {
    /// The message a client sees for a statement that writes.
    pub(crate) fn message(what: &str) -> String {
        format!("ensemble serve is read-only: {what} is refused")
    }
}

/// What `plan` would change, named for the client, or `None` when it only reads.
pub(crate) fn change(plan: &LogicalPlan) -> Option<String> {
    let mut found = None;
    // The visit itself cannot fail: the closure never returns an error.
    let _ = plan.apply_with_subqueries(|node| {
        found = describe(node);
        Ok(if found.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// A node that changes something, in words.
fn describe(node: &LogicalPlan) -> Option<String> {
    match node {
        LogicalPlan::Ddl(ddl) => Some(words(ddl.name())),
        LogicalPlan::Dml(dml) => Some(format!(
            "{} {}",
            dml.op.name().to_uppercase(),
            dml.table_name
        )),
        LogicalPlan::Copy(_) => Some("COPY … TO".into()),
        LogicalPlan::Statement(statement) => Some(words(statement.name())),
        _ => None,
    }
}

/// `CreateExternalTable` as `CREATE EXTERNAL TABLE`.
fn words(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// `plan` when it only reads; else why it is refused.
pub(crate) fn verify(plan: LogicalPlan) -> Result<LogicalPlan, Refusal> {
    if let Some(what) = change(&plan) {
        return Err(Refusal::Writes(what));
    }
    read_only().verify_plan(&plan).map_err(Refusal::Plan)?;
    Ok(plan)
}

/// Plans one SQL statement and returns it as a data frame, unless it would change anything.
pub(crate) async fn plan_sql(ctx: &SessionContext, sql: &str) -> Result<DataFrame, Refusal> {
    let plan = ctx
        .state()
        .create_logical_plan(sql)
        .await
        .map_err(Refusal::Plan)?;
    let plan = verify(plan)?;
    ctx.execute_logical_plan(plan).await.map_err(Refusal::Plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn verdict(sql: &str) -> Result<(), String> {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE t (a INT)").await.unwrap();
        match plan_sql(&ctx, sql).await {
            Ok(_) => Ok(()),
            Err(Refusal::Writes(what)) => Err(what),
            Err(Refusal::Plan(error)) => Err(format!("not planned: {error}")),
        }
    }

    #[tokio::test]
    async fn the_plan_decides_what_is_refused() {
        for sql in [
            "SELECT 1",
            "  /* a comment */ select * from t",
            "-- a comment\nSELECT a FROM t",
            "(SELECT 1)",
            "((SELECT a FROM t))",
            "WITH x AS (SELECT a FROM t) SELECT * FROM x",
            "EXPLAIN SELECT a FROM t",
            "VALUES (1)",
        ] {
            assert_eq!(verdict(sql).await, Ok(()), "{sql}");
        }
        for (sql, what) in [
            ("  /*x*/ DELETE FROM t", "DELETE t"),
            ("/* a */ -- b\n  INSERT INTO t VALUES (1)", "INSERT INTO t"),
            ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "INSERT INTO t"),
            ("EXPLAIN INSERT INTO t VALUES (1)", "INSERT INTO t"),
            ("UPDATE t SET a = 2", "UPDATE t"),
            ("CREATE TABLE u AS SELECT 1", "CREATE MEMORY TABLE"),
            ("DROP TABLE t", "DROP TABLE"),
            ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
            (
                "COPY (SELECT 1) TO '/tmp/ensemble-read-only.csv'",
                "COPY … TO",
            ),
            ("SET datafusion.execution.batch_size = 1", "SET VARIABLE"),
            (
                "CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/etc/passwd'",
                "CREATE EXTERNAL TABLE",
            ),
        ] {
            assert_eq!(verdict(sql).await, Err(what.to_string()), "{sql}");
        }
        assert!(!std::path::Path::new("/tmp/ensemble-read-only.csv").exists());
        // A write DataFusion cannot plan does not run either.
        let with_insert = "WITH x AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM x";
        let refused = verdict(with_insert).await.unwrap_err();
        assert!(refused.starts_with("not planned"), "{refused}");
    }
}
