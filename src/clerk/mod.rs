//! The source side: Clerk's Backend API and its Dashboard exports.

pub mod export;
