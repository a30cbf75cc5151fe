//! The `ensemble` binary, driven as a user would: output formats, exit codes, errors.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ensemble::demo::{write_demo_datamart, DemoConfig};

fn datamart() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("demo data");
    (dir, catalog)
}

fn ensemble(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ensemble"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn loyalty_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/loyalty.seg")
}

#[test]
fn run_prints_sorted_keys_as_csv() {
    let (_dir, catalog) = datamart();
    let script = loyalty_script();
    let output = ensemble(&[
        "run",
        "--catalog",
        catalog.to_str().unwrap(),
        script.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("customer_id"));
    let keys: Vec<i64> = lines.map(|l| l.parse().expect("a key per line")).collect();
    assert_eq!(keys.len(), 1102, "the quickstart's checked answer");
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "sorted, no duplicates"
    );
    assert!(
        stderr(&output).contains("read as clients − (acheteurs_recents ∩ vip)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn table_format_prints_the_step_tree_on_stderr() {
    let (_dir, catalog) = datamart();
    let script = loyalty_script();
    let output = ensemble(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        script.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let err = stderr(&output);
    assert!(err.contains("#5  #1 − #4"), "{err}");
    assert!(err.contains("1 102 members as of 2026-06-30"), "{err}");
    assert!(
        stdout(&output).contains("| customer_id |"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_and_output_file() {
    let (dir, catalog) = datamart();
    let out = dir.path().join("members.json");
    let output = ensemble(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        "--as-of",
        "2026-06-30",
        "-e",
        "[points > 4990]",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.starts_with("[{\"customer_id\":"), "{text}");
    assert!(!dir.path().join(".members.json.partial").exists());

    let empty = ensemble(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        "-e",
        "[points > 99999]",
        "--format",
        "json",
    ]);
    assert_eq!(stdout(&empty).trim(), "[]");
    let empty_csv = ensemble(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        "-e",
        "[points > 99999]",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&empty_csv), "customer_id\n");
}

#[test]
fn the_as_of_flag_wins_over_the_script() {
    let (_dir, catalog) = datamart();
    let catalog = catalog.to_str().unwrap();
    let script = "as of 2026-06-30; [signup_date > 2026-06-01];";
    let pinned = ensemble(&[
        "run",
        "-c",
        catalog,
        "--as-of",
        "2026-06-10",
        "--format",
        "csv",
        "-e",
        script,
    ]);
    let scripted = ensemble(&["run", "-c", catalog, "--format", "csv", "-e", script]);
    assert!(stdout(&pinned).lines().count() < stdout(&scripted).lines().count());
}

#[test]
fn script_from_standard_input() {
    let (_dir, catalog) = datamart();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ensemble"))
        .args([
            "run",
            "-c",
            catalog.to_str().unwrap(),
            "--format",
            "csv",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"as of 2026-06-30; [points > 4990];")
        .expect("writes");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("customer_id\n"));
}

#[test]
fn exit_codes_and_error_output() {
    let (dir, catalog) = datamart();
    let catalog = catalog.to_str().unwrap();

    let language = ensemble(&[
        "run",
        "-c",
        catalog,
        "-e",
        "segment vip = [sum(purchases.amout) >= 1000];\nvip;",
    ]);
    assert_eq!(language.status.code(), Some(1));
    insta::assert_snapshot!("unknown_column", stderr(&language));

    let syntax = ensemble(&["run", "-c", catalog, "-e", "clients - ;"]);
    assert_eq!(syntax.status.code(), Some(1));
    insta::assert_snapshot!("syntax_error", stderr(&syntax));

    let binary = dir.path().join("binary.seg");
    std::fs::write(&binary, [0xff, 0xfe, b'a', 0x80]).expect("write");
    let not_utf8 = ensemble(&["run", "-c", catalog, binary.to_str().unwrap()]);
    assert_eq!(not_utf8.status.code(), Some(1));
    assert!(
        stderr(&not_utf8).contains("not UTF-8"),
        "{}",
        stderr(&not_utf8)
    );

    let missing = ensemble(&["run", "-c", "/nonexistent/ensemble.toml", "-e", "all"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/ensemble.toml"));

    let no_script = ensemble(&[
        "run",
        "-c",
        catalog,
        dir.path().join("nope.seg").to_str().unwrap(),
    ]);
    assert_eq!(no_script.status.code(), Some(2));
}

#[test]
fn explain_prints_the_reading_and_plans() {
    let (_dir, catalog) = datamart();
    let script = loyalty_script();
    let output = ensemble(&[
        "explain",
        "-c",
        catalog.to_str().unwrap(),
        script.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("clients − (acheteurs_recents ∩ vip)\n"),
        "{text}"
    );
    assert!(text.contains("TableScan: purchases"));
    assert!(text.contains("MemberBitmap: step_1 − step_4"), "{text}");
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("run_help", stdout(&ensemble(&["run", "--help"])));
    insta::assert_snapshot!("help", stdout(&ensemble(&["--help"])));
    // Every subcommand's help, with its examples.
    for command in [
        "repl", "check", "export", "explain", "generate", "demo", "tables", "describe", "serve",
    ] {
        let output = ensemble(&[command, "--help"]);
        assert!(output.status.success(), "{command} --help");
        let text = stdout(&output);
        assert!(
            text.contains("Examples:"),
            "{command} --help has examples:\n{text}"
        );
        insta::assert_snapshot!(format!("{command}_help"), text);
    }
    insta::assert_snapshot!(
        "import_csv_help",
        stdout(&ensemble(&["import", "csv", "--help"]))
    );
}

#[test]
fn repl_help_lists_every_command() {
    let (_dir, catalog) = datamart();
    let output = repl(&catalog, "\\?\n");
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("repl_commands", stdout(&output));
}

#[test]
fn demo_generates_once_then_reuses() {
    let dir = tempfile::tempdir().expect("a directory");
    let demo = || {
        Command::new(env!("CARGO_BIN_EXE_ensemble"))
            .arg("demo")
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("runs")
    };
    let first = demo();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("first run: generating"),
        "{}",
        stderr(&first)
    );
    let text = stdout(&first);
    for segment in [
        "clients",
        "acheteurs_recents",
        "vip",
        "prospects",
        "nouveaux_prospects",
        "inactifs",
        "endormis",
    ] {
        assert!(text.contains(segment), "{segment} missing from\n{text}");
    }
    assert!(text.contains("#5  #1 − #4"), "{text}");
    // The analytics tour: tiers with KPIs, an overlap chart, a 12-month transition.
    for shown in [
        "kpi statut",
        "overlap clients, acheteurs_recents, vip",
        "(entered)",
    ] {
        assert!(text.contains(shown), "{shown} missing from\n{text}");
    }
    for chart in ["kpi", "overlap", "transition"] {
        let svg = dir.path().join(format!("data/demo/charts/{chart}.svg"));
        let drawn = std::fs::read_to_string(&svg).unwrap_or_default();
        assert!(drawn.starts_with("<svg"), "{} not drawn", svg.display());
    }
    let modified = std::fs::metadata(dir.path().join("data/demo/purchases.parquet"))
        .and_then(|m| m.modified())
        .expect("written");
    let second = demo();
    assert!(second.status.success());
    assert!(
        stderr(&second).contains("using the demo datamart"),
        "{}",
        stderr(&second)
    );
    let answers = |text: &str| {
        text.lines()
            .filter(|l| !l.contains(" members in "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        answers(&stdout(&second)),
        answers(&text),
        "same data, same answers"
    );
    let again = std::fs::metadata(dir.path().join("data/demo/purchases.parquet"))
        .and_then(|m| m.modified())
        .expect("kept");
    assert_eq!(modified, again, "the data is reused, not rewritten");
}

#[test]
fn generate_tables_and_describe() {
    let dir = tempfile::tempdir().expect("a directory");
    let out = dir.path().join("small");
    let generated = ensemble(&[
        "generate",
        "--customers",
        "500",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(generated.status.success(), "{}", stderr(&generated));
    assert!(stderr(&generated).contains("purchases"));
    let catalog = out.join("ensemble.toml");
    let tables = ensemble(&["tables", "-c", catalog.to_str().unwrap()]);
    assert!(tables.status.success());
    for table in [
        "customers",
        "purchases",
        "visits",
        "reviews",
        "messages",
        "loyalty_events",
    ] {
        assert!(stdout(&tables).contains(table), "{}", stdout(&tables));
    }
    let described = ensemble(&["describe", "-c", catalog.to_str().unwrap(), "customers"]);
    assert!(described.status.success(), "{}", stderr(&described));
    let text = stdout(&described);
    assert!(text.starts_with("customers: 500 rows"), "{text}");
    assert!(
        text.contains("birth_date") && text.contains("Date32") && text.contains('%'),
        "{text}"
    );
    let unknown = ensemble(&["describe", "-c", catalog.to_str().unwrap(), "customer"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("did you mean 'customers'"),
        "{}",
        stderr(&unknown)
    );
    let zero = ensemble(&[
        "generate",
        "--customers",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(zero.status.code(), Some(2));
}

fn repl(catalog: &Path, input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ensemble"))
        .args(["repl", "-c", catalog.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .spawn()
        .expect("spawns");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("writes");
    child.wait_with_output().expect("finishes")
}

#[test]
fn repl_with_piped_input() {
    let (dir, catalog) = datamart();
    let export = dir.path().join("vip.csv");
    let saved = dir.path().join("saved.seg");
    let script = format!(
        "as of 2026-06-30;\nsegment vip = [sum(purchases.amount within 12 months)\n  >= 1000];\nvip ∩ [city = 'Paris'];\n\\steps\n\\show vip 3\n\\segments\n\\sql SELECT count(*) AS n FROM vip\n\\export vip TO {}\n\\save {}\n\\format csv\nall - vip\n",
        export.display(),
        saved.display()
    );
    let output = repl(&catalog, &script);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let status = stderr(&output);
    // Status lines go to standard error: standard output holds only results.
    assert!(status.contains("segment vip defined"), "{status}");
    assert!(status.contains("#3  #1 ∩ #2"), "{status}");
    assert!(status.contains("wrote"), "{status}");
    assert!(status.contains("format csv"), "{status}");
    assert!(text.contains("step_3"), "\\steps lists the tables: {text}");
    for line in [
        "segment vip defined",
        "format csv",
        "wrote",
        "members as of",
    ] {
        assert!(!text.contains(line), "{line} in standard output: {text}");
    }
    let exported = std::fs::read_to_string(&export).expect("exported");
    assert!(
        exported.starts_with("customer_id,signup_date"),
        "{exported}"
    );
    let saved_text = std::fs::read_to_string(&saved).expect("saved");
    assert_eq!(
        saved_text,
        "as of 2026-06-30;\nsegment vip = [sum(purchases.amount within 12 months) >= 1000];\n"
    );
    assert!(
        text.contains("customer_id,signup_date"),
        "csv format for the last preview: {text}"
    );

    // The saved script reloads to the same state.
    let reloaded = repl(
        &catalog,
        &format!("\\load {}\n\\segments\n", saved.display()),
    );
    assert!(reloaded.status.success(), "{}", stderr(&reloaded));
    assert!(stdout(&reloaded).contains("vip"), "{}", stdout(&reloaded));
}

#[test]
fn repl_stops_on_the_first_error_and_keeps_earlier_definitions() {
    let (_dir, catalog) = datamart();
    let output = repl(
        &catalog,
        "segment a = [points > 10];\n[points > ;\nsegment b = a;\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("segment a defined"));
    assert!(!stderr(&output).contains("segment b defined"));
    // The error is reported at its line in the input, not in the statement.
    assert!(
        stderr(&output).contains("line 2, column"),
        "{}",
        stderr(&output)
    );
    insta::assert_snapshot!("repl_syntax_error", stderr(&output));

    let unknown = repl(&catalog, "\\shwo a\n");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("did you mean \\show"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn check_lists_every_error_and_export_writes_members() {
    let (dir, catalog) = datamart();
    let catalog = catalog.to_str().unwrap();
    let good = ensemble(&["check", "-c", catalog, loyalty_script().to_str().unwrap()]);
    assert!(good.status.success(), "{}", stderr(&good));
    let bad = ensemble(&[
        "check", "-c", catalog, "-e",
        "segment vip = [sum(purchases.amout) >= 1000];\nsegment ok = [points > 1];\nok ∩ vipp;\n[city = 3];",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let text = stderr(&bad);
    assert!(
        text.contains("line 1") && text.contains("line 3") && text.contains("line 4"),
        "{text}"
    );
    assert!(text.contains("3 error(s)"), "{text}");

    let out = dir.path().join("members.parquet");
    let export = ensemble(&[
        "export",
        "-c",
        catalog,
        "--as-of",
        "2026-06-30",
        "-e",
        "[points > 4900]",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(export.status.success(), "{}", stderr(&export));
    let bytes = std::fs::read(&out).expect("written");
    assert_eq!(&bytes[..4], b"PAR1");
}

#[test]
fn every_expression_of_a_script_reports_its_size() {
    let (_dir, catalog) = datamart();
    let output = ensemble(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        "--as-of",
        "2026-06-30",
        "--format",
        "csv",
        "-e",
        "-- a comment first: still a script, not a flag\n[points > 4990];\nall;",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let sizes = stderr(&output);
    assert!(sizes.contains("  [points > 4990]"), "{sizes}");
    assert!(sizes.contains("  all"), "{sizes}");
    assert!(stdout(&output).starts_with("customer_id\n"));
}

#[test]
fn check_lists_each_error_once() {
    let (dir, catalog) = datamart();
    let script = dir.path().join("errors.seg");
    std::fs::write(
        &script,
        "segment a = [pionts > 1];\nsegment b = a ∩ all;\nb - a;\n[city = Paris];\n[points between 100 and 10];\n",
    )
    .unwrap();
    let output = ensemble(&[
        "check",
        "-c",
        catalog.to_str().unwrap(),
        script.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    // `b` and `b - a` only fail because `a` did: not listed again.
    assert!(text.contains("2 error(s)"), "{text}");
    assert!(text.contains("did you mean 'points'?"), "{text}");
    assert!(text.contains("write it in quotes: 'Paris'"), "{text}");
    assert!(text.contains("bounds are reversed"), "{text}");
    assert!(!text.contains("unknown segment 'a'"), "{text}");
}

#[test]
fn a_cycle_through_an_earlier_definition_points_into_it() {
    let (_dir, catalog) = datamart();
    let output = repl(
        &catalog,
        "segment a = [points > 1];\nsegment b = a ∪ [points < 0];\nsegment a = b ∩ all;\n",
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("in the definition of 'b'"), "{text}");
    // The caret is under `a` in b's definition, the text that holds it.
    let shown = text
        .lines()
        .find(|l| l.contains("│ segment"))
        .unwrap_or_default();
    assert!(shown.contains("segment b = a ∪ [points < 0];"), "{text}");
}
