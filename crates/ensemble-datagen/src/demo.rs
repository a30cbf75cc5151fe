//! A small, deterministic loyalty datamart written as real Parquet files with its catalog:
//! the data of the quickstart example, the end-to-end tests and the benchmark.
//!
//! Customers sign up over three years before the as-of date (a few after it, to exercise the
//! as-of rule); purchases and visits spread over those years with a heavier recent tail, a
//! few rows after the as-of date, a handful of big spenders and a share of missing values.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use crate::tables::days;
use parquet::arrow::ArrowWriter;

use crate::random::Random;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoConfig {
    /// Number of customers.
    pub customers: usize,
    /// The reference date: history runs up to it (and a little past it).
    pub as_of: NaiveDate,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            customers: 2_000,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 30).expect("a valid date"),
            seed: 42,
        }
    }
}

const CITIES: [&str; 8] = [
    "Paris",
    "Lyon",
    "Marseille",
    "Lille",
    "Nantes",
    "Bordeaux",
    "Saint-Étienne",
    "Rennes",
];
const CATEGORIES: [&str; 5] = ["food", "beauty", "home", "fashion", "sport"];
const CHANNELS: [&str; 3] = ["store", "web", "app"];

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Writes `customers.parquet`, `purchases.parquet`, `visits.parquet` and `ensemble.toml`
/// into `dir` (created if needed) and returns the catalog's path.
pub fn write_demo_datamart(dir: &Path, config: DemoConfig) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut random = Random::new(config.seed);
    let as_of = days(config.as_of);

    let customers = DemoCustomers::draw(&mut random, config.customers, as_of);
    let signup = customers.signup.clone();
    let customers = customers.into_batch()?;
    let (purchases, visits) = draw_activity(&mut random, &signup, as_of);
    let purchases = purchases.into_batch()?;
    let visits = visits.into_batch()?;

    write_parquet(&dir.join("customers.parquet"), &customers)?;
    write_parquet(&dir.join("purchases.parquet"), &purchases)?;
    write_parquet(&dir.join("visits.parquet"), &visits)?;
    let catalog = dir.join("ensemble.toml");
    demo_catalog(config.as_of)
        .write(
            &catalog,
            "The demo loyalty datamart (see docs/datamart.md for the catalog format).",
        )
        .map_err(std::io::Error::other)?;
    Ok(catalog)
}

/// The columns of the demo `customers` table, one entry per customer.
#[derive(Default)]
struct DemoCustomers {
    ids: Vec<i64>,
    signup: Vec<i32>,
    births: Vec<Option<i32>>,
    genders: Vec<Option<&'static str>>,
    cities: Vec<Option<&'static str>>,
    optins: Vec<Option<bool>>,
    points: Vec<i64>,
    emails: Vec<String>,
}

impl DemoCustomers {
    /// Draws `n` customers (ids `1..=n`), one after the other.
    fn draw(random: &mut Random, n: usize, as_of: i32) -> DemoCustomers {
        let mut customers = DemoCustomers {
            signup: Vec::with_capacity(n),
            ..DemoCustomers::default()
        };
        for i in 0..n {
            let id = i as i64 + 1;
            let day = draw_signup_day(random, as_of);
            customers.ids.push(id);
            customers.signup.push(day);
            customers.births.push(
                (!random.percent(10)).then(|| as_of - 365 * 18 - random.below(365 * 60) as i32),
            );
            customers
                .genders
                .push(Some(["F", "M", "X"][random.below(3) as usize]));
            customers.cities.push(
                (!random.percent(8)).then(|| CITIES[random.below(CITIES.len() as u64) as usize]),
            );
            customers.optins.push(Some(random.percent(60)));
            customers.points.push(random.below(5_000) as i64);
            customers
                .emails
                .push(format!("customer{id}@example.invalid"));
        }
        customers
    }

