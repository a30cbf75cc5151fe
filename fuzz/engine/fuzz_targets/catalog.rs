//! Fuzzes the catalog loader: any catalog file opens or fails with an error that renders,
//! never a panic or a hang.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use ensemble::Session;
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// A directory holding the demo datamart, so that fuzzed catalogs can name real files.
fn directory() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("ensemble-fuzz-catalog-{}", std::process::id()));
        ensemble::demo::write_demo_datamart(&dir, Default::default()).expect("the demo data");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let path = directory().join("fuzzed.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    runtime().block_on(async {
        match Session::open(&path).await {
            Ok(mut session) => {
                if let Err(error) = session.evaluate("all").await {
                    let _ = error.render(false);
                }
            }
            Err(error) => {
                let _ = error.render(false);
            }
        }
    });
});
