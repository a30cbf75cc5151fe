//! Memory for per-member arrays (`crate::fold`): one slot per member number, of which a
//! partition of rows may touch only a part. The memory comes zeroed from the allocator
//! (`alloc_zeroed`: for arrays this large, fresh pages the system zeroes on first touch, so
//! no pass of writing zeros and no cost for pages never touched). On 4 KiB pages each first
//! touch is a page fault (at 1 M members, most of the fold's system time); where the system
//! offers transparent huge pages on request, the array's memory asks for them, one fault per
//! 2 MiB.

use std::alloc::{alloc_zeroed, handle_alloc_error, Layout};

/// A type whose all-zero bit pattern is its zero (`Default`) value.
///
/// # Safety
/// Implement only for types where every byte zero is a valid value equal to `Default`.
pub(crate) unsafe trait ZeroBits: Copy + Default {}

// SAFETY: zero bits are 0, 0.0 and `false` respectively.
unsafe impl ZeroBits for u32 {}
unsafe impl ZeroBits for i64 {}
unsafe impl ZeroBits for i128 {}
unsafe impl ZeroBits for f64 {}
unsafe impl ZeroBits for bool {}

/// `len` zero values in memory advised to be backed by huge pages.
pub(crate) fn zeroed<T: ZeroBits>(len: usize) -> Vec<T> {
    let layout = match Layout::array::<T>(len) {
        Ok(layout) if layout.size() > 0 => layout,
        // Empty (or too large to address: let `Vec` report it the usual way).
        _ => return vec![T::default(); len],
    };
    // SAFETY: the layout has a non-zero size.
    let start = unsafe { alloc_zeroed(layout) };
    if start.is_null() {
        handle_alloc_error(layout);
    }
    advise_huge_pages(start, layout.size());
    // SAFETY: `start` was allocated by the global allocator with the layout of `len` values of
    // `T` (the layout `Vec` itself uses), and its zeroed bytes are `len` valid values
    // (`ZeroBits`).
    unsafe { Vec::from_raw_parts(start.cast::<T>(), len, len) }
}

/// Asks for huge pages over the 2 MiB-aligned part of `len` bytes at `start`, not yet touched.
#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *mut u8, len: usize) {
    const HUGE_PAGE: usize = 2 << 20;
    let first = (start as usize).next_multiple_of(HUGE_PAGE);
    let end = (start as usize + len) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: the range lies inside an allocation the caller owns and has not handed out;
        // the advice changes how its pages are backed, never their contents. A refusal (huge
        // pages disabled, an old kernel) leaves 4 KiB pages, which is correct, only slower.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *mut u8, _len: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_arrays_hold_default_values() {
        let small: Vec<u32> = super::zeroed(10);
        assert_eq!(small, vec![0; 10]);
        let mut large: Vec<i128> = super::zeroed(1 << 20);
        assert_eq!(large.len(), 1 << 20);
        assert!(large.iter().all(|v| *v == 0));
        large.push(7);
        assert_eq!(large.last(), Some(&7));
        let seen: Vec<bool> = super::zeroed(3 << 20);
        assert!(seen.iter().all(|v| !v));
        let sums: Vec<f64> = super::zeroed(5);
        assert_eq!(sums, vec![0.0; 5]);
        assert!(super::zeroed::<i64>(0).is_empty());
    }
}
