//! `spotter backup <file>` and `spotter restore <file>`: the SQLite deployment's data folder,
//! copied while a server runs, and put back into an empty folder.
//!
//! A backup is three things side by side: `<file>`, the database (SQLite's online backup API
//! from a connection of its own: a consistent copy as of one moment, while the server goes on
//! writing); `<file>.media/`, the local media folder; `<file>.jwt-secret`, the token secret (when
//! the folder has one), so sessions and signed links survive a restore. The database is copied
//! first: every image it names was on disk before its message committed, so the media copied
//! after it holds them all (but an image deleted in between).
//!
//! This works on the file, not through the store's seam: it is an operator's command that needs
//! no server, and on PostgreSQL `pg_dump` is the tool (the command says so and stops).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::config::Config;

/// What a backup or a restore copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Pages of the database.
    pub pages: i64,
    /// Media files.
    pub media_files: u64,
    /// Whether the token secret went along.
    pub secret: bool,
}

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} database pages, {} media files{}",
            self.pages,
            self.media_files,
            if self.secret {
                ", the token secret"
            } else {
                ""
            }
        )
    }
}

/// The SQLite file of this configuration, or why there is none to back up or restore.
fn sqlite_path(config: &Config) -> anyhow::Result<PathBuf> {
    let url = config.database_url();
    let Some(rest) = url.strip_prefix("sqlite:") else {
        bail!(
            "the database is PostgreSQL: back it up with pg_dump and restore it with pg_restore \
             (see README, \"Backups\"); spotter backup and restore are for SQLite"
        );
    };
    let path = rest.trim_start_matches("//");
    Ok(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

/// The files that go beside a backup `file`.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Copies the configured database to `file` (consistent while a server writes), the media
/// folder to `file.media/`, and the token secret to `file.jwt-secret`. Refuses to overwrite.
pub fn backup(config: &Config, file: &Path) -> anyhow::Result<Copied> {
    let db = sqlite_path(config)?;
    ensure!(db.exists(), "there is no database at {}", db.display());
    let media_to = beside(file, ".media");
    for taken in [file, &media_to] {
        ensure!(
            !taken.exists(),
            "{} exists already: choose another name (a backup never overwrites)",
            taken.display()
        );
    }
    let source = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("opening {}", db.display()))?;
    source.busy_timeout(Duration::from_secs(10))?;
    let partial = beside(file, ".partial");
    let pages = copy_database(&source, &partial)?;
    std::fs::rename(&partial, file).with_context(|| format!("writing {}", file.display()))?;
    let media_files = copy_tree(&config.data_dir.join("media"), &media_to)?;
    let secret = copy_secret(
        &config.data_dir.join("jwt-secret"),
        &beside(file, ".jwt-secret"),
    )?;
    Ok(Copied {
        pages,
        media_files,
        secret,
    })
}

/// Puts a backup into the configured data folder, which must hold no database yet.
pub fn restore(config: &Config, file: &Path) -> anyhow::Result<Copied> {
    let db = sqlite_path(config)?;
    for taken in [db.clone(), beside(&db, "-wal")] {
        ensure!(
            !taken.exists(),
            "{} exists already: restore only into a data folder without a database \
             (move it away first if it is meant to go)",
            taken.display()
        );
    }
    ensure!(file.is_file(), "there is no backup at {}", file.display());
    let source = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening the backup {}", file.display()))?;
    let check: String = source
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    ensure!(
        check == "ok",
        "the backup {} is damaged: {check}",
        file.display()
    );
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let partial = beside(&db, ".partial");
    let pages = copy_database(&source, &partial)?;
    std::fs::rename(&partial, &db).with_context(|| format!("writing {}", db.display()))?;
    let media_files = copy_tree(&beside(file, ".media"), &config.data_dir.join("media"))?;
    let secret = copy_secret(
        &beside(file, ".jwt-secret"),
        &config.data_dir.join("jwt-secret"),
    )?;
    Ok(Copied {
        pages,
        media_files,
        secret,
    })
}

/// Copies a database with the online backup API, all pages in one step: one read transaction,
/// so the copy is the database as of one moment. In WAL mode (Spotter's) the server's writer
/// goes on meanwhile; a step that finds the database locked is retried.
fn copy_database(source: &Connection, to: &Path) -> anyhow::Result<i64> {
    let _ = std::fs::remove_file(to);
    let mut dest = Connection::open(to).with_context(|| format!("creating {}", to.display()))?;
    {
        let backup = Backup::new(source, &mut dest)?;
        let mut tries = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked => {
                    tries += 1;
                    ensure!(tries < 100, "the database stayed locked for 10 seconds");
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => {}
            }
        }
    }
    let pages = dest.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    // A file of its own: no WAL beside it (the server turns WAL on again when it opens one).
    dest.pragma_update(None, "journal_mode", "DELETE")?;
    dest.close().map_err(|(_, e)| e)?;
    Ok(pages)
}

