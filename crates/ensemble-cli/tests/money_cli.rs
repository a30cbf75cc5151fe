//! Exact money through the binary: `report --output kpi.csv` (and `.json`) carries SQL's
//! decimal sum as text; `audience -o -` writes CSV on standard output, not a file named `-`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ensemble::arrow::util::display::array_value_to_string;
use ensemble::demo::{write_demo_datamart, DemoConfig};

const SCRIPT: &str = "field ca = sum(purchases.amount within 12 months);
partition statut { vip = [ca >= 1000]; bons = [ca >= 200]; else autres; }";

fn datamart() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("demo data");
    (dir, catalog)
}

fn ensemble(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ensemble"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// SQL's text of the universe's revenue over the 12 months to 2026-06-30.
fn sql_revenue(catalog: &Path) -> String {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let session = ensemble::Session::open(catalog).await.expect("a session");
        let batches = session
            .sql(
                "SELECT CAST(SUM(p.amount) AS VARCHAR) FROM purchases p JOIN customers c
                   ON p.customer_id = c.customer_id
                 WHERE c.signup_date <= DATE '2026-06-30'
                   AND CAST(p.purchased_at AS DATE) > DATE '2025-06-30'
                   AND CAST(p.purchased_at AS DATE) <= DATE '2026-06-30'",
            )
            .await
            .expect("the SQL runs");
        array_value_to_string(batches[0].column(0), 0).expect("text")
    })
}

#[test]
fn kpi_csv_and_json_carry_the_exact_decimal_revenue() {
    let (dir, catalog) = datamart();
    let expected = sql_revenue(&catalog);
    assert!(expected.contains('.'), "{expected}");
    let catalog = catalog.to_str().expect("a path");
    for file in ["kpi.csv", "kpi.json"] {
        let output = ensemble(
            &[
                "report",
                "-c",
                catalog,
                "--as-of",
                "2026-06-30",
                "-e",
                SCRIPT,
                "-r",
                "kpi statut",
                "--output",
                file,
            ],
            dir.path(),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let text = std::fs::read_to_string(dir.path().join(file)).expect("written");
        if file.ends_with(".csv") {
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
            let column = header
                .iter()
                .position(|h| *h == "revenue_12m")
                .expect("revenue_12m");
            let all = lines.find(|l| l.starts_with("all,")).expect("the row all");
            assert_eq!(
                all.split(',').nth(column),
                Some(expected.as_str()),
                "{text}"
            );
        } else {
            let pair = format!("\"revenue_12m\":{expected}");
            assert!(text.contains(&pair), "{pair} in {text}");
        }
    }
}

#[test]
fn an_audience_to_dash_is_csv_on_standard_output() {
    let (dir, catalog) = datamart();
    let output = ensemble(
        &[
            "audience",
            "-c",
            catalog.to_str().expect("a path"),
            "-e",
            SCRIPT,
            "--set",
            "statut.vip",
            "--value",
            "ca",
            "-o",
            "-",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("to standard output"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("customer_id,ca,statut\n"), "{stdout}");
    // Decimal values keep their two decimals.
    let first = stdout.lines().nth(1).expect("a member");
    let value = first.split(',').nth(1).expect("a value");
    assert_eq!(
        value.split_once('.').map(|(_, f)| f.len()),
        Some(2),
        "{first}"
    );
    assert!(!dir.path().join("-").exists(), "no file named '-'");
    assert!(!dir.path().join("-.meta.json").exists());
}
