//! Every criterion form and set operator, answered by ensemble and by plain DataFusion SQL over
//! the same Parquet files: the two must agree member for member.

mod common;

use common::{demo_session, keys, members, sql_keys};

/// The universe as of 2026-06-30, in SQL.
const UNIVERSE: &str = "SELECT customer_id FROM customers WHERE signup_date <= DATE '2026-06-30'";
/// Purchases visible as of 2026-06-30, with their calendar date.
const PURCHASES: &str = "SELECT *, CAST(purchased_at AS DATE) AS d FROM purchases \
                         WHERE CAST(purchased_at AS DATE) <= DATE '2026-06-30'";
const VISITS: &str = "SELECT *, CAST(visited_at AS DATE) AS d FROM visits \
                      WHERE CAST(visited_at AS DATE) <= DATE '2026-06-30'";

/// `(criterion, SQL condition on customers c)`: members are the universe rows matching it.
const UNIVERSE_CASES: &[(&str, &str)] = &[
    ("[city = 'Paris']", "c.city = 'Paris'"),
    ("[city != 'Paris']", "c.city <> 'Paris'"),
    (
        "[city <> 'Paris' and city is not null]",
        "c.city <> 'Paris'",
    ),
    ("[points < 100]", "c.points < 100"),
    ("[points <= 100]", "c.points <= 100"),
    ("[points > 4900]", "c.points > 4900"),
    ("[points >= 4900]", "c.points >= 4900"),
    (
        "[points between 1000 and 2000]",
        "c.points BETWEEN 1000 AND 2000",
    ),
    (
        "[points not between 1000 and 4000]",
        "c.points NOT BETWEEN 1000 AND 4000",
    ),
    ("[city in ('Lyon', 'Lille')]", "c.city IN ('Lyon', 'Lille')"),
    (
        "[city not in ('Lyon', \"Lille\")]",
        "c.city NOT IN ('Lyon', 'Lille')",
    ),
    ("[birth_date is null]", "c.birth_date IS NULL"),
    ("[birth_date is not null]", "c.birth_date IS NOT NULL"),
    ("[email like 'customer1%']", "c.email LIKE 'customer1%'"),
    ("[email not like '%1@%']", "c.email NOT LIKE '%1@%'"),
    ("[city contains 'ar']", "strpos(c.city, 'ar') > 0"),
    ("[city starts with 'Sa']", "c.city LIKE 'Sa%'"),
    ("[city = 'Saint-Étienne']", "c.city = 'Saint-Étienne'"),
    ("[points * 2 + 10 > 5000]", "c.points * 2 + 10 > 5000"),
    (
        "[points / 2 > 2000.5]",
        "CAST(c.points AS DOUBLE) / 2 > 2000.5",
    ),
    ("[-points < -4000]", "-c.points < -4000"),
    ("[points - 4000 >= 500]", "c.points - 4000 >= 500"),
    (
        "[days_since(signup_date) <= 30]",
        "c.signup_date >= DATE '2026-05-31'",
    ),
    (
        "[months_since(signup_date) >= 6]",
        "c.signup_date <= DATE '2025-12-30'",
    ),
    (
        "[years_since(birth_date) between 18 and 25]",
        "c.birth_date <= DATE '2008-06-30' AND c.birth_date > DATE '2000-06-30'",
    ),
    (
        "[signup_date within 30 days]",
        "c.signup_date > DATE '2026-05-31'",
    ),
    (
        "[signup_date within 2 weeks]",
        "c.signup_date > DATE '2026-06-16'",
    ),
    (
        "[signup_date before 2025-01-01]",
        "c.signup_date < DATE '2025-01-01'",
    ),
    (
        "[signup_date after 6 months ago]",
        "c.signup_date > DATE '2025-12-30'",
    ),
    (
        "[signup_date > 1 year ago]",
        "c.signup_date > DATE '2025-06-30'",
    ),
    ("[signup_date = today]", "c.signup_date = DATE '2026-06-30'"),
    ("[coalesce(city, 'unknown') = 'unknown']", "c.city IS NULL"),
    (
        "[lower(city) = 'paris' and upper(city) = 'PARIS']",
        "c.city = 'Paris'",
    ),
    ("[abs(-points) > 4000]", "c.points > 4000"),
    (
        "[round(points / 1000) = 3]",
        "round(CAST(c.points AS DOUBLE) / 1000) = 3",
    ),
    ("[optin_email = true]", "c.optin_email"),
    ("[not optin_email]", "NOT c.optin_email"),
    ("[greatest(points, 4500) = points]", "c.points >= 4500"),
    ("[least(points, 100) = points]", "c.points <= 100"),
    (
        "[city = 'Paris' or points > 4900]",
        "c.city = 'Paris' OR c.points > 4900",
    ),
    (
        "[not (city = 'Paris' and points > 2500)]",
        "NOT (c.city = 'Paris' AND c.points > 2500)",
    ),
];

