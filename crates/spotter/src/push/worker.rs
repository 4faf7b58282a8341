//! The outbox worker, one per node (several nodes share the outbox: rows are claimed with a
//! lease, so a crashed node's rows return). Each round it turns each burst of a conversation
//! into one notification, unless the recipient is reading that conversation on a live socket
//! (any node) or has read the messages already, and makes one job per active device; then it
//! delivers due jobs, retried with exponential backoff (honouring `Retry-After`),
//! dead-lettered with the reason after `push_max_attempts`; a device the service calls gone
//! (404/410) is deactivated. Everything runs on the state's clock.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use super::payload::{self, Notification};
use super::{Attempt, retry_delay};
use crate::clock::micros;
use crate::domain::model::{ConversationId, Device, DeviceId, MessageId, UserId};
use crate::state::AppState;
use crate::store::{Job, JobOutcome, NewJob, Pending, Range, Round, Settled};

/// Outbox rows one planning round claims at most.
const PLAN_ROWS: usize = 500;
/// Rounds in one tick at most, when each finds a full load.
const PLAN_ROUNDS_PER_TICK: usize = 20;
/// How long finished outbox rows (and their outcomes) are kept.
const OUTBOX_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How often finished rows are purged, and the queue's depth reported.
const PURGE_EVERY: Duration = Duration::from_secs(10);
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// Until the process ends: plan notifications and deliver due jobs, every tick.
pub async fn run(state: AppState) {
    let clock = state.clock.clone();
    let mut last_report = clock.now();
    let mut last_purge = clock.now();
    let tick = micros(state.push.tick);
    let mut next = clock.now() + tick;
    loop {
        // The next round is a tick after the last one began, however long that one took.
        clock.sleep_until(next).await;
        let now = clock.now();
        next = now + tick;
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
        if now - last_purge >= micros(PURGE_EVERY) {
            last_purge = now;
            purge(&state, now - micros(OUTBOX_RETENTION)).await;
        }
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = %e, "push: delivering");
        }
        if now - last_report >= micros(REPORT_EVERY) {
            last_report = now;
            report(&state).await;
        }
        state.push.rounds.send_replace(now);
        metrics::gauge!(crate::metrics::PUSH_LAST_ROUND).set(now as f64 / 1e6);
    }
}

async fn purge(state: &AppState, before: i64) {
    for _ in 0..50 {
        match state.store.purge_outbox(before).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "push: purging finished outbox rows");
                break;
            }
        }
    }
}

async fn report(state: &AppState) {
    if let Ok(d) = state.store.push_depth().await {
        metrics::gauge!(crate::metrics::OUTBOX_DEPTH).set(d.outbox as f64);
        metrics::gauge!(crate::metrics::PUSH_JOBS_PENDING).set(d.jobs as f64);
        metrics::gauge!(crate::metrics::PUSH_DEAD).set(d.dead as f64);
        if d.outbox + d.jobs + d.dead > 0 {
            tracing::debug!(d.outbox, d.jobs, d.dead, "push queue depth");
        }
    }
}

/// What becomes of one burst, decided by reading only.
enum Decision {
    Skip(Settled),
    /// A notification (JSON) for each of these devices.
    Notify(Vec<DeviceId>, String),
}

