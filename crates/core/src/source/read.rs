//! Reading every Clerk user from the plan's sources, joined on the Clerk id,
//! as a stream the users step consumes.
//!
//! - API only: the listing, page by page.
//! - Export only: the export, streamed row by row (constant memory).
//! - Both: the listing drives; each listed user's export row is found through
//!   an index of byte offsets (so a large export is never held in memory).
//!   A user in the export but not in the listing is fetched by id: found, it
//!   is joined (and a legacy export's unknown primary is settled by the API);
//!   gone (404), it is reported as deleted in Clerk since the export.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::sync::mpsc;

use super::SourceUser;
use crate::clerk::client::ClerkClient;
use crate::http::ApiError;
use ferry_wire::clerk::export::{ExportError, ExportReader, ExportUser, RecordError};
use ferry_wire::clerk::legacy;

/// One item of the stream.
#[derive(Debug)]
pub enum Item {
    User(Box<SourceUser>),
    /// An export row that could not be read; the rest still loads.
    BadRow(RecordError),
    /// In the export, but Clerk no longer has the user.
    Deleted {
        id: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("reading users from Clerk: {0}")]
    Clerk(#[from] ApiError),
    #[error("the plan has no source of users: give source.clerk.secret_key or an export")]
    Nothing,
}

impl SourceError {
    pub fn kind(&self) -> crate::kind::ErrorKind {
        use crate::kind::ErrorKind;
        match self {
            Self::Clerk(_) => ErrorKind::Unavailable,
            Self::Export(_) | Self::Nothing => ErrorKind::Configuration,
        }
    }
}

/// What the reading saw, for reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadStats {
    /// Users Clerk's `/users/count` reported before listing.
    pub clerk_count: Option<u64>,
    /// Distinct users the listing returned.
    pub listed: u64,
    /// Rows read from the export.
    pub export_rows: u64,
    pub bad_rows: u64,
    /// In the export, not in the listing, fetched by id.
    pub fetched_by_id: u64,
    pub deleted_since_export: u64,
}

impl ReadStats {
    /// The listing read fewer users than Clerk counted (users signing up
    /// during the run make it read more, which is fine).
    pub fn short_read(&self) -> Option<u64> {
        self.clerk_count
            .filter(|count| self.listed < *count)
            .map(|count| count - self.listed)
    }
}

/// Where users come from.
#[derive(Clone, Copy, Default)]
pub struct Sources<'a> {
    pub clerk: Option<&'a ClerkClient>,
    pub export_csv: Option<&'a Path>,
    pub export_json: Option<&'a Path>,
    /// Told Clerk's user count once it is known (a progress bar's length).
    pub on_total: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Columns the CSV export must have, each with the option that needs it.
    pub required_columns: &'a [(&'a str, &'a str)],
}

impl<'a> Sources<'a> {
    /// The plan's sources: its export files, and the Clerk API when a client is given.
    pub fn of(source: &'a crate::plan::ClerkSource, clerk: Option<&'a ClerkClient>) -> Self {
        Self {
            clerk,
            export_csv: source.export_csv.as_deref(),
            export_json: source.export_json.as_deref(),
            on_total: None,
            required_columns: &[],
        }
    }
}

/// Sends every user to `tx`. Stops early, without error, when the receiver is gone.
pub async fn read_users(
    sources: Sources<'_>,
    tx: mpsc::Sender<Item>,
) -> Result<ReadStats, SourceError> {
    let mut stats = ReadStats::default();
    match sources.clerk {
        None => read_export_only(sources, &tx, &mut stats).await?,
        Some(clerk) => read_joined(clerk, sources, &tx, &mut stats).await?,
    }
    Ok(stats)
}

