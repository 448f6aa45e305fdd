//! Clerk's Dashboard CSV export: the only source of password digests and
//! TOTP secrets.
//!
//! The reader streams (one reusable record buffer, nothing else held), keys
//! columns by header name so extra or reordered columns are fine, strips a
//! UTF-8 BOM, skips `#` comment lines before data, and splits the
//! `|`-separated list cells. A malformed row is an error for that row only,
//! naming the file and line; the rows around it still load.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// The columns ferry reads, as Clerk names them. `id` is required; the others
/// are read when present.
pub const COLUMNS: [&str; 13] = [
    "id",
    "first_name",
    "last_name",
    "username",
    "primary_email_address",
    "primary_phone_number",
    "verified_email_addresses",
    "unverified_email_addresses",
    "verified_phone_numbers",
    "unverified_phone_numbers",
    "totp_secret",
    "password_digest",
    "password_hasher",
];

/// One user as the export has it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ExportUser {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub primary_email: Option<String>,
    pub verified_emails: Vec<String>,
    pub unverified_emails: Vec<String>,
    pub primary_phone: Option<String>,
    pub verified_phones: Vec<String>,
    pub unverified_phones: Vec<String>,
    pub totp_secret: Option<Secret>,
    pub password_digest: Option<Secret>,
    pub password_hasher: Option<String>,
    /// Set by the legacy JSON export, which lists several addresses with no
    /// primary marker: only `GET /users/{id}` can tell which is primary.
    pub primary_ambiguous: bool,
    /// Backup codes, which only the legacy JSON export tells about.
    pub backup_codes_enabled: bool,
    /// Metadata, which only the legacy JSON export carries.
    pub metadata: Option<ExportMetadata>,
    /// The line the record starts on, for messages.
    pub line: u64,
}

/// The three metadata objects of a legacy JSON export record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportMetadata {
    pub public: serde_json::Map<String, serde_json::Value>,
    pub private: serde_json::Map<String, serde_json::Value>,
    pub unsafe_: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for ExportUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets print as *** through their own Debug.
        f.debug_struct("ExportUser")
            .field("id", &self.id)
            .field("primary_email", &self.primary_email)
            .field("password_hasher", &self.password_hasher)
            .field("password_digest", &self.password_digest)
            .field("totp_secret", &self.totp_secret)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

/// An email address with its verification status, as far as the export tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEmail {
    pub address: String,
    pub verified: bool,
}

impl ExportUser {
    /// Primary first, then verified, then unverified, each address once
    /// (case-insensitively). The primary counts as verified unless the export
    /// lists it as unverified: Clerk only lets a verified address be primary,
    /// and its verified column does not always repeat the primary.
    pub fn emails(&self) -> Vec<ExportEmail> {
        let unverified = |address: &str| {
            self.unverified_emails
                .iter()
                .any(|u| u.eq_ignore_ascii_case(address))
        };
        let candidates = self
            .primary_email
            .iter()
            .map(|a| (a, !unverified(a)))
            .chain(self.verified_emails.iter().map(|a| (a, true)))
            .chain(self.unverified_emails.iter().map(|a| (a, false)));
        let mut out: Vec<ExportEmail> = Vec::new();
        for (address, verified) in candidates {
            if !out.iter().any(|e| e.address.eq_ignore_ascii_case(address)) {
                out.push(ExportEmail {
                    address: address.clone(),
                    verified,
                });
            }
        }
        out
    }
}

/// A problem with the file as a whole: nothing can be read from it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a Clerk users export: {reason}", path.display())]
    Header { path: PathBuf, reason: String },
}

/// A problem with one row; the rest of the file still loads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {}{reason}", path.display(), id.as_ref().map(|id| format!("{}: ", crate::redact::bounded(id))).unwrap_or_default())]
pub struct RecordError {
    pub path: PathBuf,
    pub line: u64,
    pub id: Option<String>,
    pub reason: String,
}

/// Column positions found in the header.
#[derive(Debug, Clone, Copy)]
struct Columns([Option<usize>; COLUMNS.len()]);

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, String> {
        let names: Vec<&str> = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if i == 0 {
                    name.trim_start_matches('\u{feff}')
                } else {
                    name
                }
            })
            .map(str::trim)
            .collect();
        if names.iter().any(|name| name.contains('\0')) {
            return Err(
                "a column name holds a NUL byte (a UTF-16 file?): export again as UTF-8".to_owned(),
            );
        }
        // One pass, linear in the header's width: a column ferry reads
        // that appears twice is an error at its second place.
        let mut positions = [None; COLUMNS.len()];
        for (index, name) in names.iter().enumerate() {
            let Some(column) = COLUMNS.iter().position(|wanted| wanted == name) else {
                continue;
            };
            if let Some(first) = positions[column] {
                return Err(format!(
                    "the column `{name}` appears twice (columns {} and {}): which one holds the data is anyone's guess; export again",
                    first + 1,
                    index + 1
                ));
            }
            positions[column] = Some(index);
        }
        if positions[0].is_none() {
            let known = positions.iter().flatten().count();
            return Err(if known == 0 {
                format!(
                    "the header has none of Clerk's columns (expected {})",
                    COLUMNS.join(",")
                )
            } else {
                "the header has no `id` column".to_owned()
            });
        }
        Ok(Self(positions))
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, column: usize) -> Option<&'r str> {
        self.0[column]
            .and_then(|index| record.get(index))
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }
}

