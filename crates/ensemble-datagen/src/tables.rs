//! The six tables: their schemas, and the rows of one chunk of customers.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder,
    Int8Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::customers::customer;
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

/// The column builders of one chunk's six tables; the prefix of a field names its table
/// (`c_` customers, `p_` purchases, `v_` visits, `r_` reviews, `m_` messages, `l_`
/// loyalty events).
#[derive(Default)]
pub(crate) struct Builders {
    pub(crate) c_id: Int64Builder,
    pub(crate) c_signup: Date32Builder,
    pub(crate) c_birth: Date32Builder,
    pub(crate) c_gender: StringBuilder,
    pub(crate) c_city: StringBuilder,
    pub(crate) c_region: StringBuilder,
    pub(crate) c_postal: StringBuilder,
    pub(crate) c_country: StringBuilder,
    pub(crate) c_acquisition: StringBuilder,
    pub(crate) c_store: Int32Builder,
    pub(crate) c_optin_email: BooleanBuilder,
    pub(crate) c_optin_sms: BooleanBuilder,
    pub(crate) c_tier: StringBuilder,
    pub(crate) c_points: Int64Builder,
    pub(crate) c_email: StringBuilder,
    pub(crate) p_id: Int64Builder,
    pub(crate) p_customer: Int64Builder,
    pub(crate) p_at: TimestampMicrosecondBuilder,
    pub(crate) p_store: Int32Builder,
    pub(crate) p_channel: StringBuilder,
    pub(crate) p_amount: Decimal128Builder,
    pub(crate) p_items: Int32Builder,
    pub(crate) p_category: StringBuilder,
    pub(crate) p_discount: Decimal128Builder,
    pub(crate) v_customer: Int64Builder,
    pub(crate) v_at: TimestampMicrosecondBuilder,
    pub(crate) v_channel: StringBuilder,
    pub(crate) v_store: Int32Builder,
    pub(crate) r_customer: Int64Builder,
    pub(crate) r_at: TimestampMicrosecondBuilder,
    pub(crate) r_rating: Int8Builder,
    pub(crate) r_category: StringBuilder,
    pub(crate) m_customer: Int64Builder,
    pub(crate) m_campaign: StringBuilder,
    pub(crate) m_at: TimestampMicrosecondBuilder,
    pub(crate) m_opened: BooleanBuilder,
    pub(crate) m_clicked: BooleanBuilder,
    pub(crate) l_customer: Int64Builder,
    pub(crate) l_at: TimestampMicrosecondBuilder,
    pub(crate) l_kind: StringBuilder,
    pub(crate) l_points: Int64Builder,
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
    b.finish_batches()
}

/// Assembles one table's record batch from its finished columns, under the table's schema.
fn table_batch(table: &'static str, columns: Vec<ArrayRef>) -> Result<RecordBatch, DatagenError> {
    RecordBatch::try_new(schema(table), columns)
        .map_err(|source| DatagenError::Arrow { table, source })
}

/// Finishes a money column of `purchases` as a `Decimal128(12, 2)` array.
fn finish_money(builder: &mut Decimal128Builder) -> Result<ArrayRef, DatagenError> {
    Ok(Arc::new(
        builder
            .finish()
            .with_precision_and_scale(12, 2)
            .map_err(|source| DatagenError::Arrow {
                table: "purchases",
                source,
            })?,
    ))
}

impl Builders {
    /// Finishes every column into the chunk's six record batches, in [`TABLES`] order.
    fn finish_batches(mut self) -> Result<Vec<RecordBatch>, DatagenError> {
        Ok(vec![
            table_batch("customers", self.finish_customers())?,
            table_batch("purchases", self.finish_purchases()?)?,
            table_batch("visits", self.finish_visits())?,
            table_batch("reviews", self.finish_reviews())?,
            table_batch("messages", self.finish_messages())?,
            table_batch("loyalty_events", self.finish_loyalty_events())?,
        ])
    }

    /// The `customers` columns, in schema order.
    fn finish_customers(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.c_id.finish()),
            Arc::new(self.c_signup.finish()),
            Arc::new(self.c_birth.finish()),
            Arc::new(self.c_gender.finish()),
            Arc::new(self.c_city.finish()),
            Arc::new(self.c_region.finish()),
            Arc::new(self.c_postal.finish()),
            Arc::new(self.c_country.finish()),
            Arc::new(self.c_acquisition.finish()),
            Arc::new(self.c_store.finish()),
            Arc::new(self.c_optin_email.finish()),
            Arc::new(self.c_optin_sms.finish()),
            Arc::new(self.c_tier.finish()),
            Arc::new(self.c_points.finish()),
            Arc::new(self.c_email.finish()),
        ]
    }

    /// The `purchases` columns, in schema order (the money columns as decimals).
    fn finish_purchases(&mut self) -> Result<Vec<ArrayRef>, DatagenError> {
        Ok(vec![
            Arc::new(self.p_id.finish()),
            Arc::new(self.p_customer.finish()),
            Arc::new(self.p_at.finish()),
            Arc::new(self.p_store.finish()),
            Arc::new(self.p_channel.finish()),
            finish_money(&mut self.p_amount)?,
            Arc::new(self.p_items.finish()),
            Arc::new(self.p_category.finish()),
            finish_money(&mut self.p_discount)?,
        ])
    }

    /// The `visits` columns, in schema order.
    fn finish_visits(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.v_customer.finish()),
            Arc::new(self.v_at.finish()),
            Arc::new(self.v_channel.finish()),
            Arc::new(self.v_store.finish()),
        ]
    }

    /// The `reviews` columns, in schema order.
    fn finish_reviews(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.r_customer.finish()),
            Arc::new(self.r_at.finish()),
            Arc::new(self.r_rating.finish()),
            Arc::new(self.r_category.finish()),
        ]
    }

    /// The `messages` columns, in schema order.
    fn finish_messages(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.m_customer.finish()),
            Arc::new(self.m_campaign.finish()),
            Arc::new(self.m_at.finish()),
            Arc::new(self.m_opened.finish()),
            Arc::new(self.m_clicked.finish()),
        ]
    }

    /// The `loyalty_events` columns, in schema order.
    fn finish_loyalty_events(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.l_customer.finish()),
            Arc::new(self.l_at.finish()),
            Arc::new(self.l_kind.finish()),
            Arc::new(self.l_points.finish()),
        ]
    }
}

/// Days from 1970-01-01 to `date` (the `Date32` encoding).
pub(crate) fn days(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    (date - epoch).num_days() as i32
}
