//! Parse trees, canonical text and parse errors of the segment language.

use ensemble_syntax::*;

/// The canonical (fully parenthesised) text of every statement.
fn canonical(source: &str) -> String {
    let parsed = parse_script(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    parsed.script.to_string()
}

/// Parses, prints, re-parses: the tree must not change.
fn round_trip(source: &str) {
    let first = parse_script(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let text = first.script.to_string();
    let second = parse_script(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(
        first.script, second.script,
        "{source}\n  printed as\n{text}"
    );
}

fn error(source: &str) -> String {
    let error = parse_script(source).expect_err(source);
    error.diagnostic().render(source, "input.seg", false)
}

const SPEC_STATEMENTS: &str = r#"
as of 2026-06-30;                                   -- evaluation date (default: today)
field ca_12m = sum(purchases.amount within 12 months);
field last_activity = greatest(signup_date, last(purchases.purchased_at), last(visits.visited_at));
segment vip = [ca_12m >= 1000];
segment acheteurs_recents = [has purchases within 30 days];
clients - acheteurs_recents ∩ vip;                  -- a bare expression is evaluated
"#;

#[test]
fn spec_statements() {
    insta::assert_snapshot!(canonical(SPEC_STATEMENTS));
    round_trip(SPEC_STATEMENTS);
}

#[test]
fn debug_tree_of_a_small_statement() {
    let parsed = parse_script("segment vip = [ca_12m >= 1000] ∩ clients;").unwrap();
    insta::assert_debug_snapshot!(parsed.script.statements[0].kind);
}

#[test]
fn every_set_operator_in_symbol_and_word_forms() {
    let forms = [
        ("a ∩ b", "a ∩ b"),
        ("a & b", "a ∩ b"),
        ("a inter b", "a ∩ b"),
        ("a INTERSECT b", "a ∩ b"),
        ("a ∪ b", "a ∪ b"),
        ("a | b", "a ∪ b"),
        ("a union b", "a ∪ b"),
        ("a - b", "a − b"),
        ("a − b", "a − b"),
        ("a ∖ b", "a − b"),
        ("a minus b", "a − b"),
        ("a except b", "a − b"),
        ("a sauf b", "a − b"),
        ("a Δ b", "a Δ b"),
        ("a ^ b", "a Δ b"),
        ("a xor b", "a Δ b"),
    ];
    for (input, expected) in forms {
        assert_eq!(
            canonical(input).trim_end(),
            format!("{expected};"),
            "{input}"
        );
    }
}

#[test]
fn precedence_follows_sql() {
    let cases = [
        "clients - acheteurs_recents ∩ vip",
        "a ∩ b - c",
        "a ∪ b ∩ c ∪ d",
        "a - b - c",
        "a - b ∪ c Δ d",
        "a - (b ∪ c)",
        "(a ∪ b) ∩ c",
        "a ∩ b ∩ c",
        "all - [x > 1] ∩ vip",
    ];
    let mut out = String::new();
    for case in cases {
        out.push_str(&format!("{case:<35} => {}", canonical(case)));
        round_trip(case);
    }
    insta::assert_snapshot!(out);
}

#[test]
fn mixing_levels_earns_a_note() {
    let parsed = parse_script("clients - acheteurs_recents ∩ vip;").unwrap();
    assert_eq!(parsed.notes.len(), 1);
    insta::assert_snapshot!(parsed.notes[0].render(
        "clients - acheteurs_recents ∩ vip;",
        "input.seg",
        false
    ));
    for explicit in [
        "clients - (acheteurs_recents ∩ vip);",
        "a - b - c;",
        "a ∩ b ∩ c;",
        "a ∪ b - c;",
    ] {
        assert!(
            parse_script(explicit).unwrap().notes.is_empty(),
            "{explicit}"
        );
    }
}

#[test]
fn every_criterion_form() {
    let criteria = [
        "[age = 30]",
        "[age != 30]",
        "[age <> 30]",
        "[age < 30]",
        "[age <= 30]",
        "[age > 30]",
        "[age >= 30]",
        "[age between 18 and 25]",
        "[age not between 18 and 25]",
        "[city in ('Paris', 'Lyon')]",
        "[city not in ('Paris', \"Lyon\")]",
        "[email is null]",
        "[email is not null]",
        "[email like '%@example.com']",
        "[email not like '%@example.com']",
        "[city contains 'ar']",
        "[city starts with 'Pa']",
        "[age > 18 and city = 'Paris' or not optin_email]",
        "[not (age > 18 and city = 'Paris')]",
        "[points * 2 + 10 / 5 - 1 > 100]",
        "[-points < -5]",
        "[days_since(signup_date) > 30]",
        "[months_since(signup_date) >= 6]",
        "[years_since(birth_date) between 18 and 25]",
        "[greatest(signup_date, last(purchases.purchased_at)) > 2026-01-01]",
        "[least(1, 2) = 1]",
        "[coalesce(city, 'unknown') = 'unknown']",
        "[lower(city) = 'paris' and upper(city) = 'PARIS']",
        "[abs(points) > 3 and round(points) = 3]",
        "[optin_email = true and optin_sms = false]",
        "[points = 19.99]",
        "[signup_date = today]",
        "[signup_date > 12 months ago]",
        "[signup_date > 30 days ago and signup_date < 2 weeks ago]",
        "[signup_date > 1 year ago]",
        "[signup_date within 30 days]",
        "[signup_date before 2025-01-01]",
        "[signup_date after 6 months ago]",
        "[count(purchases) > 3]",
        "[count(purchases where amount > 100 within 12 months) >= 2]",
        "[sum(purchases.amount) >= 1000]",
        "[avg(purchases.amount within 90 days) > 50]",
        "[min(purchases.amount) > 5 and max(purchases.amount) < 500]",
        "[first(purchases.purchased_at) after 2025-01-01]",
        "[last(purchases.purchased_at) within 30 days]",
        "[count_distinct(purchases.category within 12 months) >= 3]",
        "[has purchases]",
        "[has purchases within 30 days]",
        "[has purchases where channel = 'web' within 30 days]",
        "[no purchases within 12 months]",
        "[no visits where (visited_at within 7 days)]",
        "[ca_12m >= 1000]",
        "[city = 'Saint-Étienne']",
        "[city = 'l''Haÿ-les-Roses']",
        "[coalesce(city, null) is null]",
    ];
    let mut out = String::new();
    for criterion in criteria {
        out.push_str(&format!("{criterion}\n    {}", canonical(criterion)));
        round_trip(criterion);
    }
    insta::assert_snapshot!(out);
}

#[test]
fn keywords_are_case_insensitive_and_names_are_unicode() {
    assert_eq!(
        canonical("SEGMENT fidèles_ç = [HAS Purchases WITHIN 30 DAYS] UNION all; AS OF 2026-01-31"),
        "segment fidèles_ç = [has Purchases within 30 days] ∪ all;\nas of 2026-01-31;\n"
    );
}

#[test]
fn comments_and_a_missing_final_semicolon() {
    let parsed = parse_script("-- a comment\nsegment a = all; -- another\na").unwrap();
    assert_eq!(parsed.script.statements.len(), 2);
    assert_eq!(parse_script("").unwrap().script.statements.len(), 0);
    assert_eq!(
        parse_script("  -- only a comment\n")
            .unwrap()
            .script
            .statements
            .len(),
        0
    );
}

#[test]
fn section_seven_statements_are_recognised() {
    let parsed =
        parse_script("partition statut { vip = [x > 1]; else autres; }; statut.vip;").unwrap();
    assert!(matches!(
        parsed.script.statements[0].kind,
        StatementKind::Partition { .. }
    ));
    assert!(matches!(
        &parsed.script.statements[1].kind,
        StatementKind::Evaluate(SetExpr {
            kind: SetExprKind::Tier { .. },
            ..
        })
    ));
}

#[test]
fn spans_point_at_the_source() {
    let source = "segment a = vipp;";
    let parsed = parse_script(source).unwrap();
    let StatementKind::Segment { expr, .. } = &parsed.script.statements[0].kind else {
        panic!("not a segment");
    };
    assert_eq!(&source[expr.span.start..expr.span.end], "vipp");
}

#[test]
fn error_messages() {
    let cases = [
        "segment vip = [sum(purchases.amount) >= ];",
        "segment vip = [x > 1;",
        "segment vip = x > 1];",
        "segment vip = ([x > 1]];",
        "segment = [x > 1];",
        "clients - ;",
        "clients acheteurs;",
        "[city = 'Paris];",
        "as of 2026-02-30;",
        "[x > 99999999999999999999];",
        "segment vip = [x >> 1];",
        "field f = ;",
        "[has purchases within 30];",
        "[signup_date within days];",
        "segment all = [x > 1];",
    ];
    let mut out = String::new();
    for case in cases {
        out.push_str(&format!("--- {case}\n{}\n", error(case)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn an_error_on_a_very_long_line_shows_an_excerpt_with_the_real_column() {
    // A generated one-line script: 100 leaves, a mistake after the 60th.
    let leaves: Vec<String> = (0..100)
        .map(|k| {
            if k == 60 {
                "[x > ]".to_string()
            } else {
                format!("[count(purchases where amount > {k}) >= 2]")
            }
        })
        .collect();
    let source = format!("as of 2026-06-30;\n{};\n", leaves.join(" | "));
    let text = error(&source);
    let column = source.lines().nth(1).unwrap().find("[x > ]").unwrap() + 6;
    assert!(
        text.contains(&format!("(line 2, column {column})")),
        "the headline keeps the real column:\n{text}"
    );
    assert!(text.contains(&format!("input.seg:2:{column} ")), "{text}");
    let coloured = parse_script(&source)
        .expect_err("a syntax error")
        .diagnostic()
        .render(&source, "input.seg", true);
    assert!(
        coloured.contains(&format!("input.seg:2:{column} ")),
        "the header is corrected with colours on too:\n{coloured}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() < 200),
        "no line runs off the screen:\n{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for (open, close) in [("(", ")"), ("[", "]")] {
        let source = format!("{}a{}", open.repeat(10_000), close.repeat(10_000));
        let error = parse_script(&source).expect_err("too deep");
        assert!(matches!(error, ParseError::TooDeep { .. }), "{error}");
    }
    let criterion = format!("[{}x{} > 1]", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(
        parse_script(&criterion),
        Err(ParseError::TooDeep { .. })
    ));
    let nots = format!("[{} x]", "not ".repeat(10_000));
    assert!(matches!(
        parse_script(&nots),
        Err(ParseError::TooDeep { .. })
    ));
    let negs = format!("[{} x > 1]", "- ".repeat(10_000));
    assert!(matches!(
        parse_script(&negs),
        Err(ParseError::TooDeep { .. })
    ));
    // A chain of differences nests (`(a − b) − c`): its depth is its length.
    let chain = vec!["a"; 10_000].join(" - ");
    assert!(matches!(
        parse_script(&chain),
        Err(ParseError::TooDeep { .. })
    ));
    // So does a chain of unions that alternate with parenthesised groups.
    let nested = format!("{}a{}", "(a ∪ ".repeat(200), ")".repeat(200));
    assert!(matches!(
        parse_script(&nested),
        Err(ParseError::TooDeep { .. })
    ));
    let sum = format!("[{} > 1]", vec!["x"; 10_000].join(" + "));
    assert!(matches!(
        parse_script(&sum),
        Err(ParseError::TooDeep { .. })
    ));
    // Within the limits, deep input still parses (on a test thread's default stack).
    let fine = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert!(parse_script(&fine).is_ok());
    let fine = format!(
        "[{}x{} > 1]",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    assert!(matches!(
        parse_script(&fine),
        Ok(_) | Err(ParseError::TooDeep { .. })
    ));
    let fine = format!(
        "[{}x{} > 1]",
        "(".repeat(MAX_TREE_DEPTH - 2),
        ")".repeat(MAX_TREE_DEPTH - 2)
    );
    assert!(parse_script(&fine).is_ok());
}

/// The deepest accepted input parses on a thread with a small stack: the stack grows on
/// demand on that thread (no thread is started per parse).
#[test]
fn deep_input_parses_on_a_small_stack() {
    let parsed = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let brackets = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
            let criterion = format!(
                "[{}x{} > 1]",
                "(".repeat(MAX_TREE_DEPTH - 2),
                ")".repeat(MAX_TREE_DEPTH - 2)
            );
            let chain = vec!["a"; MAX_TREE_DEPTH].join(" ∩ ");
            [brackets, criterion, chain].map(|source| parse_script(&source).is_ok())
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(parsed, [true; 3]);
}

#[test]
fn truncated_scripts_never_panic() {
    let script = SPEC_STATEMENTS;
    for (end, _) in script.char_indices() {
        let _ = parse_script(&script[..end]);
    }
}

#[test]
fn binary_and_odd_input_is_an_error() {
    let bytes: Vec<u8> = (0u8..=255).collect();
    let text = String::from_utf8_lossy(&bytes);
    assert!(parse_script(&text).is_err());
    assert!(parse_script("\u{0}\u{1}segment").is_err());
    assert!(parse_script(&"x".repeat(1_000_000)).is_ok());
}

#[test]
fn parse_set_expr_takes_exactly_one_expression() {
    assert!(parse_set_expr("a ∩ b").is_ok());
    assert!(parse_set_expr("segment a = b").is_err());
    assert!(parse_set_expr("a; b").is_err());
}

#[test]
fn partitions_and_scores_print_canonically_and_read_back() {
    let source = "partition statut {\n  vip = [ca >= 1000];\n  bons = vip ∪ [ca >= 200]\n  ; else autres;\n}\nscore rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), monetary: ca, buckets: 5);\n[rfm.score = '555'] ∩ statut.bons";
    let parsed = parse_script(source).unwrap();
    let text = parsed.script.to_string();
    insta::assert_snapshot!(text);
    assert_eq!(parse_script(&text).unwrap().script, parsed.script);
    let StatementKind::Partition {
        tiers, otherwise, ..
    } = &parsed.script.statements[0].kind
    else {
        panic!("a partition");
    };
    assert_eq!(tiers.len(), 2);
    assert_eq!(otherwise.as_ref().map(|o| o.name.as_str()), Some("autres"));
}

/// A union, intersection or symmetric difference of any number of operands is one flat node:
/// it parses (2 000 operands), prints flat and reads back as the same tree.
#[test]
fn chains_of_one_set_operator_are_one_flat_node() {
    for symbol in ["∪", "∩", "Δ", "|", "&", "^"] {
        let names: Vec<String> = (0..2_000).map(|i| format!("s{i}")).collect();
        let source = names.join(&format!(" {symbol} "));
        let parsed = parse_script(&source).unwrap_or_else(|e| panic!("{symbol}: {e}"));
        let StatementKind::Evaluate(expr) = &parsed.script.statements[0].kind else {
            panic!("an expression");
        };
        let SetExprKind::Operation { operands, .. } = &expr.kind else {
            panic!("an operation");
        };
        assert_eq!(operands.len(), 2_000, "{symbol}");
        let text = parsed.script.to_string();
        assert!(!text.contains('('), "printed flat");
        assert_eq!(parse_script(&text).unwrap().script, parsed.script);
    }
    insta::assert_snapshot!(
        canonical("a ∪ b ∪ c; a ∪ (b ∪ c); (a ∪ b) ∪ c; a - b - c; a ∪ b ∩ c ∩ d ∪ e; a Δ b Δ c ∪ d"),
        @r"
    a ∪ b ∪ c;
    a ∪ (b ∪ c);
    (a ∪ b) ∪ c;
    (a − b) − c;
    a ∪ (b ∩ c ∩ d) ∪ e;
    (a Δ b Δ c) ∪ d;
    "
    );
    for source in [
        "a ∪ (b ∪ c)",
        "(a ∪ b) ∪ c",
        "a ∪ b ∩ c ∩ d ∪ e",
        "a Δ b Δ c ∪ d",
    ] {
        round_trip(source);
    }
}
