//! What an error asks of the person who ran ferry. Every layer's error
//! says which kind it is; the binary maps kinds to exit codes. A leaf
//! module, so that any layer may name a kind without depending on the
//! errors of the others.

/// What an error asks of the person who ran ferry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command was asked for something it refuses (a changed plan on
    /// resume, no confirmation): ask differently.
    Usage,
    /// A setting, a file or a variable is missing or wrong: fix it and run again.
    Configuration,
    /// The plan or its script is invalid: the diagnostics say where.
    InvalidInput,
    /// Clerk, WorkOS or the journal's disk could not be reached or written:
    /// nothing was lost, run again later and it resumes.
    Unavailable,
    /// The run was stopped (Ctrl-C): run again and it resumes.
    Interrupted,
    /// ferry itself failed: a bug, or the machine (the message says which).
    Internal,
}
