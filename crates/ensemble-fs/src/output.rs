//! An open destination: standard output, a special file written in place, or an atomic file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use crate::{resolve, AtomicFile, Destination, FsError};

/// A destination open for writing (see [`create`]). Call [`Output::finish`] to publish it.
#[derive(Debug)]
pub enum Output {
    /// Standard output.
    Stdout(BufWriter<Stdout>),
    /// A device, FIFO or socket, written in place.
    Direct {
        /// The open file.
        file: BufWriter<File>,
        /// Its path.
        path: PathBuf,
    },
    /// A regular file, replaced atomically.
    Atomic(AtomicFile),
}

/// Opens `path` for writing, as [`resolve`] says: `-` is standard output, a device or FIFO is
/// opened in place, anything else is an [`AtomicFile`] at the final target of any symbolic
/// link.
pub fn create(path: &Path) -> Result<Output, FsError> {
    Ok(match resolve(path)? {
        Destination::Stdout => Output::Stdout(BufWriter::new(std::io::stdout())),
        Destination::Direct(path) => {
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|source| FsError::io(&path, "open for writing", source))?;
            Output::Direct {
                file: BufWriter::new(file),
                path,
            }
        }
        Destination::Atomic(path) => Output::Atomic(AtomicFile::create(&path)?),
    })
}

/// Writes `bytes` to `path` through [`create`]: atomically for a regular file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let mut output = create(path)?;
    output
        .write_all(bytes)
        .map_err(|source| FsError::io(output.name(), "write", source))?;
    output.finish()
}

impl Output {
    /// What to call the destination in a message: its path, or `standard output`.
    pub fn name(&self) -> PathBuf {
        match self {
            Output::Stdout(_) => PathBuf::from("standard output"),
            Output::Direct { path, .. } => path.clone(),
            Output::Atomic(file) => file.target().to_path_buf(),
        }
    }

    /// Completes the write: flushes standard output or the special file; publishes an atomic
    /// file (fsync, rename, directory fsync).
    pub fn finish(self) -> Result<(), FsError> {
        let name = self.name();
        match self {
            Output::Stdout(mut out) => out
                .flush()
                .map_err(|source| FsError::io(name, "write", source)),
            Output::Direct { mut file, .. } => file
                .flush()
                .map_err(|source| FsError::io(name, "write", source)),
            Output::Atomic(file) => file.commit(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(bytes),
            Output::Direct { file, .. } => file.write(bytes),
            Output::Atomic(file) => file.write(bytes),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.write_all(bytes),
            Output::Direct { file, .. } => file.write_all(bytes),
            Output::Atomic(file) => file.write_all(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::Direct { file, .. } => file.flush(),
            Output::Atomic(file) => file.flush(),
        }
    }
}
