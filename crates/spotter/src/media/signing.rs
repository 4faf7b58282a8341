//! Signed, expiring `/media/` URLs. Image URLs go into `<img src>` and Flutter's
//! `Image.network`, which send no `Authorization` header: the URL itself is the permission, so it
//! is an HMAC over the key and the expiry that every node (sharing the key) can check.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use super::UrlError;
use crate::clock::Micros;

/// Expiries are whole hours, so a key keeps one URL for up to an hour.
const ROUND_TO_SECS: i64 = 3600;
/// Separates this use of the key from any other the operator may give it.
const CONTEXT: &[u8] = b"spotter-media-url-v1\n";

pub(super) struct Signer {
    /// Keyed once; cloned per signature (the key's padding is hashed only here).
    mac: Hmac<Sha256>,
}

impl Signer {
    pub(super) fn new(key: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(!key.is_empty(), "the media signing key is empty");
        let mac = Hmac::<Sha256>::new_from_slice(key)
            .map_err(|e| anyhow::anyhow!("media signing key: {e}"))?;
        Ok(Self { mac })
    }

    fn mac(&self, key: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(CONTEXT);
        mac.update(key.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The signature of `key` until `expires` (Unix seconds), base64url without padding.
    pub(super) fn sign(&self, key: &str, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(key, expires).finalize().into_bytes())
    }

    /// Checks the signature first (in constant time), then the expiry: `Expired` is only ever
    /// said of a URL we really made, so a client may take it as "ask for a fresh one".
    pub(super) fn verify(
        &self,
        key: &str,
        expires: &str,
        sig: &str,
        now: Micros,
    ) -> Result<(), UrlError> {
        // Only the canonical form: "+5" or "05" would sign the same number as "5".
        let expires_at: i64 = expires.parse().map_err(|_| UrlError::BadSignature)?;
        if expires_at.to_string() != expires {
            return Err(UrlError::BadSignature);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| UrlError::BadSignature)?;
        self.mac(key, expires_at)
            .verify_slice(&sig)
            .map_err(|_| UrlError::BadSignature)?;
        if now > expires_at.saturating_mul(1_000_000) {
            return Err(UrlError::Expired);
        }
        Ok(())
    }
}

/// The expiry of a URL made at `now`: at least `ttl` later, rounded up to a whole hour.
pub(super) fn expiry(now: Micros, ttl: Duration) -> i64 {
    let now_secs = now.div_euclid(1_000_000) + i64::from(now.rem_euclid(1_000_000) != 0);
    let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
    let at_least = now_secs.saturating_add(ttl);
    match at_least.rem_euclid(ROUND_TO_SECS) {
        0 => at_least,
        r => at_least.saturating_add(ROUND_TO_SECS - r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;
    const TTL: Duration = Duration::from_secs(7 * 24 * 3600);

    fn signer() -> Signer {
        Signer::new(b"test key").unwrap()
    }

    #[test]
    fn the_expiry_is_a_whole_hour_at_least_the_ttl_away() {
        let now = 1_700_000_123_456_789;
        let e = expiry(now, TTL);
        assert_eq!(e % 3600, 0);
        assert!(e * 1_000_000 >= now + crate::clock::micros(TTL));
        assert!(e * 1_000_000 < now + crate::clock::micros(TTL) + HOUR);
        // The same URL for the rest of the hour.
        assert_eq!(expiry(now + HOUR / 2, TTL), e);
        assert_eq!(expiry(1_700_002_800_000_000, Duration::ZERO), 1_700_002_800);
    }

    #[test]
    fn a_signed_url_verifies_until_it_expires() {
        let s = signer();
        let key = "message_images/0123456789abcdef0123456789abcdef.png";
        let now = 1_700_000_000_000_000;
        let e = expiry(now, TTL);
        let sig = s.sign(key, e);
        assert_eq!(s.verify(key, &e.to_string(), &sig, now), Ok(()));
        assert_eq!(s.verify(key, &e.to_string(), &sig, e * 1_000_000), Ok(()));
        assert_eq!(
            s.verify(key, &e.to_string(), &sig, e * 1_000_000 + 1),
            Err(UrlError::Expired)
        );
    }

    #[test]
    fn a_tampered_url_is_refused() {
        let s = signer();
        let key = "message_images/0123456789abcdef0123456789abcdef.png";
        let now = 1_700_000_000_000_000;
        let e = expiry(now, TTL);
        let sig = s.sign(key, e);
        let later = (e + 3600).to_string();
        let other_key = "message_images/1123456789abcdef0123456789abcdef.png";
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let bad = [
            (key, later.as_str(), sig.as_str()),
            (other_key, &e.to_string(), &sig),
            (key, &e.to_string(), &flipped),
            (key, &e.to_string(), &sig[..20]),
            (key, &format!("+{e}"), &sig),
            (key, &format!("0{e}"), &sig),
            (key, "soon", &sig),
            (key, &e.to_string(), "not base64!"),
        ];
        for (k, e, sig) in bad {
            assert_eq!(
                s.verify(k, e, sig, now),
                Err(UrlError::BadSignature),
                "{k} {e} {sig}"
            );
        }
        let other = Signer::new(b"another node's key").unwrap();
        assert_eq!(
            other.verify(key, &e.to_string(), &sig, now),
            Err(UrlError::BadSignature)
        );
    }

    #[test]
    fn an_empty_key_is_refused() {
        assert!(Signer::new(b"").is_err());
    }
}
