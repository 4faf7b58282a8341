//! Message images: checked, cleaned, stored, and handed to clients as URLs.
//!
//! # Flow
//! An upload ([`Media::prepare`]) is checked against its declared type and then its magic
//! number; on a blocking thread ([`process`]) its header is read under a pixel bound before any
//! pixel is, it is decoded (the integrity check), its metadata stripped without re-encoding
//! ([`strip`]; re-encoded only to apply an EXIF rotation) and a JPEG thumbnail made. Its keys are
//! chosen then, ours and never the client's file name ([`keys`]), so the caller can record them
//! before any file exists; [`Media::store`] then puts both files in the [`store`]: a folder, or
//! an S3 bucket ([`s3`]). (That record is how an upload whose message never committed is found
//! and removed later: `workers::orphans`.)
//!
//! Clients get an absolute URL per key ([`Media::url`]): Spotter's own `/media/<key>`, signed and
//! expiring ([`signing`]), which the HTTP layer checks with [`Media::verify`] and answers from
//! [`Media::fetch`]; or, with a CDN base URL, the operator's CDN, unsigned.

mod keys;
mod process;
mod s3;
mod signing;
mod store;
mod strip;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::clock::Micros;
use process::ImageKind;
use signing::Signer;
use store::Store;

pub use process::{INVALID_IMAGE, TOO_LARGE};

/// Counter of stored files that could not be removed (left behind in the store).
pub const REMOVE_FAILURES: &str = "spotter_media_remove_failures_total";

/// How long a signed URL stays valid by default.
pub const DEFAULT_URL_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// The decode bound by default: a 40-megapixel photo decodes, a bigger one is refused.
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// Where media lives and how its URLs are made.
pub struct MediaConfig {
    /// The folder store keeps files under `data_dir/media/<key>`.
    pub data_dir: PathBuf,
    /// `SPOTTER_MEDIA_STORE`: `s3://bucket/prefix` for an S3-compatible bucket (endpoint,
    /// region and keys from the usual `AWS_*` variables); `None` for the folder.
    pub store: Option<String>,
    /// The HMAC key of signed URLs, the same on every node.
    pub signing_key: Vec<u8>,
    /// Spotter's public base URL, without a trailing slash: URLs are
    /// `<public_url>/media/<key>?e=<expiry>&s=<signature>`.
    pub public_url: String,
    /// `SPOTTER_MEDIA_BASE_URL`: when set, URLs are `<cdn_base>/<key>`, unsigned, served by the
    /// operator's CDN or bucket (which maps to the store's root: the bucket's prefix, or the
    /// folder's `media/`).
    pub cdn_base: Option<String>,
    /// How long a signed URL stays valid (at least; see [`Media::url`]).
    pub url_ttl: Duration,
    /// The decode bound: an image of more pixels is refused before it is decoded.
    pub max_pixels: u64,
}

impl MediaConfig {
    /// A folder store under `data_dir`, with the default TTL and pixel bound.
    pub fn new(data_dir: PathBuf, signing_key: Vec<u8>, public_url: String) -> Self {
        Self {
            data_dir,
            store: None,
            signing_key,
            public_url,
            cdn_base: None,
            url_ttl: DEFAULT_URL_TTL,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

impl std::fmt::Debug for MediaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaConfig")
            .field("data_dir", &self.data_dir)
            .field("store", &self.store)
            .field("signing_key", &"<redacted>")
            .field("public_url", &self.public_url)
            .field("cdn_base", &self.cdn_base)
            .field("url_ttl", &self.url_ttl)
            .field("max_pixels", &self.max_pixels)
            .finish()
    }
}

/// An image as stored: its key, its thumbnail's key, and its size as displayed (after the EXIF
/// orientation is applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub key: String,
    pub thumbnail: String,
    pub width: u32,
    pub height: u32,
}

/// An upload checked and cleaned, its keys chosen, not stored yet ([`Media::prepare`]).
pub struct Prepared {
    key: String,
    thumbnail: String,
    kind: ImageKind,
    processed: process::Processed,
}

impl Prepared {
    /// The keys its files will have: the image's, then the thumbnail's.
    pub fn keys(&self) -> [&str; 2] {
        [&self.key, &self.thumbnail]
    }
}

/// A stored file, as served.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Bytes,
    pub content_type: &'static str,
}

