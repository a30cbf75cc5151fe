//! Exact money: KPI and trend revenue, average baskets, extra decimal measures and audience
//! values of a decimal column are decimals, equal **as text** to plain SQL's decimal sums over
//! the same Parquet files; a sum past 38 digits is an error; the audience's Parquet goes
//! through the safe writer.

mod common;

use std::sync::Arc;

use chrono::{Months, NaiveDate};
use common::{demo_session, write_parquet};
use ensemble::arrow::array::{ArrayRef, AsArray, Date32Array, Decimal128Array, Int64Array};
use ensemble::arrow::datatypes::DataType;
use ensemble::arrow::record_batch::RecordBatch;
use ensemble::arrow::util::display::array_value_to_string;
use ensemble::report::{Report, ReportBody};
use ensemble::Session;

const SCRIPT: &str = "field ca_12m = sum(purchases.amount within 12 months);
segment vip = [ca_12m >= 1000];
partition statut { vip = vip; bons = [ca_12m >= 200]; else autres; }";

/// The tiers of `statut` as SQL conditions on `ca` (revenue) and `n` (purchases).
const TIERS: [(&str, &str); 4] = [
    ("statut.vip", "ca >= 1000"),
    ("statut.bons", "ca >= 200 AND ca < 1000"),
    ("statut.autres", "ca < 200"),
    ("all", "TRUE"),
];

/// Plain SQL at `date`: the revenue (12 months) and purchases of the universe members whose
/// `ca` and `n` satisfy `condition`, both as SQL's own text.
async fn sql_revenue(session: &Session, date: NaiveDate, condition: &str) -> (String, String) {
    let year_before = date.checked_sub_months(Months::new(12)).unwrap();
    let sql = format!(
        "WITH u AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '{date}'),
           p AS (SELECT customer_id, SUM(amount) AS ca, COUNT(*) AS n FROM purchases
                 WHERE CAST(purchased_at AS DATE) > DATE '{year_before}'
                   AND CAST(purchased_at AS DATE) <= DATE '{date}' GROUP BY customer_id),
           m AS (SELECT COALESCE(p.ca, 0) AS ca, COALESCE(p.n, 0) AS n
                 FROM u LEFT JOIN p ON u.customer_id = p.customer_id)
         SELECT CAST(COALESCE(SUM(ca), 0) AS VARCHAR), CAST(COALESCE(SUM(n), 0) AS VARCHAR)
         FROM m WHERE {condition}"
    );
    let batches = session
        .sql(&sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let text = |c: usize| array_value_to_string(batches[0].column(c), 0).unwrap();
    (text(0), text(1))
}

/// `sum / count` at 4 more decimals, rounded half away from zero, from SQL's text.
fn average_text(sum: &str, count: &str) -> String {
    let (whole, fraction) = sum.split_once('.').unwrap_or((sum, ""));
    let units: i128 = format!("{whole}{fraction}").parse().unwrap();
    let count: i128 = count.parse().unwrap();
    let scaled = units * 10_000;
    let mut average = scaled / count;
    if (scaled % count).abs() * 2 >= count {
        average += scaled.signum();
    }
    let scale = fraction.len() + 4;
    let digits = format!("{:0>width$}", average.abs(), width = scale + 1);
    let (w, f) = digits.split_at(digits.len() - scale);
    format!("{}{w}.{f}", if average < 0 { "-" } else { "" })
}

async fn report(session: &mut Session, statement: &str) -> Report {
    session
        .report(statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}\n{}", e.render(false)))
}

fn column_text(batch: &RecordBatch, name: &str, row: usize) -> String {
    let column = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("{name}"));
    array_value_to_string(column, row).unwrap()
}

#[tokio::test]
async fn kpi_revenue_and_baskets_are_sqls_decimal_sums_as_text() {
    let (_dir, mut session) = demo_session().await;
    session.run_script(SCRIPT, "t").await.unwrap();
    let at = session.as_of();
    let kpi = report(
        &mut session,
        "kpi statut with sum(purchases.amount) as lifetime",
    )
    .await;
    let ReportBody::Kpi(body) = &kpi.body else {
        panic!("not a kpi report")
    };
    let (_, table) = &kpi.batches().unwrap()[0];
    let schema = table.schema();
    let ty = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(ty("revenue_12m"), DataType::Decimal128(38, 2));
    assert_eq!(ty("average_basket"), DataType::Decimal128(38, 6));
    assert_eq!(ty("lifetime"), DataType::Decimal128(38, 2));
    assert_eq!(ty("lifetime_avg"), DataType::Decimal128(38, 6));
    assert_eq!(ty("revenue_share_pct"), DataType::Float64);
    for (i, (set, condition)) in TIERS.iter().enumerate() {
        let row = &body.rows[i];
        assert_eq!(row.set, *set);
        let (revenue, purchases) = sql_revenue(&session, at, condition).await;
        assert!(revenue.contains('.'), "{revenue}");
        assert_eq!(row.revenue.unwrap().to_string(), revenue, "{set}");
        assert_eq!(column_text(table, "revenue_12m", i), revenue, "{set}");
        let basket = column_text(table, "average_basket", i);
        if purchases == "0" {
            assert_eq!(basket, "", "{set}");
        } else {
            assert_eq!(basket, average_text(&revenue, &purchases), "{set}");
        }
    }
    // The whole history of the universe, against SQL's sum over the same files.
    let lifetime = session
        .sql(&format!(
            "SELECT CAST(SUM(amount) AS VARCHAR) FROM purchases p JOIN customers c
               ON p.customer_id = c.customer_id
             WHERE c.signup_date <= DATE '{at}' AND CAST(purchased_at AS DATE) <= DATE '{at}'"
        ))
        .await
        .unwrap();
    let all = TIERS.len() - 1;
    assert_eq!(
        column_text(table, "lifetime", all),
        array_value_to_string(lifetime[0].column(0), 0).unwrap()
    );
}