/// Turns due outbox rows into notifications and jobs; returns how many rows it claimed.
/// Each burst is decided by reads; then one write records every outcome and job of the round,
/// so a busy node does not commit once per message.
pub async fn plan(state: &AppState) -> anyhow::Result<usize> {
    let push = &state.push;
    let now = state.clock.now();
    let claimed = state
        .store
        .claim_outbox(
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
    let mut settled: BTreeMap<Settled, Vec<i64>> = BTreeMap::new();
    let mut round = Round::default();
    for ((recipient, conversation), rows) in bursts {
        // A burst that fails to plan keeps its lease and comes back when it runs out.
        let how = match decide(state, recipient, conversation, &rows).await {
            Ok(Decision::Skip(how)) => how,
            Ok(Decision::Notify(devices, payload)) => {
                round.jobs.extend(devices.into_iter().map(|device| NewJob {
                    device,
                    recipient,
                    conversation,
                    payload: payload.clone(),
                }));
                Settled::Notified
            }
            Err(e) => {
                tracing::warn!(error = %e, %recipient, %conversation, "push: planning a notification");
                continue;
            }
        };
        settled
            .entry(how)
            .or_default()
            .extend(rows.iter().map(|r| r.id));
    }
    if settled.is_empty() {
        return Ok(claimed_rows);
    }
    round.settled = settled.into_iter().collect();
    state.store.record_round(round, state.clock.now()).await?;
    Ok(claimed_rows)
}

async fn decide(
    state: &AppState,
    recipient: UserId,
    conversation: ConversationId,
    rows: &[Pending],
) -> anyhow::Result<Decision> {
    if state.bus.is_reading(recipient, conversation).await {
        return Ok(Decision::Skip(Settled::Reading));
    }
    let ids: HashSet<MessageId> = rows.iter().map(|r| r.message_id).collect();
    let (lo, hi) = (
        ids.iter().min().copied().unwrap_or_default(),
        ids.iter().max().copied().unwrap_or_default(),
    );
    // A message deleted before its push went out is not announced.
    let unread: Vec<_> = state
        .store
        .messages(conversation, Range::UnreadBetween { lo, hi })
        .await?
        .into_iter()
        .filter(|m| ids.contains(&m.id) && !m.is_deleted())
        .collect();
    let Some(sender_id) = unread.last().and_then(|m| m.sender_id()) else {
        return Ok(Decision::Skip(Settled::Read));
    };
    if !state.store.preferences(recipient).await?.new_message() {
        return Ok(Decision::Skip(Settled::Muted));
    }
    let devices = state.store.active_devices(recipient).await?;
    let sender = state.store.user(sender_id).await?;
    let (Some(sender), false) = (sender, devices.is_empty()) else {
        return Ok(Decision::Skip(Settled::NoDevices));
    };
    let badge = state.store.unread_total(recipient).await?;
    let n = payload::render(conversation, &sender, &unread, badge, state.push.preview);
    Ok(Decision::Notify(
        devices.iter().map(|d| d.id).collect(),
        serde_json::to_string(&n)?,
    ))
}

/// Delivers due jobs, several at once; returns how many it tried.
pub async fn deliver_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let lease_until = now + micros(state.push.lease);
    let jobs = state.store.claim_jobs(now, lease_until, 64).await?;
    let tried = jobs.len();
    let runs = jobs.into_iter().map(|job| async move {
        let outcome = attempt_job(state, &job).await;
        let label = outcome.state();
        metrics::counter!(crate::metrics::PUSH_DELIVERIES, "outcome" => label).increment(1);
        if let Err(e) = state
            .store
            .record_job(&job, &outcome, state.clock.now())
            .await
        {
            tracing::warn!(error = %e, job = job.id, "push: recording a delivery");
        }
    });
    futures_util::future::join_all(runs).await;
    Ok(tried)
}

async fn attempt_job(state: &AppState, job: &Job) -> JobOutcome {
    let push = &state.push;
    let n: Notification = match serde_json::from_str(&job.payload) {
        Ok(n) => n,
        Err(e) => return JobOutcome::Dead(format!("stored payload unreadable: {e}")),
    };
    let attempt_no = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
    match push.deliver(&job.device, &n).await {
        Attempt::Sent => JobOutcome::Sent,
        Attempt::Gone(e) => {
            tracing::info!(device = %job.device.id, error = %e, "push: device gone, deactivated");
            JobOutcome::Gone(e)
        }
        Attempt::Dead(e) => {
            tracing::warn!(job = job.id, error = %e, "push: dead-lettered");
            JobOutcome::Dead(e)
        }
        Attempt::Retry { error, .. } if attempt_no >= push.max_attempts => {
            tracing::warn!(job = job.id, error = %error, attempts = attempt_no, "push: dead-lettered after retries");
            JobOutcome::Dead(format!("gave up after {attempt_no} attempts: {error}"))
        }
        Attempt::Retry { after, error } => {
            let delay = retry_delay(push.backoff, attempt_no, after);
            JobOutcome::Retry {
                at: state.clock.now() + micros(delay),
                error,
            }
        }
    }
}

/// `spotter push test`: a test notification to each of the user's devices, now.
pub async fn test(state: &AppState, email: &str) -> anyhow::Result<Vec<(Device, Attempt)>> {
    let user = state
        .store
        .user_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
    let n = Notification {
        title: "Spotter test notification".into(),
        body: "Push notifications work on this device.".into(),
        data: payload::data(ConversationId(0), user.id),
        badge: state.store.unread_total(user.id).await?,
    };
    let mut out = Vec::new();
    for d in state.store.active_devices(user.id).await? {
        let a = state.push.deliver(&d, &n).await;
        out.push((d, a));
    }
    Ok(out)
}
