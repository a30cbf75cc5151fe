//! The six tables: their schemas, and the rows of one chunk of customers.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder,
    Int8Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::model::{self, Profile};
use crate::random::Random;
use crate::writer::TableWriter;
use crate::{DatagenError, GenerateConfig};

/// The tables a datamart has, in writing order.
pub const TABLES: [&str; 6] = [
    "customers",
    "purchases",
    "visits",
    "reviews",
    "messages",
    "loyalty_events",
];

const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn money() -> DataType {
    DataType::Decimal128(12, 2)
}

fn schema(table: &str) -> SchemaRef {
    let f = Field::new;
    Arc::new(Schema::new(match table {
        "customers" => vec![
            f("customer_id", DataType::Int64, false),
            f("signup_date", DataType::Date32, false),
            f("birth_date", DataType::Date32, true),
            f("gender", DataType::Utf8, true),
            f("city", DataType::Utf8, true),
            f("region", DataType::Utf8, true),
            f("postal_code", DataType::Utf8, true),
            f("country", DataType::Utf8, false),
            f("acquisition_channel", DataType::Utf8, false),
            f("home_store", DataType::Int32, false),
            f("optin_email", DataType::Boolean, false),
            f("optin_sms", DataType::Boolean, true),
            f("loyalty_tier", DataType::Utf8, false),
            f("points_balance", DataType::Int64, false),
            f("email", DataType::Utf8, false),
        ],
        "purchases" => vec![
            f("purchase_id", DataType::Int64, false),
            f("customer_id", DataType::Int64, false),
            f("purchased_at", timestamp(), false),
            f("store_id", DataType::Int32, true),
            f("channel", DataType::Utf8, false),
            f("amount", money(), false),
            f("items", DataType::Int32, false),
            f("category", DataType::Utf8, true),
            f("discount", money(), true),
        ],
        "visits" => vec![
            f("customer_id", DataType::Int64, false),
            f("visited_at", timestamp(), false),
            f("channel", DataType::Utf8, false),
            f("store_id", DataType::Int32, true),
        ],
        "reviews" => vec![
            f("customer_id", DataType::Int64, false),
            f("reviewed_at", timestamp(), false),
            f("rating", DataType::Int8, false),
            f("category", DataType::Utf8, true),
        ],
        "messages" => vec![
            f("customer_id", DataType::Int64, false),
            f("campaign", DataType::Utf8, false),
            f("sent_at", timestamp(), false),
            f("opened", DataType::Boolean, false),
            f("clicked", DataType::Boolean, false),
        ],
        _ => vec![
            f("customer_id", DataType::Int64, false),
            f("event_at", timestamp(), false),
            f("kind", DataType::Utf8, false),
            f("points", DataType::Int64, false),
        ],
    }))
}

/// One writer per table.
pub struct Writers(Vec<TableWriter>);

impl Writers {
    /// Creates the six files.
    pub fn create(dir: &Path) -> Result<Writers, DatagenError> {
        let writers = TABLES
            .iter()
            .map(|table| TableWriter::create(dir, table, schema(table)))
            .collect::<Result<_, _>>()?;
        Ok(Writers(writers))
    }

    /// Appends one chunk (its batches in [`TABLES`] order).
    pub fn write(&mut self, chunk: &[RecordBatch]) -> Result<(), DatagenError> {
        for (writer, batch) in self.0.iter_mut().zip(chunk) {
            writer.write(batch)?;
        }
        Ok(())
    }

    /// Closes every file; returns the rows per table.
    pub fn finish(self) -> Result<Vec<(String, u64)>, DatagenError> {
        TABLES
            .iter()
            .zip(self.0)
            .map(|(table, writer)| Ok((table.to_string(), writer.finish()?)))
            .collect()
    }
}

