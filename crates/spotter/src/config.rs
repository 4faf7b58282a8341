//! Server configuration, from four layers: the defaults written here (the one place they are),
//! a TOML file (`--config FILE`, `SPOTTER_CONFIG`, or `./spotter.toml` when present), then
//! `SPOTTER_*` environment variables, then flags; each layer overrides the ones before.
//! [`Flags`] is what clap parses (every setting optional, with its variable); [`Flags::load`]
//! merges the layers with figment into a [`Config`]. Secrets are wrapped so they never print in
//! `Debug`, logs or `spotter config`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A string that must not appear in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

/// The value itself: serialized only to merge the layers; [`Config::to_toml`] shows stars.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// How a setting is written as a flag or an environment variable: the value without the
/// `Option` of an optional setting.
pub trait Setting {
    type Flag;
}

macro_rules! plain_settings {
    ($($ty:ty),*) => { $(impl Setting for $ty { type Flag = $ty; })* };
}
plain_settings!(SocketAddr, PathBuf, String, u32, u64, usize, bool);
impl Setting for Option<String> {
    type Flag = String;
}
impl Setting for Option<PathBuf> {
    type Flag = PathBuf;
}
impl Setting for Option<Secret> {
    type Flag = Secret;
}

/// Settings shown as stars by `spotter config`; passwords in URLs are starred too.
const SECRETS: &[&str] = &["jwt_secret", "vapid_private_key"];

/// The file read when none is named, if it is there.
pub const DEFAULT_FILE: &str = "spotter.toml";

/// Every setting, once: its doc (the flag's help), type, default and environment variable.
/// Generates [`Config`] (the values in force), its `Default`, and [`Flags`] (what clap parses).
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty = $default:expr, env $env:literal $([$($extra:tt)*])?;
    )*) => {
        /// The settings in force (see the module doc for where each comes from).
        #[derive(Debug, Clone, Deserialize, Serialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $name: $ty, )*
        }

        impl Default for Config {
            fn default() -> Self {
                Self { $( $name: $default, )* }
            }
        }

        /// The settings given on the command line or in the environment; unset ones come from
        /// the file, else the defaults.
        #[derive(Debug, Clone, Default, clap::Args, Serialize)]
        pub struct Flags {
            /// A TOML file of settings (keys as the flags, with `_`: `bind = "0.0.0.0:8000"`);
            /// by default `./spotter.toml` when present.
            #[arg(long = "config", env = "SPOTTER_CONFIG", value_name = "FILE")]
            #[serde(skip)]
            pub config_file: Option<PathBuf>,
            $(
                $(#[doc = $doc])*
                #[arg(long, env = $env $(, $($extra)*)?)]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $name: Option<<$ty as Setting>::Flag>,
            )*
        }
    };
}

