//! An S3-compatible bucket (AWS, MinIO, R2, Ceph, ...), through the process's one HTTP stack:
//! rusty-s3 signs each request as a short presigned URL (SigV4, no I/O of its own) and reqwest
//! sends it.
//!
//! Configured by `SPOTTER_MEDIA_STORE=s3://bucket/prefix` and the usual variables:
//! `AWS_ENDPOINT_URL` (a custom endpoint; then path-style addressing, which every S3-compatible
//! server takes), `AWS_REGION` (default `us-east-1`), `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (temporary credentials);
//! `SPOTTER_MEDIA_S3_ADDRESSING=path|virtual` overrides the addressing style.
//!
//! Signing reads the system time (inside rusty-s3), not Spotter's clock: the signature must
//! match the server's real time, like a network timeout and unlike behaviour.

use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use reqwest::StatusCode;
use rusty_s3::actions::S3Action as _;
use rusty_s3::{Bucket, Credentials, UrlStyle};

/// How long each presigned request stays valid: the time to start sending it.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// A key no upload can have (keys never start with `.`), read once at start to check the bucket.
const PROBE_KEY: &str = ".spotter-store-check";

/// Where the bucket is and who we are to it.
#[derive(Debug)]
pub(super) struct Settings {
    bucket: Bucket,
    /// Prepended to every key (`prefix/key`); empty for the bucket's root.
    prefix: String,
    /// Its `Debug` keeps the secret out of logs.
    credentials: Credentials,
}

impl Settings {
    /// Reads `s3://bucket/prefix` and the environment (through `env`, so tests need not touch
    /// the process's).
    pub(super) fn parse(
        store: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let Some(rest) = store.strip_prefix("s3://") else {
            bail!("{store:?} is not an s3://bucket/prefix URL");
        };
        let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if name.is_empty() {
            bail!("{store:?} names no bucket");
        }
        let prefix = prefix.trim_matches('/').to_owned();
        if prefix.split('/').any(|s| s == "." || s == "..") {
            bail!("{store:?}: the prefix may not contain . or .. segments");
        }
        let region = env("AWS_REGION").unwrap_or_else(|| "us-east-1".to_owned());
        let custom = env("AWS_ENDPOINT_URL");
        let endpoint = match &custom {
            Some(url) => url.clone(),
            None => format!("https://s3.{region}.amazonaws.com"),
        };
        let endpoint: url::Url = endpoint
            .parse()
            .with_context(|| format!("AWS_ENDPOINT_URL {endpoint:?}"))?;
        let style = match env("SPOTTER_MEDIA_S3_ADDRESSING").as_deref() {
            Some("path") => UrlStyle::Path,
            Some("virtual") => UrlStyle::VirtualHost,
            None if custom.is_some() => UrlStyle::Path,
            None => UrlStyle::VirtualHost,
            Some(other) => bail!("SPOTTER_MEDIA_S3_ADDRESSING is {other:?}: path or virtual"),
        };
        let bucket = Bucket::new(endpoint, style, name.to_owned(), region)
            .map_err(|e| anyhow::anyhow!("bucket {name:?}: {e}"))?;
        let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        else {
            bail!("an S3 media store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        };
        let credentials = match env("AWS_SESSION_TOKEN") {
            Some(token) => Credentials::new_with_token(key, secret, token),
            None => Credentials::new(key, secret),
        };
        Ok(Settings {
            bucket,
            prefix,
            credentials,
        })
    }
}

pub(super) struct S3 {
    settings: Settings,
    http: reqwest::Client,
}

impl std::fmt::Display for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.settings;
        write!(
            f,
            "s3://{}/{} at {}",
            s.bucket.name(),
            s.prefix,
            s.bucket.base_url()
        )
    }
}

impl S3 {
    pub(super) fn new(settings: Settings) -> anyhow::Result<Self> {
        // reqwest is built without a TLS provider of its own: rustls's ring, once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .context("the S3 HTTP client")?;
        Ok(Self { settings, http })
    }

    fn object(&self, key: &str) -> String {
        match self.settings.prefix.as_str() {
            "" => key.to_owned(),
            prefix => format!("{prefix}/{key}"),
        }
    }

