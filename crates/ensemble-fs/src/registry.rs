//! The process-wide registry of live temporary files, so that a signal handler can remove
//! them before the process exits.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Live temporary files, and whether the process is shutting down (then no new temporary
/// file may be created nor published).
struct Registry {
    live: BTreeSet<PathBuf>,
    closed: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    live: BTreeSet::new(),
    closed: false,
});

fn lock() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave the set inconsistent: keep using it.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates a temporary file with `create` and records it, both while no signal handler can
/// remove temporary files; `None` when the process is shutting down.
pub(crate) fn create<T>(
    path: &Path,
    create: impl FnOnce() -> std::io::Result<T>,
) -> Option<std::io::Result<T>> {
    let mut registry = lock();
    if registry.closed {
        return None;
    }
    let created = create();
    if created.is_ok() {
        registry.live.insert(path.to_path_buf());
    }
    Some(created)
}

/// Forgets a temporary file (removed, or published).
pub(crate) fn unregister(path: &Path) {
    lock().live.remove(path);
}

/// Runs `publish` (the rename of `path`) while no signal handler can remove temporary files,
/// unless they were already removed: then `None`.
pub(crate) fn publish<T>(path: &Path, publish: impl FnOnce() -> T) -> Option<T> {
    let mut registry = lock();
    if !registry.live.remove(path) {
        return None;
    }
    Some(publish())
}

/// Removes every live temporary file of the process and refuses new ones: for a signal
/// handler, just before the process exits. Returns the number of files removed.
pub fn remove_temp_files() -> usize {
    let mut registry = lock();
    registry.closed = true;
    let live = std::mem::take(&mut registry.live);
    live.iter()
        .filter(|path| std::fs::remove_file(path).is_ok())
        .count()
}

#[cfg(test)]
pub(crate) fn is_registered(path: &Path) -> bool {
    lock().live.contains(path)
}
