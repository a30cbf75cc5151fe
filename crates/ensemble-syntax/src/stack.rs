//! Deep recursion without a thread: the stack grows on demand on the calling thread.
//!
//! The tree walks of the parser and the checker are marked `#[recursive::recursive]` (the
//! `recursive` crate, as DataFusion's own walks with its `recursive_protection` feature): each
//! call checks the stack left and, when it runs low, continues on a freshly allocated segment
//! ([`stacker`]), so no depth overflows and no call starts a thread. Recursion this crate does
//! not control — pest's generated parser, walks not marked yet — runs through
//! [`with_large_stack`].

/// Stack guaranteed to [`with_large_stack`]'s work: more than the deepest accepted input needs
/// in an unoptimised build. Reserved, not committed: it costs address space, not memory.
const LARGE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Below this much stack left, [`with_large_stack`] switches to a new segment; above it, its
/// work runs where it is (a walk nested in another stays on its segment).
const RED_ZONE_BYTES: usize = 32 * 1024 * 1024;

/// Runs `work` on the calling thread, on a freshly allocated segment of
/// [`LARGE_STACK_BYTES`] unless at least [`RED_ZONE_BYTES`] of stack are left; for recursion
/// that is not marked `#[recursive::recursive]` (pest's parser). Never starts a thread.
pub fn with_large_stack<T>(work: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(RED_ZONE_BYTES, LARGE_STACK_BYTES, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recursion with frames of a realistic size.
    fn depth(n: u64) -> u64 {
        let padding = std::hint::black_box([n; 64]);
        if n == 0 {
            padding[0]
        } else {
            1 + depth(n - 1)
        }
    }

    #[test]
    fn deep_recursion_fits() {
        assert_eq!(with_large_stack(|| depth(100_000)), 100_000);
    }

    #[test]
    fn the_work_runs_on_the_calling_thread() {
        let caller = std::thread::current().id();
        assert_eq!(with_large_stack(|| std::thread::current().id()), caller);
        // Also from a thread whose own stack is small.
        let ((inner, levels), caller) = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(|| {
                let caller = std::thread::current().id();
                (
                    with_large_stack(|| (std::thread::current().id(), depth(50_000))),
                    caller,
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!((inner, levels), (caller, 50_000));
    }
}