#[tokio::test]
async fn universe_criteria_match_plain_sql() {
    let (_dir, mut session) = demo_session().await;
    for (criterion, condition) in UNIVERSE_CASES {
        let expected = sql_keys(
            &session,
            &format!("SELECT c.customer_id FROM customers c WHERE c.signup_date <= DATE '2026-06-30' AND ({condition})"),
        )
        .await;
        let got = members(&mut session, criterion).await;
        assert_eq!(got, expected, "{criterion}");
        assert!(
            !got.is_empty(),
            "{criterion} selects nobody: the case proves nothing"
        );
    }
}

/// `(criterion, SQL returning the selected keys)`.
fn aggregate_cases() -> Vec<(&'static str, String)> {
    let having = |condition: &str| {
        format!("SELECT customer_id FROM ({PURCHASES}) p GROUP BY customer_id HAVING {condition}")
    };
    let in_universe = |keys: String| {
        format!("SELECT customer_id FROM ({UNIVERSE}) u WHERE customer_id IN ({keys})")
    };
    let not_in_universe = |keys: String| {
        format!("SELECT customer_id FROM ({UNIVERSE}) u WHERE customer_id NOT IN ({keys})")
    };
    vec![
        ("[count(purchases) > 3]", in_universe(having("COUNT(*) > 3"))),
        ("[sum(purchases.amount) >= 1000]", in_universe(having("SUM(amount) >= 1000"))),
        ("[sum(purchases.amount) >= 999.99]", in_universe(having("SUM(amount) >= 999.99"))),
        (
            "[avg(purchases.amount within 90 days) > 50]",
            in_universe(format!(
                "SELECT customer_id FROM ({PURCHASES}) p WHERE d > DATE '2026-04-01' GROUP BY customer_id HAVING AVG(amount) > 50"
            )),
        ),
        (
            "[min(purchases.amount) > 5 and max(purchases.amount) < 500]",
            in_universe(having("MIN(amount) > 5 AND MAX(amount) < 500")),
        ),
        (
            "[first(purchases.purchased_at) after 2025-01-01]",
            in_universe(having("MIN(d) > DATE '2025-01-01'")),
        ),
        (
            "[last(purchases.purchased_at) within 30 days]",
            in_universe(having("MAX(d) > DATE '2026-05-31'")),
        ),
        (
            "[count_distinct(purchases.category within 12 months) >= 3]",
            in_universe(format!(
                "SELECT customer_id FROM ({PURCHASES}) p WHERE d > DATE '2025-06-30' GROUP BY customer_id HAVING COUNT(DISTINCT category) >= 3"
            )),
        ),
        (
            "[count(purchases.category) >= 5]",
            in_universe(having("COUNT(category) >= 5")),
        ),
        (
            "[has purchases where channel = 'web' within 30 days]",
            in_universe(format!(
                "SELECT customer_id FROM ({PURCHASES}) p WHERE channel = 'web' AND d > DATE '2026-05-31'"
            )),
        ),
        (
            "[has purchases where amount > 300 and category in ('home', 'sport')]",
            in_universe(format!(
                "SELECT customer_id FROM ({PURCHASES}) p WHERE amount > 300 AND category IN ('home', 'sport')"
            )),
        ),
        (
            "[no purchases within 12 months]",
            not_in_universe(format!("SELECT customer_id FROM ({PURCHASES}) p WHERE d > DATE '2025-06-30'")),
        ),
        ("[no purchases]", not_in_universe(format!("SELECT customer_id FROM ({PURCHASES}) p"))),
        ("[count(purchases) = 0]", not_in_universe(format!("SELECT customer_id FROM ({PURCHASES}) p"))),
        ("[sum(purchases.amount) = 0]", not_in_universe(format!("SELECT customer_id FROM ({PURCHASES}) p"))),
        ("[avg(purchases.amount) is null]", not_in_universe(format!("SELECT customer_id FROM ({PURCHASES}) p"))),
        (
            "[last(purchases.channel) = 'web']",
            in_universe(format!(
                "SELECT customer_id FROM (SELECT customer_id, channel, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY purchased_at DESC) AS r FROM ({PURCHASES}) p) WHERE r = 1 AND channel = 'web'"
            )),
        ),
        (
            "[first(purchases.category) = 'food']",
            in_universe(format!(
                "SELECT customer_id FROM (SELECT customer_id, category, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY purchased_at) AS r FROM ({PURCHASES}) p) WHERE r = 1 AND category = 'food'"
            )),
        ),
        (
            "[greatest(signup_date, last(purchases.purchased_at), last(visits.visited_at)) before 12 months ago]",
            format!(
                "SELECT c.customer_id FROM customers c \
                 LEFT JOIN (SELECT customer_id, MAX(d) AS lp FROM ({PURCHASES}) p GROUP BY customer_id) p ON p.customer_id = c.customer_id \
                 LEFT JOIN (SELECT customer_id, MAX(d) AS lv FROM ({VISITS}) v GROUP BY customer_id) v ON v.customer_id = c.customer_id \
                 WHERE c.signup_date <= DATE '2026-06-30' AND greatest(c.signup_date, lp, lv) < DATE '2025-06-30'"
            ),
        ),
        (
            "[count(visits within 3 months) >= 1 and sum(purchases.amount within 12 months) > 100]",
            format!(
                "SELECT customer_id FROM ({UNIVERSE}) u WHERE customer_id IN (SELECT customer_id FROM ({VISITS}) v WHERE d > DATE '2026-03-30') \
                 AND customer_id IN (SELECT customer_id FROM ({PURCHASES}) p WHERE d > DATE '2025-06-30' GROUP BY customer_id HAVING SUM(amount) > 100)"
            ),
        ),
    ]
}

