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

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use anyhow::Context;

use crate::clock::{Micros, now_micros};
use crate::config::Config;
use crate::domain::model::{ConversationId, Device, UserId};
use crate::state::AppState;
use crate::store::outbox::{self, Job, Outcome, Pending};
use crate::store::{conversations, devices, messages, users};
use payload::Notification;

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
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        // reqwest is built without a TLS provider of its own: use rustls's ring, once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let vapid = webpush::Vapid::from_private(&vapid_key(config)?, &config.vapid_subject)?;
        let fcm = match &config.fcm_service_account {
            Some(path) => Some(fcm::Fcm::from_file(path, &config.fcm_endpoint)?),
            None => None,
        };
        Ok(Self {
            webpush: webpush::WebPush::new(vapid, config.push_allow_private_endpoints)?,
            fcm,
            preview: config.push_preview,
            coalesce: Duration::from_millis(config.push_coalesce_ms),
            tick: Duration::from_millis(config.push_tick_ms.max(10)),
            lease: Duration::from_secs(config.push_lease_secs.max(1)),
            max_attempts: config.push_max_attempts.max(1),
            backoff: Duration::from_millis(config.push_backoff_ms),
        })
    }

    /// Delivers one notification to one device.
    pub async fn deliver(&self, device: &Device, n: &Notification) -> Attempt {
        match device.platform.as_str() {
            "webpush" => match serde_json::to_vec(n) {
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

fn micros(d: Duration) -> Micros {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The worker: until the process ends, plan notifications and deliver due jobs.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.push.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_report = tokio::time::Instant::now();
    let mut last_purge = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        // A full round means more is due: go on at once (a few rounds a tick at most), so a
        // burst of sends does not queue behind the tick.
        for _ in 0..PLAN_ROUNDS_PER_TICK {
            match plan(&state).await {
                Ok(claimed) if claimed >= PLAN_ROWS => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "push: planning notifications");
                    break;
                }
            }
        }
        if last_purge.elapsed() > Duration::from_secs(10) {
            last_purge = tokio::time::Instant::now();
            let before = now_micros() - micros(OUTBOX_RETENTION);
            for _ in 0..50 {
                match outbox::purge_done(&state.db, before).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "push: purging finished outbox rows");
                        break;
                    }
                }
            }
        }
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = %e, "push: delivering");
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            last_report = tokio::time::Instant::now();
            if let Ok((outbox, jobs, dead)) = outbox::depth(&state.db).await {
                metrics::gauge!(crate::metrics::OUTBOX_DEPTH).set(outbox as f64);
                metrics::gauge!(crate::metrics::PUSH_JOBS_PENDING).set(jobs as f64);
                metrics::gauge!(crate::metrics::PUSH_DEAD).set(dead as f64);
                if outbox + jobs + dead > 0 {
                    tracing::debug!(outbox, jobs, dead, "push queue depth");
                }
            }
        }
    }
}

