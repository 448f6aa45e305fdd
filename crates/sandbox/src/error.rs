//! Why the sandbox could not start, load its tenant, or write a file.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a tenant file: {message}", path.display())]
    Tenant { path: PathBuf, message: String },
    #[error("{} is not a Clerk CSV export: {message}", path.display())]
    Csv { path: PathBuf, message: String },
    #[error("invalid sandbox options: {0}")]
    Options(String),
}