settings! {
    /// Address to listen on; port 0 picks a free port (the real one is printed).
    bind: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8000)), env "SPOTTER_BIND";
    /// Folder for the SQLite database and generated secrets.
    data_dir: PathBuf = PathBuf::from("spotter-data"), env "SPOTTER_DATA_DIR";
    /// `sqlite://…` or `postgres://…`; by default `<data dir>/spotter.db`.
    database_url: Option<String> = None, env "SPOTTER_DATABASE_URL";
    /// HS256 key for JWTs (the host platform's Django `SECRET_KEY` to share its tokens); by
    /// default generated once and kept in the data folder.
    jwt_secret: Option<Secret> = None, env "SPOTTER_JWT_SECRET" [hide_env_values = true];
    /// Sends and conversation starts allowed per user per minute (the contract says 30).
    /// Raise it only for load tests.
    send_rate_per_minute: u32 = 30, env "SPOTTER_SEND_RATE_PER_MINUTE";
    /// Login and refresh attempts allowed per client address per minute.
    auth_rate_per_minute: u32 = 30, env "SPOTTER_AUTH_RATE_PER_MINUTE";
    /// Redis for several nodes (`redis://127.0.0.1:6379`); unset, events stay in this process.
    redis_url: Option<String> = None, env "SPOTTER_REDIS_URL";
    /// The Redis pub/sub channel; nodes of one deployment share it, other deployments must not.
    redis_channel: String = "spotter:events".to_owned(), env "SPOTTER_REDIS_CHANNEL";
    /// Events queued for one socket before it counts as too slow and is closed (1013).
    ws_queue: usize = 256, env "SPOTTER_WS_QUEUE";
    /// A typing indicator not refreshed within this many milliseconds is cleared.
    typing_ttl_ms: u64 = 6000, env "SPOTTER_TYPING_TTL_MS";
    /// The server pings each socket this often (seconds) …
    ws_ping_secs: u64 = 30, env "SPOTTER_WS_PING_SECS";
    /// … and drops a peer silent for this long (seconds).
    ws_idle_secs: u64 = 60, env "SPOTTER_WS_IDLE_SECS";
    /// VAPID private key for Web Push (base64url of the 32-byte P-256 scalar); by default
    /// generated once and kept in the data folder. Give every node the same one.
    vapid_private_key: Option<Secret> = None, env "SPOTTER_VAPID_PRIVATE_KEY" [hide_env_values = true];
    /// Contact for push services, `mailto:` or `https:` (RFC 8292 `sub`).
    vapid_subject: String = "mailto:admin@example.com".to_owned(), env "SPOTTER_VAPID_SUBJECT";
    /// Path to a Google service-account JSON for FCM HTTP v1; unset, phones get no push.
    fcm_service_account: Option<PathBuf> = None, env "SPOTTER_FCM_SERVICE_ACCOUNT";
    /// FCM's base URL.
    fcm_endpoint: String = "https://fcm.googleapis.com".to_owned(), env "SPOTTER_FCM_ENDPOINT";
    /// `off`: notifications say "New message", with no name and no content.
    push_preview: bool = true, env "SPOTTER_PUSH_PREVIEW" [value_parser = on_off];
    /// `on` lets Web Push endpoints be plain http or private addresses (tests on loopback).
    /// Off, an endpoint must be https and resolve to public addresses only.
    push_allow_private_endpoints: bool = false, env "SPOTTER_PUSH_ALLOW_PRIVATE_ENDPOINTS" [value_parser = on_off];
    /// `off`: this node delivers no push (another node's worker does; all share the outbox).
    push_worker: bool = true, env "SPOTTER_PUSH_WORKER" [value_parser = on_off];
    /// Messages of one conversation within this many milliseconds become one notification.
    push_coalesce_ms: u64 = 2000, env "SPOTTER_PUSH_COALESCE_MS";
    /// How often the push worker looks for work (milliseconds).
    push_tick_ms: u64 = 250, env "SPOTTER_PUSH_TICK_MS";
    /// A claimed push not finished within this many seconds is taken up again (crash recovery).
    push_lease_secs: u64 = 60, env "SPOTTER_PUSH_LEASE_SECS";
    /// Delivery attempts per device before a notification is dead-lettered.
    push_max_attempts: u32 = 5, env "SPOTTER_PUSH_MAX_ATTEMPTS";
    /// First retry delay (milliseconds), doubled each attempt; a `Retry-After` wins when longer.
    push_backoff_ms: u64 = 1000, env "SPOTTER_PUSH_BACKOFF_MS";
    /// Open sockets one user may hold on this node; one more is closed with 4029.
    ws_max_sockets_per_user: usize = 20, env "SPOTTER_WS_MAX_SOCKETS_PER_USER";
    /// Frames a socket may send per second (bursts of twice that); more are dropped with an
    /// error frame.
    ws_frames_per_second: u32 = 20, env "SPOTTER_WS_FRAMES_PER_SECOND";
    /// Seconds a client has to send its request headers (slow-header clients are cut off).
    header_timeout_secs: u64 = 10, env "SPOTTER_HEADER_TIMEOUT_SECS";
    /// Most database connections in the pool.
    db_max_connections: u32 = 16, env "SPOTTER_DB_MAX_CONNECTIONS";
    /// The address clients reach this deployment at (`https://chat.example.com`), for the
    /// absolute URLs of images; by default the address it listens on.
    public_url: Option<String> = None, env "SPOTTER_PUBLIC_URL";
    /// Where images go: unset, a folder in the data folder; `s3://bucket/prefix`, an
    /// S3-compatible object store (endpoint, region and keys from the usual `AWS_*` variables).
    media_store: Option<String> = None, env "SPOTTER_MEDIA_STORE";
    /// A CDN or bucket address that serves the media store's keys itself: image URLs become
    /// `<this>/<key>`, unsigned. Unset, Spotter serves `/media/...` with signed, expiring URLs.
    media_base_url: Option<String> = None, env "SPOTTER_MEDIA_BASE_URL";
    /// Hours a signed image URL stays valid.
    media_url_ttl_hours: u64 = 168, env "SPOTTER_MEDIA_URL_TTL_HOURS";
    /// Seconds after an upload was stored before its files, if no message came to name them
    /// (the process died, the request was dropped), are removed by the sweeper. An image send
    /// must commit within half of it, or it is refused (503) and sent again.
    media_orphan_grace_secs: u64 = 3600, env "SPOTTER_MEDIA_ORPHAN_GRACE_SECS";
    /// How often the sweeper of orphaned uploads looks for work (seconds).
    media_sweep_secs: u64 = 60, env "SPOTTER_MEDIA_SWEEP_SECS";
    /// Messages a second one broadcast sends at most, so that a broadcast to thousands
    /// leaves room for live chat (0: as fast as the database takes them).
    broadcast_per_second: u32 = 0, env "SPOTTER_BROADCAST_PER_SECOND";
    /// Days messages are kept: older ones are cleared as a deletion leaves them (0: forever).
    retention_days: u32 = 0, env "SPOTTER_RETENTION_DAYS";
    /// How often each node purges messages past retention (seconds).
    retention_sweep_secs: u64 = 3600, env "SPOTTER_RETENTION_SWEEP_SECS";
    /// Serve the web dashboard from this folder (a `web/dist` built apart from the binary)
    /// instead of the one compiled in.
    web_dir: Option<PathBuf> = None, env "SPOTTER_WEB_DIR";
}

