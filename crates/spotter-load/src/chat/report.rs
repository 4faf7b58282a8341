//! The scenario's result: [`ChatReport`] (its fields and their order are the JSON output) and
//! how it is computed from the run's message flags, the merged [`Tally`] and the resource
//! samples taken around the run.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::ChatOpts;
use super::ledger::{ACKED, DELIVERED, ECHOED, FAILED, Run, SENT, Tally};
use crate::hist::Summary;
use crate::procfs::{self, Usage};

#[derive(Debug, Clone, Serialize)]
pub struct ChatReport {
    pub options: ChatOpts,
    /// Messages a second offered: 2 × pairs × rate.
    pub offered_per_s: f64,
    pub scheduled: u64,
    pub sent: u64,
    pub acked: u64,
    /// Delivered to the other participant's socket (first copies).
    pub delivered: u64,
    /// Acknowledged within the grace period but not delivered to the other participant within
    /// 3 s after it.
    pub lost: u64,
    /// Delivered twice (or more) to the same socket.
    pub duplicated: u64,
    /// Acknowledged but the sender's own socket never got its copy.
    pub echo_missing: u64,
    /// Sent, neither acknowledged nor refused by the end of the grace period.
    pub unanswered: u64,
    /// Of those, answered after the grace period (not counted as acknowledged).
    pub late_acks: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// Sockets that closed or broke during the run, by close code.
    pub sockets_closed: BTreeMap<String, u64>,
    /// First deliveries a second: over the timetable (per-sender messages / rate), or from
    /// `t0` to the last delivery when that is longer.
    pub delivered_per_s: f64,
    /// Scheduled send time → `new_message` at the other participant's socket.
    pub latency: Summary,
    /// Actual write of the send → `new_message` at the other participant (the server's share,
    /// without the load generator's lateness in sending).
    pub latency_from_write: Summary,
    /// Scheduled send time → ack (socket `ack` frame or the REST 201).
    pub ack_latency: Summary,
    /// How late the load generator handed each send to the network.
    pub schedule_lag: Summary,
    pub server: Usage,
    /// Server CPU time per delivered message, microseconds.
    pub server_cpu_us_per_message: f64,
    /// Delivered messages per second of server CPU time: messages/s per fully used core.
    pub messages_per_server_cpu_second: f64,
    /// The same with the CPU time of PostgreSQL's processes added (equal on SQLite).
    pub server_and_db_cpu_us_per_message: f64,
    pub messages_per_server_and_db_cpu_second: f64,
    pub load_generator: Usage,
    /// The whole machine (other work on it included) and PostgreSQL.
    pub machine: procfs::MachineUsage,
    pub kernel_before: procfs::SockStat,
    pub kernel_after: procfs::SockStat,
}

/// What was sampled around the run.
pub(super) struct Samples {
    pub(super) server: (Option<procfs::ProcSample>, Option<procfs::ProcSample>),
    pub(super) this: (Option<procfs::ProcSample>, Option<procfs::ProcSample>),
    pub(super) kernel: (procfs::SockStat, procfs::SockStat),
    pub(super) machine: procfs::MachineUsage,
    pub(super) wall: f64,
}

pub(super) fn report(opts: &ChatOpts, run: &Run, tally: Tally, samples: Samples) -> ChatReport {
    let Samples {
        server: (server_before, server_after),
        this: (self_before, self_after),
        kernel: (kernel_before, kernel_after),
        machine,
        wall,
    } = samples;
    let (mut sent, mut acked, mut lost, mut echo_missing, mut unanswered, mut scheduled) =
        (0, 0, 0, 0, 0, 0);
    for s in &run.senders {
        for f in &s.flags {
            let f = f.load(Ordering::Relaxed);
            scheduled += 1;
            sent += u64::from(f & SENT != 0);
            acked += u64::from(f & ACKED != 0);
            lost += u64::from(f & ACKED != 0 && f & DELIVERED == 0);
            echo_missing += u64::from(f & ACKED != 0 && f & ECHOED == 0);
            unanswered += u64::from(f & SENT != 0 && f & (ACKED | FAILED) == 0);
        }
    }
    let span = tally
        .last_delivery
        .map_or(0.0, |l| l.saturating_duration_since(run.t0).as_secs_f64())
        .max(f64::from(opts.per_sender()) / opts.rate);
    let server = Usage::between(server_before, server_after, wall);
    let delivered = tally.delivered;
    let with_db = server.cpu_seconds + machine.postgres_cpu_seconds;
    ChatReport {
        options: opts.clone(),
        offered_per_s: 2.0 * f64::from(opts.pairs) * opts.rate,
        scheduled,
        sent,
        acked,
        delivered,
        lost,
        duplicated: tally.duplicated + tally.echo_duplicated,
        echo_missing,
        unanswered,
        late_acks: tally.late_acks,
        errors: tally.errors.values().sum(),
        error_kinds: tally.errors,
        sockets_closed: tally.closed,
        delivered_per_s: if span > 0.0 {
            delivered as f64 / span
        } else {
            0.0
        },
        latency: tally.latency.summary(),
        latency_from_write: tally.from_write.summary(),
        ack_latency: tally.ack.summary(),
        schedule_lag: tally.lag.summary(),
        server_cpu_us_per_message: if delivered > 0 {
            server.cpu_seconds * 1e6 / delivered as f64
        } else {
            0.0
        },
        messages_per_server_cpu_second: if server.cpu_seconds > 0.0 {
            delivered as f64 / server.cpu_seconds
        } else {
            0.0
        },
        server_and_db_cpu_us_per_message: if delivered > 0 {
            with_db * 1e6 / delivered as f64
        } else {
            0.0
        },
        messages_per_server_and_db_cpu_second: if with_db > 0.0 {
            delivered as f64 / with_db
        } else {
            0.0
        },
        server,
        load_generator: Usage::between(self_before, self_after, wall),
        machine,
        kernel_before,
        kernel_after,
    }
}
