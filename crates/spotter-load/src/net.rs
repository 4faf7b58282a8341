//! Loopback only: URL checks, socket connections from a chosen loopback source address, and
//! this process's open-files limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use spotter_client::{Incoming, ServerFrame, Socket};
use tokio::net::TcpSocket;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Parses the server's base URL and refuses anything but loopback (`127.0.0.0/8`, `[::1]`,
/// `localhost`): this tool never sends load elsewhere.
pub fn loopback_url(raw: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(raw).with_context(|| format!("bad URL {raw}"))?;
    if url.scheme() != "http" {
        bail!(
            "only http:// URLs on loopback are supported (got {})",
            url.scheme()
        );
    }
    let ok = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !ok {
        bail!("refusing {raw}: spotter-load only targets loopback (127.0.0.0/8, [::1], localhost)");
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// The server's socket address (loopback, checked by [`loopback_url`]).
pub fn server_addr(url: &url::Url) -> anyhow::Result<SocketAddr> {
    let port = url.port_or_known_default().context("URL without a port")?;
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    Ok(SocketAddr::new(ip, port))
}

/// The `n`-th loopback source address: 127.0.0.1, 127.0.0.2, … (wrapping inside 127.0.0.0/8).
pub fn loopback_source(n: u32) -> Ipv4Addr {
    let v = 0x7f00_0001u32 + (n % 0x00ff_fff0);
    Ipv4Addr::from(v)
}

/// Connects a Spotter socket: TCP with `TCP_NODELAY`, optionally bound to `source` first (so
/// one machine can open more connections to one server port than the ephemeral port range
/// allows from one address), then the WebSocket handshake with a read buffer of
/// `read_buffer` bytes.
pub async fn connect_socket(
    server: SocketAddr,
    ws_url: &url::Url,
    source: Option<Ipv4Addr>,
    read_buffer: usize,
) -> anyhow::Result<Socket> {
    let tcp = if server.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(src) = source.filter(|_| server.is_ipv4()) {
        tcp.bind(SocketAddr::new(IpAddr::V4(src), 0))
            .with_context(|| format!("binding source address {src}"))?;
    }
    let stream = tcp.connect(server).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        ws_url.as_str(),
        MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await?;
    Ok(Socket::from_stream(ws))
}

/// Waits until the server has authenticated and subscribed a new socket: its writer answers a
/// `ping` only after that start-up (subscription and cursors) is done. Other frames (a user
/// socket's first `unread_count`) are skipped. Bounded by 30 s.
pub async fn ready(s: &mut Socket) -> anyhow::Result<()> {
    s.send_json(&serde_json::json!({"type": "ping"})).await?;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, s.next()).await {
            Err(_) => bail!("no pong within 30 s of connecting"),
            Ok(None) => bail!("socket dropped during set-up"),
            Ok(Some(Incoming::Closed(code, reason))) => bail!("closed {code} {reason}"),
            Ok(Some(Incoming::Frame(ServerFrame::Pong))) => return Ok(()),
            Ok(Some(_)) => {}
        }
    }
}

/// Raises this process's open-files limit to at least `wanted` if it can: the soft limit up to
/// the hard one, and the hard one too when running as root. Returns the soft limit in force.
pub fn raise_open_files(wanted: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 0;
    }
    // rlim_t is u64 on 64-bit Linux, the only platform this tool reads /proc on.
    let wanted: libc::rlim_t = wanted;
    if lim.rlim_cur >= wanted {
        return lim.rlim_cur;
    }
    if lim.rlim_max < wanted {
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: wanted,
        };
        // SAFETY: setrlimit reads the struct we pass; fails without privilege, then we fall back.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return wanted;
        }
    }
    let soft = libc::rlimit {
        rlim_cur: wanted.min(lim.rlim_max),
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above; raising the soft limit up to the hard one needs no privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) } == 0 {
        soft.rlim_cur
    } else {
        lim.rlim_cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_accepted() {
        assert!(loopback_url("http://127.0.0.1:8000/").is_ok());
        assert!(loopback_url("http://127.3.2.1:8000").is_ok());
        assert!(loopback_url("http://localhost:8000/").is_ok());
        assert!(loopback_url("http://[::1]:8000/").is_ok());
        assert!(loopback_url("http://10.0.0.1:8000/").is_err());
        assert!(loopback_url("http://192.168.1.5/").is_err());
        assert!(loopback_url("http://example.com/").is_err());
        assert!(loopback_url("https://127.0.0.1/").is_err());
        assert_eq!(
            loopback_url("http://127.0.0.1:1/x").unwrap().as_str(),
            "http://127.0.0.1:1/x/"
        );
    }

    #[test]
    fn source_addresses_stay_in_loopback() {
        assert_eq!(loopback_source(0), Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(loopback_source(1), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(loopback_source(255), Ipv4Addr::new(127, 0, 1, 0));
        for n in [0, 1000, 0x00ff_ffff, u32::MAX] {
            assert!(loopback_source(n).is_loopback());
        }
    }
}
