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

    /// Most database connections in the pool.
    #[arg(long, env = "SPOTTER_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
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
            redis_url: None,
            redis_channel: "spotter:events".to_owned(),
            ws_queue: 256,
            typing_ttl_ms: 6000,
            ws_ping_secs: 30,
            ws_idle_secs: 60,
        }
    }
}
