//! Clerk's user listing, read from the API once per run and shared by every
//! step that reads users (assess, users, mfa_report, verify).
//!
//! At a million users a listing is 2,000 pages: 200 s at an `sk_test_`
//! key's 100 requests per 10 s, and four steps would pay it four times. The
//! first step to read leads: it reads the API and appends each page, as
//! one JSON line, to a spill file beside the journal (owner-only, removed
//! when the run ends, and by the next run or undo after a crash). A step that
//! reads later follows: it replays the pages from the file, waiting for the
//! leader when it catches up, so it never asks Clerk again. A follower
//! never sees a page before it is whole on disk (the page count is raised
//! after the line is flushed). When the leader stops before the end (its
//! step ended early), followers fail rather than read a partial listing as
//! if it were whole.
//!
//! The spill holds what Clerk's API returns for a user (names, emails,
//! metadata); never a password digest or a TOTP secret, which the API does
//! not return.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::clerk::client::{ClerkClient, UserPages};
use crate::http::ApiError;
use ferry_wire::clerk::model::User;

/// The run's shared listing.
pub struct SharedUsers {
    path: PathBuf,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No step has started reading.
    Unread,
    /// A step is reading: Clerk's count (once known) and the pages spilled.
    Reading { count: Option<u64>, pages: u64 },
    /// The whole listing is in the file.
    Read { count: u64, pages: u64 },
    /// The leader stopped before the end, or the file could not be written.
    Abandoned,
}

/// Why a shared listing could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the run's copy of Clerk's user listing ({}): {source}", path.display())]
    Spill {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the step reading Clerk's user listing stopped before its end")]
    Abandoned,
}

impl SharedUsers {
    /// A listing to share through `path` (for the journal `state`, the file
    /// `<state>.clerk-users.jsonl`).
    pub fn beside(state: &Path) -> Self {
        Self {
            path: spill_path(state),
            state: Mutex::new(State::Unread),
            changed: Notify::new(),
        }
    }

    /// Removes the copy a run that crashed (or was killed) left beside the
    /// journal `state`: it holds people's names and emails.
    pub fn remove_leftover(state: &Path) {
        let path = spill_path(state);
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("removed {} left by an earlier run", path.display()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!("cannot remove {}: {error}", path.display()),
        }
    }

    /// Starts reading: the first caller leads (reading `clerk`), the others follow.
    pub fn open<'a>(&'a self, clerk: &'a ClerkClient) -> Result<SharedListing<'a>, SharedError> {
        let mut state = self.state.lock().expect("shared listing lock");
        if *state != State::Unread {
            drop(state);
            let file = File::open(&self.path).map_err(|e| self.spill_error(e))?;
            return Ok(SharedListing::Follow {
                shared: self,
                input: BufReader::new(file),
                read: 0,
            });
        }
        // A new file, never one already there (a symlink would be followed).
        let _ = std::fs::remove_file(&self.path);
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path);
        let out = match created {
            Ok(file) => BufWriter::new(file),
            Err(error) => {
                // Nothing to share: this step reads alone, and so will the others.
                tracing::warn!("{}", self.spill_error(error));
                return Ok(SharedListing::Alone(clerk.users()));
            }
        };
        *state = State::Reading {
            count: None,
            pages: 0,
        };
        Ok(SharedListing::Lead {
            shared: self,
            pages: clerk.users(),
            out,
            finished: false,
        })
    }

    fn set(&self, next: impl FnOnce(State) -> State) {
        let mut state = self.state.lock().expect("shared listing lock");
        *state = next(*state);
        drop(state);
        self.changed.notify_waiters();
    }

    fn spill_error(&self, source: std::io::Error) -> SharedError {
        SharedError::Spill {
            path: self.path.clone(),
            source,
        }
    }

    /// Waits until `ready` finds what it needs in the state.
    async fn wait_for<T>(
        &self,
        ready: impl Fn(State) -> Option<Result<T, SharedError>>,
    ) -> Result<T, SharedError> {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            // Registered before the state is read, so no change is missed.
            changed.as_mut().enable();
            let state = *self.state.lock().expect("shared listing lock");
            if let Some(result) = ready(state) {
                return result;
            }
            changed.await;
        }
    }
}