    /// The `customers` record batch.
    fn into_batch(self) -> std::io::Result<RecordBatch> {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("customer_id", DataType::Int64, false),
                Field::new("signup_date", DataType::Date32, false),
                Field::new("birth_date", DataType::Date32, true),
                Field::new("gender", DataType::Utf8, true),
                Field::new("city", DataType::Utf8, true),
                Field::new("optin_email", DataType::Boolean, true),
                Field::new("points", DataType::Int64, false),
                Field::new("email", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(Int64Array::from(self.ids)) as ArrayRef,
                Arc::new(Date32Array::from(self.signup)),
                Arc::new(Date32Array::from(self.births)),
                Arc::new(StringArray::from(self.genders)),
                Arc::new(StringArray::from(self.cities)),
                Arc::new(BooleanArray::from(self.optins)),
                Arc::new(Int64Array::from(self.points)),
                Arc::new(StringArray::from(self.emails)),
            ],
        )
        .map_err(std::io::Error::other)
    }
}

/// A signup date (days from the epoch) over the three years before `as_of`: 2% sign up after
/// the as-of date; 5% in the last 30 days.
fn draw_signup_day(random: &mut Random, as_of: i32) -> i32 {
    let history = 3 * 365;
    if random.percent(2) {
        as_of + 1 + random.below(20) as i32
    } else if random.percent(5) {
        as_of - random.below(30) as i32
    } else {
        as_of - history + random.below(history as u64 - 30) as i32
    }
}

/// Draws every customer's purchases and visits, customer after customer (ids `1..`, signing
/// up on the days of `signup`).
fn draw_activity(random: &mut Random, signup: &[i32], as_of: i32) -> (DemoPurchases, DemoVisits) {
    let mut purchases = DemoPurchases::default();
    let mut visits = DemoVisits::default();
    for (index, &start) in signup.iter().enumerate() {
        let customer = index as i64 + 1;
        let count = draw_purchase_count(random);
        // A third of buyers stopped buying a while ago (dormant).
        let stopped = if random.percent(33) {
            200 + random.below(400) as i32
        } else {
            0
        };
        let end = as_of + 3 - stopped; // a few rows fall after the as-of date
        purchases.draw(random, customer, count, start, end);
        visits.draw(random, customer, start, end);
    }
    (purchases, visits)
}

/// How many purchases a customer makes: 15% never buy (prospects); 3% are big spenders; the
/// rest buy now and then.
fn draw_purchase_count(random: &mut Random) -> u64 {
    if random.percent(15) {
        0
    } else if random.percent(3) {
        20 + random.below(30)
    } else {
        1 + random.below(8)
    }
}

/// A time (microseconds from the epoch) on the day `offset` days after `start`, at a random
/// second of that day.
fn time_of_day(random: &mut Random, start: i32, offset: i64) -> i64 {
    (i64::from(start) + offset) * MICROS_PER_DAY + random.below(86_400) as i64 * 1_000_000
}

/// The columns of the demo `purchases` table, one entry per purchase.
#[derive(Default)]
struct DemoPurchases {
    ids: Vec<i64>,
    customers: Vec<i64>,
    times: Vec<i64>,
    amounts: Vec<i128>,
    categories: Vec<Option<&'static str>>,
    channels: Vec<Option<&'static str>>,
}

impl DemoPurchases {
    /// Draws up to `count` purchases of `customer` between the days `start` and `end`, skewed
    /// towards recent dates (none if `end <= start`).
    fn draw(&mut self, random: &mut Random, customer: i64, count: u64, start: i32, end: i32) {
        for _ in 0..count {
            if end <= start {
                break;
            }
            // At least 1 (`end > start` here), so `below` draws.
            let span = (end - start) as u64;
            // Skew towards recent dates: the later of two draws.
            let offset = random.below(span).max(random.below(span)) as i64;
            let time = time_of_day(random, start, offset);
            let cents = if random.percent(4) {
                30_000 + random.below(90_000)
            } else {
                500 + random.below(12_000)
            };
            self.ids.push(self.ids.len() as i64 + 1);
            self.customers.push(customer);
            self.times.push(time);
            self.amounts.push(cents as i128);
            self.categories
                .push((!random.percent(5)).then(|| CATEGORIES[random.below(5) as usize]));
            self.channels.push(Some(CHANNELS[random.below(3) as usize]));
        }
    }

