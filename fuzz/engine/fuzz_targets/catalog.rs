//! Fuzzes the catalog loader: any catalog file opens or fails with an error that renders,
//! never a panic or a hang.
#![no_main]

mod common;

use ensemble::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(dir) = common::demo_catalog().parent() else {
        return;
    };
    let path = dir.join("fuzzed.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    common::runtime().block_on(async {
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
