//! A deterministic, always-on cousin of the `cargo fuzz` target (`fuzz/`): random token soups
//! drawn from the language's vocabulary must parse or fail cleanly, and whatever parses must
//! print to canonical text that re-parses to the same tree.

use ensemble_syntax::parse_script;

const TOKENS: &[&str] = &[
    "segment",
    "field",
    "as",
    "of",
    "2026-01-31",
    "today",
    "all",
    "vip",
    "clients",
    "x",
    "é_ç",
    "=",
    ";",
    "[",
    "]",
    "(",
    ")",
    "∩",
    "&",
    "inter",
    "∪",
    "|",
    "union",
    "-",
    "−",
    "minus",
    "sauf",
    "Δ",
    "^",
    "xor",
    "and",
    "or",
    "not",
    "<",
    "<=",
    ">",
    ">=",
    "!=",
    "<>",
    "+",
    "*",
    "/",
    "1",
    "19.99",
    "'a''b'",
    "\"s\"",
    "true",
    "null",
    "is",
    "between",
    "in",
    ",",
    "like",
    "contains",
    "starts",
    "with",
    "within",
    "30",
    "days",
    "months",
    "ago",
    "before",
    "after",
    "sum",
    "count",
    "last",
    "purchases",
    ".",
    "amount",
    "where",
    "has",
    "no",
    "greatest",
    "partition",
    "{",
    "}",
    "else",
    "score",
    "--",
    "\n",
    "statut",
    "12",
];

/// SplitMix64: reproducible across platforms.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn random_token_soups_parse_or_fail_cleanly_and_round_trip() {
    let mut state = 7u64;
    let mut parsed_count = 0;
    for _ in 0..20_000 {
        let length = 1 + next(&mut state) % 24;
        let text: Vec<&str> = (0..length)
            .map(|_| TOKENS[(next(&mut state) % TOKENS.len() as u64) as usize])
            .collect();
        let text = text.join(" ");
        match parse_script(&text) {
            Ok(parsed) => {
                parsed_count += 1;
                let printed = parsed.script.to_string();
                let again = parse_script(&printed).unwrap_or_else(|e| {
                    panic!("{text}\nprinted as\n{printed}\ndoes not re-parse: {e}")
                });
                assert_eq!(parsed.script, again.script, "{text}\nprinted as\n{printed}");
            }
            Err(error) => {
                let rendered = error.diagnostic().render(&text, "soup", false);
                assert!(rendered.contains("(line "), "{rendered}");
            }
        }
    }
    assert!(
        parsed_count > 100,
        "the soup must sometimes be valid: {parsed_count}"
    );
}

#[test]
fn structured_random_expressions_round_trip() {
    // Well-formed expressions built recursively, to reach deep and mixed shapes.
    fn set_expr(state: &mut u64, depth: u32) -> String {
        if depth == 0 || next(state).is_multiple_of(3) {
            return match next(state) % 4 {
                0 => "all".into(),
                1 => format!("[{}]", criterion(state, depth.saturating_sub(1))),
                2 => "vip".into(),
                _ => format!("({})", set_expr(state, depth.saturating_sub(1))),
            };
        }
        let ops = ["∩", "∪", "-", "Δ", "inter", "union", "except", "xor"];
        let op = ops[(next(state) % ops.len() as u64) as usize];
        format!(
            "{} {op} {}",
            set_expr(state, depth - 1),
            set_expr(state, depth - 1)
        )
    }
    fn criterion(state: &mut u64, depth: u32) -> String {
        if depth == 0 || next(state).is_multiple_of(3) {
            let leaves = [
                "points > 3",
                "city = 'Paris'",
                "signup_date within 30 days",
                "has purchases where amount > 5 within 2 weeks",
                "sum(purchases.amount) >= 19.99",
                "x is not null",
                "-x < -2",
                "x between 1 and 2 + 3",
                "city not in ('a', 'b')",
                "last(purchases.at) before 12 months ago",
                "not flag",
            ];
            return leaves[(next(state) % leaves.len() as u64) as usize].into();
        }
        let ops = ["and", "or"];
        let op = ops[(next(state) % 2) as usize];
        format!(
            "({}) {op} not ({})",
            criterion(state, depth - 1),
            criterion(state, depth - 1)
        )
    }
    let mut state = 11u64;
    for _ in 0..2_000 {
        let text = set_expr(&mut state, 6);
        let parsed = parse_script(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let printed = parsed.script.to_string();
        let again = parse_script(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(parsed.script, again.script, "{text}");
    }
}

#[test]
fn long_chains_within_the_limit_round_trip() {
    // The canonical form parenthesises every level: it must stay within the nesting limit.
    let chain = vec!["a"; ensemble_syntax::MAX_TREE_DEPTH].join(" ∩ ");
    let parsed = parse_script(&chain).expect("within the limit");
    let printed = parsed.script.to_string();
    assert_eq!(
        parse_script(&printed).expect("re-parses").script,
        parsed.script
    );
}