/// The longest user id the readers accept (Clerk's are about 32 bytes).
pub const MAX_ID_BYTES: usize = 256;

/// Streams users out of an export.
pub struct ExportReader<R: Read> {
    csv: csv::Reader<R>,
    columns: Columns,
    width: usize,
    path: PathBuf,
    record: csv::StringRecord,
    done: bool,
}

impl ExportReader<BufReader<File>> {
    /// Opens the export to read it in order (large reads).
    pub fn open(path: &Path) -> Result<Self, ExportError> {
        Self::open_buffered(path, 1 << 16)
    }

    /// Opens the export to read single rows at offsets ([`Self::seek_to`]):
    /// a seek drops the buffer, so a large one would be refilled (64 KiB
    /// copied) for every row of a few hundred bytes.
    pub fn open_to_seek(path: &Path) -> Result<Self, ExportError> {
        Self::open_buffered(path, 1 << 10)
    }

    fn open_buffered(path: &Path, capacity: usize) -> Result<Self, ExportError> {
        let io = |source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut start = [0u8; 2];
        let read = std::io::Read::read(&mut file, &mut start).map_err(io)?;
        if read == 2 && (start == [0xFF, 0xFE] || start == [0xFE, 0xFF]) {
            return Err(ExportError::Header {
                path: path.to_path_buf(),
                reason: "the file is UTF-16; Clerk exports UTF-8: export again, or convert it (iconv -f UTF-16 -t UTF-8)".into(),
            });
        }
        std::io::Seek::rewind(&mut file).map_err(io)?;
        Self::with_buffer(BufReader::with_capacity(capacity, file), path, capacity)
    }

    /// Opens the export and checks that it has every column in `required`,
    /// each with the option that needs it.
    pub fn open_requiring(path: &Path, required: &[(&str, &str)]) -> Result<Self, ExportError> {
        let reader = Self::open(path)?;
        for (column, why) in required {
            if !reader.has_column(column) {
                return Err(ExportError::Header {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the header has no `{column}` column, which `{why}` needs: export again with it, or change the plan"
                    ),
                });
            }
        }
        Ok(reader)
    }
}

impl<R: Read> ExportReader<R> {
    /// Reads the header; `path` names the source in messages.
    pub fn new(reader: R, path: &Path) -> Result<Self, ExportError> {
        Self::with_buffer(reader, path, 8 << 10)
    }

    fn with_buffer(reader: R, path: &Path, capacity: usize) -> Result<Self, ExportError> {
        let mut csv = csv::ReaderBuilder::new()
            .buffer_capacity(capacity)
            .has_headers(true)
            .flexible(true)
            .comment(Some(b'#'))
            .from_reader(reader);
        let header_error = |reason: String| ExportError::Header {
            path: path.to_path_buf(),
            reason,
        };
        let header = csv
            .headers()
            .map_err(|e| header_error(e.to_string()))?
            .clone();
        if header.is_empty() || (header.len() == 1 && header[0].trim().is_empty()) {
            return Err(header_error("the file is empty".into()));
        }
        let columns = Columns::from_header(&header).map_err(header_error)?;
        Ok(Self {
            csv,
            columns,
            width: header.len(),
            path: path.to_path_buf(),
            record: csv::StringRecord::new(),
            done: false,
        })
    }

