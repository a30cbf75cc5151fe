//! Local files read through memory maps.
//!
//! DataFusion reads Parquet through an object store; the local one copies every byte range
//! into a fresh buffer that it first fills with zeros, so a pass over a file costs a kernel
//! copy, a `memset` and the page faults of the buffer before Parquet decodes a byte. This
//! store serves the same files, but answers range reads with slices of a read-only memory
//! map of the file: the pages of the system's file cache, no copy. Everything else (listing,
//! metadata, writes) is the local store's.
//!
//! The map is taken per read and released when the last slice of it is dropped, so it
//! spans one scan of a few column chunks. Files replaced by renaming (ensemble's own writers,
//! `import`) keep the mapped version until then. A file truncated in place while a scan
//! maps it would fault the process, as with any memory-mapped reader; the store maps only
//! when the read fits the file as it is opened, and reads otherwise.

use std::fmt;
use std::fs::File;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use futures::stream::BoxStream;
use futures::StreamExt;

/// Smallest range worth a map of its own: below it (footers, small column chunks) a copy
/// costs less than the map.
const MIN_MAPPED_BYTES: u64 = 256 * 1024;

/// The local file system, with range reads answered from memory maps.
pub struct MappedFileStore {
    local: Arc<LocalFileSystem>,
}

impl MappedFileStore {
    /// A store over the whole local file system, as DataFusion's default one.
    pub fn new() -> Self {
        MappedFileStore {
            local: Arc::new(LocalFileSystem::new()),
        }
    }
}

impl Default for MappedFileStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MappedFileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MappedFileStore")
    }
}

impl fmt::Display for MappedFileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MappedFileStore(file://)")
    }
}

/// `ranges` of `file` as slices of one map of it, when they are large enough to be worth it
/// and all lie within the file; `None` otherwise (the caller reads).
fn mapped(file: &File, ranges: &[Range<u64>]) -> Option<Vec<bytes::Bytes>> {
    let total: u64 = ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum();
    if total < MIN_MAPPED_BYTES {
        return None;
    }
    let size = file.metadata().ok()?.len();
    if ranges.iter().any(|r| r.start > r.end || r.end > size) {
        return None;
    }
    // SAFETY: the map is read-only and private to this process; its bytes are only read
    // through `Bytes`, which never hands out mutable access. The file can change under the
    // map only if another process writes it in place (see the module documentation).
    let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
    let map = bytes::Bytes::from_owner(map);
    Some(
        ranges
            .iter()
            .map(|r| map.slice(r.start as usize..r.end as usize))
            .collect(),
    )
}

#[async_trait]
impl ObjectStore for MappedFileStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.local.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.local.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let wants_bytes = options.range.is_some() && !options.head;
        let result = self.local.get_opts(location, options).await?;
        let GetResultPayload::File(file, path) = result.payload else {
            return Ok(result);
        };
        let range = result.range.clone();
        let map = if wants_bytes {
            mapped(&file, std::slice::from_ref(&range))
        } else {
            None
        };
        let payload = match map.and_then(|mut slices| slices.pop()) {
            Some(slice) => {
                GetResultPayload::Stream(futures::stream::once(async move { Ok(slice) }).boxed())
            }
            None => GetResultPayload::File(file, path),
        };
        Ok(GetResult { payload, ..result })
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> Result<Vec<bytes::Bytes>> {
        let path = self.local.path_to_filesystem(location)?;
        let owned = ranges.to_vec();
        let map = tokio::task::spawn_blocking(move || {
            File::open(&path)
                .ok()
                .and_then(|file| mapped(&file, &owned))
        })
        .await
        .ok()
        .flatten();
        match map {
            Some(slices) => Ok(slices),
            None => self.local.get_ranges(location, ranges).await,
        }
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.local.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.local.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.local.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.local.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.local.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.local.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn range_reads_match_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
        let file = dir.path().join("data.bin");
        std::fs::write(&file, &bytes).unwrap();
        let store = MappedFileStore::new();
        let location = Path::from_filesystem_path(&file).unwrap();
        // Large ranges come from the map, small ones and the tail from reads.
        let ranges = [0..300_000, 500_000..1_048_576, 10..20];
        let got = store.get_ranges(&location, &ranges).await.unwrap();
        for (range, got) in ranges.iter().zip(&got) {
            assert_eq!(&got[..], &bytes[range.start as usize..range.end as usize]);
        }
        let options = GetOptions {
            range: Some((1000..400_000).into()),
            ..Default::default()
        };
        let one = store.get_opts(&location, options).await.unwrap();
        assert!(matches!(one.payload, GetResultPayload::Stream(_)));
        assert_eq!(&one.bytes().await.unwrap()[..], &bytes[1000..400_000]);
        // Past the end: the local store's error, not a fault.
        let past_the_end = [0..1000, 0..2_000_000];
        assert!(store.get_ranges(&location, &past_the_end).await.is_err());
        let whole = store.get_opts(&location, GetOptions::default()).await;
        assert_eq!(whole.unwrap().bytes().await.unwrap().len(), bytes.len());
    }
}
