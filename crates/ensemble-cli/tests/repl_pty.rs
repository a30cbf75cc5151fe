//! The REPL driven through a pseudo-terminal, as an analyst uses it: the line editor (tab
//! completion, inline validation, multi-line input, Ctrl-R, history), Ctrl-C cancelling a long
//! evaluation, and Ctrl-D leaving.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use ensemble::demo::{write_demo_datamart, DemoConfig};
use rexpect::process::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};

/// How long any single expectation may wait (debug builds on a loaded 2-core machine).
const TIMEOUT_MS: u64 = 60_000;

/// `fork` from a multi-threaded test process is safest one at a time.
static SPAWN: Mutex<()> = Mutex::new(());

/// `ensemble` with `args` in a fresh pseudo-terminal; `NO_COLOR` set unless `color`; escape
/// codes removed from what is read when `strip`.
fn spawn(args: &[&std::ffi::OsStr], history: &Path, color: bool, strip: bool) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ensemble"));
    command
        .args(args)
        .env("ENSEMBLE_HISTORY", history)
        .env("TERM", "xterm");
    if color {
        command.env_remove("NO_COLOR");
    } else {
        command.env("NO_COLOR", "1");
    }
    let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    spawn_with_options(
        command,
        Options {
            timeout_ms: Some(TIMEOUT_MS),
            strip_ansi_escape_codes: strip,
        },
    )
    .expect("ensemble starts in a pseudo-terminal")
}

/// The REPL on a catalog, evaluating as of 2026-06-30, with its own history file.
fn spawn_repl(catalog: &Path, history: &Path) -> PtySession {
    let args = ["repl", "--as-of", "2026-06-30", "--catalog"].map(std::ffi::OsStr::new);
    let mut session = spawn(
        &[&args[..], &[catalog.as_os_str()]].concat(),
        history,
        false,
        true,
    );
    session
        .exp_string("\\? for help, Ctrl-D to quit.")
        .expect("the banner");
    session
}

/// Types a line and presses Enter.
fn type_line(repl: &mut PtySession, line: &str) {
    repl.send(line).expect("typing");
    repl.send("\r").expect("Enter");
    repl.flush().expect("flush");
}

/// Types `text` and presses Tab.
fn type_then_tab(repl: &mut PtySession, text: &str) {
    repl.send(text).expect("typing");
    repl.send("\t").expect("Tab");
    repl.flush().expect("flush");
}

/// Waits for `needle`, returning what came before it.
fn expect(repl: &mut PtySession, needle: &str) -> String {
    match repl.exp_string(needle) {
        Ok(before) => before,
        Err(error) => panic!("waiting for {needle:?}: {error}"),
    }
}

/// Ctrl-D on an empty line ends the REPL with status 0. It is sent once the prompt is back (the
/// line editor reads keys itself only while it shows the prompt).
fn quit(mut repl: PtySession) {
    expect(&mut repl, "ensemble> ");
    repl.send_control('d').expect("Ctrl-D");
    repl.exp_eof().expect("the REPL exits on Ctrl-D");
    match repl.process.wait() {
        Ok(WaitStatus::Exited(_, 0)) => {}
        other => panic!("the REPL should exit with 0 on Ctrl-D, got {other:?}"),
    }
}

fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = write_demo_datamart(dir.path(), DemoConfig::default()).expect("demo data");
    (dir, catalog)
}

