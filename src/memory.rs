//! How the process's allocator is set up, before any thread starts.
//!
//! glibc's malloc gives each thread that contends for the heap an arena
//! of its own, up to eight per core, and an arena keeps what was freed in
//! it for reuse by that arena alone. ferry's threads (tokio's workers and its
//! blocking pool) free in one arena what another allocated, so with many
//! arenas the same live memory spreads over more resident pages: at
//! a million users a no-op rerun peaked at 204 MB with the default and at
//! 179 MB with two arenas, for the same CPU time (docs/benchmarks.md).
//! The work is network-bound, so two arenas cost no measurable contention.
//! `MALLOC_ARENA_MAX` in the environment still wins.

/// Caps glibc's malloc at two arenas unless `MALLOC_ARENA_MAX` says otherwise.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes the allocator's settings; it is
        // called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
