//! Running a query where deep recursion is safe.
//!
//! DataFusion plans and optimises SQL by recursing once per level of an expression; a
//! `SELECT 1 + 1 + … ` of ten thousand terms overflows the 2 MiB stack of a runtime worker
//! and aborts the process. [`on_large_stack`] runs such work on a thread of its own with a
//! large (reserved, not committed) stack and its own single-threaded runtime; dropping the
//! returned future cancels the work.

use std::future::Future;

use crate::error::EngineError;

/// Stack of the query thread: as the parser's and the checker's.
const QUERY_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Runs `work` to completion on a large-stack thread and returns its output.
pub(crate) async fn on_large_stack<T, F>(work: F) -> Result<T, EngineError>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (result_sender, result) = tokio::sync::oneshot::channel();
    // Dropped with this future: the thread then drops `work`, which cancels it.
    let (_cancel_on_drop, cancelled) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("ensemble-query".into())
        .stack_size(QUERY_STACK_BYTES)
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let output = runtime.block_on(async {
                tokio::select! {
                    output = work => Some(output),
                    _ = cancelled => None,
                }
            });
            if let Some(output) = output {
                let _ = result_sender.send(output);
            }
        })
        .map_err(|source| EngineError::Io {
            path: "<query thread>".into(),
            source,
        })?;
    result.await.map_err(|_| EngineError::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deep_recursion_runs_there() {
        fn depth(n: u64) -> u64 {
            let padding = std::hint::black_box([n; 64]);
            if n == 0 {
                padding[0]
            } else {
                depth(n - 1) + 1
            }
        }
        let levels = on_large_stack(async { depth(200_000) }).await.unwrap();
        assert_eq!(levels, 200_000);
    }
}
