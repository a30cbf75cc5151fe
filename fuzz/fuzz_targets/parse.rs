//! Fuzzes the parser: any input parses or fails with a diagnostic that renders, never a
//! panic, a hang or a stack overflow; whatever parses prints to canonical text that re-parses
//! to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match ensemble_syntax::parse_script(&text) {
        Ok(parsed) => {
            let printed = parsed.script.to_string();
            let again = ensemble_syntax::parse_script(&printed)
                .unwrap_or_else(|e| panic!("canonical text does not re-parse: {e}\n{printed}"));
            assert_eq!(parsed.script, again.script, "{printed}");
        }
        Err(error) => {
            let _ = error.diagnostic().render(&text, "fuzz", false);
        }
    }
});
