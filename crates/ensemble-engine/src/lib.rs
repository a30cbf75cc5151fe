//! The engine: sessions over a catalog of Parquet tables. It runs scripts statement by
//! statement, evaluates set expressions by materialising every step as a set of member
//! numbers, registered in a DataFusion session as a table of keys (for SQL, previews and
//! exports), and reuses steps whose definition, as-of date and data files have not changed.
#![warn(missing_docs)]

pub mod catalog;
pub mod data_files;
mod deep;
pub mod describe;
pub mod error;
mod fold;
pub mod integrity;
mod mapped_store;
mod member_table;
pub mod members;
pub mod options;
mod pages;
pub mod report;
pub mod session;
pub mod step_table;
pub mod steps;

pub use catalog::{Catalog, CatalogFile};
pub use describe::{ColumnInfo, TableDescription, TableInfo};
pub use error::EngineError;
pub use options::{parse_size, SessionOptions, MEMORY_LIMIT_VARIABLE};
pub use session::{
    Audience, AudienceSpec, DefinitionKind, Evaluation, Explanation, FeaturesPass, Interrupter,
    Listed, Outcome, Overlaps, PartitionCounts, ProgressHook, ScriptCheck, ScriptRun, Session, Why,
};
pub use step_table::{steps_batch, steps_schema};
pub use steps::{group_thousands, render_tree, render_tree_with, set_label, Step, StepKind};
