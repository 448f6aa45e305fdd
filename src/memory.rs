//! How the process's allocator is set up, before any thread starts.
//!
//! glibc's malloc serves a large block from its own `mmap` until the first
//! such block is freed; from then on it raises that threshold to the freed
//! block's size (up to 32 MB) and serves blocks under it from the arenas.
//! ferry frees large blocks all the time (a Clerk page as read, the claims
//! and export tables as they grow), so after the first ones its growing
//! tables and page buffers land in the arenas, whose holes stay resident:
//! at a million users `run` peaked at 208-231 MB. With the threshold fixed,
//! every block from it up is its own mapping, handed back to the system
//! when freed. At 256 KiB a million-user run peaked at 182 MB, but a rerun
//! paid 15-30 % more CPU mapping Clerk's pages; at 1 MiB the big tables are
//! still mapped while the page buffers stay in the arenas (docs/benchmarks.md).
//! Capping the arenas instead (`MALLOC_ARENA_MAX=2`) did not lower the
//! run's peak and cost 15-30 % more CPU, so it is not done.
//! `MALLOC_MMAP_THRESHOLD_` or `GLIBC_TUNABLES` in the environment still win.

/// Blocks from this size up get a mapping of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

/// Fixes glibc's `mmap` threshold unless the environment tunes malloc.
pub fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none()
        && std::env::var_os("GLIBC_TUNABLES").is_none()
    {
        // SAFETY: mallopt only changes the allocator's settings; it is
        // called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}
