//! Push notifications: the outbox worker and its two providers.
//!
//! A send enqueues a row in the send transaction (`store::outbox`). The worker (one per node;
//! rows are claimed with a lease, so nodes share the work and a crashed node's rows return) turns
//! each burst of a conversation into one notification, unless the recipient is reading that
//! conversation on a live socket (any node) or has read the messages already, and makes one
//! job per active device. Jobs are delivered by FCM HTTP v1 (phones) or Web Push (browsers),
//! retried with exponential backoff (honouring `Retry-After`), dead-lettered with the reason
//! after `push_max_attempts`, and a device the service calls gone (404/410) is deactivated.

pub mod fcm;
pub mod payload;
pub mod webpush;
pub mod worker;

use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::clock::{Clock, Micros};
use crate::config::Config;
use crate::domain::model::{Device, Platform};
use payload::Notification;
pub use worker::{run, test};

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// The device is unregistered: deactivate it.
    Gone(String),
    /// Worth trying again (5xx, 429, timeouts), not before `after` if the service said so.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Not worth trying again.
    Dead(String),
}

/// Reads a push service's answer.
pub async fn classify(resp: Result<reqwest::Response, reqwest::Error>) -> Attempt {
    let resp = match resp {
        Ok(r) => r,
        Err(e) if e.is_builder() || e.to_string().contains("no public address") => {
            return Attempt::Dead(format!("{e:#}"));
        }
        Err(e) => {
            return Attempt::Retry {
                after: None,
                error: format!("{e:#}"),
            };
        }
    };
    let status = resp.status();
    let after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if status.is_success() {
        return Attempt::Sent;
    }
    let text: String = resp
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let error = format!("{} {text}", status.as_u16());
    match status.as_u16() {
        404 | 410 => Attempt::Gone(error),
        408 | 429 | 500..=599 => Attempt::Retry { after, error },
        _ => Attempt::Dead(error),
    }
}

/// When to try again: `base · 2^(attempt-1)`, or the service's `Retry-After` when longer.
pub fn retry_delay(base: Duration, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let backoff = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    retry_after.map_or(backoff, |a| a.max(backoff))
}

pub struct Push {
    pub webpush: webpush::WebPush,
    fcm: Option<fcm::Fcm>,
    preview: bool,
    coalesce: Duration,
    tick: Duration,
    lease: Duration,
    max_attempts: u32,
    backoff: Duration,
    /// The clock's time when the worker last finished a round: everything due by then was
    /// planned and attempted (operators see it as a metric, tests wait on it).
    rounds: watch::Sender<Micros>,
}

/// The VAPID key from the configuration, else from the data folder (generated once).
fn vapid_key(config: &Config) -> anyhow::Result<String> {
    if let Some(k) = &config.vapid_private_key {
        return Ok(k.0.clone());
    }
    let path = config.data_dir.join("vapid-private-key");
    match std::fs::read_to_string(&path) {
        Ok(k) if !k.trim().is_empty() => Ok(k.trim().to_owned()),
        _ => {
            let k = webpush::Vapid::generate();
            std::fs::write(&path, &k).with_context(|| format!("writing {}", path.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(k)
        }
    }
}

impl Push {
    pub fn from_config(config: &Config, clock: &Clock) -> anyhow::Result<Self> {
        // reqwest is built without a TLS provider of its own: use rustls's ring, once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let vapid = webpush::Vapid::from_private(&vapid_key(config)?, &config.vapid_subject)?;
        let fcm = match &config.fcm_service_account {
            Some(path) => Some(fcm::Fcm::from_file(
                path,
                &config.fcm_endpoint,
                clock.clone(),
            )?),
            None => None,
        };
        Ok(Self {
            webpush: webpush::WebPush::new(
                vapid,
                config.push_allow_private_endpoints,
                clock.clone(),
            )?,
            fcm,
            preview: config.push_preview,
            coalesce: Duration::from_millis(config.push_coalesce_ms),
            tick: Duration::from_millis(config.push_tick_ms.max(10)),
            lease: Duration::from_secs(config.push_lease_secs.max(1)),
            max_attempts: config.push_max_attempts.max(1),
            backoff: Duration::from_millis(config.push_backoff_ms),
            rounds: watch::Sender::new(0),
        })
    }

    /// Resolves once the worker has finished a round at or after `at` (the clock's time).
    pub async fn round_done(&self, at: Micros) {
        let mut rounds = self.rounds.subscribe();
        let _ = rounds.wait_for(|done| *done >= at).await;
    }

    /// Delivers one notification to one device.
    pub async fn deliver(&self, device: &Device, n: &Notification) -> Attempt {
        match device.platform {
            Platform::WebPush => match serde_json::to_vec(n) {
                Ok(body) => {
                    self.webpush
                        .send(
                            device,
                            &format!("conversation-{}", n.data.conversation_id),
                            &body,
                        )
                        .await
                }
                Err(e) => Attempt::Dead(format!("serialising: {e}")),
            },
            _ => match &self.fcm {
                Some(fcm) => fcm.send(device, n).await,
                None => Attempt::Dead("FCM is not configured (SPOTTER_FCM_SERVICE_ACCOUNT)".into()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_a_longer_retry_after_wins() {
        let base = Duration::from_secs(1);
        assert_eq!(retry_delay(base, 1, None), Duration::from_secs(1));
        assert_eq!(retry_delay(base, 3, None), Duration::from_secs(4));
        assert_eq!(
            retry_delay(base, 1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            retry_delay(base, 4, Some(Duration::from_secs(2))),
            Duration::from_secs(8)
        );
    }
}