fn spill_path(state: &Path) -> PathBuf {
    let mut path = state.as_os_str().to_owned();
    path.push(".clerk-users.jsonl");
    PathBuf::from(path)
}

impl Drop for SharedUsers {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One step's reading of the listing.
pub enum SharedListing<'a> {
    /// Reads the API and spills each page.
    Lead {
        shared: &'a SharedUsers,
        pages: UserPages<'a>,
        out: BufWriter<File>,
        finished: bool,
    },
    /// Replays the leader's pages.
    Follow {
        shared: &'a SharedUsers,
        input: BufReader<File>,
        read: u64,
    },
    /// Reads the API, sharing nothing (no shared listing, or no spill file).
    Alone(UserPages<'a>),
}

impl<'a> SharedListing<'a> {
    /// Clerk's user count and the first page (asked for at once).
    pub async fn start(&mut self) -> Result<(u64, Option<Vec<User>>), SharedError> {
        match self {
            Self::Alone(pages) => Ok(start(pages).await?),
            Self::Lead { shared, pages, .. } => {
                let (count, first) = start(pages).await?;
                shared.set(|state| match state {
                    State::Reading { pages, .. } => State::Reading {
                        count: Some(count),
                        pages,
                    },
                    other => other,
                });
                let first = match first {
                    Some(page) => Some(self.spill(page)?),
                    None => None,
                };
                Ok((count, first))
            }
            Self::Follow { shared, .. } => {
                let count = shared
                    .wait_for(|state| match state {
                        State::Reading {
                            count: Some(count), ..
                        }
                        | State::Read { count, .. } => Some(Ok(count)),
                        State::Abandoned => Some(Err(SharedError::Abandoned)),
                        State::Unread | State::Reading { count: None, .. } => None,
                    })
                    .await?;
                Ok((count, self.next_page().await?))
            }
        }
    }

    /// The next page of users, `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<User>>, SharedError> {
        match self {
            Self::Alone(pages) => Ok(pages.next_page().await?),
            Self::Lead {
                shared,
                pages,
                finished,
                ..
            } => match pages.next_page().await? {
                Some(page) => Ok(Some(self.spill(page)?)),
                None => {
                    *finished = true;
                    shared.set(|state| match state {
                        State::Reading { count, pages } => State::Read {
                            count: count.unwrap_or(0),
                            pages,
                        },
                        other => other,
                    });
                    Ok(None)
                }
            },
            Self::Follow {
                shared,
                input,
                read,
            } => {
                let wanted = *read;
                let more = shared
                    .wait_for(|state| match state {
                        State::Reading { pages, .. } if pages > wanted => Some(Ok(true)),
                        State::Read { pages, .. } => Some(Ok(pages > wanted)),
                        State::Abandoned => Some(Err(SharedError::Abandoned)),
                        State::Unread | State::Reading { .. } => None,
                    })
                    .await?;
                if !more {
                    return Ok(None);
                }
                let mut line = String::new();
                input
                    .read_line(&mut line)
                    .map_err(|e| shared.spill_error(e))?;
                let page: Vec<User> = serde_json::from_str(&line).map_err(|e| {
                    shared.spill_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                })?;
                *read += 1;
                Ok(Some(page))
            }
        }
    }

    /// Appends the leader's page to the file, whole, then counts it.
    fn spill(&mut self, page: Vec<User>) -> Result<Vec<User>, SharedError> {
        let Self::Lead { shared, out, .. } = self else {
            return Ok(page);
        };
        let written = serde_json::to_writer(&mut *out, &page)
            .map_err(std::io::Error::other)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(error) = written {
            shared.set(|_| State::Abandoned);
            return Err(shared.spill_error(error));
        }
        shared.set(|state| match state {
            State::Reading { count, pages } => State::Reading {
                count,
                pages: pages + 1,
            },
            other => other,
        });
        Ok(page)
    }
}

impl Drop for SharedListing<'_> {
    fn drop(&mut self) {
        if let Self::Lead {
            shared,
            finished: false,
            ..
        } = self
        {
            shared.set(|_| State::Abandoned);
        }
    }
}

async fn start(pages: &mut UserPages<'_>) -> Result<(u64, Option<Vec<User>>), ApiError> {
    let client = pages.client();
    let (count, first) = tokio::join!(client.user_count(), pages.next_page());
    let count = count?;
    pages.expect(count);
    Ok((count, first?))
}
