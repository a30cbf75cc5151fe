//! Unit tests of destinations, atomic files and bounded reads.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::Path;

use super::*;

fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("a directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

#[test]
fn dash_is_standard_output_and_a_directory_is_refused() {
    assert_eq!(
        resolve(Path::new("-")).expect("resolves"),
        Destination::Stdout
    );
    let dir = tempfile::tempdir().expect("a directory");
    let error = write_file(dir.path(), b"x").expect_err("a directory");
    assert!(error.to_string().contains("is a directory"), "{error}");
}

#[test]
fn a_device_is_written_in_place() {
    let null = Path::new("/dev/null");
    assert_eq!(
        resolve(null).expect("resolves"),
        Destination::Direct(null.into())
    );
    write_file(null, b"members\n").expect("writes");
    let metadata = std::fs::metadata(null).expect("exists");
    assert!(metadata.file_type().is_char_device());
}

#[test]
fn a_fifo_is_written_in_place() {
    let dir = tempfile::tempdir().expect("a directory");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(fifo)
                .expect("opens")
                .read_to_string(&mut text)
                .expect("reads");
            text
        })
    };
    write_file(&fifo, b"through the pipe\n").expect("writes");
    assert_eq!(reader.join().expect("the reader"), "through the pipe\n");
    let metadata = std::fs::symlink_metadata(&fifo).expect("exists");
    assert!(metadata.file_type().is_fifo(), "still a FIFO");
    assert!(partials(dir.path()).is_empty());
}

#[test]
fn symbolic_links_are_resolved_and_stay_links() {
    let dir = tempfile::tempdir().expect("a directory");
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "old").expect("writes");
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    std::os::unix::fs::symlink("target.csv", &first).expect("a link");
    std::os::unix::fs::symlink(&first, &second).expect("a chain");
    write_file(&second, b"new").expect("writes");
    assert_eq!(std::fs::read_to_string(&target).expect("reads"), "new");
    for link in [&first, &second] {
        let metadata = std::fs::symlink_metadata(link).expect("exists");
        assert!(
            metadata.file_type().is_symlink(),
            "{} is still a link",
            link.display()
        );
    }
}

#[test]
fn a_dangling_link_creates_its_target() {
    let dir = tempfile::tempdir().expect("a directory");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink("sub/made.csv", &link).expect("a link");
    let error = write_file(&link, b"x").expect_err("no sub directory");
    assert!(matches!(error, FsError::MissingDirectory { .. }), "{error}");
    std::fs::create_dir(dir.path().join("sub")).expect("a directory");
    write_file(&link, b"made").expect("writes");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/made.csv")).expect("reads"),
        "made"
    );
    assert!(std::fs::symlink_metadata(&link)
        .expect("exists")
        .file_type()
        .is_symlink());
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("nowhere/out.csv");
    let error = write_file(&path, b"x").expect_err("no directory");
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "directory {} does not exist",
            dir.path().join("nowhere").display()
        )),
        "{message}"
    );
    assert!(!message.contains("partial"), "{message}");
}

#[test]
fn concurrent_writers_each_publish_a_complete_file() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("same.csv");
    let first_content = "a".repeat(300_000);
    let second_content = "b".repeat(200_000);
    let mut first = AtomicFile::create(&path).expect("creates");
    let mut second = AtomicFile::create(&path).expect("creates");
    assert_ne!(first.temporary(), second.temporary());
    let name = first
        .temporary()
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!(".same.csv.{}.", std::process::id()))
            && name.ends_with(".partial"),
        "{name}"
    );
    let threads = [(&mut first, &first_content), (&mut second, &second_content)];
    std::thread::scope(|scope| {
        for (file, content) in threads {
            scope.spawn(move || file.write_all(content.as_bytes()).expect("writes"));
        }
    });
    first.commit().expect("publishes");
    assert_eq!(
        std::fs::read_to_string(&path).expect("reads"),
        first_content
    );
    second.commit().expect("publishes");
    assert_eq!(
        std::fs::read_to_string(&path).expect("reads"),
        second_content
    );
    assert!(partials(dir.path()).is_empty());
}

#[test]
fn dropping_without_commit_removes_the_temporary_file() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("out.parquet");
    std::fs::write(&path, "old").expect("writes");
    let mut file = AtomicFile::create(&path).expect("creates");
    file.write_all(b"half").expect("writes");
    let temporary = file.temporary().to_path_buf();
    assert!(temporary.exists() && registry::is_registered(&temporary));
    drop(file);
    assert!(!temporary.exists() && !registry::is_registered(&temporary));
    assert_eq!(std::fs::read_to_string(&path).expect("reads"), "old");
}

#[test]
fn commit_syncs_renames_and_keeps_permissions() {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, "old").expect("writes");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut output = create(&path).expect("creates");
    assert!(matches!(output, Output::Atomic(_)));
    output.write_all(b"new").expect("writes");
    output.finish().expect("publishes");
    assert_eq!(std::fs::read_to_string(&path).expect("reads"), "new");
    let mode = std::fs::metadata(&path)
        .expect("exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(partials(dir.path()).is_empty());
}

#[test]
fn reads_stop_at_the_limit() {
    let zeros = std::io::repeat(0).take(u64::MAX);
    let error = read_limited(zeros, "/dev/zero", 1 << 20).expect_err("too large");
    assert_eq!(
        error.to_string(),
        "/dev/zero is larger than the 1 MiB limit"
    );
    assert_eq!(read_limited(&b"abc"[..], "x", 3).expect("fits"), b"abc");
    let error =
        read_text_limited(Path::new("/dev/zero"), DEFAULT_READ_LIMIT).expect_err("too large");
    assert!(error.to_string().contains("16 MiB"), "{error}");
}
