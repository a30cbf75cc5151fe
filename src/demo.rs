//! The small, deterministic demo loyalty datamart (Parquet + catalog) used by the quickstart
//! example, the end-to-end tests and the benchmark: the demo preset of `ensemble-datagen`,
//! re-exported here.

pub use ensemble_datagen::demo::*;
