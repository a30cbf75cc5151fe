//! Where a write goes: standard output, a special file written in place, or a regular file
//! replaced atomically (symbolic links resolved first).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::FsError;

/// Symbolic links followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// A resolved destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `-`: standard output.
    Stdout,
    /// An existing file that is not a regular file (a device, a FIFO, a socket): opened for
    /// writing and written in place.
    Direct(PathBuf),
    /// A regular file, or a missing one whose directory exists: replaced atomically. The path
    /// is the final target of any symbolic link.
    Atomic(PathBuf),
}

/// Resolves `path`: `-` is standard output; symbolic links are followed to their final
/// target; an existing non-regular file is written directly; a regular or missing file is
/// written atomically. Fails on a directory, or when the target's directory is missing.
pub fn resolve(path: &Path) -> Result<Destination, FsError> {
    if path.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    let target = follow_links(path)?;
    match std::fs::metadata(&target) {
        Ok(metadata) if metadata.is_dir() => Err(FsError::IsDirectory { path: target }),
        Ok(metadata) if metadata.is_file() => Ok(Destination::Atomic(target)),
        Ok(_) => Ok(Destination::Direct(target)),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            let directory = directory_of(&target);
            match std::fs::metadata(directory) {
                Ok(metadata) if metadata.is_dir() => Ok(Destination::Atomic(target)),
                Ok(_) => Err(FsError::io(
                    &target,
                    "write",
                    std::io::Error::new(ErrorKind::NotADirectory, "not a directory"),
                )),
                Err(_) => Err(FsError::MissingDirectory {
                    path: path.to_path_buf(),
                    directory: directory.to_path_buf(),
                }),
            }
        }
        Err(source) => Err(FsError::io(target, "inspect", source)),
    }
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Follows symbolic links (relative targets are relative to the link's directory) until a
/// path that is not a link, existing or not.
fn follow_links(path: &Path) -> Result<PathBuf, FsError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)
                    .map_err(|source| FsError::io(&current, "read the symbolic link", source))?;
                current = directory_of(&current).join(link);
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(current),
            Err(source) => return Err(FsError::io(current, "inspect", source)),
        }
    }
    Err(FsError::io(
        path,
        "resolve",
        std::io::Error::other(format!("more than {MAX_LINKS} symbolic links")),
    ))
}