async fn read_export_only(
    sources: Sources<'_>,
    tx: &mpsc::Sender<Item>,
    stats: &mut ReadStats,
) -> Result<(), SourceError> {
    type Rows = Box<dyn Iterator<Item = Result<ExportUser, RecordError>> + Send>;
    let (rows, path): (Rows, &Path) = match (sources.export_csv, sources.export_json) {
        (Some(path), _) => (
            Box::new(ExportReader::open_requiring(
                path,
                sources.required_columns,
            )?),
            path,
        ),
        (None, Some(path)) => (Box::new(legacy::read(path)?.into_iter()), path),
        (None, None) => return Err(SourceError::Nothing),
    };
    // Ids seen, as 64-bit hashes with their line: a duplicate row must not
    // become a second user, and a million ids fit in a few megabytes this way.
    let mut seen: HashMap<u64, u64> = HashMap::new();
    for row in rows {
        stats.export_rows += 1;
        let item = match row {
            Ok(user) => match seen.insert(hash_id(&user.id), user.line) {
                None => export_user(user),
                Some(first) => Item::BadRow(duplicate_row(path, user.line, &user.id, first)),
            },
            Err(error) => Item::BadRow(error),
        };
        if matches!(item, Item::BadRow(_)) {
            stats.bad_rows += 1;
        }
        if tx.send(item).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// A second row with a user id seen before. It is the row that is
/// rejected, not the user: the record is keyed by its line, never by the
/// id, so it cannot overwrite what the first row came to.
fn duplicate_row(path: &Path, line: u64, id: &str, first: u64) -> RecordError {
    RecordError {
        path: path.to_path_buf(),
        line,
        id: None,
        reason: format!(
            "{}: the same user id as line {first}; the first row is used",
            ferry_wire::redact::bounded(id)
        ),
    }
}

fn hash_id(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

fn export_user(user: ExportUser) -> Item {
    Item::User(Box::new(SourceUser {
        id: user.id.clone(),
        api: None,
        export: Some(user),
    }))
}

async fn read_joined(
    clerk: &ClerkClient,
    sources: Sources<'_>,
    tx: &mpsc::Sender<Item>,
    stats: &mut ReadStats,
) -> Result<(), SourceError> {
    let mut index = ExportIndex::build(sources)?;
    stats.export_rows = index.rows;
    stats.bad_rows = index.bad_rows.len() as u64;
    for error in std::mem::take(&mut index.bad_rows) {
        if tx.send(Item::BadRow(error)).await.is_err() {
            return Ok(());
        }
    }
    // The count only reconciles the listing at the end: ask for it alongside
    // the first page rather than before it.
    let mut pages = clerk.users();
    let (count, first) = tokio::join!(clerk.user_count(), pages.next_page());
    let count = count?;
    stats.clerk_count = Some(count);
    pages.expect(count);
    if let (Some(announce), Some(total)) = (sources.on_total, stats.clerk_count) {
        announce(total);
    }
    let mut next = first?;
    while let Some(page) = next {
        for api in page {
            stats.listed += 1;
            let export = index.take(&api.id);
            let user = SourceUser {
                id: api.id.clone(),
                api: Some(api),
                export,
            };
            if tx.send(Item::User(Box::new(user))).await.is_err() {
                return Ok(());
            }
        }
        next = pages.next_page().await?;
    }

    for id in index.remaining() {
        let export = index.take(&id);
        let item = match clerk.user(&id).await? {
            Some(api) => {
                stats.fetched_by_id += 1;
                Item::User(Box::new(SourceUser {
                    id,
                    api: Some(api),
                    export,
                }))
            }
            None => {
                stats.deleted_since_export += 1;
                Item::Deleted { id }
            }
        };
        if tx.send(item).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Export rows by Clerk id, for the join.
struct ExportIndex {
    store: Store,
    /// Ids not yet joined, in export order.
    pending: Vec<String>,
    taken: HashSet<String>,
    rows: u64,
    bad_rows: Vec<RecordError>,
}

enum Store {
    None,
    /// Byte offset and line of each row; rows are re-read on demand.
    Csv {
        reader: Box<ExportReader<BufReader<File>>>,
        offsets: HashMap<String, (u64, u64)>,
        path: PathBuf,
    },
    /// The legacy JSON export is read whole (it is an older, smaller format).
    Json(HashMap<String, ExportUser>),
}

impl ExportIndex {
    fn build(sources: Sources<'_>) -> Result<Self, ExportError> {
        let mut index = Self {
            store: Store::None,
            pending: Vec::new(),
            taken: HashSet::new(),
            rows: 0,
            bad_rows: Vec::new(),
        };
        let mut seen_lines: HashMap<String, u64> = HashMap::new();
        let mut duplicate =
            |id: &str, line: u64, path: &Path, bad: &mut Vec<RecordError>| match seen_lines
                .insert(id.to_owned(), line)
            {
                Some(first) => {
                    bad.push(duplicate_row(path, line, id, first));
                    true
                }
                None => false,
            };
        if let Some(path) = sources.export_csv {
            let mut reader = ExportReader::open_requiring(path, sources.required_columns)?;
            let mut offsets = HashMap::new();
            while let Some(row) = reader.next() {
                index.rows += 1;
                match row {
                    Ok(user) => {
                        if !duplicate(&user.id, user.line, path, &mut index.bad_rows) {
                            offsets.insert(user.id.clone(), reader.last_position());
                            index.pending.push(user.id);
                        }
                    }
                    Err(error) => index.bad_rows.push(error),
                }
            }
            index.store = Store::Csv {
                reader: Box::new(ExportReader::open(path)?),
                offsets,
                path: path.to_path_buf(),
            };
        } else if let Some(path) = sources.export_json {
            let mut users = HashMap::new();
            for row in legacy::read(path)? {
                index.rows += 1;
                match row {
                    Ok(user) => {
                        if !duplicate(&user.id, user.line, path, &mut index.bad_rows) {
                            index.pending.push(user.id.clone());
                            users.insert(user.id.clone(), user);
                        }
                    }
                    Err(error) => index.bad_rows.push(error),
                }
            }
            index.store = Store::Json(users);
        }
        Ok(index)
    }

    /// The export row of `id`, once.
    fn take(&mut self, id: &str) -> Option<ExportUser> {
        if !self.taken.insert(id.to_owned()) {
            return None;
        }
        match &mut self.store {
            Store::None => None,
            Store::Json(users) => users.remove(id),
            Store::Csv {
                reader,
                offsets,
                path,
            } => {
                let (byte, line) = offsets.remove(id)?;
                if let Err(error) = reader.seek_to(byte, line) {
                    tracing::warn!("{}: {error}", path.display());
                    return None;
                }
                reader.next().and_then(Result::ok)
            }
        }
    }

    /// Ids in the export that the listing did not return.
    fn remaining(&self) -> Vec<String> {
        self.pending
            .iter()
            .filter(|id| !self.taken.contains(*id))
            .cloned()
            .collect()
    }
}