#[test]
fn define_evaluate_inspect_and_export_on_a_terminal() {
    let (dir, catalog) = demo();
    let history = dir.path().join("history");
    let mut repl = spawn_repl(&catalog, &history);

    type_line(
        &mut repl,
        "segment vip = [sum(purchases.amount within 12 months) >= 1000];",
    );
    expect(&mut repl, "segment vip defined");
    type_line(
        &mut repl,
        "segment clients = [has purchases within 12 months];",
    );
    expect(&mut repl, "segment clients defined");

    // A statement over two lines: Enter before the `;` continues the entry.
    type_line(&mut repl, "clients");
    type_line(&mut repl, "  - vip;");
    let tree = expect(&mut repl, "members as of 2026-06-30");
    assert!(tree.contains("#1  clients"), "the step tree:\n{tree}");
    assert!(tree.contains("#2  vip"), "the step tree:\n{tree}");
    expect(&mut repl, "| customer_id |");

    type_line(&mut repl, "\\steps");
    let steps = expect(&mut repl, "#3   step_3");
    assert!(steps.contains("#1   step_1"), "{steps}");

    type_line(&mut repl, "\\show vip 3");
    let header = expect(&mut repl, "city");
    assert!(header.contains("customer_id"), "{header}");

    let export = dir.path().join("vip.csv");
    type_line(&mut repl, &format!("\\export vip TO {}", export.display()));
    expect(&mut repl, "members to");
    let written = std::fs::read_to_string(&export).expect("the export is written");
    assert!(written.starts_with("customer_id,"), "{written}");
    assert!(written.lines().count() > 1, "{written}");

    // A letter whose lowercase is longer (`İ`) does not move where `TO` splits the line.
    let wide = dir.path().join("wide İ.csv");
    type_line(
        &mut repl,
        &format!("\\export vip - [city = 'İİİ'] TO {}", wide.display()),
    );
    expect(&mut repl, "members to");
    let same = std::fs::read_to_string(&wide).expect("the export is written where asked");
    assert_eq!(same.lines().count(), written.lines().count(), "{same}");

    type_line(&mut repl, "\\segments");
    let listing = expect(
        &mut repl,
        "segment clients = [has purchases within 12 months]",
    );
    assert!(listing.contains("segment vip = ["), "{listing}");
    quit(repl);

    let history = std::fs::read_to_string(&history).expect("the history file is written");
    assert!(
        history.contains("segment vip = [sum(purchases.amount within 12 months) >= 1000];"),
        "{history}"
    );
}

#[test]
fn a_syntax_error_is_shown_before_running_and_the_session_survives() {
    let (dir, catalog) = demo();
    let mut repl = spawn_repl(&catalog, &dir.path().join("history"));

    type_line(&mut repl, "segment vip = [sum(purchases.amount) >= 1000];");
    expect(&mut repl, "segment vip defined");

    // Inline validation: the parse error appears under the input, nothing runs, the input
    // stays in the editor; Ctrl-C discards it.
    type_line(&mut repl, "segment broken = vip ∩ [count(purchases) >= ];");
    let shown = expect(&mut repl, "(line 1, column 45)");
    assert!(shown.contains("expected"), "{shown}");
    repl.send_control('c').expect("Ctrl-C");
    expect(&mut repl, "ensemble> ");

    // An error found when running (an unknown column): rendered with the line and a caret,
    // with a suggestion.
    type_line(&mut repl, "segment big = [sum(purchases.amont) >= 10];");
    let error = expect(&mut repl, "did you mean 'purchases.amount'");
    assert!(error.contains("unknown column"), "{error}");

    // The session is intact: the earlier definition still evaluates.
    type_line(&mut repl, "vip;");
    expect(&mut repl, "members as of 2026-06-30");
    type_line(&mut repl, "\\segments");
    let listing = expect(&mut repl, "[sum(purchases.amount) >= 1000]");
    assert!(listing.contains("vip"), "{listing}");
    assert!(!listing.contains("broken"), "{listing}");
    quit(repl);
}

#[test]
fn tab_completes_columns_and_commands_and_ctrl_r_searches_history() {
    let (dir, catalog) = demo();
    let mut repl = spawn_repl(&catalog, &dir.path().join("history"));

    // `purchases.am⇥` completes to `purchases.amount`: the statement is accepted as typed.
    type_then_tab(&mut repl, "segment big = [sum(purchases.am");
    expect(&mut repl, "purchases.amount");
    type_line(&mut repl, ") >= 500];");
    expect(&mut repl, "segment big defined");

    // Commands complete too.
    type_then_tab(&mut repl, "\\segm");
    type_line(&mut repl, "");
    expect(&mut repl, "[sum(purchases.amount) >= 500]");

    // Ctrl-R finds the definition in the history; Enter runs it again (a redefinition).
    type_line(&mut repl, "big;");
    expect(&mut repl, "members as of");
    repl.send_control('r').expect("Ctrl-R");
    repl.send("segment big").expect("typing the search");
    repl.flush().expect("flush");
    expect(&mut repl, "reverse-i-search");
    repl.send("\r").expect("Enter accepts the match");
    repl.send("\r").expect("Enter runs it");
    repl.flush().expect("flush");
    expect(&mut repl, "segment big defined");
    quit(repl);
}