/// Why an upload was refused. The first two are the client's (400, with this text); `Storage`
/// is ours (500, logged).
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The declared type is not JPEG, PNG or WebP, or the bytes are not of the declared type.
    #[error("Only JPEG, PNG, and WebP images are supported.")]
    UnsupportedType,
    /// Not a decodable image, or too large to decode ([`TOO_LARGE`], [`INVALID_IMAGE`]).
    #[error("{0}")]
    Invalid(String),
    #[error("Could not store the image.")]
    Storage(#[source] anyhow::Error),
}

/// Why a `/media/` request's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("The media link is missing its expiry or signature.")]
    Missing,
    #[error("The media link has expired.")]
    Expired,
    #[error("The media link's signature is not valid.")]
    BadSignature,
}

/// The media store and its URLs. Cheap to clone.
#[derive(Clone)]
pub struct Media(Arc<Inner>);

struct Inner {
    store: Store,
    signer: Signer,
    public_url: String,
    cdn_base: Option<String>,
    url_ttl: Duration,
    max_pixels: u64,
    /// Decodes at once, one per core: each may hold a full-size bitmap (`max_pixels` × 4 bytes,
    /// more for a progressive JPEG's coefficients while it decodes).
    decoding: Arc<Semaphore>,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("store", &self.0.store)
            .field("public_url", &self.0.public_url)
            .field("cdn_base", &self.0.cdn_base)
            .finish_non_exhaustive()
    }
}

/// Whether `declared` is a type messages take (JPEG, PNG, WebP), whatever the bytes.
pub fn declared_ok(declared: &str) -> bool {
    ImageKind::from_declared(declared).is_some()
}

/// Whether an upload is what it claims, by its declared type and its magic number: the check
/// that comes before any other of an image's (the rest need a decode, once the request is known
/// to be allowed).
pub fn accepts(declared: &str, bytes: &[u8]) -> bool {
    ImageKind::from_declared(declared).is_some_and(|k| k.has_magic(bytes))
}