/// Copies a folder's files, keeping the tree; files being written (`.tmp-*`) are skipped
/// (media files appear whole, by rename). A missing source copies nothing.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<u64> {
    if !from.is_dir() {
        return Ok(0);
    }
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let (source, target) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copied += copy_tree(&source, &target)?;
        } else if kind.is_file() && !name.to_string_lossy().starts_with(".tmp-") {
            if target.exists() {
                continue;
            }
            match std::fs::copy(&source, &target) {
                Ok(_) => copied += 1,
                // Removed since it was listed (its message deleted): nothing to keep.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("copying {}", source.display())),
            }
        }
    }
    Ok(copied)
}

/// Copies the token secret, readable by its owner only, unless the target has one.
fn copy_secret(from: &Path, to: &Path) -> anyhow::Result<bool> {
    if !from.is_file() || to.exists() {
        return Ok(false);
    }
    std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        Config::for_data_dir(dir.to_path_buf())
    }

    #[test]
    fn a_backup_and_its_restore_carry_the_rows_the_media_and_the_secret() {
        let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let db = Connection::open(from.path().join("spotter.db")).unwrap();
        db.pragma_update(None, "journal_mode", "WAL").unwrap();
        db.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('kept');")
            .unwrap();
        std::fs::create_dir_all(from.path().join("media/message_images")).unwrap();
        std::fs::write(from.path().join("media/message_images/a.png"), b"png").unwrap();
        std::fs::write(from.path().join("media/message_images/.tmp-1"), b"half").unwrap();
        std::fs::write(from.path().join("jwt-secret"), "s3cret").unwrap();
        let file = to.path().join("b.db");
        let copied = backup(&config(from.path()), &file).unwrap();
        assert_eq!((copied.media_files, copied.secret), (1, true));
        assert!(backup(&config(from.path()), &file).is_err(), "overwrote");

        let data = to.path().join("data");
        let restored = restore(&config(&data), &file).unwrap();
        assert_eq!(restored.media_files, 1);
        let back = Connection::open(data.join("spotter.db")).unwrap();
        let v: String = back.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(v, "kept");
        assert_eq!(
            std::fs::read(data.join("media/message_images/a.png")).unwrap(),
            b"png"
        );
        assert_eq!(
            std::fs::read_to_string(data.join("jwt-secret")).unwrap(),
            "s3cret"
        );
        let again = restore(&config(&data), &file).unwrap_err().to_string();
        assert!(again.contains("exists already"), "{again}");
    }

    #[test]
    fn postgres_is_backed_up_with_pg_dump() {
        let mut c = config(Path::new("/nowhere"));
        c.database_url = Some("postgres://localhost/spotter".to_owned());
        let e = backup(&c, Path::new("/tmp/x.db")).unwrap_err().to_string();
        assert!(e.contains("pg_dump"), "{e}");
    }
}
