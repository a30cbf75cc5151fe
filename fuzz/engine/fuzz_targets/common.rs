//! What the engine's fuzz targets share: a runtime and the demo datamart on disk.

use std::path::PathBuf;
use std::sync::OnceLock;

/// One single-threaded runtime for every input.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The demo datamart, written once per process; returns its catalog.
pub fn demo_catalog() -> &'static PathBuf {
    static CATALOG: OnceLock<PathBuf> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ensemble-fuzz-{}", std::process::id()));
        ensemble::demo::write_demo_datamart(&dir, Default::default()).expect("the demo data")
    })
}
