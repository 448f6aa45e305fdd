//! How ferry and its sandbox write files: every file owner-only (0600),
//! every folder they create owner-only (0700), whole files written beside
//! their name and renamed into place so nothing half-written is left, no
//! symbolic link ever followed (a link planted in a report folder must not
//! redirect people's emails into another file, nor change its mode), and
//! no value from outside (a Clerk id, a hook's result) ever used as a path
//! component as it is ([`safe_name`]).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;
/// The longest id kept as it is in a file name.
const MAX_NAME: usize = 64;

/// Creates `dir` and its missing parents, each owner-only.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates the folder a file goes in.
fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => create_dir(parent),
        None => Ok(()),
    }
}

/// Opens `path` for writing from the start, owner-only, creating its folder.
/// A file that exists already is made owner-only too; a symbolic link at
/// `path` is removed (ferry makes none), never followed.
pub fn create(path: &Path) -> io::Result<File> {
    create_parent(path)?;
    remove_link(path)?;
    let file = no_links(
        path,
        OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path),
    )?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Opens `path` for appending, owner-only, creating it and its folder; a
/// symbolic link at `path` is removed (ferry makes none), never followed.
pub fn append(path: &Path) -> io::Result<File> {
    create_parent(path)?;
    remove_link(path)?;
    let file = no_links(
        path,
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path),
    )?;
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Creates `path` anew, owner-only: whatever stood there (a stale file, a
/// planted link) is removed first, and the new file is opened only if
/// this call made it.
fn create_new(path: &Path) -> io::Result<File> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    no_links(
        path,
        OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path),
    )
}

/// Removes a symbolic link standing at `path` (a planted one: ferry's
/// files are never links); anything else stays.
fn remove_link(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::remove_file(path),
        _ => Ok(()),
    }
}

/// Names the refusal when `path` is a symbolic link (`O_NOFOLLOW` answers
/// ELOOP): one planted again between the removal and the open.
fn no_links(path: &Path, opened: io::Result<File>) -> io::Result<File> {
    opened.map_err(|error| {
        if error.raw_os_error() == Some(libc::ELOOP) {
            io::Error::other(format!(
                "{} is a symbolic link; ferry writes through no link: remove it",
                path.display()
            ))
        } else {
            error
        }
    })
}

/// Writes `bytes` to `path` whole: to a file beside it first, renamed into
/// place once complete, so a crash leaves the old file or the new one.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |out| out.write_all(bytes))
}

/// Writes `path` whole as [`write`] does, from what `fill` writes to it (a
/// buffered writer), so a long file is never held in memory.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    create_parent(path)?;
    let partial = partial_path(path);
    let result = create_new(&partial).and_then(|file| {
        let mut out = io::BufWriter::new(file);
        fill(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    });
    match result.and_then(|()| std::fs::rename(&partial, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// `name.ext.partial` beside `path`: where a file is written before it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// A file-name stem for an untrusted id: the id itself when it is a plain
/// identifier (letters, digits, `_`, `-`, at most 64), otherwise what is
/// plain of it, a `.` and a hash of the whole id. A plain id holds no `.`,
/// so no id can take another's name, and none can climb out of its folder
/// (`..`, `/`, NUL, absolute paths).
pub fn safe_name(id: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !id.is_empty() && id.len() <= MAX_NAME && id.chars().all(plain) {
        return id.to_owned();
    }
    let kept: String = id.chars().filter(|c| plain(*c)).take(32).collect();
    let hash = hex::encode(&Sha256::digest(id.as_bytes())[..8]);
    if kept.is_empty() {
        format!("id.{hash}")
    } else {
        format!("{kept}.{hash}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_stay_and_others_cannot_escape_or_collide() {
        assert_eq!(safe_name("user_2Q6pXYZ"), "user_2Q6pXYZ");
        for hostile in ["../../x", "/etc/passwd", "a/b", "..", ".", "", "a\0b", "é"] {
            let name = safe_name(hostile);
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)),
                "{hostile:?} → {name}"
            );
            assert!(!name.is_empty() && !name.starts_with('.'));
        }
        assert_ne!(safe_name("a/b"), safe_name("a\\b"));
        assert_ne!(safe_name("../x"), safe_name("./x"));
        // A plain id spelled like another id's safe name is still its own.
        let hashed = safe_name("x/y");
        assert_ne!(safe_name(&hashed.replace('.', "-")), hashed);
        assert_eq!(
            safe_name(&hashed.replace('.', "-")),
            hashed.replace('.', "-")
        );
        assert!(safe_name(&"a".repeat(1000)).len() < 60);
    }

    #[test]
    fn files_and_folders_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.txt");
        write(&path, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert!(!partial_path(&path).exists());
        // An existing world-readable file becomes owner-only when ferry writes it.
        let open = dir.path().join("open.txt");
        std::fs::write(&open, "x").unwrap();
        std::fs::set_permissions(&open, Permissions::from_mode(0o644)).unwrap();
        create(&open).unwrap();
        assert_eq!(mode(&open), 0o600);
    }

    #[test]
    fn no_planted_link_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("operator-notes.txt");
        std::fs::write(&victim, "mine").unwrap();
        std::fs::set_permissions(&victim, Permissions::from_mode(0o644)).unwrap();
        let report = dir.path().join("report.md");
        std::os::unix::fs::symlink(&victim, partial_path(&report)).unwrap();
        write(&report, b"the report").unwrap();
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "the report");
        assert!(!std::fs::symlink_metadata(&report).unwrap().is_symlink());
        // A link at a list's name is replaced by the list, not written through.
        for open in [create, append] {
            let list = dir.path().join("people.csv");
            let _ = std::fs::remove_file(&list);
            std::os::unix::fs::symlink(&victim, &list).unwrap();
            std::io::Write::write_all(&mut open(&list).unwrap(), b"emails").unwrap();
            assert!(!std::fs::symlink_metadata(&list).unwrap().is_symlink());
            assert_eq!(std::fs::read_to_string(&list).unwrap(), "emails");
        }
        let list = dir.path().join("people.csv");
        std::os::unix::fs::symlink(&victim, dir.path().join("other.csv")).unwrap();
        write(&list, b"emails").unwrap();
        assert!(!std::fs::symlink_metadata(&list).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
        let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "the operator's file keeps its mode");
    }
}