impl Media {
    /// Opens the store: creates the folder, or reads the bucket's settings from the environment
    /// and checks that the bucket answers.
    pub async fn open(cfg: MediaConfig) -> anyhow::Result<Media> {
        let store = match &cfg.store {
            None => Store::folder(cfg.data_dir.join("media")).await?,
            Some(url) => {
                let settings = s3::Settings::parse(url, |name| std::env::var(name).ok())
                    .context("SPOTTER_MEDIA_STORE")?;
                Store::s3(settings).await?
            }
        };
        let parallel = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Media(Arc::new(Inner {
            store,
            signer: Signer::new(&cfg.signing_key)?,
            public_url: cfg.public_url.trim_end_matches('/').to_owned(),
            cdn_base: cfg.cdn_base.map(|b| b.trim_end_matches('/').to_owned()),
            url_ttl: cfg.url_ttl,
            max_pixels: cfg.max_pixels,
            decoding: Arc::new(Semaphore::new(parallel)),
        })))
    }

    /// Checks and stores an uploaded image; `declared` is the multipart part's Content-Type.
    /// [`Media::prepare`] then [`Media::store`], for a caller with nothing to record between.
    pub async fn put_image(&self, declared: &str, bytes: Bytes) -> Result<StoredImage, ImageError> {
        let prepared = self.prepare(declared, bytes).await?;
        self.store(prepared).await
    }

    /// Checks, decodes and cleans an upload and names its files, storing nothing yet: the
    /// caller learns the keys first, to record them before any file exists (an upload
    /// interrupted after [`Media::store`] is then found again and removed).
    pub async fn prepare(&self, declared: &str, bytes: Bytes) -> Result<Prepared, ImageError> {
        let kind = ImageKind::from_declared(declared).ok_or(ImageError::UnsupportedType)?;
        if !kind.has_magic(&bytes) {
            return Err(ImageError::UnsupportedType);
        }
        let permit = Arc::clone(&self.0.decoding)
            .acquire_owned()
            .await
            .map_err(|e| ImageError::Storage(anyhow::anyhow!("media decoding closed: {e}")))?;
        let max_pixels = self.0.max_pixels;
        // The permit goes with the work: a request dropped meanwhile does not free its slot
        // before the decode it started has ended.
        let done = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            process::process(kind, bytes, max_pixels)
        })
        .await;
        let processed = match done {
            Ok(result) => result?,
            // A decoder bug must not take the request down with it: the file is refused.
            Err(e) => {
                tracing::error!(error = %e, "media: image processing panicked");
                return Err(ImageError::Invalid(INVALID_IMAGE.to_owned()));
            }
        };
        let id = keys::new_id();
        Ok(Prepared {
            key: keys::image_key(&id, kind),
            thumbnail: keys::thumbnail_key(&id),
            kind,
            processed,
        })
    }

    /// Stores a prepared image's two files, the thumbnail first (an image is never stored
    /// without its thumbnail); on a failure, what was stored is removed.
    pub async fn store(&self, prepared: Prepared) -> Result<StoredImage, ImageError> {
        let Prepared {
            key,
            thumbnail,
            kind,
            processed,
        } = prepared;
        let store = &self.0.store;
        store
            .put(
                &thumbnail,
                processed.thumbnail,
                ImageKind::Jpeg.content_type(),
            )
            .await
            .map_err(ImageError::Storage)?;
        if let Err(e) = store.put(&key, processed.image, kind.content_type()).await {
            self.remove(&thumbnail, None).await;
            return Err(ImageError::Storage(e));
        }
        Ok(StoredImage {
            key,
            thumbnail,
            width: processed.width,
            height: processed.height,
        })
    }

    /// Stores an image that comes from elsewhere (`spotter import original`): its type told by
    /// its bytes, then the same checks, cleaning and thumbnail as an upload's.
    pub async fn put_imported(&self, bytes: Bytes) -> Result<StoredImage, ImageError> {
        let kind = [ImageKind::Jpeg, ImageKind::Png, ImageKind::WebP]
            .into_iter()
            .find(|k| k.has_magic(&bytes))
            .ok_or(ImageError::UnsupportedType)?;
        self.put_image(kind.content_type(), bytes).await
    }

    /// Deletes one stored file (an absent one is not an error), saying whether it could.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.0.store.delete(key).await
    }

    /// Removes an image and its thumbnail (best effort: a failure is logged and counted in
    /// [`REMOVE_FAILURES`], never returned); whether both are gone. Absent files are not a
    /// failure.
    pub async fn remove(&self, image_key: &str, thumbnail_key: Option<&str>) -> bool {
        let mut gone = true;
        for key in std::iter::once(image_key).chain(thumbnail_key) {
            let result = if keys::is_valid(key) {
                self.0.store.delete(key).await
            } else {
                Err(anyhow::anyhow!("not a media key"))
            };
            if let Err(e) = result {
                tracing::warn!(
                    key,
                    error = format!("{e:#}"),
                    "media: could not remove a file"
                );
                metrics::counter!(REMOVE_FAILURES).increment(1);
                gone = false;
            }
        }
        gone
    }

    /// The stored bytes of a key and their content type; `None` if absent, or if `key` is not a
    /// key this module could have made (a path-traversal attempt finds nothing).
    pub async fn fetch(&self, key: &str) -> anyhow::Result<Option<Fetched>> {
        if !keys::is_valid(key) {
            return Ok(None);
        }
        Ok(self.0.store.get(key).await?.map(|bytes| Fetched {
            bytes,
            content_type: keys::content_type(key),
        }))
    }

    /// The absolute URL of a key for clients, as of `now`: `<cdn_base>/<key>` with a CDN base
    /// URL, else `<public_url>/media/<key>?e=<expiry>&s=<signature>`. The expiry is rounded up
    /// to a whole hour, so a key has one URL for up to an hour (clients' image caches keep
    /// hitting), and it is at least `url_ttl` away.
    pub fn url(&self, key: &str, now: Micros) -> String {
        if let Some(base) = &self.0.cdn_base {
            return format!("{base}/{key}");
        }
        let expires = signing::expiry(now, self.0.url_ttl);
        let sig = self.0.signer.sign(key, expires);
        format!("{}/media/{key}?e={expires}&s={sig}", self.0.public_url)
    }

    /// Checks a `/media/` request's query (`e`, `s`) for `key` at `now`.
    pub fn verify(
        &self,
        key: &str,
        expires: Option<&str>,
        sig: Option<&str>,
        now: Micros,
    ) -> Result<(), UrlError> {
        let (Some(expires), Some(sig)) = (expires, sig) else {
            return Err(UrlError::Missing);
        };
        if expires.is_empty() || sig.is_empty() {
            return Err(UrlError::Missing);
        }
        // Never signed: no URL of ours names such a key.
        if !keys::is_valid(key) {
            return Err(UrlError::BadSignature);
        }
        self.0.signer.verify(key, expires, sig, now)
    }
}

/// What turns the keys inside messages into the URLs clients load, as of the clock's now.
pub struct Links {
    pub media: Media,
    pub clock: crate::clock::Clock,
}

impl crate::wire::MediaUrls for Links {
    fn media_url(&self, key: &str) -> String {
        self.media.url(key, self.clock.now())
    }
}

#[cfg(test)]
mod tests;
