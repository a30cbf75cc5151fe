//! The binary against hostile destinations and inputs: devices, symbolic links, FIFOs,
//! concurrent writers, signals, closed pipes, a full standard error, endless scripts.

use std::io::Read as _;
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ensemble::demo::{write_demo_datamart, DemoConfig};

fn datamart() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("demo data");
    (dir, catalog)
}

fn ensemble() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ensemble"));
    command.env("NO_COLOR", "1");
    command
}

fn run(args: &[&str]) -> Output {
    ensemble().args(args).output().expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("a directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect()
}

fn run_csv(catalog: &Path, expression: &str, output: &Path) -> Output {
    run(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        "-e",
        expression,
        "--format",
        "csv",
        "-o",
        output.to_str().unwrap(),
    ])
}

#[test]
fn dev_null_stays_a_character_device() {
    let (_dir, catalog) = datamart();
    let output = run_csv(&catalog, "all", Path::new("/dev/null"));
    assert!(output.status.success(), "{}", stderr(&output));
    let metadata = std::fs::metadata("/dev/null").expect("exists");
    assert!(metadata.file_type().is_char_device());
}

#[test]
fn a_symbolic_link_is_written_through() {
    let (dir, catalog) = datamart();
    let target = dir.path().join("members.csv");
    std::fs::write(&target, "old").expect("writes");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).expect("a link");
    let output = run_csv(&catalog, "all", &link);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(std::fs::symlink_metadata(&link)
        .expect("exists")
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&target).expect("reads");
    assert!(text.starts_with("customer_id\n"), "{text}");
    assert!(partials(dir.path()).is_empty());
}

#[test]
fn a_fifo_is_written_in_place() {
    let (dir, catalog) = datamart();
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut file = std::fs::File::open(fifo).expect("opens");
            file.read_to_string(&mut text).expect("reads");
            text
        })
    };
    let output = run_csv(&catalog, "[points > 4990]", &fifo);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = reader.join().expect("the reader");
    assert!(
        text.starts_with("customer_id\n") && text.lines().count() > 1,
        "{text}"
    );
    assert!(std::fs::symlink_metadata(&fifo)
        .expect("exists")
        .file_type()
        .is_fifo());
}

#[test]
fn concurrent_exports_each_publish_a_complete_file() {
    let (dir, catalog) = datamart();
    let export = |expression: &str, file: &Path| {
        ensemble()
            .args([
                "export",
                "-c",
                catalog.to_str().unwrap(),
                "-e",
                expression,
                "-o",
            ])
            .arg(file)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns")
    };
    let (all, few) = ("all", "[points > 4990]");
    let expected: Vec<String> = [all, few]
        .iter()
        .map(|expression| {
            let file = dir.path().join(format!("alone{}.csv", expression.len()));
            let status = export(expression, &file).wait().expect("runs");
            assert!(status.success());
            std::fs::read_to_string(file).expect("reads")
        })
        .collect();
    let same = dir.path().join("same.csv");
    for _ in 0..3 {
        let children = [export(all, &same), export(few, &same)];
        for child in children {
            let output = child.wait_with_output().expect("runs");
            assert!(output.status.success(), "{}", stderr(&output));
        }
        let text = std::fs::read_to_string(&same).expect("reads");
        assert!(expected.contains(&text), "one complete output, not a mix");
        assert!(partials(dir.path()).is_empty());
    }
}

#[test]
fn sigterm_during_a_write_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("a directory");
    let out = dir.path().join("big");
    let mut child = ensemble()
        .args(["generate", "--customers", "5000000", "--out"])
        .arg(&out)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    // The tables are streamed into temporary files from the start: wait for them.
    let started = Instant::now();
    while !out.is_dir() || partials(&out).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no temporary file"
        );
        assert!(
            child.try_wait().expect("waits").is_none(),
            "finished too early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("waits");
    assert_eq!(status.code(), Some(128 + 15), "{status:?}");
    assert_eq!(partials(&out), Vec::<String>::new());
    assert!(!out.join("ensemble.toml").exists());
}

