//! CSV import: a round trip through Parquet into segments, and malformed files refused with
//! their line numbers.

mod common;

use std::collections::BTreeMap;

use common::members;
use ensemble::import::{import_csv, ColumnType, ImportError, ImportOptions};
use ensemble::Session;

fn options(dir: &std::path::Path, table: &str, csv: &str) -> ImportOptions {
    ImportOptions {
        catalog: dir.join("ensemble.toml"),
        table: table.into(),
        csv: dir.join(csv),
        delimiter: b',',
        types: BTreeMap::new(),
        date_formats: BTreeMap::new(),
        key: None,
        time: None,
        overwrite: false,
        skip_bad_rows: false,
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
