//! Building and running the server: `Application::build` → `port()` → `run_until_stopped`, so
//! `main` and the tests start it the same way (tests bind port 0 and read the port back).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::Tokens;
use crate::bus::Bus;
use crate::clock::Clock;
use crate::config::Config;
use crate::media::{Links, Media, MediaConfig};
use crate::state::{AppState, Parts};
use crate::store::Store;

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

/// Reads the JWT secret from the configuration, else from the data folder, generating it there
/// on first start so tokens survive a restart.
async fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.0.as_bytes().to_vec());
    }
    let path = config.data_dir.join("jwt-secret");
    match tokio::fs::read_to_string(&path).await {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let secret = hex::encode(rand::random::<[u8; 32]>());
    write_private(&path, &secret).await?;
    Ok(secret.into_bytes())
}

async fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    tokio::fs::write(path, contents)
        .await
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).await?;
    }
    Ok(())
}

/// Connects the database (migrating it) and assembles the shared state on the system clock,
/// without listening: what `serve` and the operator commands both need.
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    state_on(config, Clock::system()).await
}

/// [`state`] on a given clock (tests give a manual one).
pub async fn state_on(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    tokio::fs::create_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;
    let secret = jwt_secret(&config).await?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| listen_url(config.bind));
    let media = Media::open(MediaConfig {
        store: config.media_store.clone(),
        cdn_base: config.media_base_url.clone(),
        url_ttl: std::time::Duration::from_secs(config.media_url_ttl_hours.max(1) * 3600),
        ..MediaConfig::new(config.data_dir.clone(), media_key(&secret), public_url)
    })
    .await
    .context("opening the media store")?;
    let urls: Arc<dyn crate::wire::MediaUrls> = Arc::new(Links {
        media: media.clone(),
        clock: clock.clone(),
    });
    let bus = match &config.redis_url {
        Some(url) => Bus::with_redis(url, &config.redis_channel, clock.clone(), urls)?,
        None => Bus::local(clock.clone(), urls),
    };
    let store = Store::connect(
        &config.database_url(),
        config.db_max_connections,
        clock.clone(),
        Arc::new(bus.clone()),
    )
    .await?;
    crate::metrics::handle();
    let push = crate::push::Push::from_config(&config, &clock)?;
    Ok(AppState::new(Parts {
        config,
        clock,
        store,
        bus,
        tokens: Tokens::new(&secret),
        push,
        media,
    }))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_on(config, Clock::system()).await
    }

    /// [`Application::build`] on a given clock.
    pub async fn build_on(mut config: Config, clock: Clock) -> anyhow::Result<Self> {
        let bind = config.bind;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        if config.public_url.is_none() {
            // Port 0 picks one: absolute URLs must carry the real one.
            config.public_url = Some(listen_url(listener.local_addr()?));
        }
        let state = state_on(config, clock).await?;
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The URL a browser on this machine would use.
    pub fn url(&self) -> String {
        format!("{}/", listen_url(self.local_addr()))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
    /// and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let janitor = tokio::spawn(janitor(state.clone()));
        let pusher = state
            .config
            .push_worker
            .then(|| tokio::spawn(crate::push::run(state.clone())));
        // Every node sweeps: claims are leased, so nodes share the work.
        let sweeper = crate::workers::orphans::Sweeper::new(
            state.store.clone(),
            state.media.clone(),
            state.clock.clone(),
            state.config.media_orphan_grace(),
        );
        let every = std::time::Duration::from_secs(state.config.media_sweep_secs.max(1));
        let sweeper = tokio::spawn(sweeper.run(every));
        // Every node dispatches scheduled messages and broadcasts: claims are leased too.
        let dispatcher = crate::workers::dispatch::Dispatcher {
            coaching: state.coaching.clone(),
            store: state.store.clone(),
            clock: state.clock.clone(),
            pace: state.config.broadcast_pace(),
        };
        let dispatcher = tokio::spawn(dispatcher.run());
        let purger = (state.config.retention_days > 0).then(|| {
            let purger = crate::workers::retention::Purger {
                store: state.store.clone(),
                clock: state.clock.clone(),
                keep: std::time::Duration::from_secs(
                    u64::from(state.config.retention_days) * 86_400,
                ),
            };
            let every = std::time::Duration::from_secs(state.config.retention_sweep_secs.max(1));
            tokio::spawn(purger.run(every))
        });
        let app = crate::http::router(state.clone());
        let stopping = state.clone();
        let shutdown = async move {
            shutdown.await;
            // Sockets are upgraded connections the HTTP server no longer tracks: tell them.
            stopping.shutdown.send_replace(true);
        };
        let header_timeout =
            std::time::Duration::from_secs(state.config.header_timeout_secs.max(1));
        crate::serve::serve(self.listener, app, header_timeout, shutdown).await;
        // Let sockets write their 1001 close before the process goes.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while state.bus.hub().socket_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        janitor.abort();
        sweeper.abort();
        dispatcher.abort();
        if let Some(p) = purger {
            p.abort();
        }
        if let Some(p) = pusher {
            p.abort();
        }
        state.store.close().await;
        Ok(())
    }
}

/// The URL a browser on this machine would use for a listening address (no trailing slash).
fn listen_url(addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let host = if addr.is_ipv6() && !addr.ip().is_unspecified() {
        format!("[{host}]")
    } else {
        host
    };
    format!("http://{host}:{}", addr.port())
}

/// The key that signs media URLs, derived from the JWT secret: every node of a deployment
/// shares that secret already, so they verify each other's URLs with nothing more to set, and
/// the derived key is useless for signing tokens.
fn media_key(secret: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        // HMAC takes keys of any length; keep a working key regardless.
        Err(_) => return secret.to_vec(),
    };
    mac.update(b"spotter media url signing v1");
    mac.finalize().into_bytes().to_vec()
}

/// Periodic housekeeping: forget idle rate-limit keys so their memory stays bounded.
async fn janitor(state: AppState) {
    loop {
        state.clock.sleep(std::time::Duration::from_secs(60)).await;
        state.forget_idle_limits();
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
