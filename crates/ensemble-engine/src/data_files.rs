//! What a table's data files must be before anything reads them: regular files (a FIFO or a
//! device would block or never end) that look like Parquet (the `PAR1` magic at both ends
//! and a footer that fits the file). A file truncated to 0 bytes or with a corrupted footer
//! length is an error naming the file, never an empty table or a panic in the decoder.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Parquet's magic bytes, at the start and the end of every file.
const MAGIC: &[u8; 4] = b"PAR1";

/// The smallest Parquet file: the magic, a footer length and the magic again.
const SMALLEST: u64 = 12;

/// Checks every data file of a table's location (a file, or a directory's `.parquet` files;
/// a glob's files are checked by DataFusion as they are listed). The error names the file
/// and what is wrong with it.
pub fn check_location(location: &Path) -> Result<(), String> {
    if location.to_string_lossy().contains(['*', '?', '[']) {
        return Ok(());
    }
    let mut files = Vec::new();
    data_files(location, &mut files)?;
    files.iter().try_for_each(|file| check_file(file))
}

/// The files of `path`: itself, or the `.parquet` files below it.
fn data_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if metadata.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for entry in entries.flatten() {
            let child = entry.path();
            let is_dir = child.is_dir();
            if is_dir || child.extension().is_some_and(|e| e == "parquet") {
                data_files(&child, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Checks one file: regular, long enough, the magic at both ends, a footer that fits.
pub fn check_file(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if !metadata.is_file() {
        return Err(format!(
            "{shown} is not a regular file (a pipe, a device or a socket): data files must be \
             regular files"
        ));
    }
    let size = metadata.len();
    if size < SMALLEST {
        return Err(format!(
            "{shown} is not a Parquet file: it has {size} bytes (being rewritten in place?)"
        ));
    }
    let read = |file: &mut File, at: SeekFrom, into: &mut [u8]| {
        file.seek(at)
            .and_then(|_| file.read_exact(into))
            .map_err(|e| format!("{shown}: {e}"))
    };
    let mut file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let (mut head, mut tail) = ([0u8; 4], [0u8; 8]);
    read(&mut file, SeekFrom::Start(0), &mut head)?;
    read(&mut file, SeekFrom::End(-8), &mut tail)?;
    if &head != MAGIC || &tail[4..] != MAGIC {
        return Err(format!(
            "{shown} is not a Parquet file: no PAR1 magic at its start and end"
        ));
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer + SMALLEST > size {
        return Err(format!(
            "{shown} is a corrupted Parquet file: its footer claims {footer} bytes, more than \
             the file's {size}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn empty_short_foreign_and_corrupted_files_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = file_with(dir.path(), "empty.parquet", b"");
        assert!(check_file(&empty).unwrap_err().contains("0 bytes"));
        let csv = file_with(dir.path(), "text.parquet", b"customer_id,city\n1,Paris\n");
        assert!(check_file(&csv).unwrap_err().contains("no PAR1 magic"));
        let mut corrupted = b"PAR1".to_vec();
        corrupted.extend([0u8; 20]);
        corrupted.extend(1_000_000u32.to_le_bytes());
        corrupted.extend(b"PAR1");
        let corrupted = file_with(dir.path(), "corrupted.parquet", &corrupted);
        let error = check_file(&corrupted).unwrap_err();
        assert!(error.contains("footer claims 1000000 bytes"), "{error}");
        assert!(error.contains("corrupted.parquet"), "{error}");
        let mut fine = b"PAR1".to_vec();
        fine.extend([0u8; 20]);
        fine.extend(20u32.to_le_bytes());
        fine.extend(b"PAR1");
        let fine = file_with(dir.path(), "fine.parquet", &fine);
        assert_eq!(check_file(&fine), Ok(()));
        // A directory's .parquet files are all checked.
        assert!(check_location(dir.path()).is_err());
    }

    #[test]
    fn a_fifo_is_refused_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("purchases.parquet");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this system
        }
        let error = check_file(&fifo).unwrap_err();
        assert!(error.contains("not a regular file"), "{error}");
    }
}
