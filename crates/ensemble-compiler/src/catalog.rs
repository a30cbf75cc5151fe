//! What the compiler knows of the data: the universe table, the related tables and their
//! Arrow schemas. The engine builds it from the catalog file and the Parquet footers.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::SchemaRef;

/// The tables a script can refer to, with their schemas.
#[derive(Debug, Clone)]
pub struct CatalogSchema {
    /// The universe: every segment is a set of its keys.
    pub universe: UniverseSchema,
    /// Related tables by name (purchases, visits, …).
    pub related: BTreeMap<String, RelatedSchema>,
}

/// The universe table.
#[derive(Debug, Clone)]
pub struct UniverseSchema {
    /// Table name (`customers`).
    pub table: String,
    /// Member key column (`customer_id`).
    pub key: String,
    /// Optional column from whose date on a member exists (`signup_date`).
    pub since: Option<String>,
    /// The table's schema.
    pub schema: SchemaRef,
}

/// A table related to the universe.
#[derive(Debug, Clone)]
pub struct RelatedSchema {
    /// Table name.
    pub name: String,
    /// Column referencing the universe key; `None` when the table does not reference it
    /// (such a table cannot be aggregated per member).
    pub key: Option<String>,
    /// Default time column for `within` and the as-of cut.
    pub time: Option<String>,
    /// The table's schema.
    pub schema: SchemaRef,
}

impl CatalogSchema {
    /// Names of every table (universe first).
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.universe.table.as_str()).chain(self.related.keys().map(String::as_str))
    }
}
