use super::*;

fn generated() -> CatalogFile {
    CatalogFile {
        as_of: NaiveDate::from_ymd_opt(2026, 6, 30),
        memory_limit: None,
        revenue: None,
        workspace: None,
        universe: UniverseSection {
            since: Some("signup_date".into()),
            ..UniverseSection::default()
        },
        tables: BTreeMap::from([
            (
                "customers".to_string(),
                TableSection {
                    path: "customers.parquet".into(),
                    ..TableSection::default()
                },
            ),
            (
                "purchases".to_string(),
                TableSection::related("purchases.parquet", "customer_id", "purchased_at"),
            ),
        ]),
    }
}

#[test]
fn written_catalogs_read_back_the_same() {
    let catalog = generated();
    let text = catalog.to_toml("a test");
    assert!(
        text.starts_with("# a test\nas_of = \"2026-06-30\"\n"),
        "{text}"
    );
    assert_eq!(CatalogFile::parse(&text).unwrap(), catalog);
}

#[test]
fn as_of_is_a_toml_date_or_text() {
    let base = "[tables.customers]\npath = \"c.parquet\"\n";
    for line in ["as_of = 2026-06-30\n", "as_of = \"2026-06-30\"\n"] {
        let file = CatalogFile::parse(&format!("{line}{base}")).unwrap();
        assert_eq!(file.as_of, NaiveDate::from_ymd_opt(2026, 6, 30));
    }
    // Read by the project's one date reader: four, two and two digits, one message.
    for line in [
        "as_of = \"June\"\n",
        "as_of = \"2026-6-30\"\n",
        "as_of = 2026-06-30T10:00:00\n",
    ] {
        let error = CatalogFile::parse(&format!("{line}{base}")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is not a date: write dates as 2025-01-01"),
            "{error}"
        );
    }
    assert_eq!(CatalogFile::parse(base).unwrap().as_of, None);
}

#[test]
fn bad_catalogs_are_refused() {
    let unknown = CatalogFile::parse("[tables.customers]\npath = \"c\"\ncolour = 1\n");
    assert!(unknown.unwrap_err().to_string().contains("colour"));
    let no_universe = CatalogFile::parse("[tables.purchases]\npath = \"p\"\n");
    assert!(no_universe
        .unwrap_err()
        .to_string()
        .contains("[tables.customers]"));
}
