//! The atomic path: a uniquely named temporary file beside the destination, fsynced, then
//! renamed over it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::destination::directory_of;
use crate::{registry, FsError};

/// Temporary files created by this process so far: with the process id, a unique name.
static COUNTER: AtomicU64 = AtomicU64::new(0);
/// Names tried before giving up (a name is only taken by a leftover of a process that had
/// the same id).
const ATTEMPTS: usize = 64;
/// Buffer in front of the temporary file.
const BUFFER: usize = 64 * 1024;

/// A file being written atomically: the bytes go to `.NAME.<pid>.<counter>.partial` in the
/// destination's directory; [`AtomicFile::commit`] fsyncs it and renames it over the
/// destination. Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<BufWriter<File>>,
    temporary: PathBuf,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts replacing `target`, a regular or missing file (symbolic links are not followed
    /// here: see [`crate::create`]). An existing file's permissions are kept.
    pub fn create(target: &Path) -> Result<AtomicFile, FsError> {
        let directory = directory_of(target);
        let name = target
            .file_name()
            .ok_or_else(|| FsError::IsDirectory {
                path: target.to_path_buf(),
            })?
            .to_string_lossy()
            .into_owned();
        for _ in 0..ATTEMPTS {
            let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temporary =
                directory.join(format!(".{name}.{}.{counter}.partial", std::process::id()));
            let open = || {
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&temporary)
            };
            let file = match registry::create(&temporary, open) {
                None => {
                    return Err(FsError::Interrupted {
                        path: target.to_path_buf(),
                    })
                }
                Some(Ok(file)) => file,
                Some(Err(error)) if error.kind() == ErrorKind::AlreadyExists => continue,
                Some(Err(_)) if !directory.is_dir() => {
                    return Err(FsError::MissingDirectory {
                        path: target.to_path_buf(),
                        directory: directory.to_path_buf(),
                    })
                }
                Some(Err(source)) => {
                    return Err(FsError::io(
                        directory,
                        "create a temporary file in the directory",
                        source,
                    ))
                }
            };
            if let Ok(metadata) = std::fs::metadata(target) {
                let _ = file.set_permissions(metadata.permissions());
            }
            return Ok(AtomicFile {
                file: Some(BufWriter::with_capacity(BUFFER, file)),
                temporary,
                target: target.to_path_buf(),
            });
        }
        Err(FsError::io(
            directory,
            "create a temporary file in the directory",
            std::io::Error::new(ErrorKind::AlreadyExists, "every temporary name is taken"),
        ))
    }

    /// The destination.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file being written.
    pub fn temporary(&self) -> &Path {
        &self.temporary
    }

    /// Publishes the file: flushes and fsyncs the temporary file, renames it over the
    /// destination, then fsyncs the directory (best effort).
    pub fn commit(mut self) -> Result<(), FsError> {
        let Some(writer) = self.file.take() else {
            return Ok(());
        };
        let result = self.publish(writer);
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temporary);
            registry::unregister(&self.temporary);
        }
        result
    }

    fn publish(&self, writer: BufWriter<File>) -> Result<(), FsError> {
        let file = writer
            .into_inner()
            .map_err(|error| FsError::io(&self.target, "write", error.into_error()))?;
        file.sync_all()
            .map_err(|source| FsError::io(&self.target, "flush to disk (fsync)", source))?;
        drop(file);
        let renamed = registry::publish(&self.temporary, || {
            std::fs::rename(&self.temporary, &self.target)
        });
        match renamed {
            None => {
                return Err(FsError::Interrupted {
                    path: self.target.clone(),
                })
            }
            Some(Err(source)) => {
                return Err(FsError::io(&self.target, "rename into place", source))
            }
            Some(Ok(())) => {}
        }
        // The rename is durable once the directory is: best effort (some file systems refuse).
        if let Ok(directory) = File::open(directory_of(&self.target)) {
            let _ = directory.sync_all();
        }
        Ok(())
    }

    fn writer(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the file was already published"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.writer()?.write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer()?.write_all(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
            registry::unregister(&self.temporary);
        }
    }
}