    /// Reads a key that cannot exist: "no such key" proves the endpoint, the bucket and the
    /// credentials. "Access denied" is let through with a warning, as least-privilege policies
    /// (no `s3:ListBucket`) answer it for absent keys.
    pub(super) async fn check(&self) -> anyhow::Result<()> {
        let s = &self.settings;
        let object = self.object(PROBE_KEY);
        let url = s
            .bucket
            .get_object(Some(&s.credentials), &object)
            .sign(SIGNED_FOR);
        let response = self
            .http
            .get(url)
            .send()
            .await
            .with_context(|| format!("media store {self}: no answer"))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        match (status, error_code(&body)) {
            (s, _) if s.is_success() => Ok(()),
            (StatusCode::NOT_FOUND, Some("NoSuchKey")) => Ok(()),
            (StatusCode::FORBIDDEN, Some("AccessDenied")) => {
                tracing::warn!(
                    store = %self,
                    "media store: access denied to an absent key; grant s3:ListBucket so that \
                     absent files answer 404 (uploads are not affected)"
                );
                Ok(())
            }
            (status, code) => bail!(
                "media store {self}: {status} {}",
                code.unwrap_or("(no error code)")
            ),
        }
    }

    pub(super) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> anyhow::Result<()> {
        let s = &self.settings;
        let object = self.object(key);
        let url = s
            .bucket
            .put_object(Some(&s.credentials), &object)
            .sign(SIGNED_FOR);
        let response = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await?;
        expect_success(response).await
    }

    pub(super) async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        let s = &self.settings;
        let object = self.object(key);
        let url = s
            .bucket
            .get_object(Some(&s.credentials), &object)
            .sign(SIGNED_FOR);
        let response = self.http.get(url).send().await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return expect_success(response).await.map(|()| None);
        }
        Ok(Some(response.bytes().await?))
    }

    pub(super) async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let s = &self.settings;
        let object = self.object(key);
        let url = s
            .bucket
            .delete_object(Some(&s.credentials), &object)
            .sign(SIGNED_FOR);
        let response = self.http.delete(url).send().await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        expect_success(response).await
    }
}

async fn expect_success(response: reqwest::Response) -> anyhow::Result<()> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    bail!("S3 answered {status} {}", error_code(&body).unwrap_or(""))
}

/// The `<Code>` of an S3 XML error body.
fn error_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    let len = body[start..].find("</Code>")?;
    Some(&body[start..start + len])
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const KEYS: [(&str, &str); 2] = [
        ("AWS_ACCESS_KEY_ID", "AKIA"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];

    #[test]
    fn a_custom_endpoint_is_addressed_by_path() {
        let vars = [
            KEYS[0],
            KEYS[1],
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
        ];
        let s = Settings::parse("s3://photos/spotter/media/", env(&vars)).unwrap();
        assert_eq!(s.prefix, "spotter/media");
        assert_eq!(s.bucket.region(), "us-east-1");
        assert_eq!(
            s.bucket.base_url().as_str(),
            "http://127.0.0.1:9000/photos/"
        );
        assert!(!format!("{s:?}").contains("secret"));
    }

    #[test]
    fn aws_is_addressed_by_virtual_host_in_its_region() {
        let vars = [KEYS[0], KEYS[1], ("AWS_REGION", "eu-west-3")];
        let s = Settings::parse("s3://photos", env(&vars)).unwrap();
        assert_eq!(s.prefix, "");
        assert_eq!(
            s.bucket.base_url().as_str(),
            "https://photos.s3.eu-west-3.amazonaws.com/"
        );
    }

    #[test]
    fn a_store_without_keys_or_bucket_is_refused() {
        assert!(Settings::parse("s3://photos/media", env(&[])).is_err());
        assert!(Settings::parse("s3:///media", env(&KEYS)).is_err());
        assert!(Settings::parse("/var/media", env(&KEYS)).is_err());
        assert!(Settings::parse("s3://photos/../x", env(&KEYS)).is_err());
        let bad_style = [KEYS[0], KEYS[1], ("SPOTTER_MEDIA_S3_ADDRESSING", "dns")];
        assert!(Settings::parse("s3://photos", env(&bad_style)).is_err());
    }

    #[test]
    fn the_error_code_is_read_from_an_s3_error_body() {
        let body = "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>x</Message>";
        assert_eq!(error_code(body), Some("NoSuchBucket"));
        assert_eq!(error_code(""), None);
    }
}
