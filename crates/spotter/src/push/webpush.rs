//! Web Push (RFC 8030) with `aes128gcm` payload encryption (RFC 8291) and VAPID (RFC 8292).
//!
//! An endpoint is a URL a user gave us, so it is a way to make the server call any address: off
//! loopback tests, endpoints must be `https` and every address they resolve to must be public,
//! checked by the resolver itself (no gap between the check and the connection).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use super::{Attempt, classify};
use crate::clock::Clock;
use crate::domain::model::Device;

/// The server's VAPID identity.
pub struct Vapid {
    key: SigningKey,
    /// Uncompressed public point, base64url: what browsers pass as `applicationServerKey`.
    pub public_key: String,
    subject: String,
}

impl Vapid {
    /// From the base64url private scalar.
    pub fn from_private(b64: &str, subject: &str) -> anyhow::Result<Self> {
        let bytes = B64
            .decode(b64.trim().trim_end_matches('='))
            .map_err(|e| anyhow::anyhow!("VAPID key is not base64url: {e}"))?;
        let key = SigningKey::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("VAPID key is not a P-256 scalar: {e}"))?;
        let public = key.verifying_key().as_affine().to_encoded_point(false);
        Ok(Self {
            public_key: B64.encode(public.as_bytes()),
            key,
            subject: subject.to_owned(),
        })
    }

    /// A fresh private key, base64url.
    pub fn generate() -> String {
        let key = SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        B64.encode(key.to_bytes())
    }

    /// `vapid t=<JWT>, k=<public key>` for an endpoint: `aud` its origin, `exp` 12 h after
    /// `now` (unix seconds).
    pub fn authorization(&self, endpoint: &url::Url, now: i64) -> anyhow::Result<String> {
        let origin = endpoint.origin().ascii_serialization();
        let exp = now + 12 * 3600;
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = B64.encode(serde_json::to_vec(
            &serde_json::json!({"aud": origin, "exp": exp, "sub": self.subject}),
        )?);
        let signing_input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            B64.encode(signature.to_bytes()),
            self.public_key
        ))
    }
}

/// Resolves hosts and keeps only public addresses: private, loopback, link-local and other
/// special ranges never reach the connector.
struct PublicOnly;

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 443))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

pub struct WebPush {
    pub vapid: Vapid,
    http: reqwest::Client,
    allow_private: bool,
    clock: Clock,
}

impl WebPush {
    pub fn new(vapid: Vapid, allow_private: bool, clock: Clock) -> anyhow::Result<Self> {
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            b = b.dns_resolver(Arc::new(PublicOnly)).https_only(true);
        }
        Ok(Self {
            vapid,
            http: b.build()?,
            allow_private,
            clock,
        })
    }

    pub async fn send(&self, device: &Device, topic: &str, payload: &[u8]) -> Attempt {
        let endpoint = match url::Url::parse(&device.token) {
            Ok(u) if u.scheme() == "https" || (self.allow_private && u.scheme() == "http") => u,
            _ => return Attempt::Gone("endpoint is not an acceptable URL".into()),
        };
        if !self.allow_private
            && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = endpoint.host()
            && endpoint
                .host_str()
                .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok())
                .is_some_and(|ip| !is_public(ip))
        {
            return Attempt::Gone("endpoint address is not public".into());
        }
        let (Some(p256dh), Some(auth)) = (&device.p256dh, &device.auth_secret) else {
            return Attempt::Gone("subscription has no keys".into());
        };
        let keys = B64
            .decode(p256dh.trim_end_matches('='))
            .ok()
            .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok());
        let auth = B64
            .decode(auth.trim_end_matches('='))
            .ok()
            .filter(|a| a.len() == 16);
        let (Some(ua_public), Some(auth)) = (keys, auth) else {
            return Attempt::Gone("subscription keys are malformed".into());
        };
        let mut auth_key = web_push_native::Auth::default();
        auth_key.copy_from_slice(&auth);
        let body = match web_push_native::encrypt(payload.to_vec(), &ua_public, &auth_key) {
            Ok(b) => b,
            Err(e) => return Attempt::Dead(format!("encrypting: {e}")),
        };
        let authorization = match self.vapid.authorization(&endpoint, self.clock.now_secs()) {
            Ok(a) => a,
            Err(e) => return Attempt::Dead(format!("signing VAPID: {e}")),
        };
        let resp = self
            .http
            .post(endpoint)
            .header("TTL", "86400")
            .header("Urgency", "high")
            .header("Topic", topic)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await;
        classify(resp).await
    }
}