    /// Whether the header has the column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .is_some_and(|i| self.columns.0[i].is_some())
    }

    fn row_error(&self, line: u64, id: Option<String>, reason: impl Into<String>) -> RecordError {
        RecordError {
            path: self.path.clone(),
            line,
            id,
            reason: reason.into(),
        }
    }

    fn parse(&self, line: u64) -> Result<ExportUser, RecordError> {
        let record = &self.record;
        let id = self.columns.get(record, 0).map(str::to_owned);
        // An id is echoed in messages, lists and the journal's keys: one that
        // is no id at all (megabytes of text) is refused, and not repeated.
        if let Some(long) = id.as_ref().filter(|id| id.len() > MAX_ID_BYTES) {
            return Err(self.row_error(
                line,
                None,
                format!(
                    "the user id is {} bytes long ({}); Clerk's ids are a few dozen",
                    long.len(),
                    crate::redact::bounded(long)
                ),
            ));
        }
        // Clerk's exporter leaves off trailing empty cells, so a short row is
        // fine; one that swallowed a line break is a quote never closed.
        if record.len() > self.width {
            return Err(self.row_error(
                line,
                id,
                format!(
                    "{} fields where the header has {} (a stray comma or an unbalanced quote?)",
                    record.len(),
                    self.width
                ),
            ));
        }
        if record.len() < self.width && record.iter().any(|field| field.contains('\n')) {
            return Err(self.row_error(
                line,
                id,
                "a quote is never closed: the row runs on into the lines after it",
            ));
        }
        if let Some(column) = record.iter().position(|field| field.contains('\0')) {
            return Err(self.row_error(line, id, format!("a NUL byte in column {}", column + 1)));
        }
        let Some(id) = id else {
            return Err(self.row_error(line, None, "no user id"));
        };
        let text = |column| self.columns.get(record, column).map(str::to_owned);
        let list = |column| split_list(self.columns.get(record, column));
        let user = ExportUser {
            first_name: text(1),
            last_name: text(2),
            username: text(3),
            primary_email: text(4),
            primary_phone: text(5),
            verified_emails: list(6),
            unverified_emails: list(7),
            verified_phones: list(8),
            unverified_phones: list(9),
            totp_secret: text(10).map(Secret::new),
            password_digest: text(11).map(Secret::new),
            password_hasher: text(12),
            primary_ambiguous: false,
            backup_codes_enabled: false,
            metadata: None,
            line,
            id,
        };
        Ok(user)
    }
}

impl<R: Read + std::io::Seek> ExportReader<R> {
    /// Moves to the record that starts at `byte` (from an earlier pass), so
    /// the next item is that record. Lets a join look users up by id
    /// without holding the whole export in memory.
    pub fn seek_to(&mut self, byte: u64, line: u64) -> Result<(), RecordError> {
        let mut position = csv::Position::new();
        position.set_byte(byte).set_line(line);
        self.done = false;
        self.csv
            .seek(position)
            .map_err(|e| self.row_error(line, None, format!("cannot seek: {e}")))
    }
}

/// One row's password cells and the line the row starts on.
pub struct PasswordCells {
    pub line: u64,
    pub hasher: Option<String>,
    pub digest: Option<Secret>,
}

impl<R: Read> ExportReader<R> {
    /// The next row's password hasher and digest alone: a pass over every
    /// digest that builds no user (the hash probes' scan). A row that cannot
    /// be read is passed over: the full read reports it.
    pub fn next_password(&mut self) -> Option<PasswordCells> {
        const DIGEST: usize = 11;
        const HASHER: usize = 12;
        while !self.done {
            match self.csv.read_record(&mut self.record) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    let record = &self.record;
                    return Some(PasswordCells {
                        line: record.position().map_or(0, |p| p.line()),
                        hasher: self.columns.get(record, HASHER).map(str::to_owned),
                        digest: self.columns.get(record, DIGEST).map(Secret::new),
                    });
                }
                // An I/O error would repeat forever.
                Err(error) => self.done = matches!(error.kind(), csv::ErrorKind::Io(_)),
            }
        }
        None
    }

    /// Where the record just read starts: its byte offset and line.
    pub fn last_position(&self) -> (u64, u64) {
        self.record
            .position()
            .map_or((0, 0), |p| (p.byte(), p.line()))
    }
}

impl<R: Read> Iterator for ExportReader<R> {
    type Item = Result<ExportUser, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut record = std::mem::take(&mut self.record);
        let read = self.csv.read_record(&mut record);
        self.record = record;
        match read {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some(self.parse(line))
            }
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                let reason = match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
                    csv::ErrorKind::Io(io) => format!("read error: {io}"),
                    _ => error.to_string(),
                };
                // An I/O error would repeat forever: stop after reporting it.
                self.done = matches!(error.kind(), csv::ErrorKind::Io(_));
                Some(Err(self.row_error(line, None, reason)))
            }
        }
    }
}

