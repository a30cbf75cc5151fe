//! Partitions, scores, `why` and `explain` through the binary, and the fixes found trying the
//! CLI as a new user: stale sizes in `\segments`, `explain` evaluating earlier expressions,
//! the evaluation date of generated data.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ensemble::demo::{write_demo_datamart, DemoConfig};

fn datamart() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("demo data");
    (dir, catalog)
}

fn ensemble(args: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ensemble"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.unwrap_or_default().as_bytes())
        .expect("input");
    drop(stdin);
    child.wait_with_output().expect("it ends")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const SCRIPT: &str = "field ca = sum(purchases.amount within 12 months);
partition statut { vip = [ca >= 1000]; bons = [ca >= 200]; else autres; }
score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases within 12 months), monetary: ca, buckets: 5);
statut.vip ∪ [rfm.score = '555'];";

#[test]
fn run_prints_a_partitions_tiers_and_why_explains_a_member() {
    let (_dir, catalog) = datamart();
    let catalog = catalog.to_str().expect("a path");
    let partition = SCRIPT.replace("statut.vip ∪ [rfm.score = '555'];", "statut;");
    let output = ensemble(&["run", "-c", catalog, "-e", &partition], None);
    let (out, err) = text(&output);
    assert!(output.status.success(), "{err}");
    for tier in ["statut.vip", "statut.bons", "statut.autres"] {
        assert!(out.contains(tier), "{out}");
    }

    let output = ensemble(&["why", "-c", catalog, "--member", "1", "-e", SCRIPT], None);
    let (out, err) = text(&output);
    assert!(output.status.success(), "{err}");
    assert!(out.starts_with("member 1 at 2026-06-30: "), "{out}");
    for value in ["ca (field)", "rfm.r", "rfm.score", "statut.vip"] {
        assert!(out.contains(value), "{value} in:\n{out}");
    }
    assert!(out.contains(" in ") || out.contains(" out "), "{out}");

    let output = ensemble(
        &["why", "-c", catalog, "--member", "nobody", "-e", SCRIPT],
        None,
    );
    assert!(text(&output).0.contains("is not in the universe"));
}

#[test]
fn explain_runs_definitions_but_evaluates_no_expression() {
    let (_dir, catalog) = datamart();
    // Evaluating the first expression would overflow: explain must only check it.
    let script = "[points * 9223372036854775807 > 0]; segment a = [points > 1]; a ∩ statut.vip;";
    let script = format!("partition statut {{ vip = [points > 100]; }} {script}");
    let output = ensemble(
        &[
            "explain",
            "-c",
            catalog.to_str().expect("a path"),
            "-e",
            &script,
        ],
        None,
    );
    let (out, err) = text(&output);
    assert!(output.status.success(), "{err}");
    assert!(out.contains("partition statut: vip #"), "{out}");
}

#[test]
fn segments_shows_current_sizes_after_a_redefinition() {
    let (_dir, catalog) = datamart();
    let input = "segment a = [points > 10];\na;\nsegment a = [points > 100000];\n\\segments\na;\n\\segments\n";
    let output = ensemble(
        &["repl", "-c", catalog.to_str().expect("a path")],
        Some(input),
    );
    let (out, err) = text(&output);
    assert!(output.status.success(), "{err}");
    let listings: Vec<&str> = out.lines().filter(|l| l.contains(" a ")).collect();
    assert_eq!(listings.len(), 2, "{out}");
    assert!(listings[0].trim_start().starts_with("not run"), "{out}");
    assert!(listings[1].trim_start().starts_with('0'), "{out}");
}

#[test]
fn generated_data_is_evaluated_at_its_own_date_by_default() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("mart");
    let out_text = out.to_str().expect("a path");
    let generated = ensemble(
        &[
            "generate",
            "--customers",
            "2000",
            "--as-of",
            "2025-12-31",
            "--out",
            out_text,
        ],
        None,
    );
    assert!(generated.status.success(), "{}", text(&generated).1);
    let catalog = Path::new(&out).join("ensemble.toml");
    let catalog = catalog.to_str().expect("a path");
    let output = ensemble(
        &[
            "run",
            "-c",
            catalog,
            "-e",
            "[has purchases within 30 days]",
            "--format",
            "csv",
        ],
        None,
    );
    let (out, err) = text(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        out.lines().count() > 50,
        "recent buyers at the data's date:\n{err}"
    );
    assert!(err.contains("as of 2025-12-31") || out.lines().count() > 50);
    // `--as-of` still wins.
    let output = ensemble(
        &[
            "run",
            "-c",
            catalog,
            "--as-of",
            "2030-01-01",
            "-e",
            "[has purchases within 30 days]",
            "--format",
            "csv",
        ],
        None,
    );
    assert_eq!(text(&output).0.lines().count(), 1, "only the header");
}

#[test]
fn check_lists_a_failed_partition_or_score_once() {
    let (_dir, catalog) = datamart();
    let script = "partition p { a = [pointz > 1]; else b; }\np.a;\nscore s = rfm(recency: city, frequency: points, monetary: points, buckets: 5);\n[s.r > 1];\n";
    let output = ensemble(
        &[
            "check",
            "-c",
            catalog.to_str().expect("a path"),
            "-e",
            script,
        ],
        None,
    );
    let (_, err) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("2 error(s)"), "{err}");
    assert!(err.contains("did you mean 'points'?"), "{err}");
    assert!(err.contains("ranks numbers and dates"), "{err}");
    assert!(!err.contains("unknown partition 'p'"), "{err}");
}
