//! Push devices: FCM tokens of phones (`ios`, `android`, `web` as in the original) and Web Push
//! subscriptions of browsers (`webpush`), and each user's notification switches (Part C).
//! Validated here, stored by the store, delivered by `push`.

use serde::Deserialize;
use serde_json::Value;

use crate::clock::Clock;
use crate::domain::Actor;
use crate::domain::input::{Fields, required_text};
use crate::domain::model::{DeviceId, Platform};
use crate::error::{Error, Result};
use crate::store::{NewDevice, NotificationPrefs, Store};

const MAX_TOKEN_CHARS: usize = 4096;

/// A device as a register or delete body names it, fields as sent: an FCM token (`{token,
/// platform: ios|android|web}`), a browser's Web Push subscription (`{platform: "webpush",
/// subscription: PushSubscription.toJSON()}`), or (to delete) a token alone. `http::devices`
/// describes these shapes in the OpenAPI document.
#[derive(Debug, Default, Deserialize)]
pub struct DeviceBody {
    #[serde(default)]
    pub platform: Option<Value>,
    #[serde(default)]
    pub token: Option<Value>,
    #[serde(default)]
    pub subscription: Option<Value>,
}

/// What identifies a device in a register or delete body.
pub struct DeviceSpec {
    /// `None` when a delete names the token alone.
    pub platform: Option<Platform>,
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
pub fn parse(body: &DeviceBody) -> Result<DeviceSpec> {
    let mut fields = Fields::default();
    let named = required_text(body.platform.as_ref()).map_err(|m| Error::field("platform", m))?;
    let Some(platform) = Platform::parse(&named) else {
        return Err(Error::field(
            "platform",
            format!("\"{named}\" is not a valid choice."),
        ));
    };
    if platform.is_fcm() {
        let token = fields.take("token", required_text(body.token.as_ref()));
        fields.finish()?;
        let token = token.unwrap_or_default();
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(Error::field(
                "token",
                "Ensure this field has no more than 4096 characters.",
            ));
        }
        return Ok(DeviceSpec {
            platform: Some(platform),
            token,
            p256dh: None,
            auth: None,
        });
    }
    let Some(sub) = body.subscription.as_ref().filter(|s| s.is_object()) else {
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
        platform: Some(platform),
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

/// Registers and removes the caller's devices.
#[derive(Clone)]
pub struct Devices {
    store: Store,
    clock: Clock,
}

impl Devices {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// Registers a device. An impersonation token may not: the impersonator would receive the
    /// impersonated user's notifications.
    pub async fn register(&self, actor: &Actor, spec: &DeviceSpec) -> Result<(DeviceId, Platform)> {
        if actor.impersonating {
            return Err(Error::NotDuringImpersonation);
        }
        let platform = spec.platform.unwrap_or(Platform::Web);
        let new = NewDevice {
            user_id: actor.id(),
            platform,
            token: &spec.token,
            p256dh: spec.p256dh.as_deref(),
            auth_secret: spec.auth.as_deref(),
        };
        Ok((
            self.store.upsert_device(&new, self.clock.now()).await?,
            platform,
        ))
    }

    /// Removes the caller's device; removing one that is not there is not an error
    /// (idempotent). Read-only tokens may not.
    pub async fn unregister(&self, actor: &Actor, spec: &DeviceSpec) -> Result<()> {
        if actor.impersonating {
            return Err(Error::NotDuringImpersonation);
        }
        self.store.remove_device(actor.id(), &spec.token).await?;
        Ok(())
    }

    /// The caller's notification switches.
    pub async fn preferences(&self, actor: &Actor) -> Result<NotificationPrefs> {
        Ok(self.store.preferences(actor.id()).await?)
    }

    /// Changes the switches a PATCH body names (each read as the original's framework reads a
    /// boolean), all or none; the whole set after. A read-only token may not.
    pub async fn set_preferences(&self, actor: &Actor, body: &Value) -> Result<NotificationPrefs> {
        if actor.impersonating {
            return Err(Error::NotDuringImpersonation);
        }
        let mut prefs = self.store.preferences(actor.id()).await?;
        let mut fields = Fields::default();
        for (i, name) in NotificationPrefs::NAMES.iter().enumerate() {
            if let Some(v) = body.get(*name)
                && let Some(b) = fields.take(name, boolean(v))
            {
                prefs.0[i] = b;
            }
        }
        fields.finish()?;
        self.store
            .set_preferences(actor.id(), prefs, self.clock.now())
            .await?;
        Ok(prefs)
    }
}

/// A boolean as DRF's `BooleanField` reads one: `true`/`false`, `1`/`0`, and the words
/// `true`, `false`, `yes`, `no`, `on`, `off`, `1`, `0` in any case.
fn boolean(v: &Value) -> std::result::Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Err(crate::error::msg::NOT_NULL.to_owned()),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(NOT_A_BOOLEAN.to_owned()),
        },
        _ => Err(NOT_A_BOOLEAN.to_owned()),
    }
}

const NOT_A_BOOLEAN: &str = "Must be a valid boolean.";

/// DELETE may name just the token (FCM) without a platform.
pub fn parse_for_delete(body: &DeviceBody) -> Result<DeviceSpec> {
    if body.platform.is_none()
        && let Some(token) = &body.token
    {
        let token = required_text(Some(token)).map_err(|m| Error::field("token", m))?;
        return Ok(DeviceSpec {
            platform: None,
            token,
            p256dh: None,
            auth: None,
        });
    }
    if body.platform.is_none() && body.subscription.is_none() {
        return Err(Error::field("token", crate::error::msg::REQUIRED));
    }
    parse(body)
}
