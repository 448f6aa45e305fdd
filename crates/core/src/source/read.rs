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
use std::path::Path;

use serde::Serialize;
use tokio::sync::mpsc;

use super::SourceUser;
use super::export_index::{ExportIndex, duplicate_row, hash_id};
use super::shared_users::{SharedError, SharedListing, SharedUsers};
use crate::clerk::client::ClerkClient;
use crate::http::ApiError;
use ferry_wire::clerk::export::{ExportError, ExportReader, ExportUser, RecordError};
use ferry_wire::clerk::legacy;
use ferry_wire::clerk::model::User;

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
    #[error("reading users from Clerk: {0}")]
    Shared(SharedError),
    #[error("the plan has no source of users: give source.clerk.secret_key or an export")]
    Nothing,
}

impl From<SharedError> for SourceError {
    fn from(error: SharedError) -> Self {
        match error {
            SharedError::Api(error) => Self::Clerk(error),
            other => Self::Shared(other),
        }
    }
}

impl SourceError {
    pub fn kind(&self) -> crate::support::kind::ErrorKind {
        use crate::support::kind::ErrorKind;
        match self {
            Self::Clerk(_) | Self::Shared(_) => ErrorKind::Unavailable,
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
    /// The run's one reading of Clerk's user listing, shared by its steps.
    pub shared: Option<&'a SharedUsers>,
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
            shared: None,
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

/// Builds the export's index on a blocking thread (the files and the
/// columns copied for it).
async fn build_index_apart(sources: &Sources<'_>) -> Result<ExportIndex, SourceError> {
    let csv = sources.export_csv.map(Path::to_path_buf);
    let json = sources.export_json.map(Path::to_path_buf);
    let required: Vec<(String, String)> = sources
        .required_columns
        .iter()
        .map(|(column, option)| ((*column).to_owned(), (*option).to_owned()))
        .collect();
    let built = tokio::task::spawn_blocking(move || {
        let required: Vec<(&str, &str)> = required
            .iter()
            .map(|(column, option)| (column.as_str(), option.as_str()))
            .collect();
        ExportIndex::build(csv.as_deref(), json.as_deref(), &required)
    })
    .await;
    match built {
        Ok(index) => Ok(index?),
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels a blocking task, and
            // then nothing awaits it any more.
            Err(error) => unreachable!("the export's reader was cancelled: {error}"),
        },
    }
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
    // The export is read on a thread of its own while the listing's first
    // pages are asked for: at a million rows it takes a second and a half,
    // in which the steps beside this one (which share its task) would
    // wait too, and Clerk's budget would go unused.
    let building = build_index_apart(&sources);
    // The count only reconciles the listing at the end: it is asked for
    // alongside the first page rather than before it.
    let mut pages = match sources.shared {
        Some(shared) => shared.open(clerk),
        None => Ok(SharedListing::Alone(clerk.users())),
    }
    .map_err(SourceError::from)?;
    let (index, started) = tokio::join!(building, pages.start());
    let mut index = index?;
    let (count, first) = started?;
    stats.export_rows = index.rows;
    stats.bad_rows = index.bad_rows.len() as u64;
    for error in std::mem::take(&mut index.bad_rows) {
        if tx.send(Item::BadRow(error)).await.is_err() {
            return Ok(());
        }
    }
    stats.clerk_count = Some(count);
    if let Some(announce) = sources.on_total {
        announce(count);
    }
    // With no export to fall back on, the ids the listing handed out are
    // kept (as hashes), so a listing that fell short can be read again
    // for the users it lost (see below).
    let api_only = sources.export_csv.is_none() && sources.export_json.is_none();
    let mut listed_ids: Option<HashSet<u64>> = api_only.then(HashSet::new);
    let mut next = first;
    while let Some(page) = next {
        for api in page {
            stats.listed += 1;
            if let Some(ids) = &mut listed_ids {
                ids.insert(hash_id(&api.id));
            }
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
    tracing::info!("Clerk's user listing read: {} users", stats.listed);

    // Users deleted while the listing was read shift the later ones
    // towards the start, and more deletions between two pages than their
    // overlap push live users into the gap. Without an export to name
    // them, the listing is read once more, for the users it had not handed
    // out, whenever it does not square with Clerk's count asked now (the
    // count asked at the start may already have seen the deletions, and
    // the listing holds users deleted since it read them).
    let counted_now = match &listed_ids {
        Some(_) => clerk.user_count().await?,
        None => count,
    };
    if let Some(mut ids) = listed_ids
        && stats.listed != counted_now
    {
        tracing::warn!(
            "Clerk counts {counted_now} users now but its listing handed out {}; reading it once more for users it may have lost",
            stats.listed
        );
        let mut again = clerk.users();
        again.expect(counted_now);
        while let Some(page) = again.next_page().await? {
            for api in page {
                if !ids.insert(hash_id(&api.id)) {
                    continue;
                }
                stats.listed += 1;
                let user = SourceUser {
                    id: api.id.clone(),
                    api: Some(api),
                    export: None,
                };
                if tx.send(Item::User(Box::new(user))).await.is_err() {
                    return Ok(());
                }
            }
        }
    }

    // The export's users the listing did not hold: signed up after the
    // listing passed them, or deleted since the export. Asked for by id,
    // a hundred to a request, not one read each.
    let remaining = index.remaining();
    for chunk in remaining.chunks(crate::clerk::client::IDS_PER_LISTING) {
        let mut found: HashMap<String, User> = clerk
            .users_by_id(chunk)
            .await?
            .into_iter()
            .map(|user| (user.id.clone(), user))
            .collect();
        for id in chunk {
            let export = index.take(id);
            let item = match found.remove(id) {
                Some(api) => {
                    stats.fetched_by_id += 1;
                    Item::User(Box::new(SourceUser {
                        id: id.clone(),
                        api: Some(api),
                        export,
                    }))
                }
                None => {
                    stats.deleted_since_export += 1;
                    Item::Deleted { id: id.clone() }
                }
            };
            if tx.send(item).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}
