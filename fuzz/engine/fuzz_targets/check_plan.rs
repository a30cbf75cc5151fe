//! Fuzzes parse → check → plan against the demo catalog: any script is checked (every error
//! renders), and each bare expression of a script without errors is planned (explained),
//! never a panic, a hang or a stack overflow.
#![no_main]

mod common;

use ensemble::syntax::StatementKind;
use ensemble::Session;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    common::runtime().block_on(async {
        let mut session = Session::open(common::demo_catalog())
            .await
            .expect("the catalog opens");
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
