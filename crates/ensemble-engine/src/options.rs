//! How a session runs: its memory budget.
//!
//! DataFusion's operators reserve memory from a pool before they grow; with a bounded pool,
//! the ones that can spill to disk (sorts, grouped aggregates) do, and the others fail the
//! statement with a "resources exhausted" error that names the limit, instead of the process
//! being aborted by a failed allocation. Materialised steps are not counted in the pool.

use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

use crate::error::EngineError;
use crate::mapped_store::MappedFileStore;

/// The environment variable that sets the memory limit (as `--memory-limit` does).
pub const MEMORY_LIMIT_VARIABLE: &str = "ENSEMBLE_MEMORY_LIMIT";

/// Share of the machine's memory a session's operators may use when no limit is given.
const DEFAULT_MEMORY_SHARE: f64 = 0.6;

/// Used when the machine's memory cannot be read.
const FALLBACK_MEMORY_LIMIT: usize = 4 << 30;

/// Settings of a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Bytes the query operators may hold at once; `None`: `ENSEMBLE_MEMORY_LIMIT` if set,
    /// else the catalog's `memory_limit`, else 60 % of the machine's memory.
    pub memory_limit: Option<usize>,
}

impl SessionOptions {
    /// The limit in force: the one given, the environment's, the catalog's (`catalog`, its
    /// `memory_limit` text), or the default.
    pub fn effective_memory_limit(&self, catalog: Option<&str>) -> Result<usize, EngineError> {
        if let Some(limit) = self.memory_limit {
            return Ok(limit);
        }
        let parsed = |text: &str, what: &str| {
            parse_size(text).map_err(|message| EngineError::Config {
                message: format!("{what}: {message}"),
            })
        };
        match (std::env::var(MEMORY_LIMIT_VARIABLE), catalog) {
            (Ok(text), _) => parsed(&text, MEMORY_LIMIT_VARIABLE),
            (Err(_), Some(text)) => parsed(text, "memory_limit in the catalog"),
            (Err(_), None) => Ok(default_memory_limit()),
        }
    }

    /// The DataFusion runtime: a fair memory pool of the effective limit that names its
    /// largest consumers when exhausted; operators that can spill do, to the system's
    /// temporary directory; local files are read through memory maps (`mapped_store`).
    pub(crate) fn runtime(&self, catalog: Option<&str>) -> Result<Arc<RuntimeEnv>, EngineError> {
        let limit = self.effective_memory_limit(catalog)?;
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(limit),
            NonZeroUsize::new(3).unwrap_or(NonZeroUsize::MIN),
        );
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .build_arc()
            .map_err(|e| EngineError::execution("starting the runtime", e))?;
        // Local files through memory maps: no copy of the column chunks a scan reads.
        runtime.register_object_store(
            ObjectStoreUrl::local_filesystem().as_ref(),
            Arc::new(MappedFileStore::new()),
        );
        Ok(runtime)
    }
}

/// 60 % of the machine's memory (`MemTotal` of `/proc/meminfo`), else 4 GiB.
pub fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .map(|kib| kib.saturating_mul(1024))
        });
    match total {
        Some(bytes) if bytes > 0 => (bytes as f64 * DEFAULT_MEMORY_SHARE) as usize,
        _ => FALLBACK_MEMORY_LIMIT,
    }
}

/// Parses a size: bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024, an optional
/// `B` or `iB` after the letter), such as `512M` or `4GiB`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let upper = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (number, shift) = match upper.chars().last() {
        Some('K') => (&upper[..upper.len() - 1], 10),
        Some('M') => (&upper[..upper.len() - 1], 20),
        Some('G') => (&upper[..upper.len() - 1], 30),
        Some('T') => (&upper[..upper.len() - 1], 40),
        _ => (upper, 0),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{trimmed}' is not a size (for example 512M or 4G)"))?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(format!("'{trimmed}' is not a usable size"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-3G").is_err());
    }

    #[test]
    fn the_default_is_a_share_of_the_machine() {
        let limit = default_memory_limit();
        assert!(limit >= 1 << 20, "{limit}");
    }
}
