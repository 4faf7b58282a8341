//! `idle`: N authenticated sockets held open; what each costs the server (RSS delta / N) and
//! the kernel (`/proc/net/sockstat`).
//!
//! Each socket is the per-user socket (`ws/messaging/?token=`), the one an app keeps open; it
//! counts as open once the server has answered a `ping` on it (the answer comes after the
//! server has authenticated and subscribed it). One source address can reach one server
//! address through only as many connections as the ephemeral port range holds (about 28,000
//! here), so past that the sockets are spread over 127.0.0.2, 127.0.0.3, … (each bound before
//! connecting), and this process raises its own open-files limit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;
use spotter_client::Incoming;
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::net;
use crate::procfs::{self, ProcSample, SockStat};
use crate::setup::{LoadUser, Setup};

#[derive(Debug, Clone, Serialize)]
pub struct IdleOpts {
    pub sockets: u32,
    /// Distinct users the sockets belong to (round robin).
    pub users: u32,
    /// How long all sockets stay open once connected (the server pings every 30 s).
    #[serde(serialize_with = "crate::report::secs")]
    pub hold: Duration,
    pub connect_concurrency: usize,
    /// Give up connecting after this long.
    #[serde(serialize_with = "crate::report::secs")]
    pub connect_timeout: Duration,
    /// Sockets per loopback source address before the next one is used; by default the
    /// ephemeral port range less 2,000 (about 26,000 here).
    pub per_address: Option<u32>,
}

impl Default for IdleOpts {
    fn default() -> Self {
        Self {
            sockets: 1000,
            users: 1000,
            hold: Duration::from_secs(10),
            connect_concurrency: 256,
            connect_timeout: Duration::from_secs(900),
            per_address: None,
        }
    }
}

impl IdleOpts {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=500_000).contains(&self.sockets) {
            bail!("--sockets must be 1..=500000");
        }
        if self.users == 0 || self.users > self.sockets {
            bail!("--users must be 1..=--sockets");
        }
        if self.hold > Duration::from_secs(3600) {
            bail!("--hold must be at most 3600 seconds");
        }
        if self.per_address == Some(0) {
            bail!("--per-address must be at least 1");
        }
        if self.connect_timeout > Duration::from_secs(3600) {
            bail!("--connect-timeout must be at most 3600 seconds");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub options: IdleOpts,
    pub connected: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, u64>,
    /// Sockets the server closed (or that broke) while held.
    pub closed_while_held: u64,
    /// Loopback source addresses used (1: the default one only).
    pub source_addresses: u32,
    pub connect_seconds: f64,
    pub connects_per_s: f64,
    pub server_before: Option<ProcSample>,
    pub server_held: Option<ProcSample>,
    pub server_after_close: Option<ProcSample>,
    /// (RSS held − RSS before) / connected sockets.
    pub server_rss_per_socket_bytes: f64,
    pub server_cpu_seconds_connecting: f64,
    pub kernel_before: SockStat,
    pub kernel_held: SockStat,
    /// Kernel TCP buffer memory delta / (2 × connected): both ends are on this machine.
    pub kernel_tcp_mem_per_socket_bytes: f64,
    pub load_generator_rss_per_socket_bytes: f64,
    /// The whole machine while connecting (other work on it included) and PostgreSQL.
    pub machine_connecting: procfs::MachineUsage,
    pub warnings: Vec<String>,
}

