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
use parquet::arrow::ArrowWriter;

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

/// A tiny deterministic generator (SplitMix64): same seed, same data, on every platform.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
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

fn days(date: NaiveDate) -> i32 {
    ensemble_compiler::criteria::days_from_epoch(date)
}

/// Writes `customers.parquet`, `purchases.parquet`, `visits.parquet` and `ensemble.toml`
/// into `dir` (created if needed) and returns the catalog's path.
pub fn write_demo_datamart(dir: &Path, config: DemoConfig) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut random = Random(config.seed);
    let as_of = days(config.as_of);
    let history = 3 * 365;

    let n = config.customers;
    let mut signup = Vec::with_capacity(n);
    let (mut ids, mut births, mut genders, mut cities, mut optins, mut points, mut emails) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let id = i as i64 + 1;
        // 2% sign up after the as-of date; 5% in the last 30 days.
        let day = if random.chance(2) {
            as_of + 1 + random.below(20) as i32
        } else if random.chance(5) {
            as_of - random.below(30) as i32
        } else {
            as_of - history + random.below(history as u64 - 30) as i32
        };
        ids.push(id);
        signup.push(day);
        births.push((!random.chance(10)).then(|| as_of - 365 * 18 - random.below(365 * 60) as i32));
        genders.push(Some(["F", "M", "X"][random.below(3) as usize]));
        cities
            .push((!random.chance(8)).then(|| CITIES[random.below(CITIES.len() as u64) as usize]));
        optins.push(Some(random.chance(60)));
        points.push(random.below(5_000) as i64);
        emails.push(format!("customer{id}@example.invalid"));
    }
    let customers = RecordBatch::try_new(
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
            Arc::new(Int64Array::from(ids.clone())) as ArrayRef,
            Arc::new(Date32Array::from(signup.clone())),
            Arc::new(Date32Array::from(births)),
            Arc::new(StringArray::from(genders)),
            Arc::new(StringArray::from(cities)),
            Arc::new(BooleanArray::from(optins)),
            Arc::new(Int64Array::from(points)),
            Arc::new(StringArray::from(emails)),
        ],
    )
    .map_err(std::io::Error::other)?;

    let micros_per_day = 86_400_000_000i64;
    let (mut p_ids, mut p_customers, mut p_times, mut p_amounts, mut p_categories, mut p_channels) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut v_customers, mut v_times, mut v_channels) = (vec![], vec![], vec![]);
    for (index, &start) in signup.iter().enumerate() {
        let customer = index as i64 + 1;
        // 15% never buy (prospects); 3% are big spenders; the rest buy now and then.
        let purchases = if random.chance(15) {
            0
        } else if random.chance(3) {
            20 + random.below(30)
        } else {
            1 + random.below(8)
        };
        // A third of buyers stopped buying a while ago (dormant).
        let stopped = if random.chance(33) {
            200 + random.below(400) as i32
        } else {
            0
        };
        let end = as_of + 3 - stopped; // a few rows fall after the as-of date
        for _ in 0..purchases {
            if end <= start {
                break;
            }
            let span = (end - start) as u64;
            // Skew towards recent dates: the later of two draws.
            let offset = random.below(span).max(random.below(span)) as i64;
            let time = (i64::from(start) + offset) * micros_per_day
                + random.below(86_400) as i64 * 1_000_000;
            let cents = if random.chance(4) {
                30_000 + random.below(90_000)
            } else {
                500 + random.below(12_000)
            };
            p_ids.push(p_ids.len() as i64 + 1);
            p_customers.push(customer);
            p_times.push(time);
            p_amounts.push(cents as i128);
            p_categories.push((!random.chance(5)).then(|| CATEGORIES[random.below(5) as usize]));
            p_channels.push(Some(CHANNELS[random.below(3) as usize]));
        }
        for _ in 0..random.below(6) {
            if end <= start {
                break;
            }
            let offset = random.below((end - start) as u64) as i64;
            v_customers.push(customer);
            v_times.push(
                (i64::from(start) + offset) * micros_per_day
                    + random.below(86_400) as i64 * 1_000_000,
            );
            v_channels.push(Some(["store", "web"][random.below(2) as usize]));
        }
    }
    let purchases = RecordBatch::try_new(
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
            Arc::new(Int64Array::from(p_ids)) as ArrayRef,
            Arc::new(Int64Array::from(p_customers)),
            Arc::new(TimestampMicrosecondArray::from(p_times)),
            Arc::new(
                Decimal128Array::from(p_amounts)
                    .with_precision_and_scale(10, 2)
                    .map_err(std::io::Error::other)?,
            ),
            Arc::new(StringArray::from(p_categories)),
            Arc::new(StringArray::from(p_channels)),
        ],
    )
    .map_err(std::io::Error::other)?;
    let visits = RecordBatch::try_new(
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
            Arc::new(Int64Array::from(v_customers)) as ArrayRef,
            Arc::new(TimestampMicrosecondArray::from(v_times)),
            Arc::new(StringArray::from(v_channels)),
        ],
    )
    .map_err(std::io::Error::other)?;

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
