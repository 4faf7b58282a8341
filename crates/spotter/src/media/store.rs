//! Where the files live: a local folder, or an S3-compatible bucket ([`super::s3`]). Two
//! backends that really differ, behind one small enum; keys reach them already checked
//! ([`super::keys::is_valid`]), and are checked again here, as the last line before a path or URL.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bytes::Bytes;

use super::keys;
use super::s3;

pub(super) enum Store {
    Folder(Folder),
    /// Boxed: the bucket's settings and client are ten times the folder's path.
    S3(Box<s3::S3>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Folder(folder) => write!(f, "Folder({})", folder.root.display()),
            Self::S3(s3) => write!(f, "S3({s3})"),
        }
    }
}

impl Store {
    pub(super) async fn folder(root: PathBuf) -> anyhow::Result<Self> {
        tokio::fs::create_dir_all(&root)
            .await
            .with_context(|| format!("creating the media folder {}", root.display()))?;
        Ok(Self::Folder(Folder { root }))
    }

    pub(super) async fn s3(settings: s3::Settings) -> anyhow::Result<Self> {
        let s3 = s3::S3::new(settings)?;
        s3.check().await?;
        Ok(Self::S3(Box::new(s3)))
    }

    pub(super) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> anyhow::Result<()> {
        checked(key)?;
        match self {
            Self::Folder(folder) => folder.put(key, bytes).await,
            Self::S3(s3) => s3.put(key, bytes, content_type).await,
        }
        .with_context(|| format!("storing {key}"))
    }

    pub(super) async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        checked(key)?;
        match self {
            Self::Folder(folder) => folder.get(key).await,
            Self::S3(s3) => s3.get(key).await,
        }
        .with_context(|| format!("reading {key}"))
    }

    /// Deleting an absent key succeeds.
    pub(super) async fn delete(&self, key: &str) -> anyhow::Result<()> {
        checked(key)?;
        match self {
            Self::Folder(folder) => folder.delete(key).await,
            Self::S3(s3) => s3.delete(key).await,
        }
        .with_context(|| format!("removing {key}"))
    }
}

fn checked(key: &str) -> anyhow::Result<()> {
    anyhow::ensure!(keys::is_valid(key), "not a media key: {key:?}");
    Ok(())
}

/// Files under `root/<key>`.
pub(super) struct Folder {
    root: PathBuf,
}

impl Folder {
    async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        let path = self.root.join(key);
        tokio::task::spawn_blocking(move || write_whole(&path, &bytes)).await??;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match tokio::fs::read(self.root.join(key)).await {
            Ok(bytes) => Ok(Some(bytes.into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.root.join(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Writes a file so that no reader ever sees part of it: into a hidden temporary file beside it
/// (same folder, so the same file system), flushed to disk, then renamed over the name.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("a media key names no folder"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{:016x}", rand::random::<u64>()));
    let written = std::fs::File::create_new(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