/// What becomes of one burst, decided by reading only.
enum Decision {
    /// No notification: `reading`, `read` or `no_devices`.
    Skip(&'static str),
    /// A notification (JSON) for each of these devices.
    Notify(Vec<i64>, String),
}

/// Outbox rows one planning round claims at most.
const PLAN_ROWS: usize = 500;
/// Rounds in one tick at most, when each finds a full load.
const PLAN_ROUNDS_PER_TICK: usize = 20;
/// How long finished outbox rows (and their outcomes) are kept.
const OUTBOX_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Turns due outbox rows into notifications and jobs; returns how many rows it claimed.
/// Each burst is decided by reads; then one write transaction (one fsync on SQLite) records
/// every outcome and job of the round, so a busy node does not commit once per message.
pub async fn plan(state: &AppState) -> anyhow::Result<usize> {
    let push = &state.push;
    let now = now_micros();
    let claimed = outbox::claim_due(
        &state.db,
        now,
        now - micros(push.coalesce),
        now + micros(push.lease),
        PLAN_ROWS as i64,
    )
    .await?;
    let claimed_rows = claimed.len();
    let mut bursts: BTreeMap<(UserId, ConversationId), Vec<Pending>> = BTreeMap::new();
    for p in claimed {
        bursts
            .entry((p.recipient_id, p.conversation_id))
            .or_default()
            .push(p);
    }
    let mut done: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    let mut jobs = Vec::new();
    for ((recipient, conversation), rows) in bursts {
        // A burst that fails to plan keeps its lease and comes back when it runs out.
        match decide(state, recipient, conversation, &rows).await {
            Ok(decision) => {
                let outcome = match decision {
                    Decision::Skip(outcome) => outcome,
                    Decision::Notify(devices, json) => {
                        jobs.extend(
                            devices
                                .into_iter()
                                .map(|d| (d, recipient, conversation, json.clone())),
                        );
                        "notified"
                    }
                };
                done.entry(outcome)
                    .or_default()
                    .extend(rows.iter().map(|r| r.id));
            }
            Err(e) => {
                tracing::warn!(error = %e, recipient, conversation, "push: planning a notification");
            }
        }
    }
    if done.is_empty() {
        return Ok(claimed_rows);
    }
    outbox::record_round(&state.db, jobs, done.into_iter().collect(), now_micros()).await?;
    Ok(claimed_rows)
}

async fn decide(
    state: &AppState,
    recipient: UserId,
    conversation: ConversationId,
    rows: &[Pending],
) -> anyhow::Result<Decision> {
    if state.bus.is_reading(recipient, conversation).await {
        return Ok(Decision::Skip("reading"));
    }
    let ids: HashSet<i64> = rows.iter().map(|r| r.message_id).collect();
    let (lo, hi) = (
        ids.iter().min().copied().unwrap_or(0),
        ids.iter().max().copied().unwrap_or(0),
    );
    let unread: Vec<_> = messages::unread_between(&state.db, conversation, lo, hi)
        .await?
        .into_iter()
        .filter(|m| ids.contains(&m.id))
        .collect();
    let Some(sender_id) = unread.last().and_then(|m| m.sender.as_ref()).map(|s| s.id) else {
        return Ok(Decision::Skip("read"));
    };
    let devices = devices::active_for(state.db.pool(), recipient).await?;
    let sender = users::by_id(&state.db, sender_id).await?;
    let (Some(sender), false) = (sender, devices.is_empty()) else {
        return Ok(Decision::Skip("no_devices"));
    };
    let badge = conversations::unread_total(&state.db, recipient).await?;
    let n = payload::render(conversation, &sender, &unread, badge, state.push.preview);
    Ok(Decision::Notify(
        devices.iter().map(|d| d.id).collect(),
        serde_json::to_string(&n)?,
    ))
}

/// Delivers due jobs, several at once; returns how many it tried.
pub async fn deliver_due(state: &AppState) -> anyhow::Result<usize> {
    let push = &state.push;
    let now = now_micros();
    let jobs = outbox::claim_jobs(&state.db, now, now + micros(push.lease), 64).await?;
    let tried = jobs.len();
    let runs = jobs.into_iter().map(|job| async move {
        let outcome = attempt_job(state, &job).await;
        let label = match &outcome {
            Outcome::Sent => "sent",
            Outcome::Gone(_) => "gone",
            Outcome::Retry { .. } => "retry",
            Outcome::Dead(_) => "dead",
        };
        metrics::counter!(crate::metrics::PUSH_DELIVERIES, "outcome" => label).increment(1);
        if let Err(e) = outbox::record(&state.db, &job, &outcome, now_micros()).await {
            tracing::warn!(error = %e, job = job.id, "push: recording a delivery");
        }
    });
    futures_util::future::join_all(runs).await;
    Ok(tried)
}

async fn attempt_job(state: &AppState, job: &Job) -> Outcome {
    let push = &state.push;
    let n: Notification = match serde_json::from_str(&job.payload) {
        Ok(n) => n,
        Err(e) => return Outcome::Dead(format!("stored payload unreadable: {e}")),
    };
    let attempt_no = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
    match push.deliver(&job.device, &n).await {
        Attempt::Sent => Outcome::Sent,
        Attempt::Gone(e) => {
            tracing::info!(device = job.device.id, error = %e, "push: device gone, deactivated");
            Outcome::Gone(e)
        }
        Attempt::Dead(e) => {
            tracing::warn!(job = job.id, error = %e, "push: dead-lettered");
            Outcome::Dead(e)
        }
        Attempt::Retry { error, .. } if attempt_no >= push.max_attempts => {
            tracing::warn!(job = job.id, error = %error, attempts = attempt_no, "push: dead-lettered after retries");
            Outcome::Dead(format!("gave up after {attempt_no} attempts: {error}"))
        }
        Attempt::Retry { after, error } => {
            let delay = retry_delay(push.backoff, attempt_no, after);
            Outcome::Retry {
                at: now_micros() + micros(delay),
                error,
            }
        }
    }
}

/// `spotter push test`: a test notification to each of the user's devices, now.
pub async fn test(state: &AppState, email: &str) -> anyhow::Result<Vec<(Device, Attempt)>> {
    let user = users::by_email(state.db.pool(), email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
    let n = Notification {
        title: "Spotter test notification".into(),
        body: "Push notifications work on this device.".into(),
        data: payload::data(0, user.id),
        badge: conversations::unread_total(&state.db, user.id).await?,
    };
    let mut out = Vec::new();
    for d in devices::active_for(state.db.pool(), user.id).await? {
        let a = state.push.deliver(&d, &n).await;
        out.push((d, a));
    }
    Ok(out)
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

    #[tokio::test(start_paused = true)]
    async fn a_retry_waits_out_its_delay() {
        let delay = retry_delay(Duration::from_millis(500), 2, Some(Duration::from_secs(3)));
        let start = tokio::time::Instant::now();
        tokio::time::sleep(delay).await;
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
