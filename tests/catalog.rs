//! Table locations: a file, a directory with hive partitions, a glob — same answers.

mod common;

use common::{keys, members};
use ensemble::demo::{demo_catalog, write_demo_datamart, DemoConfig};
use ensemble::Session;

#[tokio::test]
async fn files_directories_and_globs_give_the_same_answers() {
    let dir = tempfile::tempdir().expect("a directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("data");
    let as_of = DemoConfig::default().as_of;
    let mut by_file = Session::open(&catalog).await.expect("opens");
    by_file.set_as_of(as_of);

    // The same purchases, under hive-style partitions, and matched by a glob.
    let partition = dir.path().join("partitioned/channel_group=all");
    std::fs::create_dir_all(&partition).expect("a directory");
    std::fs::copy(
        dir.path().join("purchases.parquet"),
        partition.join("part-0.parquet"),
    )
    .expect("copy");
    let globbed = dir.path().join("globbed");
    std::fs::create_dir_all(&globbed).expect("a directory");
    std::fs::copy(
        dir.path().join("purchases.parquet"),
        globbed.join("purchases-2026.parquet"),
    )
    .expect("copy");
    std::fs::write(globbed.join("README.txt"), "not data").expect("write");

    let expression = "[sum(purchases.amount within 12 months) >= 1000] ∪ [has purchases where channel = 'web' within 30 days]";
    let expected = members(&mut by_file, expression).await;
    assert!(!expected.is_empty());

    for path in ["partitioned", "globbed/purchases-*.parquet"] {
        let text = demo_catalog(as_of).to_toml("demo").replace(
            "path = \"purchases.parquet\"",
            &format!("path = \"{path}\""),
        );
        let other = dir.path().join("other.toml");
        std::fs::write(&other, text).expect("write");
        let mut session = Session::open(&other)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        session.set_as_of(as_of);
        assert_eq!(members(&mut session, expression).await, expected, "{path}");
        if path == "partitioned" {
            // The partition column is a column of the table.
            let all_buyers =
                members(&mut session, "[has purchases where channel_group = 'all']").await;
            assert_eq!(all_buyers, members(&mut session, "[has purchases]").await);
            let sql = session
                .sql("SELECT DISTINCT customer_id FROM purchases")
                .await
                .expect("SQL");
            assert!(keys(&sql).len() >= all_buyers.len());
        }
    }
}