#[tokio::test]
async fn aggregates_match_plain_sql() {
    let (_dir, mut session) = demo_session().await;
    for (criterion, sql) in aggregate_cases() {
        let expected = sql_keys(&session, &sql).await;
        let got = members(&mut session, criterion).await;
        assert_eq!(got, expected, "{criterion}");
        assert!(
            !got.is_empty(),
            "{criterion} selects nobody: the case proves nothing"
        );
    }
}

#[tokio::test]
async fn fields_inline_into_criteria() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(
            "field ca_12m = sum(purchases.amount within 12 months); field double = ca_12m * 2; segment vip = [double >= 2000];",
            "test",
        )
        .await
        .expect("definitions");
    let expected = sql_keys(
        &session,
        &format!("SELECT customer_id FROM ({PURCHASES}) p WHERE d > DATE '2025-06-30' GROUP BY customer_id HAVING SUM(amount) >= 1000"),
    )
    .await;
    assert_eq!(members(&mut session, "vip").await, expected);
}

#[tokio::test]
async fn set_operators_match_plain_sql() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(
            "segment a = [city = 'Paris' or city = 'Lyon']; segment b = [points > 2500]; segment c = [has purchases within 30 days];",
            "test",
        )
        .await
        .expect("definitions");
    let a = "SELECT customer_id FROM customers WHERE signup_date <= DATE '2026-06-30' AND city IN ('Paris', 'Lyon')";
    let b = "SELECT customer_id FROM customers WHERE signup_date <= DATE '2026-06-30' AND points > 2500";
    let c = format!(
        "SELECT customer_id FROM ({UNIVERSE}) u WHERE customer_id IN (SELECT customer_id FROM ({PURCHASES}) p WHERE d > DATE '2026-05-31')"
    );
    let cases = [
        ("a ∩ b", format!("{a} INTERSECT {b}")),
        ("a & b", format!("{a} INTERSECT {b}")),
        ("a inter b", format!("{a} INTERSECT {b}")),
        ("a ∪ b", format!("{a} UNION {b}")),
        ("a | b", format!("{a} UNION {b}")),
        ("a union b", format!("{a} UNION {b}")),
        ("a - b", format!("{a} EXCEPT {b}")),
        ("a minus b", format!("{a} EXCEPT {b}")),
        ("a sauf b", format!("{a} EXCEPT {b}")),
        ("a Δ b", format!("({a} EXCEPT {b}) UNION ({b} EXCEPT {a})")),
        (
            "a xor b",
            format!("({a} EXCEPT {b}) UNION ({b} EXCEPT {a})"),
        ),
        ("a - b ∩ c", format!("{a} EXCEPT ({b} INTERSECT {c})")),
        ("a ∪ b ∪ c", format!("{a} UNION {b} UNION {c}")),
        ("a ∩ b ∩ c", format!("{a} INTERSECT {b} INTERSECT {c}")),
        ("(a ∪ b) ∪ c", format!("{a} UNION {b} UNION {c}")),
        ("a - b - c", format!("({a} EXCEPT {b}) EXCEPT {c}")),
        (
            "a Δ b Δ c",
            format!(
                "SELECT customer_id FROM ({UNIVERSE}) u WHERE \
                 (CASE WHEN customer_id IN ({a}) THEN 1 ELSE 0 END \
                 + CASE WHEN customer_id IN ({b}) THEN 1 ELSE 0 END \
                 + CASE WHEN customer_id IN (SELECT customer_id FROM ({c}) c) THEN 1 ELSE 0 END) % 2 = 1"
            ),
        ),
        ("(a - b) ∩ c", format!("({a} EXCEPT {b}) INTERSECT {c}")),
        ("all - a", format!("{UNIVERSE} EXCEPT {a}")),
        ("all", UNIVERSE.to_string()),
    ];
    for (expression, sql) in cases {
        let expected = sql_keys(&session, &sql).await;
        assert_eq!(
            members(&mut session, expression).await,
            expected,
            "{expression}"
        );
    }
}

