//! Safe file publishing: the one place where ensemble writes files.
//!
//! [`create`] resolves a destination and returns an [`Output`] to write through:
//!
//! - `-` is standard output;
//! - an existing file that is not a regular file (a character or block device such as
//!   `/dev/null`, a FIFO, a socket) is opened and written directly: no temporary file, no
//!   rename, the device is never replaced;
//! - a symbolic link (a chain of them, or a dangling one whose target's directory exists) is
//!   resolved, and the final target is written as below: the link stays a link;
//! - a regular file, or a missing one, is written atomically: the bytes go to a temporary file
//!   in the same directory, named `.NAME.<pid>.<counter>.partial` (unique per process and per
//!   call, created with `create_new`), which is fsynced, renamed over the destination, and the
//!   directory fsynced (best effort). A crash leaves the old file or the new one, never half of
//!   one; an [`Output`] dropped without [`Output::finish`] removes its temporary file.
//!
//! Every live temporary file is registered process-wide: a binary's signal handler calls
//! [`remove_temp_files`] before exiting, so an interrupted write leaves nothing behind.
//!
//! [`read_limited`] and [`read_text_limited`] read input (a file, `-` for standard input, or
//! any reader) incrementally up to a size limit, so an endless input fails cleanly instead of
//! exhausting memory.
#![warn(missing_docs)]

mod atomic;
mod destination;
mod output;
mod read;
mod registry;

use std::path::PathBuf;

use thiserror::Error;

pub use atomic::AtomicFile;
pub use destination::{resolve, Destination};
pub use output::{create, write_file, Output};
pub use read::{read_limited, read_text_limited, DEFAULT_READ_LIMIT};
pub use registry::remove_temp_files;

/// Why a file could not be written or read.
#[derive(Debug, Error)]
pub enum FsError {
    /// The destination's directory does not exist.
    #[error("cannot write {path}: directory {directory} does not exist")]
    MissingDirectory {
        /// The destination.
        path: PathBuf,
        /// Its missing directory.
        directory: PathBuf,
    },
    /// The destination is a directory.
    #[error("cannot write {path}: it is a directory")]
    IsDirectory {
        /// The destination.
        path: PathBuf,
    },
    /// An operation on a file failed.
    #[error("{path}: cannot {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`create a temporary file`, `rename into place`…).
        action: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The process is being interrupted: its temporary files were removed.
    #[error("cannot write {path}: interrupted")]
    Interrupted {
        /// The destination.
        path: PathBuf,
    },
    /// An input is larger than the limit.
    #[error("{origin} is larger than the {} limit", human_size(*limit))]
    TooLarge {
        /// The input (a path, or `standard input`).
        origin: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// An input is not UTF-8 text.
    #[error("{origin} is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The input.
        origin: String,
        /// The offset of the first invalid byte.
        offset: usize,
    },
}

impl FsError {
    /// Wraps an I/O error with the file and the action that failed.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> FsError {
        FsError::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

/// `16 MiB`, `512 KiB`, `100 bytes` (the units are powers of two: a mask tests divisibility).
fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    if bytes >= MIB && bytes & (MIB - 1) == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes & (KIB - 1) == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests;
