//! A counting global allocator: the live heap bytes allocated while counting is on, so the scale
//! mode can say what a memory-store session costs: the bytes asked for, and the bytes glibc's
//! malloc takes for them (each chunk carries an 8-byte header and is rounded up to 16 bytes, 32 at
//! least), which is what the session holds resident. Counting is off unless asked for, so the
//! timed modes pay one relaxed load per allocation and nothing else.
#![allow(unsafe_code)] // a `GlobalAlloc` is unsafe by definition; it only forwards to `System`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static LIVE_CHUNKS: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting while [`start_counting`] is in effect.
pub struct Counting;

/// The size of the glibc malloc chunk that holds `size` bytes.
pub fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

/// Counts `new` bytes taking the place of `old` (either may be zero).
fn count(old: usize, new: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(new as isize - old as isize, Ordering::Relaxed);
        let chunks = |size| if size == 0 { 0 } else { chunk(size) };
        LIVE_CHUNKS.fetch_add(chunks(new) - chunks(old), Ordering::Relaxed);
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the counting
// touches only atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(0, layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(0, layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        count(layout.size(), 0);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(layout.size(), new_size);
        }
        p
    }
}

/// Live bytes: asked for, and held in malloc chunks.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub requested: isize,
    pub chunks: isize,
}

impl std::ops::Sub for Live {
    type Output = Live;
    fn sub(self, other: Live) -> Live {
        Live {
            requested: self.requested - other.requested,
            chunks: self.chunks - other.chunks,
        }
    }
}

fn live() -> Live {
    Live {
        requested: LIVE.load(Ordering::SeqCst),
        chunks: LIVE_CHUNKS.load(Ordering::SeqCst),
    }
}

/// Turns counting on and returns the live counts it starts from.
pub fn start_counting() -> Live {
    COUNTING.store(true, Ordering::SeqCst);
    live()
}

/// Turns counting off and returns the live counts: the difference from [`start_counting`]'s
/// answer is what stayed allocated in between (frees of older memory count against it, so keep
/// the process quiet while counting).
pub fn stop_counting() -> Live {
    COUNTING.store(false, Ordering::SeqCst);
    live()
}