/// `a|b|c` → `[a, b, c]`, dropping empty parts.
fn split_list(cell: Option<&str>) -> Vec<String> {
    cell.map(|cell| {
        cell.split('|')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,password_hasher";

    fn read(text: &str) -> Vec<Result<ExportUser, RecordError>> {
        ExportReader::new(text.as_bytes(), Path::new("users.csv"))
            .unwrap()
            .collect()
    }

    #[test]
    fn the_password_pass_reads_each_row_s_two_cells_and_passes_over_a_bad_row() {
        let mut bytes =
            b"id,password_digest,password_hasher\nuser_1,$2b$x,bcrypt\nuser_2,\n".to_vec();
        bytes.extend_from_slice(b"\xff,\n"); // a row that is not UTF-8
        bytes.extend_from_slice(b"user_3, d ,md5\n");
        let mut reader = ExportReader::new(&bytes[..], Path::new("users.csv")).unwrap();
        let mut cells = Vec::new();
        while let Some(row) = reader.next_password() {
            cells.push((
                row.line,
                row.hasher,
                row.digest.map(|d| d.expose().to_owned()),
            ));
        }
        assert_eq!(
            cells,
            vec![
                (2, Some("bcrypt".to_owned()), Some("$2b$x".to_owned())),
                (3, None, None),
                (5, Some("md5".to_owned()), Some("d".to_owned())),
            ]
        );
    }

    #[test]
    fn a_wide_header_is_read_in_one_pass_and_names_both_places_of_a_repeat() {
        let mut names: Vec<String> = (0..100_000).map(|i| format!("extra_{i}")).collect();
        names.extend(HEADER.split(',').map(str::to_owned));
        names.push("username".into());
        let header = csv::StringRecord::from(names);
        assert_eq!(
            Columns::from_header(&header).unwrap_err(),
            "the column `username` appears twice (columns 100004 and 100014): which one holds the data is anyone's guess; export again"
        );
    }

    #[test]
    fn reads_lists_bom_comments_and_quotes() {
        let text = format!(
            "\u{feff}# exported by hand\n{HEADER},extra\nuser_1,\"Ada, Countess\",Lovelace,,ada@x.io,,ada@x.io|ADA@x.io|a2@x.io,old@x.io,,,JBSWY3DPEHPK3PXP,$2b$10$abc,bcrypt,whatever\r\nuser_2,,,bob,,,,,+15550001,,,,,\n"
        );
        let users: Vec<_> = read(&text).into_iter().map(Result::unwrap).collect();
        assert_eq!(users.len(), 2);
        let ada = &users[0];
        assert_eq!(ada.first_name.as_deref(), Some("Ada, Countess"));
        assert_eq!(ada.line, 3);
        assert_eq!(ada.password_hasher.as_deref(), Some("bcrypt"));
        assert_eq!(
            ada.totp_secret.as_ref().map(Secret::expose),
            Some("JBSWY3DPEHPK3PXP")
        );
        let emails: Vec<_> = ada
            .emails()
            .into_iter()
            .map(|e| (e.address, e.verified))
            .collect();
        assert_eq!(
            emails,
            [
                ("ada@x.io".into(), true),
                ("a2@x.io".into(), true),
                ("old@x.io".into(), false)
            ]
        );
        assert_eq!(users[1].primary_email, None);
        assert_eq!(users[1].verified_phones, ["+15550001"]);
    }

    #[test]
    fn a_bad_row_is_reported_and_the_next_one_still_loads() {
        let text = format!(
            "{HEADER}\nuser_1,A,,,,,,,,,,,,,\nuser_2,,,,b@x.io,,,,,,,,\n,,,,c@x.io,,,,,,,,\n"
        );
        let rows = read(&text);
        let first = rows[0].as_ref().unwrap_err();
        assert_eq!(
            first.to_string(),
            "users.csv:2: user_1: 15 fields where the header has 13 (a stray comma or an unbalanced quote?)"
        );
        assert_eq!(rows[1].as_ref().unwrap().id, "user_2");
        assert_eq!(
            rows[2].as_ref().unwrap_err().to_string(),
            "users.csv:4: no user id"
        );
    }

    #[test]
    fn short_rows_are_read_but_an_unclosed_quote_is_not() {
        let text = format!(
            "{HEADER}\nuser_1,A,B,,a@x.io\nuser_2,\"Bo,B,,b@x.io,,,,,,,,\nuser_3,C,,,c@x.io,,,,,,,,\n"
        );
        let rows = read(&text);
        assert_eq!(
            rows[0].as_ref().unwrap().primary_email.as_deref(),
            Some("a@x.io")
        );
        assert!(
            rows[1]
                .as_ref()
                .unwrap_err()
                .reason
                .starts_with("a quote is never closed")
        );
    }

    #[test]
    fn a_file_that_is_not_an_export_is_refused() {
        let error = ExportReader::new("name,mail\nx,y\n".as_bytes(), Path::new("u.csv"))
            .err()
            .unwrap();
        assert!(
            error.to_string().contains(
                "u.csv: not a Clerk users export: the header has none of Clerk's columns"
            )
        );
        let error = ExportReader::new("first_name,last_name\nx,y\n".as_bytes(), Path::new("u.csv"))
            .err()
            .unwrap();
        assert!(error.to_string().ends_with("the header has no `id` column"));
    }
}
