//! The tasks that drive a run: the timer thread that hands each send to its sender on the
//! open-loop timetable, the per-participant socket task (sending over the socket and taking
//! deliveries, acks and errors), and the REST sender. Each returns the [`Tally`] it measured.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use spotter_client::{Client, Incoming, ServerFrame, Socket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::ledger::{ACKED, DELIVERED, ECHOED, FAILED, Run, Tally};

/// The timer thread: hands each send to its sender at its scheduled time.
pub(super) fn timetable(
    run: &Run,
    n: u32,
    queues: Vec<mpsc::UnboundedSender<u32>>,
    stop: &AtomicBool,
) {
    let mut heap: BinaryHeap<Reverse<(Instant, usize, u32)>> = (0..queues.len())
        .map(|i| Reverse((run.scheduled(i / 2, i % 2, 0), i, 0)))
        .collect();
    while let Some(&Reverse((at, i, k))) = heap.peek() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        if at > now {
            // nanosleep: usually within ~60 µs of the deadline (timer slack).
            std::thread::sleep((at - now).min(Duration::from_millis(100)));
            continue;
        }
        heap.pop();
        let _ = queues[i].send(k);
        if k + 1 < n {
            heap.push(Reverse((run.scheduled(i / 2, i % 2, k + 1), i, k + 1)));
        }
    }
}

/// One participant's socket: takes deliveries (and, with `sends`, sends on the timetable).
pub(super) async fn socket_task(
    run: Arc<Run>,
    pair: usize,
    side: usize,
    mut socket: Socket,
    mut sends: Option<mpsc::UnboundedReceiver<u32>>,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let mut t = Tally::default();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            k = recv_opt(&mut sends) => match k {
                Some(k) => {
                    let now = Instant::now();
                    t.lag.record(now.saturating_duration_since(run.scheduled(pair, side, k)));
                    run.mark_written(pair, side, k, now);
                    let frame = run.send_frame(pair, side, k);
                    let sent = socket
                        .send_raw(tokio_tungstenite::tungstenite::Message::Text(frame.into()))
                        .await;
                    if sent.is_err() {
                        t.error("socket write failed");
                        *t.closed.entry("write failed".into()).or_default() += 1;
                        return t;
                    }
                }
                None => sends = None,
            },
            incoming = socket.next() => match incoming {
                Some(Incoming::Frame(f)) => on_frame(&run, pair, side, f, &mut t),
                Some(Incoming::Unknown(_)) => t.frames += 1,
                Some(Incoming::Closed(code, reason)) => {
                    *t.closed.entry(format!("{code} {reason}")).or_default() += 1;
                    return t;
                }
                None => {
                    *t.closed.entry("dropped".into()).or_default() += 1;
                    return t;
                }
            },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.close()).await;
    t
}

async fn recv_opt(rx: &mut Option<mpsc::UnboundedReceiver<u32>>) -> Option<u32> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn on_frame(run: &Run, pair: usize, side: usize, f: ServerFrame, t: &mut Tally) {
    t.frames += 1;
    let now = Instant::now();
    match f {
        ServerFrame::NewMessage { message, .. } => {
            let Some((p, s, k)) = message
                .client_message_id
                .as_deref()
                .and_then(|c| run.parse(c))
            else {
                return; // not this run's (the conversation's first message, an older run)
            };
            if p != pair {
                t.error("message of another conversation");
                return;
            }
            let flags = &run.sender(p, s).flags[k as usize];
            if s == side {
                if flags.fetch_or(ECHOED, Ordering::Relaxed) & ECHOED != 0 {
                    t.echo_duplicated += 1;
                }
                return;
            }
            if flags.fetch_or(DELIVERED, Ordering::Relaxed) & DELIVERED != 0 {
                t.duplicated += 1;
                return;
            }
            t.delivered += 1;
            t.last_delivery = Some(now);
            t.latency
                .record(now.saturating_duration_since(run.scheduled(p, s, k)));
            if let Some(w) = run.written(p, s, k) {
                t.from_write.record(now.saturating_duration_since(w));
            }
        }
        ServerFrame::Ack {
            client_message_id, ..
        } => {
            if run.closed.load(Ordering::Relaxed) {
                t.late_acks += 1;
                return;
            }
            if let Some((p, s, k)) = client_message_id.as_deref().and_then(|c| run.parse(c)) {
                let prior = run.sender(p, s).flags[k as usize].fetch_or(ACKED, Ordering::Relaxed);
                if prior & ACKED == 0 {
                    t.ack
                        .record(now.saturating_duration_since(run.scheduled(p, s, k)));
                }
            }
        }
        ServerFrame::Error {
            code,
            client_message_id,
            ..
        } => {
            if let Some((p, s, k)) = client_message_id.as_deref().and_then(|c| run.parse(c)) {
                run.sender(p, s).flags[k as usize].fetch_or(FAILED, Ordering::Relaxed);
            }
            t.error(format!("ws error {code}"));
        }
        _ => {}
    }
}

/// One participant sending over REST: each send is its own request, issued on time whatever
/// the earlier ones are doing.
pub(super) async fn rest_sender(
    run: Arc<Run>,
    pair: usize,
    side: usize,
    client: Client,
    mut rx: mpsc::UnboundedReceiver<u32>,
) -> Tally {
    let mut t = Tally::default();
    let mut inflight = JoinSet::new();
    let conversation = run.conversations[pair];
    let mut open = true;
    loop {
        tokio::select! {
            k = rx.recv(), if open => match k {
                Some(k) => {
                    let now = Instant::now();
                    t.lag.record(now.saturating_duration_since(run.scheduled(pair, side, k)));
                    run.mark_written(pair, side, k, now);
                    let (c, cmid, content) = (client.clone(), run.cmid(pair, side, k), run.content.clone());
                    inflight.spawn(async move {
                        let r = tokio::time::timeout(
                            Duration::from_secs(30),
                            c.send(conversation, &content, Some(&cmid)),
                        )
                        .await;
                        (k, r, Instant::now())
                    });
                }
                None => open = false,
            },
            Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                let Ok((k, r, at)) = done else { t.error("send task panicked"); continue };
                if run.closed.load(Ordering::Relaxed) {
                    t.late_acks += 1;
                    continue;
                }
                let flags = &run.sender(pair, side).flags[k as usize];
                match r {
                    Ok(Ok((status, _))) if status.as_u16() == 201 => {
                        flags.fetch_or(ACKED, Ordering::Relaxed);
                        t.ack.record(at.saturating_duration_since(run.scheduled(pair, side, k)));
                    }
                    Ok(Ok((status, _))) => {
                        // 200: an idempotent replay; cannot happen with fresh ids.
                        flags.fetch_or(ACKED, Ordering::Relaxed);
                        t.error(format!("HTTP {status} (replay)"));
                    }
                    Ok(Err(e)) => {
                        flags.fetch_or(FAILED, Ordering::Relaxed);
                        t.error(match e.status() {
                            Some(s) => format!("HTTP {}", s.as_u16()),
                            None => "HTTP transport".to_owned(),
                        });
                    }
                    Err(_) => {
                        flags.fetch_or(FAILED, Ordering::Relaxed);
                        t.error("HTTP timeout (30 s)");
                    }
                }
            },
            else => break,
        }
    }
    t
}