pub async fn run(setup: &Setup, opts: &IdleOpts) -> anyhow::Result<IdleReport> {
    opts.validate()?;
    let mut warnings = Vec::new();
    let wanted_files = u64::from(opts.sockets) + 256;
    let limit = net::raise_open_files(wanted_files);
    if limit < wanted_files {
        bail!(
            "this process may open only {limit} files; {wanted_files} are needed (run as root or raise `ulimit -n`)"
        );
    }
    let server_before = procfs::sample(setup.server_pid);
    if let Some(max) = server_before.as_ref().and_then(|s| s.max_open_files)
        && max < wanted_files
    {
        let w = format!(
            "the server may open only {max} files, fewer than {} sockets need: start it with a higher `ulimit -n` (e.g. prlimit --nofile=1048576)",
            opts.sockets
        );
        eprintln!("idle: warning: {w}");
        warnings.push(w);
    }

    let per_group = 50u32;
    let groups = opts.users.div_ceil(per_group);
    let trainers = setup.trainers("idle", groups, per_group - 1).await?;
    let users: Vec<LoadUser> = trainers
        .iter()
        .flat_map(|t| std::iter::once(t.user()).chain(t.trainees.iter().cloned()))
        .take(opts.users as usize)
        .collect();
    eprintln!("idle: tokens for {} users", users.len());
    let tokens = setup.tokens(&users).await?;
    let client = setup.client()?;
    let urls: Vec<url::Url> = tokens
        .iter()
        .map(|t| client.with_token(t.clone()).socket_url(None, None))
        .collect::<Result<_, _>>()?;

    let server = net::server_addr(&setup.url)?;
    // Leave some of the port range to other connections from 127.0.0.1.
    let per_address = opts
        .per_address
        .unwrap_or_else(|| (procfs::ephemeral_ports().saturating_sub(2000)).max(1000) as u32);
    let spread = opts.sockets > per_address;
    let source_addresses = if spread {
        opts.sockets.div_ceil(per_address)
    } else {
        1
    };

    let kernel_before = procfs::sockstat();
    let machine_before = procfs::machine();
    let self_before = procfs::sample(None);
    let server_before = procfs::sample(setup.server_pid).or(server_before);
    eprintln!(
        "idle: opening {} sockets ({} at a time, {} source address{})",
        opts.sockets,
        opts.connect_concurrency,
        source_addresses,
        if source_addresses == 1 { "" } else { "es" }
    );
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(opts.connect_concurrency.max(1)));
    let connected = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let closed = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for i in 0..opts.sockets {
        let url = urls[(i % opts.users) as usize].clone();
        // 127.0.0.2, 127.0.0.3, … when spreading: 127.0.0.1 keeps its ports for the rest.
        let source = spread.then(|| net::loopback_source(1 + i / per_address));
        let (gate, connected, failed, failures, closed) = (
            gate.clone(),
            connected.clone(),
            failed.clone(),
            failures.clone(),
            closed.clone(),
        );
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let permit = gate.acquire_owned().await;
            let opened = tokio::time::timeout(Duration::from_secs(60), async {
                let mut s = net::connect_socket(server, &url, source, 4096).await?;
                net::ready(&mut s).await?;
                anyhow::Ok(s)
            })
            .await;
            drop(permit);
            let mut socket = match opened {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    *failures.lock().await.entry(short(&e)).or_default() += 1;
                    return;
                }
                Err(_) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    *failures
                        .lock()
                        .await
                        .entry("timeout (60 s)".into())
                        .or_default() += 1;
                    return;
                }
            };
            connected.fetch_add(1, Ordering::Relaxed);
            // Hold: read (so pings get their pongs) until told to stop.
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    incoming = socket.next() => match incoming {
                        Some(Incoming::Closed(..)) | None => {
                            closed.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Some(_) => {}
                    },
                }
            }
        });
    }

    let deadline = started + opts.connect_timeout;
    let mut last_print = Instant::now();
    loop {
        let done = connected.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed);
        if done >= u64::from(opts.sockets) {
            break;
        }
        if Instant::now() >= deadline {
            let w = format!(
                "connecting stopped after {:?}: {done} of {} done",
                opts.connect_timeout, opts.sockets
            );
            eprintln!("idle: {w}");
            warnings.push(w);
            break;
        }
        if last_print.elapsed() >= Duration::from_secs(5) {
            last_print = Instant::now();
            eprintln!(
                "idle: {} connected, {} failed",
                connected.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    let server_connected = procfs::sample(setup.server_pid);
    let machine =
        procfs::MachineUsage::between(&machine_before, &procfs::machine(), connect_seconds);
    eprintln!(
        "idle: {} connected in {connect_seconds:.1} s; holding {:?}",
        connected.load(Ordering::Relaxed),
        opts.hold
    );
    tokio::time::sleep(opts.hold).await;
    let server_held = procfs::sample(setup.server_pid);
    let kernel_held = procfs::sockstat();
    let self_held = procfs::sample(None);
    let closed_while_held = closed.load(Ordering::Relaxed);

    let _ = stop_tx.send(true);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    // Give the server a moment to notice the closes and free what it can.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let server_after_close = procfs::sample(setup.server_pid);

    let n = connected.load(Ordering::Relaxed);
    let per = |delta: i64| if n > 0 { delta as f64 / n as f64 } else { 0.0 };
    let rss = |s: &Option<ProcSample>| s.as_ref().map_or(0, |s| s.rss_bytes as i64);
    let cpu = |s: &Option<ProcSample>| s.as_ref().map_or(0.0, |s| s.cpu_seconds);
    let failures = failures.lock().await.clone();
    Ok(IdleReport {
        options: opts.clone(),
        connected: n,
        failed: failed.load(Ordering::Relaxed),
        failures,
        closed_while_held,
        source_addresses,
        connect_seconds,
        connects_per_s: if connect_seconds > 0.0 {
            n as f64 / connect_seconds
        } else {
            0.0
        },
        server_rss_per_socket_bytes: if server_before.is_some() && server_held.is_some() {
            per(rss(&server_held) - rss(&server_before))
        } else {
            0.0
        },
        server_cpu_seconds_connecting: cpu(&server_connected) - cpu(&server_before),
        kernel_tcp_mem_per_socket_bytes: per(
            kernel_held.tcp_mem_bytes as i64 - kernel_before.tcp_mem_bytes as i64
        ) / 2.0,
        load_generator_rss_per_socket_bytes: per(rss(&self_held) - rss(&self_before)),
        server_before,
        server_held,
        server_after_close,
        kernel_before,
        kernel_held,
        machine_connecting: machine,
        warnings,
    })
}

fn short(e: &anyhow::Error) -> String {
    let s = format!("{e:#}");
    s.chars().take(120).collect()
}
