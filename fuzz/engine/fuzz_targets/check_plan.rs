//! Fuzzes parse → check → plan against the demo catalog: any script is checked (every error
//! renders), and each bare expression of a script without errors is planned (explained),
//! never a panic, a hang or a stack overflow.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use ensemble::syntax::StatementKind;
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

fn catalog() -> &'static PathBuf {
    static CATALOG: OnceLock<PathBuf> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ensemble-fuzz-{}", std::process::id()));
        ensemble::demo::write_demo_datamart(&dir, Default::default()).expect("the demo data")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    runtime().block_on(async {
        let mut session = Session::open(catalog()).await.expect("the catalog opens");
        let check = match session.check_script(&text, "fuzz") {
            Ok(check) => check,
            Err(error) => {
                let _ = error.render(false);
                return;
            }
        };
        for error in &check.errors {
            let _ = error.render(false);
        }
        if !check.errors.is_empty() {
            return;
        }
        let Ok(parsed) = ensemble::syntax::parse_script(&text) else {
            return;
        };
        for statement in &parsed.script.statements {
            if let StatementKind::Evaluate(_) = statement.kind {
                let expression = text[statement.span.start..statement.span.end]
                    .trim_end()
                    .trim_end_matches(';');
                if let Err(error) = session.explain(expression) {
                    let _ = error.render(false);
                }
            }
        }
    });
});
