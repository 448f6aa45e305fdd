//! The Clerk Dashboard CSV export: the only place Clerk gives out password
//! digests and TOTP secrets. The generator writes it (exact header, `|`-joined
//! lists) next to the tenant it serves, and `ferry sandbox --from-csv` reads
//! one (BOM, a leading `#` comment line and extra columns tolerated) to build
//! a tenant from an export alone.

use std::path::Path;

use crate::error::SandboxError;
use ferry_wire::clerk::export::ExportReader;

use ferry_wire::secret::Secret;

/// The header of a real export, in order.
pub use ferry_wire::clerk::export::COLUMNS as HEADER;

/// One user's row. Digest and TOTP secret stay [`Secret`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportRow {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub primary_email_address: String,
    pub primary_phone_number: String,
    pub verified_email_addresses: Vec<String>,
    pub unverified_email_addresses: Vec<String>,
    pub verified_phone_numbers: Vec<String>,
    pub unverified_phone_numbers: Vec<String>,
    pub totp_secret: Option<Secret>,
    pub password_digest: Option<Secret>,
    pub password_hasher: Option<String>,
}

/// How a CSV write failure reads.
fn write_failed(path: &Path) -> impl Fn(csv::Error) -> SandboxError + Copy + '_ {
    move |error: csv::Error| SandboxError::Io {
        action: "write",
        path: path.to_path_buf(),
        source: std::io::Error::other(error.to_string()),
    }
}

/// A CSV file written owner-only: exports hold digests and TOTP secrets.
fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>, SandboxError> {
    let file = ferry_wire::files::create(path).map_err(|source| SandboxError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::Writer::from_writer(file))
}

/// Writes rows with the exact export header.
pub fn write_csv(path: &Path, rows: &[ExportRow]) -> Result<(), SandboxError> {
    let failed = write_failed(path);
    let mut writer = csv_writer(path)?;
    writer.write_record(HEADER).map_err(failed)?;
    for row in rows {
        let secret = |value: &Option<Secret>| {
            value
                .as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default()
        };
        writer
            .write_record([
                row.id.as_str(),
                &row.first_name,
                &row.last_name,
                &row.username,
                &row.primary_email_address,
                &row.primary_phone_number,
                &row.verified_email_addresses.join("|"),
                &row.unverified_email_addresses.join("|"),
                &row.verified_phone_numbers.join("|"),
                &row.unverified_phone_numbers.join("|"),
                &secret(&row.totp_secret),
                &secret(&row.password_digest),
                row.password_hasher.as_deref().unwrap_or_default(),
            ])
            .map_err(failed)?;
    }
    writer.flush().map_err(|source| SandboxError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// Reads an export with ferry's own reader (BOM, comment lines, short rows
/// and extra columns tolerated). A bad row fails the load: a tenant must be
/// whole. Errors name the line, never a cell's content.
pub fn read_csv(path: &Path) -> Result<Vec<ExportRow>, SandboxError> {
    let csv_error = |message: String| SandboxError::Csv {
        path: path.to_path_buf(),
        message,
    };
    let reader = ExportReader::open(path).map_err(|e| csv_error(e.to_string()))?;
    let mut rows = Vec::new();
    for user in reader {
        let user = user.map_err(|e| csv_error(format!("line {}: {}", e.line, e.reason)))?;
        rows.push(row_from(user));
    }
    Ok(rows)
}

/// The sandbox's row for a user as ferry's export readers give it.
pub fn row_from(user: ferry_wire::clerk::export::ExportUser) -> ExportRow {
    ExportRow {
        id: user.id,
        first_name: user.first_name.unwrap_or_default(),
        last_name: user.last_name.unwrap_or_default(),
        username: user.username.unwrap_or_default(),
        primary_email_address: user.primary_email.unwrap_or_default(),
        primary_phone_number: user.primary_phone.unwrap_or_default(),
        verified_email_addresses: user.verified_emails,
        unverified_email_addresses: user.unverified_emails,
        verified_phone_numbers: user.verified_phones,
        unverified_phone_numbers: user.unverified_phones,
        totp_secret: user.totp_secret,
        password_digest: user.password_digest,
        password_hasher: user.password_hasher,
    }
}

/// Writes the generator's plaintext passwords side file
/// (`user_id,email,username,password,password_hasher`).
pub fn write_passwords(
    path: &Path,
    rows: &[crate::generate::planted::PasswordRow],
) -> Result<(), SandboxError> {
    let failed = write_failed(path);
    let mut writer = csv_writer(path)?;
    writer
        .write_record([
            "user_id",
            "email",
            "username",
            "password",
            "password_hasher",
        ])
        .map_err(failed)?;
    for row in rows {
        // By hand: `Secret` serialises as `***`, and the file is the one
        // place the plain text belongs.
        writer
            .write_record([
                row.user_id.as_str(),
                &row.email,
                &row.username,
                row.password.expose(),
                &row.password_hasher,
            ])
            .map_err(failed)?;
    }
    writer.flush().map_err(|source| SandboxError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a passwords side file back (tests and `verify` use it).
pub fn read_passwords(
    path: &Path,
) -> Result<Vec<crate::generate::planted::PasswordRow>, SandboxError> {
    let mut reader = csv::Reader::from_path(path).map_err(|error| SandboxError::Csv {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    reader
        .deserialize()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| SandboxError::Csv {
            path: path.to_path_buf(),
            message: "not a passwords file".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_rows_extra_columns_a_bom_and_a_comment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(
            &path,
            "\u{feff}# a comment line, as in Clerk's sample\n\
             extra,id,primary_email_address,verified_email_addresses,unverified_email_addresses,primary_phone_number,password_digest,password_hasher,totp_secret\n\
             x,user_1,a@acme.test,a@acme.test|b@acme.test,c@acme.test,,$2b$04$abc,bcrypt,JBSWY3DP\n\
             y,user_2,,,,+15550100\n",
        )
        .unwrap();
        let rows = read_csv(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].verified_email_addresses,
            ["a@acme.test", "b@acme.test"]
        );
        assert_eq!(rows[0].password_hasher.as_deref(), Some("bcrypt"));
        assert_eq!(
            rows[0].totp_secret.as_ref().map(Secret::expose),
            Some("JBSWY3DP")
        );
        assert_eq!(rows[1].primary_phone_number, "+15550100");
        assert!(rows[1].password_digest.is_none());

        let tenant = crate::tenant::tenant_from_export(&rows);
        let user = &tenant.users[0];
        let emails: Vec<(&str, bool)> = user
            .email_addresses
            .iter()
            .map(|e| (e.email_address.as_str(), e.is_verified()))
            .collect();
        assert_eq!(
            emails,
            [
                ("a@acme.test", true),
                ("b@acme.test", true),
                ("c@acme.test", false)
            ]
        );
        assert_eq!(user.primary_email().unwrap().email_address, "a@acme.test");
        assert!(user.password_enabled && user.totp_enabled);
        assert!(tenant.users[1].primary_email_address_id.is_none());
    }

    #[test]
    fn writes_what_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        let generated = crate::generate::generate(crate::GeneratorOptions {
            users: 200,
            organizations: 0,
            seed: 4,
        });
        write_csv(&path, &generated.export).unwrap();
        assert_eq!(read_csv(&path).unwrap(), generated.export);
        let first_line = std::fs::read_to_string(&path).unwrap();
        assert!(first_line.starts_with(&HEADER.join(",")));
    }

    #[test]
    fn a_file_without_ids_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(&path, "name,email\nA,a@acme.test\n").unwrap();
        assert!(matches!(read_csv(&path), Err(SandboxError::Csv { .. })));
    }
}
