//! **ensemble**: customer segmentation with set theory over Parquet loyalty data.
//!
//! A data team writes segments in the segment language
//! (`segment vip = [sum(purchases.amount within 365 days) >= 1000]; clients - vip;`); ensemble
//! checks them against the catalog, lowers them to DataFusion plans and materialises every
//! step — each leaf and each set operation — as an inspectable table.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ensemble::EngineError> {
//! let mut session = ensemble::Session::open("data/ensemble.toml").await?;
//! session.run_script("segment vip = [sum(purchases.amount) >= 1000];", "<doc>").await?;
//! let evaluation = session.evaluate("all - vip").await?;
//! println!("{} members\n{}", evaluation.count(), evaluation.tree());
//! println!("{}", session.explain("all - vip")?);
//! # Ok(()) }
//! ```
//!
//! The stages are separate crates, re-exported here: [`syntax`] (grammar, tree, diagnostics),
//! [`compiler`] (checks, step DAG, logical plans) and the engine (sessions, catalog, steps),
//! whose API is this crate's root.
#![warn(missing_docs)]

pub mod demo;
pub mod process;

pub use ensemble_catalog as catalog_file;
pub use ensemble_charts as charts;
pub use ensemble_compiler as compiler;
pub use ensemble_datagen as datagen;
pub use ensemble_engine::*;
pub use ensemble_fs as fs;
pub use ensemble_import as import;
pub use ensemble_syntax as syntax;
/// The one reader of dates given as text (`2025-01-01`), for every entry point.
pub use ensemble_syntax::{parse_date, DateError};

/// Arrow, as used in results (record batches of members).
pub use arrow;