#[derive(Default)]
struct Builders {
    c_id: Int64Builder,
    c_signup: Date32Builder,
    c_birth: Date32Builder,
    c_gender: StringBuilder,
    c_city: StringBuilder,
    c_region: StringBuilder,
    c_postal: StringBuilder,
    c_country: StringBuilder,
    c_acquisition: StringBuilder,
    c_store: Int32Builder,
    c_optin_email: BooleanBuilder,
    c_optin_sms: BooleanBuilder,
    c_tier: StringBuilder,
    c_points: Int64Builder,
    c_email: StringBuilder,
    p_id: Int64Builder,
    p_customer: Int64Builder,
    p_at: TimestampMicrosecondBuilder,
    p_store: Int32Builder,
    p_channel: StringBuilder,
    p_amount: Decimal128Builder,
    p_items: Int32Builder,
    p_category: StringBuilder,
    p_discount: Decimal128Builder,
    v_customer: Int64Builder,
    v_at: TimestampMicrosecondBuilder,
    v_channel: StringBuilder,
    v_store: Int32Builder,
    r_customer: Int64Builder,
    r_at: TimestampMicrosecondBuilder,
    r_rating: Int8Builder,
    r_category: StringBuilder,
    m_customer: Int64Builder,
    m_campaign: StringBuilder,
    m_at: TimestampMicrosecondBuilder,
    m_opened: BooleanBuilder,
    m_clicked: BooleanBuilder,
    l_customer: Int64Builder,
    l_at: TimestampMicrosecondBuilder,
    l_kind: StringBuilder,
    l_points: Int64Builder,
}

/// A time of day during opening hours, in microseconds.
fn opening_hours(random: &mut Random) -> i64 {
    (9 * 3_600 + random.below(11 * 3_600) as i64) * MICROS_PER_SECOND
}

/// Generates customers `first..=last` and everything they did; batches in [`TABLES`] order.
pub fn generate_chunk(
    config: &GenerateConfig,
    first: u64,
    last: u64,
) -> Result<Vec<RecordBatch>, DatagenError> {
    let as_of = i64::from(days(config.as_of));
    let mut b = Builders::default();
    for id in first..=last {
        customer(&mut b, config.seed, id, as_of);
    }
    let build = |table: &'static str, columns: Vec<ArrayRef>| {
        RecordBatch::try_new(schema(table), columns)
            .map_err(|source| DatagenError::Arrow { table, source })
    };
    let decimal = |builder: &mut Decimal128Builder| -> Result<ArrayRef, DatagenError> {
        Ok(Arc::new(
            builder
                .finish()
                .with_precision_and_scale(12, 2)
                .map_err(|source| DatagenError::Arrow {
                    table: "purchases",
                    source,
                })?,
        ))
    };
    Ok(vec![
        build(
            "customers",
            vec![
                Arc::new(b.c_id.finish()),
                Arc::new(b.c_signup.finish()),
                Arc::new(b.c_birth.finish()),
                Arc::new(b.c_gender.finish()),
                Arc::new(b.c_city.finish()),
                Arc::new(b.c_region.finish()),
                Arc::new(b.c_postal.finish()),
                Arc::new(b.c_country.finish()),
                Arc::new(b.c_acquisition.finish()),
                Arc::new(b.c_store.finish()),
                Arc::new(b.c_optin_email.finish()),
                Arc::new(b.c_optin_sms.finish()),
                Arc::new(b.c_tier.finish()),
                Arc::new(b.c_points.finish()),
                Arc::new(b.c_email.finish()),
            ],
        )?,
        build(
            "purchases",
            vec![
                Arc::new(b.p_id.finish()),
                Arc::new(b.p_customer.finish()),
                Arc::new(b.p_at.finish()),
                Arc::new(b.p_store.finish()),
                Arc::new(b.p_channel.finish()),
                decimal(&mut b.p_amount)?,
                Arc::new(b.p_items.finish()),
                Arc::new(b.p_category.finish()),
                decimal(&mut b.p_discount)?,
            ],
        )?,
        build(
            "visits",
            vec![
                Arc::new(b.v_customer.finish()),
                Arc::new(b.v_at.finish()),
                Arc::new(b.v_channel.finish()),
                Arc::new(b.v_store.finish()),
            ],
        )?,
        build(
            "reviews",
            vec![
                Arc::new(b.r_customer.finish()),
                Arc::new(b.r_at.finish()),
                Arc::new(b.r_rating.finish()),
                Arc::new(b.r_category.finish()),
            ],
        )?,
        build(
            "messages",
            vec![
                Arc::new(b.m_customer.finish()),
                Arc::new(b.m_campaign.finish()),
                Arc::new(b.m_at.finish()),
                Arc::new(b.m_opened.finish()),
                Arc::new(b.m_clicked.finish()),
            ],
        )?,
        build(
            "loyalty_events",
            vec![
                Arc::new(b.l_customer.finish()),
                Arc::new(b.l_at.finish()),
                Arc::new(b.l_kind.finish()),
                Arc::new(b.l_points.finish()),
            ],
        )?,
    ])
}