/// A configuration file or value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} not found")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Invalid(Box<figment::Error>),
}

impl Flags {
    /// The file to read: the one named, else `./spotter.toml` when present.
    pub fn file(&self) -> Result<Option<PathBuf>, ConfigError> {
        match &self.config_file {
            Some(path) if path.is_file() => Ok(Some(path.clone())),
            Some(path) => Err(ConfigError::MissingFile(path.clone())),
            None => Ok(Path::new(DEFAULT_FILE)
                .is_file()
                .then(|| PathBuf::from(DEFAULT_FILE))),
        }
    }

    /// Defaults < file < environment < flags (clap has already put a flag over its variable).
    pub fn load(&self) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = self.file()? {
            // An absolute path: figment would look for a relative one in parent folders too.
            let file = std::path::absolute(&file).unwrap_or(file);
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Serialized::defaults(self))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }
}

impl Config {
    /// The database URL in force: the configured one, else a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("spotter.db").display()
            ),
        }
    }

    /// [`Config::media_orphan_grace_secs`], at least a minute (half of it is what an image
    /// send has to commit).
    pub fn media_orphan_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.media_orphan_grace_secs.max(60))
    }

    /// How a broadcast is paced: recipients per chunk, and the least time a chunk takes.
    pub fn broadcast_pace(&self) -> crate::domain::coaching::Pace {
        crate::domain::coaching::Pace::per_second(self.broadcast_per_second)
    }

    /// A configuration for tests and embedding: everything default, port 0, the given data.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            ..Self::default()
        }
    }

    /// The settings in force as TOML, secrets shown as stars (`spotter config`).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let mut table = toml::Table::try_from(self)?;
        for (key, value) in table.iter_mut() {
            if let toml::Value::String(text) = value {
                if SECRETS.contains(&key.as_str()) {
                    *text = "****".to_owned();
                } else if let Some(starred) = without_password(text) {
                    *text = starred;
                }
            }
        }
        toml::to_string(&table)
    }
}

/// `scheme://user:password@host…` with the password as stars; `None` when there is none.
fn without_password(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, _) = userinfo.split_once(':')?;
    let host = &rest[userinfo.len()..];
    Some(format!("{scheme}://{user}:****{host}"))
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
fn on_off(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(format!("expected on or off, got {s}")),
    }
}