#[test]
fn generate_refuses_an_existing_datamart() {
    let dir = tempfile::tempdir().expect("a directory");
    let out = dir.path().to_str().unwrap();
    let args = ["generate", "--customers", "300", "--out", out];
    assert!(run(&args).status.success());
    let again = run(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains(&format!(
            "{} already exists (use --overwrite to replace the datamart)",
            dir.path().join("ensemble.toml").display()
        )),
        "{}",
        stderr(&again)
    );
    let mut overwrite = args.to_vec();
    overwrite.push("--overwrite");
    let replaced = run(&overwrite);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
}

#[test]
fn a_closed_standard_output_ends_quietly() {
    let (_dir, catalog) = datamart();
    let mut child = ensemble()
        .args([
            "run",
            "-c",
            catalog.to_str().unwrap(),
            "-e",
            "all",
            "--format",
            "csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // The reader goes away before the first line, as `| head -0` would.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("Broken pipe"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unwritable_standard_error_does_not_panic() {
    let (_dir, catalog) = datamart();
    let full = || std::fs::File::create("/dev/full").expect("/dev/full");
    let table = ensemble()
        .args(["run", "-c", catalog.to_str().unwrap(), "-e", "all"])
        .stdout(Stdio::null())
        .stderr(full())
        .status()
        .expect("runs");
    assert_eq!(table.code(), Some(0));
    let error = ensemble()
        .args(["run", "-c", catalog.to_str().unwrap(), "-e", "all -"])
        .stderr(full())
        .status()
        .expect("runs");
    assert_eq!(error.code(), Some(1), "a language error, not a panic");
    let closed = ensemble()
        .args(["run", "-c", catalog.to_str().unwrap(), "-e", "all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert_eq!(closed.code(), Some(0));
}

#[test]
fn an_endless_script_is_refused_at_the_limit() {
    let (_dir, catalog) = datamart();
    let file = run(&["run", "-c", catalog.to_str().unwrap(), "/dev/zero"]);
    assert_eq!(file.status.code(), Some(2));
    assert!(
        stderr(&file).contains("/dev/zero is larger than the 16 MiB limit"),
        "{}",
        stderr(&file)
    );
    let stdin = ensemble()
        .args(["run", "-c", catalog.to_str().unwrap(), "-"])
        .stdin(std::fs::File::open("/dev/zero").expect("/dev/zero"))
        .output()
        .expect("runs");
    assert_eq!(stdin.status.code(), Some(2));
    assert!(
        stderr(&stdin).contains("standard input is larger than the 16 MiB limit"),
        "{}",
        stderr(&stdin)
    );
}

#[test]
fn import_overwrite_switches_catalog_and_table_together() {
    let dir = tempfile::tempdir().expect("a directory");
    let catalog = dir.path().join("ensemble.toml");
    let csv = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("writes");
        path
    };
    let customers = csv(
        "customers.csv",
        "customer_id,signup_date\n1,2025-01-15\n2,2025-03-01\n",
    );
    let import = |extra: &[&str], file: &Path| {
        let mut args = vec!["import", "csv", "-c", catalog.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(file.to_str().unwrap());
        let output = run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
    };
    let universe = ["--table", "customers", "--universe", "--key", "customer_id"];
    import(
        &[&universe[..], &["--since", "signup_date"]].concat(),
        &customers,
    );
    let first = csv(
        "p1.csv",
        "customer_id,purchased_at\n1,2026-06-01 10:00:00\n",
    );
    let purchases = ["--table", "purchases", "--key", "customer_id"];
    import(
        &[&purchases[..], &["--time", "purchased_at"]].concat(),
        &first,
    );
    // A leftover of a crashed import: never reused, never read.
    std::fs::write(dir.path().join("purchases.v2.parquet"), "garbage").expect("writes");
    let second = csv("p2.csv", "customer_id,bought_on\n2,2026-06-02\n");
    import(
        &[&purchases[..], &["--time", "bought_on", "--overwrite"]].concat(),
        &second,
    );
    let text = std::fs::read_to_string(&catalog).expect("catalog");
    assert!(text.contains("path = \"purchases.v3.parquet\""), "{text}");
    assert!(!dir.path().join("purchases.parquet").exists());
    let output = run(&[
        "run",
        "-c",
        catalog.to_str().unwrap(),
        "-e",
        "[has purchases]",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "customer_id\n2\n");
}
