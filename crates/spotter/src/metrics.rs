//! Prometheus metrics, served at `/metrics`. One recorder per process (the `metrics` facade is
//! global), installed on first use; every node renders its own.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const MESSAGES_SENT: &str = "spotter_messages_sent_total";
pub const MESSAGES_DELIVERED: &str = "spotter_messages_delivered_total";
pub const SEND_TO_DELIVER: &str = "spotter_send_to_deliver_seconds";
pub const OPEN_SOCKETS: &str = "spotter_open_sockets";
pub const BUS_LAG: &str = "spotter_bus_lag_seconds";
pub const BUS_DROPPED: &str = "spotter_bus_events_dropped_total";
pub const DB_WAIT: &str = "spotter_db_pool_wait_seconds";
pub const OUTBOX_DEPTH: &str = "spotter_push_outbox_depth";
pub const PUSH_JOBS_PENDING: &str = "spotter_push_jobs_pending";
pub const PUSH_DEAD: &str = "spotter_push_jobs_dead";
pub const PUSH_DELIVERIES: &str = "spotter_push_deliveries_total";
pub const SOCKETS_CLOSED_SLOW: &str = "spotter_sockets_closed_slow_total";
pub const PUSH_LAST_ROUND: &str = "spotter_push_last_round_timestamp_seconds";
/// Rate-limit checks that could not reach Redis and were decided by this node alone.
pub const RATELIMIT_FAIL_OPEN: &str = "spotter_ratelimit_redis_failures_total";
/// SQLite: messages stored but not in the search index yet (searched without it meanwhile).
pub const SEARCH_INDEX_BEHIND: &str = "spotter_search_index_behind_messages";
/// Files of uploads whose message never committed, removed by the sweeper.
pub const MEDIA_ORPHANS_REMOVED: &str = "spotter_media_orphans_removed_total";
/// Messages cleared by retention (older than `SPOTTER_RETENTION_DAYS`).
pub const MESSAGES_PURGED: &str = "spotter_messages_purged_total";

/// HTTP answers by status class (`1xx` … `5xx`), WebSocket upgrades included.
pub const HTTP_RESPONSES: &str = "spotter_http_responses_total";
/// From a request's arrival to its answer's head.
pub const HTTP_DURATION: &str = "spotter_http_request_duration_seconds";

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first call.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Another recorder may be installed already (an embedding app's): then ours stays empty.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(HTTP_RESPONSES, "HTTP answers by status class.");
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "From a request's arrival to its answer's head."
    );
    metrics::describe_counter!(MESSAGES_SENT, "Messages stored (acknowledged sends).");
    metrics::describe_counter!(
        MESSAGES_DELIVERED,
        "Messages written to a live socket of their recipient."
    );
    metrics::describe_histogram!(
        SEND_TO_DELIVER,
        metrics::Unit::Seconds,
        "From a message's commit timestamp to its write on a recipient's socket."
    );
    metrics::describe_gauge!(OPEN_SOCKETS, "Open WebSocket subscriptions on this node.");
    metrics::describe_histogram!(
        BUS_LAG,
        metrics::Unit::Seconds,
        "From publish on one node to dispatch on another (Redis)."
    );
    metrics::describe_counter!(
        BUS_DROPPED,
        "Events not sent to other nodes because Redis was away or slow."
    );
    metrics::describe_histogram!(
        DB_WAIT,
        metrics::Unit::Seconds,
        "Waiting for a write transaction (on SQLite, for the writer thread)."
    );
    metrics::describe_gauge!(OUTBOX_DEPTH, "Push outbox rows not yet planned.");
    metrics::describe_gauge!(
        PUSH_JOBS_PENDING,
        "Push deliveries waiting or being retried."
    );
    metrics::describe_gauge!(PUSH_DEAD, "Push deliveries dead-lettered.");
    metrics::describe_counter!(PUSH_DELIVERIES, "Push delivery attempts by outcome.");
    metrics::describe_gauge!(
        PUSH_LAST_ROUND,
        "When this node's push worker last finished a round (unix seconds): a stalled worker stops moving it."
    );
    metrics::describe_counter!(
        MEDIA_ORPHANS_REMOVED,
        "Files of uploads whose message never committed (a crash, a dropped request), removed by the sweeper."
    );
    metrics::describe_counter!(
        MESSAGES_PURGED,
        "Messages cleared by retention (older than SPOTTER_RETENTION_DAYS)."
    );
    metrics::describe_counter!(
        SOCKETS_CLOSED_SLOW,
        "Sockets closed with 1013 for falling behind."
    );
}

pub fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Renders the Prometheus text format.
pub fn render() -> String {
    handle().render()
}
