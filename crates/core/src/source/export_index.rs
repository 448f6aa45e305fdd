//! The export's rows by Clerk id, for joining them to the listing.
//!
//! A million-row export must not cost hundreds of megabytes of id strings,
//! so the index keeps no id: a 64-bit hash of each id, and where its row is
//! (the byte offset in the CSV file, or its slot in a legacy JSON export
//! read whole). The row itself is read back when the listing reaches its
//! user, and its id is compared then, so two ids that share a hash are still
//! told apart: the later one goes to a small map keyed by the id itself.
//! The hashes are a sorted vector searched by bisection (12 bytes a row,
//! about a third of what a hash map of the same pairs takes), and a row's
//! place is 12 bytes more.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ferry_wire::clerk::export::{ExportError, ExportReader, ExportUser, RecordError};
use ferry_wire::clerk::legacy;

use crate::support::packed::U64;

/// Export rows by Clerk id; each row is handed out once.
pub struct ExportIndex {
    store: Store,
    /// (hash of the id, the row's slot), sorted, one per hash.
    by_hash: Vec<(U64, u32)>,
    /// Ids whose hash an earlier, different id already has.
    collided: HashMap<String, u32>,
    /// Whether each slot was handed out.
    taken: Vec<bool>,
    /// Rows read, good and bad.
    pub rows: u64,
    pub bad_rows: Vec<RecordError>,
}

enum Store {
    None,
    /// Byte offset and line of each row, in export order (a line past
    /// `u32::MAX` is held as `u32::MAX`: it only names the row in messages).
    Csv {
        reader: Box<ExportReader<BufReader<File>>>,
        places: Vec<(U64, u32)>,
        path: PathBuf,
    },
    /// The legacy JSON export is read whole (it is an older, smaller format).
    Json(Vec<Option<ExportUser>>),
}

impl Store {
    /// The row in `slot`, read back; a JSON row is moved out when `take`.
    fn row(&mut self, slot: u32, take: bool) -> Option<ExportUser> {
        match self {
            Self::None => None,
            Self::Json(users) => {
                let user = users.get_mut(slot as usize)?;
                if take { user.take() } else { user.clone() }
            }
            Self::Csv {
                reader,
                places,
                path,
            } => {
                let (byte, line) = *places.get(slot as usize)?;
                if let Err(error) = reader.seek_to(byte.get(), u64::from(line)) {
                    tracing::warn!("{}: {error}", path.display());
                    return None;
                }
                reader.next().and_then(Result::ok)
            }
        }
    }

    fn push(&mut self, user: ExportUser, place: (u64, u64)) -> u32 {
        match self {
            Self::None => 0,
            Self::Json(users) => {
                users.push(Some(user));
                (users.len() - 1) as u32
            }
            Self::Csv { places, .. } => {
                let (byte, line) = place;
                places.push((U64::from(byte), u32::try_from(line).unwrap_or(u32::MAX)));
                (places.len() - 1) as u32
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::None => 0,
            Self::Json(users) => users.len(),
            Self::Csv { places, .. } => places.len(),
        }
    }
}

impl ExportIndex {
    /// Reads the CSV export (or else the legacy JSON one), checking the
    /// CSV has `required_columns`.
    pub fn build(
        export_csv: Option<&Path>,
        export_json: Option<&Path>,
        required_columns: &[(&str, &str)],
    ) -> Result<Self, ExportError> {
        let mut index = Self {
            store: Store::None,
            by_hash: Vec::new(),
            collided: HashMap::new(),
            taken: Vec::new(),
            rows: 0,
            bad_rows: Vec::new(),
        };
        let path = match (export_csv, export_json) {
            (Some(path), _) => {
                index.store = Store::Csv {
                    reader: Box::new(ExportReader::open_to_seek(path)?),
                    places: Vec::new(),
                    path: path.to_path_buf(),
                };
                let mut reader = ExportReader::open_requiring(path, required_columns)?;
                while let Some(row) = reader.next() {
                    let place = reader.last_position();
                    index.add(row, place);
                }
                path
            }
            (None, Some(path)) => {
                index.store = Store::Json(Vec::new());
                for row in legacy::read(path)? {
                    index.add(row, (0, 0));
                }
                path
            }
            (None, None) => return Ok(index),
        };
        index.taken = vec![false; index.store.len()];
        index.settle_shared_hashes(path);
        index.by_hash.shrink_to_fit();
        Ok(index)
    }