#[test]
fn a_partition_is_typed_over_several_lines_and_why_explains_a_member() {
    let (dir, catalog) = demo();
    let mut repl = spawn_repl(&catalog, &dir.path().join("history"));
    // Each tier ends with `;` but the entry goes on until the partition's `}`.
    type_line(&mut repl, "partition statut {");
    type_line(
        &mut repl,
        "  gros = [sum(purchases.amount within 12 months) >= 500];",
    );
    type_line(&mut repl, "  else autres;");
    type_line(&mut repl, "}");
    expect(&mut repl, "partition statut defined");
    type_line(&mut repl, "statut;");
    expect(&mut repl, "statut.autres");
    expect(&mut repl, "ensemble> ");
    // The tier completes like a segment name.
    type_then_tab(&mut repl, "statut.gr");
    type_line(&mut repl, ";");
    expect(&mut repl, "members as of 2026-06-30");
    expect(&mut repl, "ensemble> ");
    type_line(&mut repl, "\\why 1 statut.gros");
    expect(&mut repl, "values read");
    quit(repl);
}

/// A datamart whose purchases are one generated file seen many times through a directory of
/// links: a large, real scan without writing gigabytes.
fn large_datamart(dir: &Path) -> PathBuf {
    let small = dir.join("small");
    write_demo_datamart(&small, DemoConfig::default()).expect("demo data");
    let many = dir.join("purchases");
    std::fs::create_dir_all(&many).expect("a directory");
    for i in 0..1500 {
        std::os::unix::fs::symlink(
            small.join("purchases.parquet"),
            many.join(format!("part-{i:04}.parquet")),
        )
        .expect("a link");
    }
    let catalog = dir.join("ensemble.toml");
    std::fs::write(
        &catalog,
        format!(
            "[universe]\ntable = \"customers\"\nkey = \"customer_id\"\n\n\
             [tables.customers]\npath = \"{}\"\n\n\
             [tables.purchases]\npath = \"purchases/*.parquet\"\nkey = \"customer_id\"\ntime = \"purchased_at\"\n",
            small.join("customers.parquet").display()
        ),
    )
    .expect("a catalog");
    catalog
}

#[test]
fn ctrl_c_cancels_a_long_evaluation_and_keeps_the_session() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let catalog = large_datamart(dir.path());
    let mut repl = spawn_repl(&catalog, &dir.path().join("history"));

    type_line(&mut repl, "as of 2026-06-30;");
    expect(&mut repl, "as of 2026-06-30");
    type_line(&mut repl, "segment young = [birth_date after 1990-01-01];");
    expect(&mut repl, "segment young defined");
    type_line(&mut repl, "young;");
    let first = expect(&mut repl, "members as of 2026-06-30");

    // Forty distinct counts, each its own scan of every purchase file: a minute of work.
    let long: Vec<String> = (0..40)
        .map(|k| format!("[count_distinct(purchases.amount where amount > {k}) >= 2]"))
        .collect();
    type_line(&mut repl, &format!("young & ({});", long.join(" | ")));
    // The spinner shows up on the terminal after a moment.
    expect(&mut repl, "(Ctrl-C cancels)");
    repl.send_control('c').expect("Ctrl-C");
    expect(
        &mut repl,
        "cancelled; the session is as it was before this entry",
    );

    // The session is intact: definitions, the last evaluation's steps, and evaluation.
    type_line(&mut repl, "\\steps");
    let steps = expect(&mut repl, "#1   step_1");
    assert!(
        !steps.contains("#2 "),
        "the cancelled evaluation left no steps: {steps}"
    );
    type_line(&mut repl, "young;");
    let again = expect(&mut repl, "members as of 2026-06-30");
    let count = |text: &str| {
        text.lines()
            .find(|l| l.contains("young"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    assert_eq!(
        count(&first),
        count(&again),
        "same answer:\n{first}\n{again}"
    );
    quit(repl);
}

#[test]
fn colours_on_a_terminal_unless_no_color_is_set() {
    let (dir, catalog) = demo();
    let history = dir.path().join("history");
    let check = |color: bool| {
        let args = [
            "check",
            "-e",
            "all - [sum(purchases.amont) > 1]",
            "--catalog",
        ]
        .map(std::ffi::OsStr::new);
        let mut session = spawn(
            &[&args[..], &[catalog.as_os_str()]].concat(),
            &history,
            color,
            false,
        );
        let output = session.exp_eof().expect("check ends");
        match session.process.wait() {
            Ok(WaitStatus::Exited(_, 1)) => {}
            other => panic!("a script error exits with 1, got {other:?}"),
        }
        assert!(output.contains("unknown column"), "{output}");
        output
    };
    assert!(check(true).contains("\x1b["), "colours on a terminal");
    assert!(!check(false).contains('\x1b'), "no colours with NO_COLOR");
}
