//! CSV import: a round trip through Parquet into segments, and malformed files refused with
//! their line numbers.

mod common;

use common::members;
use ensemble::import::{import_csv, prepare_import, ColumnType, ImportError, ImportOptions};
use ensemble::Session;

fn options(dir: &std::path::Path, table: &str, csv: &str) -> ImportOptions {
    ImportOptions {
        catalog: dir.join("ensemble.toml"),
        table: table.into(),
        csv: dir.join(csv),
        delimiter: b',',
        ..ImportOptions::default()
    }
}

#[tokio::test]
async fn csv_round_trips_into_segments() {
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(
        dir.path().join("customers.csv"),
        "customer_id,signup_date,city,vip_since\n\
         1,2025-01-15,\"Paris, 1er\",\n\
         2,2025-03-01,Lyon,01/06/2025\n\
         3,2026-07-01,,\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("purchases.csv"),
        "customer_id;purchased_at;amount;label\n\
         1;2026-06-01 10:00:00;333.33;\"a; b\"\n\
         1;2026-06-02 11:00:00;333.33;\n\
         1;2026-06-03T12:00:00;333.34;\"say \"\"hi\"\"\"\n\
         2;2026-06-04 09:30:00;999.99;x\n",
    )
    .expect("write");
    let mut customers = options(dir.path(), "customers", "customers.csv");
    customers
        .date_formats
        .insert("vip_since".into(), "%d/%m/%Y".into());
    let report = import_csv(&customers).expect("imports");
    assert_eq!(report.rows, 3);
    assert_eq!(
        report.columns,
        vec![
            ("customer_id".to_string(), ColumnType::Integer),
            ("signup_date".to_string(), ColumnType::Date),
            ("city".to_string(), ColumnType::String),
            ("vip_since".to_string(), ColumnType::Date),
        ]
    );
    let mut purchases = options(dir.path(), "purchases", "purchases.csv");
    purchases.delimiter = b';';
    purchases.key = Some("customer_id".into());
    purchases.time = Some("purchased_at".into());
    let report = import_csv(&purchases).expect("imports");
    assert_eq!(report.columns[1].1, ColumnType::Timestamp);
    assert_eq!(report.columns[2].1, ColumnType::Decimal(2));

    // The catalog gains a universe section by hand, as a team would write it.
    let catalog = dir.path().join("ensemble.toml");
    let text = std::fs::read_to_string(&catalog).expect("catalog");
    assert!(
        text.contains("[tables.purchases]") && text.contains("time = \"purchased_at\""),
        "{text}"
    );
    std::fs::write(
        &catalog,
        format!("[universe]\nsince = \"signup_date\"\n{text}"),
    )
    .expect("write");

    let mut session = Session::open(&catalog).await.expect("opens");
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"));
    assert_eq!(
        members(&mut session, "all")
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        members(&mut session, "[sum(purchases.amount) >= 1000]")
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(
        members(&mut session, "[city = 'Paris, 1er']")
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(
        members(&mut session, "[vip_since = 2025-06-01]")
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(
        members(&mut session, "[city is null]").await.len(),
        0,
        "customer 3 is not yet a member"
    );
    let labels = session
        .sql("SELECT label FROM purchases ORDER BY purchased_at")
        .await
        .expect("SQL");
    let text = ensemble::arrow::util::pretty::pretty_format_batches(&labels)
        .expect("prints")
        .to_string();
    assert!(
        text.contains("a; b") && text.contains("say \"hi\""),
        "{text}"
    );

    // Importing again is refused unless asked.
    assert!(matches!(
        import_csv(&purchases),
        Err(ImportError::Exists { .. })
    ));
    purchases.overwrite = true;
    assert!(import_csv(&purchases).is_ok());
}

#[test]
fn malformed_csv_is_refused_with_line_numbers() {
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(
        dir.path().join("bad.csv"),
        "id,amount,day\n1,1.50,2026-01-01\n2,abc,2026-01-02\n\"3\",2.5,\"2026-13-01\"\n4,3\n5,\"multi\nline\",2026-01-05\n6,7,2026-01-06\n",
    )
    .expect("write");
    let mut opts = options(dir.path(), "bad", "bad.csv");
    opts.types.insert("amount".into(), ColumnType::Decimal(2));
    opts.types.insert("day".into(), ColumnType::Date);
    let error = import_csv(&opts).expect_err("refused");
    let ImportError::BadRows { count, listed } = &error else {
        panic!("{error}")
    };
    assert_eq!(*count, 4);
    let lines: Vec<u64> = listed.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6], "{error}");
    assert!(
        error
            .to_string()
            .contains("line 3: column amount: 'abc' is not a decimal(2)"),
        "{error}"
    );
    assert!(
        !dir.path().join("bad.parquet").exists(),
        "nothing half-written"
    );
    assert!(
        !dir.path().join("ensemble.toml").exists(),
        "the catalog is untouched"
    );

    // With skip_bad_rows, the good rows go in and the bad ones are still reported.
    opts.skip_bad_rows = true;
    let report = import_csv(&opts).expect("imports the good rows");
    assert_eq!((report.rows, report.bad_row_count), (2, 4));

    // Options naming missing columns are refused with a suggestion.
    let mut typo = options(dir.path(), "other", "bad.csv");
    typo.key = Some("idd".into());
    let error = import_csv(&typo).expect_err("refused");
    assert!(error.to_string().contains("did you mean 'id'"), "{error}");
}

/// A universe of two customers and their purchases, imported from CSV.
fn purchases_datamart(dir: &std::path::Path) -> ImportOptions {
    std::fs::write(
        dir.join("customers.csv"),
        "customer_id,signup_date\n1,2025-01-15\n2,2025-03-01\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("purchases.csv"),
        "customer_id,purchased_at,amount\n1,2026-06-01 10:00:00,10.00\n2,2026-06-02 10:00:00,20.00\n",
    )
    .expect("write");
    let mut customers = options(dir, "customers", "customers.csv");
    customers.universe = true;
    customers.key = Some("customer_id".into());
    customers.since = Some("signup_date".into());
    import_csv(&customers).expect("imports");
    let mut purchases = options(dir, "purchases", "purchases.csv");
    purchases.key = Some("customer_id".into());
    purchases.time = Some("purchased_at".into());
    import_csv(&purchases).expect("imports");
    purchases
}

#[tokio::test]
async fn overwrite_is_crash_consistent() {
    let dir = tempfile::tempdir().expect("a directory");
    let mut purchases = purchases_datamart(dir.path());
    let catalog = dir.path().join("ensemble.toml");
    let before = std::fs::read_to_string(&catalog).expect("catalog");
    assert!(
        before.contains("[universe]") && before.contains("since = \"signup_date\""),
        "{before}"
    );

    // The new export renames the time column: the old catalog must never meet the new file.
    std::fs::write(
        dir.path().join("purchases.csv"),
        "customer_id,bought_on,total\n2,2026-06-03,5.00\n",
    )
    .expect("write");
    purchases.overwrite = true;
    purchases.time = Some("bought_on".into());
    // A crash after the data file is written, before the catalog is published.
    let prepared = prepare_import(&purchases).expect("prepares");
    assert_eq!(
        prepared.report().path,
        dir.path().join("purchases.v2.parquet"),
        "a fresh name, never the file the catalog reads"
    );
    std::mem::forget(prepared);
    assert_eq!(std::fs::read_to_string(&catalog).expect("catalog"), before);
    assert!(dir.path().join("purchases.parquet").exists());
    let mut session = ensemble::Session::open(&catalog)
        .await
        .expect("the old pair loads");
    let buyers: Vec<i64> = members(&mut session, "[has purchases]")
        .await
        .into_iter()
        .collect();
    assert_eq!(
        buyers,
        vec![1, 2],
        "the old table agrees with the old catalog"
    );

    // A dropped preparation removes its file; a committed one switches, then cleans up.
    let dropped = prepare_import(&purchases).expect("prepares");
    let dropped_path = dropped.report().path.clone();
    assert_eq!(dropped_path, dir.path().join("purchases.v3.parquet"));
    drop(dropped);
    assert!(!dropped_path.exists());
    let report = import_csv(&purchases).expect("imports");
    assert_eq!(report.path, dir.path().join("purchases.v3.parquet"));
    let after = std::fs::read_to_string(&catalog).expect("catalog");
    assert!(
        after.contains("path = \"purchases.v3.parquet\"") && after.contains("time = \"bought_on\""),
        "{after}"
    );
    assert!(
        !dir.path().join("purchases.parquet").exists(),
        "the importer's previous file is removed"
    );
    let mut session = ensemble::Session::open(&catalog)
        .await
        .expect("the new pair loads");
    let buyers: Vec<i64> = members(&mut session, "[has purchases]")
        .await
        .into_iter()
        .collect();
    assert_eq!(buyers, vec![2]);
}

#[test]
fn csv_import_should_fixes() {
    let dir = tempfile::tempdir().expect("a directory");
    std::fs::write(
        dir.path().join("stores.csv"),
        "code;opened;closed_at;amount;zip\n1;05/01/2025;05/01/2025 10:30;12,50;06511\n2;bad;;3;75001\n3;07/01/2025;;-0,5;13001\n",
    )
    .expect("write");
    let mut stores = options(dir.path(), "stores", "stores.csv");
    stores.delimiter = b';';
    stores
        .date_formats
        .insert("opened".into(), "%d/%m/%Y".into());
    stores
        .date_formats
        .insert("closed_at".into(), "%d/%m/%Y %H:%M".into());
    // A date format without a type makes a date column, and its bad values bad rows.
    let error = import_csv(&stores).expect_err("a bad date");
    assert!(
        error
            .to_string()
            .contains("line 3: column opened: 'bad' is not a date"),
        "{error}"
    );
    stores.skip_bad_rows = true;
    let report = import_csv(&stores).expect("imports");
    let types: Vec<ColumnType> = report.columns.iter().map(|(_, ty)| *ty).collect();
    assert_eq!(
        types,
        vec![
            ColumnType::Integer,
            ColumnType::Date,
            ColumnType::Timestamp,
            ColumnType::String,
            ColumnType::String
        ],
        "codes with leading zeros stay text; decimal commas need the option"
    );
    assert_eq!((report.rows, report.bad_row_count), (2, 1));
    assert!(
        report
            .hints
            .iter()
            .any(|h| h.contains("amount") && h.contains("--decimal-comma")),
        "{:?}",
        report.hints
    );

    // Given as decimals without the option: the bad rows say why.
    stores.overwrite = true;
    stores.skip_bad_rows = false;
    stores.types.insert("amount".into(), ColumnType::Decimal(2));
    let error = import_csv(&stores).expect_err("decimal commas");
    assert!(
        error.to_string().contains("pass --decimal-comma"),
        "{error}"
    );
    stores.types.clear();
    stores.decimal_comma = true;
    stores.skip_bad_rows = true;
    let report = import_csv(&stores).expect("imports");
    assert_eq!(report.columns[3].1, ColumnType::Decimal(2));
    assert!(report.hints.is_empty());

    // --time must name a date or timestamp column.
    stores.time = Some("zip".into());
    let error = import_csv(&stores).expect_err("a text time column");
    assert_eq!(
        error.to_string(),
        "--time zip: the column is string, not a date or timestamp (give its type and format: --type zip=date --date-format zip=%d/%m/%Y)"
    );

    // A missing directory is named.
    let mut lost = options(dir.path(), "stores", "stores.csv");
    lost.catalog = dir.path().join("nowhere/ensemble.toml");
    let error = import_csv(&lost).expect_err("no directory");
    assert!(
        error.to_string().contains(&format!(
            "directory {} does not exist",
            dir.path().join("nowhere").display()
        )),
        "{error}"
    );

    // --since is the universe's.
    let mut since = options(dir.path(), "shops", "stores.csv");
    since.delimiter = b';';
    since.since = Some("opened".into());
    let error = import_csv(&since).expect_err("not a universe");
    assert!(error.to_string().contains("--universe"), "{error}");
}

/// A table name is an identifier: a path (`../../escape`) would write outside the catalog's
/// directory and a glob (`b[x]`, `e*`) would be read as a pattern; both are refused before
/// anything is written.
#[test]
fn table_names_are_identifiers_not_paths() {
    let dir = tempfile::tempdir().expect("a directory");
    let csv = dir.path().join("rows.csv");
    std::fs::write(&csv, "customer_id,city\n1,Paris\n").expect("csv");
    for name in [
        "../../escape",
        "b[x]",
        "e*",
        "a/b",
        "",
        "9lives",
        "with space",
        "a.b",
    ] {
        let error = import_csv(&options(dir.path(), name, csv.to_str().unwrap())).expect_err(name);
        assert!(
            error.to_string().contains("a table name is"),
            "{name}: {error}"
        );
    }
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the directory")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(
        written,
        vec![std::ffi::OsString::from("rows.csv")],
        "nothing written"
    );
    assert!(!dir.path().join("../../escape.parquet").exists());
    for name in ["clients", "achats_été", "_tmp", "purchases_2026"] {
        import_csv(&options(dir.path(), name, csv.to_str().unwrap()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