    /// Indexes one row (duplicates are found once every row is in).
    fn add(&mut self, row: Result<ExportUser, RecordError>, place: (u64, u64)) {
        self.rows += 1;
        match row {
            Ok(user) => {
                let hash = hash_id(&user.id);
                let slot = self.store.push(user, place);
                self.by_hash.push((U64::from(hash), slot));
            }
            Err(error) => self.bad_rows.push(error),
        }
    }

    /// Sorts the hashes and settles rows that share one: a second row with
    /// an id seen before is a bad row (the first row is used, and the
    /// second is never handed out); a different id with the same hash goes
    /// to the map keyed by id. Bad rows end up in file order.
    fn settle_shared_hashes(&mut self, path: &Path) {
        // By slot within a hash: the first row in the file comes first.
        self.by_hash
            .sort_unstable_by_key(|&(hash, slot)| (hash.get(), slot));
        let mut at = 0;
        while at < self.by_hash.len() {
            let hash = self.by_hash[at].0;
            let end = at + self.by_hash[at..].partition_point(|&(h, _)| h == hash);
            if end - at > 1 {
                let slots: Vec<u32> = self.by_hash[at..end].iter().map(|&(_, s)| s).collect();
                self.settle_group(&slots, path);
            }
            at = end;
        }
        self.by_hash.dedup_by_key(|&mut (hash, _)| hash.get());
        self.bad_rows.sort_by_key(|error| error.line);
    }

    /// Rows (in file order) whose ids share one hash.
    fn settle_group(&mut self, slots: &[u32], path: &Path) {
        // Each distinct id's first row: (id, line).
        let mut firsts: Vec<(String, u64)> = Vec::new();
        for (n, &slot) in slots.iter().enumerate() {
            let Some(row) = self.store.row(slot, false) else {
                continue;
            };
            match firsts.iter().find(|(id, _)| *id == row.id) {
                Some((_, first)) => {
                    self.taken[slot as usize] = true;
                    self.bad_rows
                        .push(duplicate_row(path, row.line, &row.id, *first));
                }
                None => {
                    // The group's first row stays the hash's own.
                    if n > 0 {
                        self.collided.insert(row.id.clone(), slot);
                    }
                    firsts.push((row.id, row.line));
                }
            }
        }
    }

    /// The export row of `id`, once.
    pub fn take(&mut self, id: &str) -> Option<ExportUser> {
        let hash = hash_id(id);
        let at = self
            .by_hash
            .binary_search_by_key(&hash, |&(hash, _)| hash.get())
            .ok()?;
        let slot = self.by_hash[at].1;
        let slot = match self.collided.get(id) {
            Some(&other) => other,
            None => slot,
        };
        if self.taken[slot as usize] {
            return None;
        }
        let row = self.store.row(slot, true).filter(|row| row.id == id)?;
        self.taken[slot as usize] = true;
        Some(row)
    }

    /// Ids in the export that were not taken, in export order.
    pub fn remaining(&mut self) -> Vec<String> {
        let slots: Vec<u32> = (0..self.taken.len() as u32)
            .filter(|&slot| !self.taken[slot as usize])
            .collect();
        slots
            .into_iter()
            .filter_map(|slot| self.store.row(slot, false).map(|row| row.id))
            .collect()
    }
}

/// A second row with a user id seen before. It is the row that is
/// rejected, not the user: the record is keyed by its line, never by the
/// id, so it cannot overwrite what the first row came to.
pub fn duplicate_row(path: &Path, line: u64, id: &str, first: u64) -> RecordError {
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

pub fn hash_id(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}
