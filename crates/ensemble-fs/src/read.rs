//! Bounded reads: an input larger than a limit fails instead of filling memory.

use std::io::Read;
use std::path::Path;

use crate::FsError;

/// The default limit for scripts and other text inputs: 16 MiB.
pub const DEFAULT_READ_LIMIT: u64 = 16 << 20;

/// Reads all of `reader`, incrementally, failing once more than `limit` bytes arrive (so
/// `/dev/zero` or an endless pipe stop at the limit). `origin` names the input in errors.
pub fn read_limited(reader: impl Read, origin: &str, limit: u64) -> Result<Vec<u8>, FsError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| FsError::io(origin, "read", source))?;
    if bytes.len() as u64 > limit {
        return Err(FsError::TooLarge {
            origin: origin.to_string(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads UTF-8 text from a file, or from standard input for `-`, at most `limit` bytes.
pub fn read_text_limited(path: &Path, limit: u64) -> Result<String, FsError> {
    let (bytes, origin) = if path.as_os_str() == "-" {
        let origin = "standard input";
        (
            read_limited(std::io::stdin().lock(), origin, limit)?,
            origin.to_string(),
        )
    } else {
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| FsError::io(path, "open", source))?;
        (read_limited(file, &origin, limit)?, origin)
    };
    String::from_utf8(bytes).map_err(|error| FsError::NotUtf8 {
        origin,
        offset: error.utf8_error().valid_up_to(),
    })
}
