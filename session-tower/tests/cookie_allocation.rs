//! A 100 KB `Cookie` header is refused without an allocation blowup: parsing it allocates a small
//! multiple of its size at most. A counting allocator measures it; this file holds one test, so
//! nothing else allocates at the same time.

// A global allocator is the one place unsafe code is needed: it only counts, then forwards to
// the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use session_tower::SigningKeys;
use session_tower::fuzzing::token_from_cookie_header;

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated_by(work: impl FnOnce()) -> usize {
    let before = ALLOCATED.load(Ordering::SeqCst);
    work();
    ALLOCATED.load(Ordering::SeqCst) - before
}

#[test]
fn huge_cookie_headers_cost_little() {
    let keys = SigningKeys::new(vec![vec![1; 32]]).unwrap();
    let cases = [
        (
            "one 100 KB session cookie",
            format!("session={}", "A".repeat(100 * 1024)),
        ),
        (
            "10,000 small cookies",
            (0..10_000)
                .map(|i| format!("c{i}=v"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        ("100 KB of separators", ";".repeat(100 * 1024)),
        (
            "100 KB cookie value with a fake signature",
            format!("session={}.{}", "A".repeat(100 * 1024), "B".repeat(43)),
        ),
    ];
    for (what, header) in cases {
        let size = header.len();
        assert!(size >= 50 * 1024, "{what}: {size}");
        let mut result = None;
        let bytes = allocated_by(|| {
            result = token_from_cookie_header(header.as_bytes(), "session", Some(&keys))
        });
        assert_eq!(result, None, "{what} was accepted");
        assert!(
            bytes <= 3 * size,
            "{what}: {bytes} bytes allocated for a {size}-byte header"
        );
        println!("{what}: {size}-byte header, {bytes} bytes allocated");
    }
}
