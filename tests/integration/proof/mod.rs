//! The promise, tested: chaos, crashes, Ctrl-C, a bad-input corpus and
//! secret hygiene. Sizes fit CI; `FERRY_SOAK=1` runs larger ones.

mod chaos;
mod corpus;
mod hostile;
mod hygiene;
mod transport;

/// Scales a test's size up when `FERRY_SOAK` is set.
pub fn soak(ci: usize, soak: usize) -> usize {
    if std::env::var_os("FERRY_SOAK").is_some() {
        soak
    } else {
        ci
    }
}