#[tokio::test]
async fn trend_revenue_is_sqls_decimal_sum_at_every_date() {
    let (_dir, mut session) = demo_session().await;
    session.run_script(SCRIPT, "t").await.unwrap();
    let trend = report(
        &mut session,
        "trend vip from 2025-12-31 to 2026-06-30 every 3 months",
    )
    .await;
    let ReportBody::Trend(body) = &trend.body else {
        panic!("not a trend")
    };
    let (_, table) = &trend.batches().unwrap()[0];
    let column = "vip_revenue_12m";
    assert_eq!(
        table.schema().field_with_name(column).unwrap().data_type(),
        &DataType::Decimal128(38, 2)
    );
    let revenue = body
        .revenue
        .as_ref()
        .expect("the demo has purchases.amount");
    assert_eq!(body.dates.len(), 3);
    for (d, date) in body.dates.iter().enumerate() {
        let (expected, _) = sql_revenue(&session, *date, "ca >= 1000").await;
        assert_eq!(revenue[d][0].to_string(), expected, "{date}");
        assert_eq!(column_text(table, column, d), expected, "{date}");
    }
}

#[tokio::test]
async fn audience_decimals_stay_decimals_in_csv_and_parquet() {
    let (dir, mut session) = demo_session().await;
    session.run_script(SCRIPT, "t").await.unwrap();
    let spec = ensemble::AudienceSpec {
        set: "vip".into(),
        values: vec!["ca_12m".into()],
    };
    let audience = session.audience(&spec).await.unwrap();
    let schema = audience.batches[0].schema();
    let ty = schema
        .field_with_name("ca_12m")
        .unwrap()
        .data_type()
        .clone();
    assert!(matches!(ty, DataType::Decimal128(_, 2)), "{ty}");
    // SQL's text of the first member's value, and the CSV's.
    let first = &audience.batches[0];
    let key = first
        .column(0)
        .as_primitive::<ensemble::arrow::datatypes::Int64Type>()
        .value(0);
    let value = column_text(first, "ca_12m", 0);
    assert!(value.contains('.'), "{value}");
    let csv = dir.path().join("vip.csv");
    session.write_audience(&audience, &csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key},")))
        .unwrap();
    assert_eq!(line.split(',').nth(1), Some(value.as_str()), "{line}");
    // Parquet keeps the decimal type, through a symbolic link that stays a link.
    let target = dir.path().join("real.parquet");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("vip.parquet");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    session.write_audience(&audience, &link).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let file = std::fs::File::open(&target).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let read = reader
        .schema()
        .field_with_name("ca_12m")
        .unwrap()
        .data_type()
        .clone();
    assert_eq!(read, ty);
    // Another extension is refused with what to use.
    let wrong = session
        .write_audience(&audience, &dir.path().join("vip.txt"))
        .unwrap_err()
        .to_string();
    assert!(wrong.contains(".parquet or .csv"), "{wrong}");
}

/// A datamart whose purchases are 38-digit decimals near the largest.
fn huge_amounts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(
        &dir.path().join("customers.parquet"),
        vec![(
            "customer_id",
            Arc::new(Int64Array::from(vec![1i64, 2])) as ArrayRef,
        )],
    );
    let huge = 9 * 10_i128.pow(37);
    let amounts = Decimal128Array::from(vec![huge, huge, 1])
        .with_precision_and_scale(38, 0)
        .unwrap();
    write_parquet(
        &dir.path().join("purchases.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(Int64Array::from(vec![1i64, 2, 2])) as ArrayRef,
            ),
            ("amount", Arc::new(amounts) as ArrayRef),
            (
                "purchased_at",
                Arc::new(Date32Array::from(vec![20_000, 20_000, 20_000])) as ArrayRef,
            ),
        ],
    );
    std::fs::write(
        dir.path().join("ensemble.toml"),
        "[tables.customers]\npath = \"customers.parquet\"\n\n[tables.purchases]\n\
         path = \"purchases.parquet\"\nkey = \"customer_id\"\ntime = \"purchased_at\"\n",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_sum_past_38_digits_is_an_error_not_a_wrong_number() {
    let dir = huge_amounts();
    let mut session = Session::open(dir.path().join("ensemble.toml"))
        .await
        .unwrap();
    session.set_as_of("2026-06-30".parse().unwrap());
    // Each member's own sum fits; the sum over both does not.
    let error = session
        .report("kpi [customer_id = 1] with max(purchases.amount) as biggest")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("does not fit a decimal of 38 digits"),
        "{error}"
    );
    assert!(error.contains("the sum of 'biggest'"), "{error}");
}
