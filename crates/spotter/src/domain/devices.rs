//! Push devices: FCM tokens of phones (`ios`, `android`, `web` as in the original) and Web Push
//! subscriptions of browsers (`webpush`, Part B 8). Validated here, stored in `store::devices`,
//! delivered by `push`.

use serde_json::Value;

use crate::domain::Actor;
use crate::domain::input::{Fields, required_text};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::devices::{self, NewDevice};

const FCM_PLATFORMS: [&str; 3] = ["ios", "android", "web"];
const MAX_TOKEN_CHARS: usize = 4096;

/// What identifies a device in a register or delete body.
pub struct DeviceSpec {
    pub platform: String,
    /// FCM token or Web Push endpoint.
    pub token: String,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
}

fn is_base64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
}

/// Reads `{token, platform}` or `{platform: "webpush", subscription: {endpoint, keys}}`.
pub fn parse(body: &Value) -> Result<DeviceSpec> {
    let mut fields = Fields::default();
    let platform = required_text(body.get("platform")).map_err(|m| Error::field("platform", m))?;
    if platform != "webpush" && !FCM_PLATFORMS.contains(&platform.as_str()) {
        return Err(Error::field(
            "platform",
            format!("\"{platform}\" is not a valid choice."),
        ));
    }
    if platform != "webpush" {
        let token = fields.take("token", required_text(body.get("token")));
        fields.finish()?;
        let token = token.unwrap_or_default();
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(Error::field(
                "token",
                "Ensure this field has no more than 4096 characters.",
            ));
        }
        return Ok(DeviceSpec {
            platform,
            token,
            p256dh: None,
            auth: None,
        });
    }
    let Some(sub) = body.get("subscription").filter(|s| s.is_object()) else {
        return Err(Error::field("subscription", crate::error::msg::REQUIRED));
    };
    let endpoint = fields.take("endpoint", required_text(sub.get("endpoint")));
    let keys = sub.get("keys");
    let p256dh = fields.take("p256dh", required_text(keys.and_then(|k| k.get("p256dh"))));
    let auth = fields.take("auth", required_text(keys.and_then(|k| k.get("auth"))));
    fields.finish()?;
    let (endpoint, p256dh, auth) = (
        endpoint.unwrap_or_default(),
        p256dh.unwrap_or_default(),
        auth.unwrap_or_default(),
    );
    let url_ok = url_like(&endpoint);
    if !url_ok || endpoint.len() > MAX_TOKEN_CHARS {
        return Err(Error::field(
            "subscription",
            "The endpoint must be an http(s) URL.",
        ));
    }
    if !is_base64url(&p256dh) || !is_base64url(&auth) || p256dh.len() > 256 || auth.len() > 64 {
        return Err(Error::field(
            "subscription",
            "The keys must be base64url strings.",
        ));
    }
    Ok(DeviceSpec {
        platform,
        token: endpoint,
        p256dh: Some(p256dh),
        auth: Some(auth),
    })
}

fn url_like(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty() && !r.starts_with('/') && !s.chars().any(char::is_whitespace)
    })
}

pub async fn register(state: &AppState, actor: &Actor, spec: &DeviceSpec) -> Result<i64> {
    let new = NewDevice {
        user_id: actor.id(),
        platform: &spec.platform,
        token: &spec.token,
        p256dh: spec.p256dh.as_deref(),
        auth_secret: spec.auth.as_deref(),
    };
    Ok(devices::upsert(state.db.pool(), &new).await?)
}

/// Removes the caller's device; removing one that is not there is not an error (idempotent).
pub async fn unregister(state: &AppState, actor: &Actor, spec: &DeviceSpec) -> Result<()> {
    devices::remove(state.db.pool(), actor.id(), &spec.token).await?;
    Ok(())
}

/// DELETE may name just the token (FCM) without a platform.
pub fn parse_for_delete(body: &Value) -> Result<DeviceSpec> {
    if body.get("platform").is_none()
        && let Some(token) = body.get("token")
    {
        let token = required_text(Some(token)).map_err(|m| Error::field("token", m))?;
        return Ok(DeviceSpec {
            platform: String::new(),
            token,
            p256dh: None,
            auth: None,
        });
    }
    if body.get("platform").is_none() && body.get("subscription").is_none() {
        return Err(Error::field("token", crate::error::msg::REQUIRED));
    }
    parse(body)
}
