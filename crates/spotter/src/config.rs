//! Server configuration: defaults, overridden by `SPOTTER_*` environment variables or flags.
//! Secrets are wrapped so they never print in `Debug` or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

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

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the real one is printed).
    #[arg(long, env = "SPOTTER_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Folder for the SQLite database and generated secrets.
    #[arg(long, env = "SPOTTER_DATA_DIR", default_value = "spotter-data")]
    pub data_dir: PathBuf,

    /// `sqlite://…` or `postgres://…`; by default `<data dir>/spotter.db`.
    #[arg(long, env = "SPOTTER_DATABASE_URL")]
    pub database_url: Option<String>,

    /// HS256 key for JWTs (the host platform's Django `SECRET_KEY` to share its tokens); by
    /// default generated once and kept in the data folder.
    #[arg(long, env = "SPOTTER_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Sends and conversation starts allowed per user per minute (the contract says 30).
    /// Raise it only for load tests.
    #[arg(long, env = "SPOTTER_SEND_RATE_PER_MINUTE", default_value_t = 30)]
    pub send_rate_per_minute: u32,

    /// Login and refresh attempts allowed per client address per minute.
    #[arg(long, env = "SPOTTER_AUTH_RATE_PER_MINUTE", default_value_t = 30)]
    pub auth_rate_per_minute: u32,

    /// Redis for several nodes (`redis://127.0.0.1:6379`); unset, events stay in this process.
    #[arg(long, env = "SPOTTER_REDIS_URL")]
    pub redis_url: Option<String>,

    /// The Redis pub/sub channel; nodes of one deployment share it, other deployments must not.
    #[arg(long, env = "SPOTTER_REDIS_CHANNEL", default_value = "spotter:events")]
    pub redis_channel: String,

    /// Events queued for one socket before it counts as too slow and is closed (1013).
    #[arg(long, env = "SPOTTER_WS_QUEUE", default_value_t = 256)]
    pub ws_queue: usize,

    /// A typing indicator not refreshed within this many milliseconds is cleared.
    #[arg(long, env = "SPOTTER_TYPING_TTL_MS", default_value_t = 6000)]
    pub typing_ttl_ms: u64,

    /// The server pings each socket this often (seconds) …
    #[arg(long, env = "SPOTTER_WS_PING_SECS", default_value_t = 30)]
    pub ws_ping_secs: u64,

    /// … and drops a peer silent for this long (seconds).
    #[arg(long, env = "SPOTTER_WS_IDLE_SECS", default_value_t = 60)]
    pub ws_idle_secs: u64,

    /// VAPID private key for Web Push (base64url of the 32-byte P-256 scalar); by default
    /// generated once and kept in the data folder. Give every node the same one.
    #[arg(long, env = "SPOTTER_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<Secret>,

    /// Contact for push services, `mailto:` or `https:` (RFC 8292 `sub`).
    #[arg(
        long,
        env = "SPOTTER_VAPID_SUBJECT",
        default_value = "mailto:admin@example.com"
    )]
    pub vapid_subject: String,

    /// Path to a Google service-account JSON for FCM HTTP v1; unset, phones get no push.
    #[arg(long, env = "SPOTTER_FCM_SERVICE_ACCOUNT")]
    pub fcm_service_account: Option<PathBuf>,

    /// FCM's base URL.
    #[arg(
        long,
        env = "SPOTTER_FCM_ENDPOINT",
        default_value = "https://fcm.googleapis.com"
    )]
    pub fcm_endpoint: String,

    /// `off`: notifications say "New message", with no name and no content.
    #[arg(long, env = "SPOTTER_PUSH_PREVIEW", default_value = "on", value_parser = on_off)]
    pub push_preview: bool,

    /// `on` lets Web Push endpoints be plain http or private addresses (tests on loopback).
    /// Off, an endpoint must be https and resolve to public addresses only.
    #[arg(long, env = "SPOTTER_PUSH_ALLOW_PRIVATE_ENDPOINTS", default_value = "off", value_parser = on_off)]
    pub push_allow_private_endpoints: bool,

    /// `off`: this node delivers no push (another node's worker does; all share the outbox).
    #[arg(long, env = "SPOTTER_PUSH_WORKER", default_value = "on", value_parser = on_off)]
    pub push_worker: bool,

    /// Messages of one conversation within this many milliseconds become one notification.
    #[arg(long, env = "SPOTTER_PUSH_COALESCE_MS", default_value_t = 2000)]
    pub push_coalesce_ms: u64,

    /// How often the push worker looks for work (milliseconds).
    #[arg(long, env = "SPOTTER_PUSH_TICK_MS", default_value_t = 250)]
    pub push_tick_ms: u64,

    /// A claimed push not finished within this many seconds is taken up again (crash recovery).
    #[arg(long, env = "SPOTTER_PUSH_LEASE_SECS", default_value_t = 60)]
    pub push_lease_secs: u64,

    /// Delivery attempts per device before a notification is dead-lettered.
    #[arg(long, env = "SPOTTER_PUSH_MAX_ATTEMPTS", default_value_t = 5)]
    pub push_max_attempts: u32,

    /// First retry delay (milliseconds), doubled each attempt; a `Retry-After` wins when longer.
    #[arg(long, env = "SPOTTER_PUSH_BACKOFF_MS", default_value_t = 1000)]
    pub push_backoff_ms: u64,

    /// Open sockets one user may hold on this node; one more is closed with 4029.
    #[arg(long, env = "SPOTTER_WS_MAX_SOCKETS_PER_USER", default_value_t = 20)]
    pub ws_max_sockets_per_user: usize,

    /// Frames a socket may send per second (bursts of twice that); more are dropped with an
    /// error frame.
    #[arg(long, env = "SPOTTER_WS_FRAMES_PER_SECOND", default_value_t = 20)]
    pub ws_frames_per_second: u32,

    /// Seconds a client has to send its request headers (slow-header clients are cut off).
    #[arg(long, env = "SPOTTER_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Most database connections in the pool.
    #[arg(long, env = "SPOTTER_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// The address clients reach this deployment at (`https://chat.example.com`), for the
    /// absolute URLs of images; by default the address it listens on.
    #[arg(long, env = "SPOTTER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where images go: unset, a folder in the data folder; `s3://bucket/prefix`, an
    /// S3-compatible object store (endpoint, region and keys from the usual `AWS_*` variables).
    #[arg(long, env = "SPOTTER_MEDIA_STORE")]
    pub media_store: Option<String>,

    /// A CDN or bucket address that serves the media store's keys itself: image URLs become
    /// `<this>/<key>`, unsigned. Unset, Spotter serves `/media/...` with signed, expiring URLs.
    #[arg(long, env = "SPOTTER_MEDIA_BASE_URL")]
    pub media_base_url: Option<String>,

    /// Hours a signed image URL stays valid.
    #[arg(long, env = "SPOTTER_MEDIA_URL_TTL_HOURS", default_value_t = 168)]
    pub media_url_ttl_hours: u64,

    /// Seconds after an upload was stored before its files, if no message came to name them
    /// (the process died, the request was dropped), are removed by the sweeper. An image send
    /// must commit within half of it, or it is refused (503) and sent again.
    #[arg(long, env = "SPOTTER_MEDIA_ORPHAN_GRACE_SECS", default_value_t = 3600)]
    pub media_orphan_grace_secs: u64,

    /// How often the sweeper of orphaned uploads looks for work (seconds).
    #[arg(long, env = "SPOTTER_MEDIA_SWEEP_SECS", default_value_t = 60)]
    pub media_sweep_secs: u64,

    /// Messages a second one broadcast sends at most, so that a broadcast to thousands
    /// leaves room for live chat (0: as fast as the database takes them).
    #[arg(long, env = "SPOTTER_BROADCAST_PER_SECOND", default_value_t = 0)]
    pub broadcast_per_second: u32,

    /// Days messages are kept: older ones are cleared as a deletion leaves them (0: forever).
    #[arg(long, env = "SPOTTER_RETENTION_DAYS", default_value_t = 0)]
    pub retention_days: u32,

    /// How often each node purges messages past retention (seconds).
    #[arg(long, env = "SPOTTER_RETENTION_SWEEP_SECS", default_value_t = 3600)]
    pub retention_sweep_secs: u64,
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
            database_url: None,
            jwt_secret: None,
            send_rate_per_minute: 30,
            auth_rate_per_minute: 30,
            db_max_connections: 16,
            public_url: None,
            media_store: None,
            media_base_url: None,
            media_url_ttl_hours: 168,
            media_orphan_grace_secs: 3600,
            media_sweep_secs: 60,
            broadcast_per_second: 0,
            retention_days: 0,
            retention_sweep_secs: 3600,
            redis_url: None,
            redis_channel: "spotter:events".to_owned(),
            ws_queue: 256,
            typing_ttl_ms: 6000,
            ws_ping_secs: 30,
            ws_idle_secs: 60,
            vapid_private_key: None,
            vapid_subject: "mailto:admin@example.com".to_owned(),
            fcm_service_account: None,
            fcm_endpoint: "https://fcm.googleapis.com".to_owned(),
            push_preview: true,
            push_allow_private_endpoints: false,
            push_worker: true,
            ws_max_sockets_per_user: 20,
            ws_frames_per_second: 20,
            header_timeout_secs: 10,
            push_coalesce_ms: 2000,
            push_tick_ms: 250,
            push_lease_secs: 60,
            push_max_attempts: 5,
            push_backoff_ms: 1000,
        }
    }
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
fn on_off(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(format!("expected on or off, got {s}")),
    }
}
