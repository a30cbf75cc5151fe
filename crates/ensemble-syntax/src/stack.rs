//! Running recursive tree walks with a stack deep enough for the deepest accepted tree.

/// Stack of the worker thread: the parser and the checker recurse once per tree level, and
/// unoptimised builds use large frames. The stack is reserved, not committed: it costs
/// address space, not memory.
const LARGE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Runs `work` on a scoped thread with a large stack and returns its result. If that thread
/// cannot be started, `work` runs on the caller's thread. A panic in `work` is resumed here.
pub fn with_large_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let work = std::sync::Mutex::new(Some(work));
    let take = || work.lock().ok().and_then(|mut slot| slot.take());
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("ensemble-deep-walk".into())
            .stack_size(LARGE_STACK_BYTES)
            .spawn_scoped(scope, || take().map(|work| work()));
        let result = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        // Not started: the work is still in its slot, run it here.
        result.unwrap_or_else(|| (take().expect("the work ran nowhere else"))())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_recursion_fits() {
        fn depth(n: u64) -> u64 {
            // A frame of a realistic size.
            let padding = std::hint::black_box([n; 64]);
            if n == 0 {
                padding[0]
            } else {
                1 + depth(n - 1)
            }
        }
        assert_eq!(with_large_stack(|| depth(100_000)), 100_000);
    }
}