    /// The `purchases` record batch.
    fn into_batch(self) -> std::io::Result<RecordBatch> {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("purchase_id", DataType::Int64, false),
                Field::new("customer_id", DataType::Int64, false),
                Field::new(
                    "purchased_at",
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                    false,
                ),
                Field::new("amount", DataType::Decimal128(10, 2), false),
                Field::new("category", DataType::Utf8, true),
                Field::new("channel", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int64Array::from(self.ids)) as ArrayRef,
                Arc::new(Int64Array::from(self.customers)),
                Arc::new(TimestampMicrosecondArray::from(self.times)),
                Arc::new(
                    Decimal128Array::from(self.amounts)
                        .with_precision_and_scale(10, 2)
                        .map_err(std::io::Error::other)?,
                ),
                Arc::new(StringArray::from(self.categories)),
                Arc::new(StringArray::from(self.channels)),
            ],
        )
        .map_err(std::io::Error::other)
    }
}

/// The columns of the demo `visits` table, one entry per visit.
#[derive(Default)]
struct DemoVisits {
    customers: Vec<i64>,
    times: Vec<i64>,
    channels: Vec<Option<&'static str>>,
}

impl DemoVisits {
    /// Draws up to five visits of `customer` between the days `start` and `end` (the number
    /// is always drawn; no visit if `end <= start`).
    fn draw(&mut self, random: &mut Random, customer: i64, start: i32, end: i32) {
        for _ in 0..random.below(6) {
            if end <= start {
                break;
            }
            // `end > start` here, so the span is at least 1 (`below` draws).
            let offset = random.below((end - start) as u64) as i64;
            self.customers.push(customer);
            self.times.push(time_of_day(random, start, offset));
            self.channels
                .push(Some(["store", "web"][random.below(2) as usize]));
        }
    }

    /// The `visits` record batch.
    fn into_batch(self) -> std::io::Result<RecordBatch> {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("customer_id", DataType::Int64, false),
                Field::new(
                    "visited_at",
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                    false,
                ),
                Field::new("channel", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int64Array::from(self.customers)) as ArrayRef,
                Arc::new(TimestampMicrosecondArray::from(self.times)),
                Arc::new(StringArray::from(self.channels)),
            ],
        )
        .map_err(std::io::Error::other)
    }
}

/// The catalog of the demo datamart: customers (members from their signup date), their
/// purchases and visits; the history's end as the default evaluation date.
pub fn demo_catalog(as_of: NaiveDate) -> ensemble_catalog::CatalogFile {
    use ensemble_catalog::{CatalogFile, TableSection, UniverseSection};
    let customers = TableSection {
        path: "customers.parquet".into(),
        ..TableSection::default()
    };
    CatalogFile {
        as_of: Some(as_of),
        memory_limit: None,
        revenue: None,
        workspace: None,
        universe: UniverseSection {
            since: Some("signup_date".into()),
            ..UniverseSection::default()
        },
        tables: [
            ("customers".to_string(), customers),
            (
                "purchases".to_string(),
                TableSection::related("purchases.parquet", "customer_id", "purchased_at"),
            ),
            (
                "visits".to_string(),
                TableSection::related("visits.parquet", "customer_id", "visited_at"),
            ),
        ]
        .into(),
    }
}

/// Writes one record batch as a Parquet file (atomically, see `ensemble_fs`).
pub fn write_parquet(path: &Path, batch: &RecordBatch) -> std::io::Result<()> {
    let mut output = ensemble_fs::create(path).map_err(std::io::Error::other)?;
    let mut writer =
        ArrowWriter::try_new(&mut output, batch.schema(), None).map_err(std::io::Error::other)?;
    writer.write(batch).map_err(std::io::Error::other)?;
    writer.close().map_err(std::io::Error::other)?;
    output.finish().map_err(std::io::Error::other)
}
