//! Results: one JSON document per run (`--json`) and a readable table on stdout.

use std::fmt::Write as _;

use serde::Serialize;

use crate::broadcast::BroadcastReport;
use crate::chat::ChatReport;
use crate::hist::Summary;
use crate::history::HistoryReport;
use crate::idle::IdleReport;
use crate::list::ListReport;
use crate::procfs::Usage;
use crate::search::SearchReport;
use crate::upload::UploadReport;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "scenario", rename_all = "lowercase")]
pub enum Report {
    Chat(Box<ChatReport>),
    Idle(Box<IdleReport>),
    History(Box<HistoryReport>),
    List(Box<ListReport>),
    Search(Box<SearchReport>),
    Upload(Box<UploadReport>),
    Broadcast(Box<BroadcastReport>),
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

fn header(out: &mut String) {
    let _ = writeln!(
        out,
        "  {:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "count"
    );
}

fn row(out: &mut String, name: &str, s: &Summary) {
    let _ = writeln!(
        out,
        "  {:<28} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9}",
        name, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms, s.count
    );
}

fn machine(out: &mut String, m: &crate::procfs::MachineUsage) {
    let _ = writeln!(
        out,
        "  machine: {:.2} of its cores busy (iowait {:.2}), load average {:.1} → {:.1}; PostgreSQL CPU {:.2} s",
        m.cores_busy, m.iowait_cores, m.loadavg_before, m.loadavg_after, m.postgres_cpu_seconds
    );
}

fn usage(out: &mut String, who: &str, u: &Usage) {
    match (&u.before, &u.after) {
        (Some(b), Some(a)) => {
            let _ = writeln!(
                out,
                "  {who}: pid {}, RSS {} → {} (peak {}), CPU {:.2} s in {:.1} s ({:.2} cores), {} threads",
                a.pid,
                mib(b.rss_bytes as f64),
                mib(a.rss_bytes as f64),
                mib(a.rss_peak_bytes as f64),
                u.cpu_seconds,
                u.wall_seconds,
                u.cores_busy,
                a.threads
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  {who}: not measured (no --server-pid, and none found)"
            );
        }
    }
}

/// The chat table's lines (shared with `broadcast --with-chat`).
fn chat_lines(o: &mut String, r: &ChatReport) {
    let op = &r.options;
    let _ = writeln!(
        o,
        "chat: {} pairs × 2 senders × {} msg/s for {:.1} s via {:?}, {:?} sockets, {} B messages",
        op.pairs,
        op.rate,
        op.duration.as_secs_f64(),
        op.via,
        op.socket,
        op.message_bytes
    );
    header(o);
    row(o, "send→deliver (scheduled)", &r.latency);
    row(o, "send→deliver (written)", &r.latency_from_write);
    row(o, "send→ack (scheduled)", &r.ack_latency);
    row(o, "schedule lag (generator)", &r.schedule_lag);
    let _ = writeln!(
        o,
        "  offered {:.0} msg/s, delivered {:.0} msg/s",
        r.offered_per_s, r.delivered_per_s
    );
    let _ = writeln!(
        o,
        "  scheduled {}  sent {}  acked {}  delivered {}  LOST {}  DUPLICATED {}  echo missing {}  unanswered {} (late acks {})  errors {}",
        r.scheduled,
        r.sent,
        r.acked,
        r.delivered,
        r.lost,
        r.duplicated,
        r.echo_missing,
        r.unanswered,
        r.late_acks,
        r.errors
    );
    for (k, v) in &r.error_kinds {
        let _ = writeln!(o, "    error {k}: {v}");
    }
    for (k, v) in &r.sockets_closed {
        let _ = writeln!(o, "    socket closed {k}: {v}");
    }
    usage(o, "server", &r.server);
    if r.server_cpu_us_per_message > 0.0 {
        let _ = writeln!(
            o,
            "  server CPU per delivered message {:.1} µs → {:.0} messages per server CPU-second",
            r.server_cpu_us_per_message, r.messages_per_server_cpu_second
        );
    }
    if r.server_and_db_cpu_us_per_message > r.server_cpu_us_per_message {
        let _ = writeln!(
            o,
            "  with PostgreSQL's CPU: {:.1} µs per message → {:.0} messages per CPU-second",
            r.server_and_db_cpu_us_per_message, r.messages_per_server_and_db_cpu_second
        );
    }
    usage(o, "load generator", &r.load_generator);
    machine(o, &r.machine);
    let _ = writeln!(
        o,
        "  kernel TCP: {} sockets, {} buffers (after)",
        r.kernel_after.tcp_inuse,
        mib(r.kernel_after.tcp_mem_bytes as f64)
    );
}

impl Report {
    pub fn table(&self) -> String {
        let mut o = String::new();
        match self {
            Report::Chat(r) => chat_lines(&mut o, r),
            Report::Idle(r) => {
                let _ = writeln!(
                    o,
                    "idle: {} sockets of {} users, held {:.0} s",
                    r.options.sockets,
                    r.options.users,
                    r.options.hold.as_secs_f64()
                );
                let _ = writeln!(
                    o,
                    "  connected {}  failed {}  closed while held {}  ({} source address(es), {:.1} s, {:.0} connects/s)",
                    r.connected,
                    r.failed,
                    r.closed_while_held,
                    r.source_addresses,
                    r.connect_seconds,
                    r.connects_per_s
                );
                for (k, v) in &r.failures {
                    let _ = writeln!(o, "    failure {k}: {v}");
                }
                if let (Some(b), Some(h)) = (&r.server_before, &r.server_held) {
                    let _ = writeln!(
                        o,
                        "  server RSS {} → {} held ({} per socket); {} after closing; {} fds held",
                        mib(b.rss_bytes as f64),
                        mib(h.rss_bytes as f64),
                        format_bytes(r.server_rss_per_socket_bytes),
                        r.server_after_close
                            .as_ref()
                            .map_or("?".into(), |a| mib(a.rss_bytes as f64)),
                        h.open_files
                    );
                    let _ = writeln!(
                        o,
                        "  server CPU while connecting {:.2} s",
                        r.server_cpu_seconds_connecting
                    );
                } else {
                    let _ = writeln!(
                        o,
                        "  server: not measured (no --server-pid, and none found)"
                    );
                }
                let _ = writeln!(
                    o,
                    "  kernel TCP: {} → {} sockets, buffers {} → {} ({} per socket end)",
                    r.kernel_before.tcp_inuse,
                    r.kernel_held.tcp_inuse,
                    mib(r.kernel_before.tcp_mem_bytes as f64),
                    mib(r.kernel_held.tcp_mem_bytes as f64),
                    format_bytes(r.kernel_tcp_mem_per_socket_bytes)
                );
                let _ = writeln!(
                    o,
                    "  load generator RSS per socket {}",
                    format_bytes(r.load_generator_rss_per_socket_bytes)
                );
                machine(&mut o, &r.machine_connecting);
                for w in &r.warnings {
                    let _ = writeln!(o, "  WARNING: {w}");
                }
            }
            Report::History(r) => {
                let _ = writeln!(
                    o,
                    "history: conversation {} of {} messages, {} a page ({} seeded in {:.1} s, {:.0}/s)",
                    r.conversation_id,
                    r.messages,
                    r.options.page_size,
                    r.seeded,
                    r.seed_seconds,
                    r.seed_per_s
                );
                header(&mut o);
                row(&mut o, "walk newest→oldest", &r.walk);
                row(&mut o, "random depth", &r.random);
                let _ = writeln!(
                    o,
                    "  walk: {} pages, every message once in order: {}; errors {}",
                    r.walk_pages, r.walk_complete, r.errors
                );
                usage(&mut o, "server", &r.server);
                machine(&mut o, &r.machine);
            }
            Report::List(r) => {
                let _ = writeln!(
                    o,
                    "list: trainer with {} conversations (unread {})",
                    r.conversations, r.unread_count
                );
                header(&mut o);
                row(&mut o, "conversations/ page 1", &r.first_page);
                row(&mut o, "conversations/ other pages", &r.other_pages);
                row(&mut o, "unread-count/", &r.unread);
                let _ = writeln!(o, "  errors {}", r.errors);
                usage(&mut o, "server", &r.server);
                machine(&mut o, &r.machine);
            }
            Report::Search(r) => {
                let _ = writeln!(
                    o,
                    "search: {} messages over {} conversations (seeded at {:.0} msg/s; index caught up {:.1} s later)",
                    r.options.messages,
                    r.options.conversations,
                    r.seed_rate,
                    r.index_catch_up_seconds
                );
                header(&mut o);
                for k in &r.kinds {
                    row(
                        &mut o,
                        &format!("{} \"{}\" ({})", k.kind, k.query, k.matches),
                        &k.first_page,
                    );
                }
                let _ = writeln!(o, "  errors {}", r.errors);
                usage(&mut o, "server", &r.server);
                machine(&mut o, &r.machine);
            }
            Report::Broadcast(r) => {
                let op = &r.options;
                let _ = writeln!(
                    o,
                    "broadcast: {} trainees ({} with a live socket), {:.0} % with a conversation before, {} broadcasts",
                    op.trainees,
                    r.connected,
                    op.existing_conversations * 100.0,
                    op.repeat
                );
                let _ = writeln!(
                    o,
                    "  {:<4} {:>7} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>6} {:>5} {:>5} {:>8}",
                    "#",
                    "started",
                    "202 ms",
                    "done ms",
                    "stored/s",
                    "1st dlv",
                    "p50 dlv",
                    "p99 dlv",
                    "last dlv",
                    "sent",
                    "lost",
                    "dup",
                    "CPU s"
                );
                for (i, b) in r.broadcasts.iter().enumerate() {
                    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
                    let _ = writeln!(
                        o,
                        "  {:<4} {:>7} {:>9.1} {:>9} {:>10.0} {:>10} {:>10.1} {:>10.1} {:>9} {:>6} {:>5} {:>5} {:>8.2}",
                        i + 1,
                        b.started_conversations,
                        b.accepted_ms,
                        opt(b.done_ms) + if b.done_by_poll { "*" } else { "" },
                        b.stored_per_second,
                        opt(b.first_delivery_ms),
                        b.delivery.p50_ms,
                        b.delivery.p99_ms,
                        opt(b.last_delivery_ms),
                        format!("{}/{}", b.sent, b.total),
                        b.lost,
                        b.duplicated,
                        b.server.cpu_seconds
                    );
                }
                let _ = writeln!(o, "  over the broadcasts (ms from the POST):");
                header(&mut o);
                row(&mut o, "202", &r.accepted);
                row(&mut o, "done (progress frame)", &r.done);
                row(&mut o, "last trainee delivery", &r.last_delivery);
                let _ = writeln!(
                    o,
                    "  LOST {}  DUPLICATED {}  wrong content {}  stray copies {}  failed {}  progress frames {}",
                    r.lost,
                    r.duplicated,
                    r.wrong_content,
                    r.stray,
                    r.broadcasts.iter().map(|b| b.failed).sum::<i64>(),
                    r.broadcasts.iter().map(|b| b.progress_frames).sum::<u32>()
                );
                if r.broadcasts.iter().any(|b| b.done_by_poll) {
                    let _ = writeln!(
                        o,
                        "  * no done frame on the trainer's socket: when GET broadcasts/<id>/ said done"
                    );
                }
                for (k, v) in &r.sockets_closed {
                    let _ = writeln!(o, "  socket closed by the server, {k}: {v}");
                }
                usage(&mut o, "server", &r.server);
                machine(&mut o, &r.machine);
                if let (Some(alone), Some(with)) = (&r.chat_alone, &r.chat_with_broadcasts) {
                    let _ = writeln!(o, "\nchat alone:");
                    chat_lines(&mut o, alone);
                    let _ = writeln!(
                        o,
                        "\nchat with the broadcasts ({:.0} % of its timetable had one in progress):",
                        r.chat_covered * 100.0
                    );
                    chat_lines(&mut o, with);
                }
            }
            Report::Upload(r) => {
                let _ = writeln!(
                    o,
                    "upload: photo sends (multipart), {} of each size, {} at a time",
                    r.options.iterations, r.options.concurrency
                );
                header(&mut o);
                row(&mut o, "text (JSON) → 201", &r.text.created);
                for s in &r.sizes {
                    row(
                        &mut o,
                        &format!("{} KiB ({}×{}) → 201", s.size_kib, s.width, s.height),
                        &s.created,
                    );
                }
                for s in std::iter::once(&r.text).chain(&r.sizes) {
                    let what = match s.size_kib {
                        0 => "text".to_owned(),
                        kib => format!("{kib} KiB: {} bytes,", s.bytes),
                    };
                    let _ = writeln!(
                        o,
                        "  {what} {:.1} sends/s, server CPU {:.2} ms per send, errors {}",
                        s.per_second, s.server_cpu_ms_per_upload, s.errors
                    );
                    usage(&mut o, "server", &s.server);
                    machine(&mut o, &s.machine);
                }
            }
        }
        o
    }
}

fn format_bytes(b: f64) -> String {
    if b.abs() >= 1024.0 * 1024.0 {
        mib(b)
    } else if b.abs() >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

/// Serializes a duration as seconds (a float).
pub fn secs<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