/// A flat union of 200 named segments (as teams union store or campaign segments) is one
/// step listing its 200 operands, computed in one pass, equal to plain SQL.
#[tokio::test]
async fn a_union_of_200_segments_is_one_step() {
    let (_dir, mut session) = demo_session().await;
    let mut script = String::new();
    for i in 0..200 {
        script.push_str(&format!(
            "segment u{i} = [points between {} and {}];\n",
            i * 20,
            i * 20 + 9
        ));
    }
    session
        .run_script(&script, "test")
        .await
        .expect("definitions");
    let union: Vec<String> = (0..200).map(|i| format!("u{i}")).collect();
    let evaluation = session
        .evaluate(&union.join(" ∪ "))
        .await
        .expect("a flat union of 200 segments");
    let root = &evaluation.steps[evaluation.root];
    let ensemble::StepKind::Set { op, operands } = &root.kind else {
        panic!("the root is a set operation: {:?}", root.kind);
    };
    assert_eq!(*op, ensemble::syntax::SetOp::Union);
    assert_eq!(operands.len(), 200, "one step with every operand");
    assert_eq!(evaluation.steps.len(), 201, "200 leaves and one union");
    assert!(root.label().ends_with("(200 sets)"), "{}", root.label());
    let expected = sql_keys(
        &session,
        &format!("{UNIVERSE} AND points % 20 < 10 AND points < 4000"),
    )
    .await;
    assert_eq!(keys(&evaluation.members), expected);
    assert!(!expected.is_empty());
}
