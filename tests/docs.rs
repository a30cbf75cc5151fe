//! Docs that cannot drift: every test a document names (`module::test_name` in backticks, the
//! module being a test file's name: `hostile::…` is `tests/hostile.rs`, `serve::…` is
//! `crates/ensemble-serve/tests/serve.rs`, `test_serve.py::…` is `tests/python/test_serve.py`)
//! exists in that file as a test, and every rule of docs/hardening.md names such a test. Unit
//! tests are named by their module path (`stack::tests::name` is a test of a crate's
//! `src/stack.rs`), and `test_x.py::name` may also be in `python/tests`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The test files of the workspace by module name: `hostile` for `tests/hostile.rs`,
/// `test_serve.py` for `tests/python/test_serve.py` (a name may be held by several crates).
fn test_files() -> BTreeMap<String, Vec<PathBuf>> {
    let mut dirs = vec![
        root().join("tests"),
        root().join("tests/python"),
        root().join("python/tests"),
    ];
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/") {
        dirs.push(krate.expect("an entry").path().join("tests"));
    }
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let module = match path.extension().and_then(|e| e.to_str()) {
                Some("rs") => name.trim_end_matches(".rs").to_string(),
                Some("py") => name,
                _ => continue,
            };
            files.entry(module).or_default().push(path);
        }
    }
    for src in source_dirs() {
        unit_test_modules(&src, &src, &mut files);
    }
    files
}

/// The `src/` folders of the workspace's crates (their unit tests).
fn source_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![root().join("src"), root().join("python/src")];
    for krate in std::fs::read_dir(root().join("crates")).expect("crates/") {
        dirs.push(krate.expect("an entry").path().join("src"));
    }
    dirs
}

/// Adds the unit-test modules below `dir` (a crate's `src`) by module path: `stack::tests` for
/// `src/stack.rs`'s tests, `repl::commands::tests` for `src/repl/commands.rs`, `fold::tests`
/// for `src/fold/tests.rs`.
fn unit_test_modules(src: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<PathBuf>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            unit_test_modules(src, &path, files);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(src).expect("below src");
        let mut parts: Vec<String> = relative
            .with_extension("")
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        if parts.last().map(String::as_str) != Some("tests") {
            parts.push("tests".into());
        }
        files.entry(parts.join("::")).or_default().push(path);
    }
}

/// Whether `source` defines a test called `name`: a Python `def name(`, or a Rust `fn name(`
/// under a `#[test]` or `#[tokio::test…]` attribute.
fn defines_test(source: &str, python: bool, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let line = line.trim_start();
        if python {
            return line.starts_with(&format!("def {name}("));
        }
        let line = line.strip_prefix("async ").unwrap_or(line);
        if !line.starts_with(&format!("fn {name}(")) {
            return false;
        }
        lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
            .any(|l| l.starts_with("#[test]") || l.starts_with("#[tokio::test"))
    })
}

/// A backticked `module::name` whose module is a test file, as (module, name).
fn test_path<'a>(
    span: &'a str,
    files: &BTreeMap<String, Vec<PathBuf>>,
) -> Option<(&'a str, &'a str)> {
    let (module, name) = span.rsplit_once("::")?;
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
    };
    (files.contains_key(module) && word(name) && !name.contains('.')).then_some((module, name))
}

/// The spans between backticks of `text`, with their line numbers.
fn code_spans(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .flat_map(|(i, line)| line.split('`').skip(1).step_by(2).map(move |s| (i + 1, s)))
        .collect()
}

/// The tests `text` names that do not exist, as `doc:line: module::name`, and how many it names.
fn missing_tests(
    doc: &str,
    text: &str,
    files: &BTreeMap<String, Vec<PathBuf>>,
) -> (Vec<String>, usize) {
    let mut missing = Vec::new();
    let mut named = 0;
    for (line, span) in code_spans(text) {
        let Some((module, name)) = test_path(span, files) else {
            continue;
        };
        named += 1;
        let found = files[module]
            .iter()
            .any(|file| defines_test(&read(file), module.ends_with(".py"), name));
        if !found {
            missing.push(format!("{doc}:{line}: {module}::{name}"));
        }
    }
    (missing, named)
}

/// The documents: README.md, docs/*.md and python/README.md if there is one.
fn documents() -> Vec<(String, String)> {
    let mut paths = vec![root().join("README.md"), root().join("python/README.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            paths.push(path);
        }
    }
    paths
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| {
            let name = p.strip_prefix(root()).unwrap().display().to_string();
            let text = read(&p);
            (name, text)
        })
        .collect()
}

#[test]
fn every_test_the_docs_name_exists() {
    let files = test_files();
    let mut missing = Vec::new();
    let mut named = BTreeMap::new();
    for (doc, text) in documents() {
        let (gone, count) = missing_tests(&doc, &text, &files);
        missing.extend(gone);
        named.insert(doc, count);
    }
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "tests named in the docs that do not exist"
    );
    // docs/hardening.md names a test per rule: 32 names at the time of writing. Fewer means
    // the names stopped being read, not that rules went away.
    assert!(named["docs/hardening.md"] >= 30, "{named:?}");
}

#[test]
fn every_rule_of_hardening_md_names_its_tests() {
    let files = test_files();
    let text = read(&root().join("docs/hardening.md"));
    let mut rules = 0;
    let mut in_table = false;
    for (number, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split(" | ").collect();
        if cells.last().is_some_and(|c| c.trim() == "test") {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        rules += 1;
        let cell = cells.last().expect("a test cell");
        let spans = code_spans(cell);
        for (_, span) in &spans {
            assert!(
                test_path(span, &files).is_some() || *span == "ensemble-fs",
                "docs/hardening.md:{}: `{span}` is not `test_file::test_name`",
                number + 1
            );
        }
        assert!(
            !spans.is_empty() || cell.starts_with("the same"),
            "docs/hardening.md:{}: the rule names no test: {cell}",
            number + 1
        );
    }
    assert!(rules >= 30, "{rules} rules read");
    let fs_tests = std::fs::read_dir(root().join("crates/ensemble-fs/src"))
        .expect("crates/ensemble-fs/src")
        .map(|e| e.expect("an entry").path())
        .filter(|path| path.is_file())
        .any(|path| read(&path).contains("#[test]"));
    assert!(fs_tests, "docs/hardening.md cites ensemble-fs's unit tests");
}

#[test]
fn a_wrong_name_is_reported() {
    let files = test_files();
    let doc =
        "| rule | `hostile::division_by_zero_is_unknown`, `hostile::division_by_zero_is_known` |\n\
               `serve::a_query_past_its_limits_fails_clearly` `test_serve.py::test_nothing`\n\
               `hostile::tiny_datamart` (a helper, not a test) `Session::why` (not a test file)";
    let (missing, named) = missing_tests("doc.md", doc, &files);
    assert_eq!(named, 5);
    assert_eq!(
        missing,
        [
            "doc.md:1: hostile::division_by_zero_is_known",
            "doc.md:2: test_serve.py::test_nothing",
            "doc.md:3: hostile::tiny_datamart",
        ]
    );
}