fn days(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    (date - epoch).num_days() as i32
}

/// One customer's row and life.
fn customer(b: &mut Builders, seed: u64, id: u64, as_of: i64) {
    let mut random = Random::for_customer(seed, id);
    let profile: Profile = model::profile(&mut random, as_of);
    let customer_id = id as i64;
    let city_index = *random.weighted(
        &model::CITY_WEIGHTS
            .iter()
            .enumerate()
            .map(|(i, w)| (i, *w))
            .collect::<Vec<_>>(),
    );
    let (city, region, postal) = model::CITIES[city_index];
    let optin_email = random.chance(0.62);

    // Purchases.
    let mut spend_12m = 0i128;
    let mut points = 0i64;
    let days_list =
        model::purchase_days(&mut random, &profile, profile.signup, profile.active_until);
    for (index, day) in days_list.into_iter().enumerate() {
        let at = day * MICROS_PER_DAY + opening_hours(&mut random);
        let channel = *random.weighted(&[("store", 65.0), ("web", 25.0), ("app", 10.0)]);
        let cents =
            ((profile.basket * (random.normal() * 0.45).exp()).max(1.0) * 100.0).round() as i128;
        let category = *random.weighted(&model::CATEGORIES);
        // Unique and stable: the customer's id, then the purchase's rank (< 2^20).
        let purchase_id = ((id as i64) << 20) | (index as i64 & 0xF_FFFF);
        b.p_id.append_value(purchase_id);
        b.p_customer.append_value(customer_id);
        b.p_at.append_value(at);
        if channel == "store" {
            let store = if random.chance(0.8) {
                profile.home_store
            } else {
                1 + random.below(model::STORES) as i64
            };
            b.p_store.append_value(store as i32);
        } else {
            b.p_store.append_null();
        }
        b.p_channel.append_value(channel);
        b.p_amount.append_value(cents);
        b.p_items
            .append_value(1 + (cents / 2_500) as i32 + random.below(3) as i32);
        if random.chance(0.03) {
            b.p_category.append_null();
        } else {
            b.p_category.append_value(category);
        }
        if random.chance(0.2) {
            b.p_discount
                .append_value(cents * (10 + random.below(21) as i128) / 100);
        } else {
            b.p_discount.append_null();
        }
        if day > as_of - 365 {
            spend_12m += cents;
        }
        if random.chance(0.5) {
            let earned = (cents / 100) as i64;
            points += earned;
            b.l_customer.append_value(customer_id);
            b.l_at.append_value(at);
            b.l_kind.append_value("earned");
            b.l_points.append_value(earned);
        }
        // 6% of purchases get a review within two weeks (if before the as-of date).
        if random.chance(0.06) {
            let review_day = day + 1 + random.below(14) as i64;
            if review_day <= as_of {
                b.r_customer.append_value(customer_id);
                b.r_at
                    .append_value(review_day * MICROS_PER_DAY + opening_hours(&mut random));
                b.r_rating.append_value(*random.weighted(&[
                    (5i8, 45.0),
                    (4, 30.0),
                    (3, 12.0),
                    (2, 7.0),
                    (1, 6.0),
                ]));
                b.r_category.append_value(category);
            }
        }
    }
    // Redemptions: roughly once a year while points remain.
    if points > 200 && random.chance(0.6) {
        let redeemed = points / 2;
        points -= redeemed;
        let day = profile.signup
            + random.below((profile.active_until - profile.signup).max(1) as u64) as i64;
        b.l_customer.append_value(customer_id);
        b.l_at
            .append_value(day * MICROS_PER_DAY + opening_hours(&mut random));
        b.l_kind.append_value("redeemed");
        b.l_points.append_value(-redeemed);
    }

    // Visits: store and web, a little less often than purchases (many purchases need no
    // separate visit), also by prospects (browsing).
    let visit_rate = if profile.prospect {
        1.5
    } else {
        profile.frequency * 0.8
    };
    let mut t = profile.signup as f64 + random.exponential(365.0 / visit_rate);
    while t <= profile.active_until as f64 {
        let day = t as i64;
        let web = random.chance(0.45);
        b.v_customer.append_value(customer_id);
        b.v_at
            .append_value(day * MICROS_PER_DAY + opening_hours(&mut random));
        b.v_channel.append_value(if web { "web" } else { "store" });
        if web {
            b.v_store.append_null();
        } else {
            b.v_store.append_value(profile.home_store as i32);
        }
        t += random.exponential(365.0 / visit_rate);
    }

    // Messages: the monthly campaigns of the last two years the customer was there for.
    if optin_email {
        for month in 0..24i64 {
            let sent = as_of - 15 - month * 30;
            if sent < profile.signup || !random.chance(0.35) {
                continue;
            }
            let engaged = sent <= profile.active_until;
            let opened = random.chance(if engaged { 0.3 } else { 0.08 });
            let clicked = opened && random.chance(0.25);
            b.m_customer.append_value(customer_id);
            b.m_campaign
                .append_value(format!("newsletter-{:02}", (24 - month)));
            b.m_at
                .append_value(sent * MICROS_PER_DAY + 8 * 3_600 * MICROS_PER_SECOND);
            b.m_opened.append_value(opened);
            b.m_clicked.append_value(clicked);
        }
    }

    // The customer row.
    b.c_id.append_value(customer_id);
    b.c_signup.append_value(profile.signup as i32);
    if random.chance(0.12) {
        b.c_birth.append_null();
    } else {
        let age_days = (18.0 * 365.0 + random.unit() * 55.0 * 365.0) as i64;
        b.c_birth.append_value((as_of - age_days) as i32);
    }
    if random.chance(0.06) {
        b.c_gender.append_null();
    } else {
        b.c_gender
            .append_value(*random.weighted(&[("F", 56.0), ("M", 42.0), ("X", 2.0)]));
    }
    let (country, city_known) = if random.chance(0.03) {
        ("BE", false)
    } else {
        ("FR", !random.chance(0.04))
    };
    if city_known {
        b.c_city.append_value(city);
        b.c_region.append_value(region);
        b.c_postal
            .append_value(format!("{postal}{:03}", random.below(1000)));
    } else {
        b.c_city.append_null();
        b.c_region.append_null();
        b.c_postal.append_null();
    }
    b.c_country.append_value(country);
    b.c_acquisition
        .append_value(*random.weighted(&model::ACQUISITION));
    b.c_store.append_value(profile.home_store as i32);
    b.c_optin_email.append_value(optin_email);
    if random.chance(0.05) {
        b.c_optin_sms.append_null();
    } else {
        b.c_optin_sms.append_value(random.chance(0.35));
    }
    let tier = match spend_12m {
        s if s >= 150_000 => "platinum",
        s if s >= 60_000 => "gold",
        s if s >= 20_000 => "silver",
        _ => "bronze",
    };
    b.c_tier.append_value(tier);
    b.c_points.append_value(points);
    b.c_email
        .append_value(format!("member{id}@example.invalid"));
}
