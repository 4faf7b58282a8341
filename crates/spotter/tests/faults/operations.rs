//! The operator's kit with the real binary: settings layered file < environment < flags (and a
//! server started from a file alone), JSON logs that carry each request's id, and the alert
//! rules and dashboard in `deploy/` naming only metrics the server exports.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use spotter_client::{Client, LiveConversation, Update};

use super::{free_port, helpers, wait_ready};

fn spotter() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spotter"));
    // Only what a test sets: none of the caller's SPOTTER_* settings.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SPOTTER_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `spotter config …` run in `dir`, as (exit ok, stdout, stderr).
fn config(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = spotter()
        .current_dir(dir)
        .arg("config")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn setting(toml: &str, key: &str) -> Option<String> {
    toml.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .map(|v| v.trim_matches('"').to_owned())
}

#[test]
fn settings_come_from_defaults_then_the_file_then_the_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("spotter.toml"),
        "ws_queue = 99\nretention_days = 5\nbroadcast_per_second = 40\njwt_secret = \"from-the-file\"\n",
    )
    .unwrap();
    // ./spotter.toml is read when present; each layer overrides the one before.
    let (ok, out, err) = config(
        dir.path(),
        &["--broadcast-per-second", "7"],
        &[
            ("SPOTTER_RETENTION_DAYS", "6"),
            ("SPOTTER_BROADCAST_PER_SECOND", "8"),
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(
        setting(&out, "ws_queue").as_deref(),
        Some("99"),
        "file over default:\n{out}"
    );
    assert_eq!(
        setting(&out, "retention_days").as_deref(),
        Some("6"),
        "environment over file"
    );
    assert_eq!(
        setting(&out, "broadcast_per_second").as_deref(),
        Some("7"),
        "flag over environment"
    );
    assert_eq!(
        setting(&out, "ws_ping_secs").as_deref(),
        Some("30"),
        "the default where nothing is said"
    );
    // Secrets and passwords in URLs never print.
    let (ok, out, _) = config(
        dir.path(),
        &["--database-url", "postgres://spotter:hunter2@db/spotter"],
        &[],
    );
    assert!(ok);
    assert!(
        !out.contains("from-the-file") && !out.contains("hunter2"),
        "{out}"
    );
    assert_eq!(setting(&out, "jwt_secret").as_deref(), Some("****"));
    assert_eq!(
        setting(&out, "database_url").as_deref(),
        Some("postgres://spotter:****@db/spotter")
    );

    // Mistakes are named, with the file and key: a misspelt key, a wrong type, a missing file.
    std::fs::write(dir.path().join("typo.toml"), "ws_queu = 5\n").unwrap();
    let (ok, _, err) = config(dir.path(), &["--config", "typo.toml"], &[]);
    assert!(
        !ok && err.contains("ws_queu") && err.contains("typo.toml"),
        "{err}"
    );
    std::fs::write(dir.path().join("type.toml"), "ws_queue = \"many\"\n").unwrap();
    let (ok, _, err) = config(dir.path(), &["--config", "type.toml"], &[]);
    assert!(!ok && err.contains("ws_queue"), "{err}");
    let (ok, _, err) = config(dir.path(), &[], &[("SPOTTER_CONFIG", "absent.toml")]);
    assert!(!ok && err.contains("absent.toml"), "{err}");

    // The example shipped in deploy/ is a file Spotter takes.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/spotter.toml");
    let (ok, out, err) = config(dir.path(), &["--config", example], &[]);
    assert!(ok, "{err}");
    assert_eq!(setting(&out, "bind").as_deref(), Some("0.0.0.0:8000"));
    assert_eq!(
        setting(&out, "data_dir").as_deref(),
        Some("/var/lib/spotter")
    );
    // Its commented-out keys too, once uncommented (a documented key that does not exist fails).
    let uncommented: String = std::fs::read_to_string(example)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.split_once(" = ")
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(uncommented.lines().count() >= 15, "{uncommented}");
    std::fs::write(dir.path().join("all.toml"), &uncommented).unwrap();
    let (ok, _, err) = config(dir.path(), &["--config", "all.toml"], &[]);
    assert!(ok, "{err}\n{uncommented}");
}

/// `SPOTTER_…` names in `text`.
fn variables(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|w| w.starts_with("SPOTTER_") && w.len() > "SPOTTER_".len())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_documents_every_setting_and_no_other() {
    let help = spotter().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let taken = variables(&help);
    assert!(taken.len() >= 38, "{help}");
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let table: String = section
        .lines()
        .filter(|l| l.starts_with("| `SPOTTER_"))
        .map(|l| l.split(" | ").next().unwrap_or(""))
        .collect();
    let mut documented = variables(&table);
    // Read before the settings are: documented, not a setting of `serve`.
    assert!(documented.remove("SPOTTER_LOG_FORMAT"));
    assert_eq!(
        documented, taken,
        "README's Configuration table against `spotter serve --help`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_runs_from_a_config_file_and_logs_json_lines_with_each_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = dir.path().join("spotter.toml");
    std::fs::write(
        &file,
        format!(
            "bind = \"127.0.0.1:{port}\"\ndata_dir = {:?}\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let log = dir.path().join("stderr.log");
    let mut server = spotter()
        .args(["serve", "--config"])
        .arg(&file)
        .env("SPOTTER_LOG_FORMAT", "json")
        .env("RUST_LOG", "spotter=info,tower_http=debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/");
    wait_ready(&base).await;
    assert!(
        dir.path().join("data/spotter.db").exists(),
        "the data folder of the file"
    );

    let http = reqwest::Client::new();
    let mine = http
        .get(format!("{base}api/messaging/conversations/"))
        .header("x-request-id", "ticket-4242")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 401);
    assert_eq!(
        mine.headers()["x-request-id"],
        "ticket-4242",
        "a caller's id is kept"
    );
    let made = http.get(format!("{base}healthz")).send().await.unwrap();
    let id = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid_like(&id), "a fresh id: {id}");
    server.kill().unwrap();
    server.wait().unwrap();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |rid: &str| {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == rid)
            .collect::<Vec<_>>()
    };
    let answered = of("ticket-4242");
    assert!(
        answered.iter().any(|l| l["fields"]["status"] == 401
            && l["span"]["path"] == "/api/messaging/conversations/"
            && l["level"] == "DEBUG"),
        "the answer's line carries the request id:\n{text}"
    );
    assert!(!of(&id).is_empty(), "{id} in the logs:\n{text}");
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

/// Reads a live conversation until the message `text` comes.
async fn wait_for(live: &mut LiveConversation, text: &str) {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), live.next())
            .await
            .unwrap_or_else(|_| panic!("{text:?} on Ana's socket"))
        {
            Some(Update::Message(m)) if m.content == text => break,
            Some(_) => {}
            None => panic!("Ana's socket closed"),
        }
    }
}

/// Metric names a PromQL text names (`spotter_…`, histogram series as their histogram).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("spotter_") {
        let before = rest[..at].chars().last();
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        // `spotter:…` recording rules and words such as `SPOTTER_REDIS_URL` are not metrics.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == ':') {
            continue;
        }
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name);
        names.insert(base.to_owned());
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_rules_and_the_dashboard_name_only_metrics_the_server_exports() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy");
    let rules = std::fs::read_to_string(format!("{root}/prometheus/spotter-rules.yml")).unwrap();
    let dashboard =
        std::fs::read_to_string(format!("{root}/grafana/spotter-dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        exprs.len() >= 20,
        "the dashboard's queries: {}",
        exprs.len()
    );
    let named: BTreeSet<String> = metric_names(&rules)
        .into_iter()
        .chain(exprs.iter().flat_map(|e| metric_names(e)))
        .collect();

    // A server with some traffic: a login, a start, a send delivered to a live socket.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = spotter()
        .args(["serve", "--demo"])
        .env("SPOTTER_BIND", format!("127.0.0.1:{port}"))
        .env("SPOTTER_DATA_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/");
    wait_ready(&base).await;
    let (coach, ana, ana_id) = helpers::demo_pair(&Client::new(&base).unwrap()).await;
    let conv = coach
        .start(ana_id, "hello", None)
        .await
        .unwrap()
        .1
        .conversation_id;
    let mut live = LiveConversation::open(ana, conv, None).await.unwrap();
    coach
        .send(conv, "how was the session?", None)
        .await
        .unwrap();
    wait_for(&mut live, "how was the session?").await;
    let scraped = reqwest::get(format!("{base}metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let exported: BTreeSet<String> = metric_names(&scraped);
    // Some series appear only after rare events (Redis away, a slow socket, a retention run):
    // those must at least be metrics the server declares.
    let declared = metric_names(include_str!("../../src/metrics.rs"));
    for name in &named {
        assert!(
            exported.contains(name) || declared.contains(name),
            "{name} is named in deploy/ but the server has no such metric"
        );
    }
    // (`spotter_send_to_deliver_seconds` is watched too, but recorded only for a message that
    // reaches a socket as a live event: one sent while the socket was still catching up from
    // the store is delivered without a latency.)
    for name in [
        "spotter_http_responses_total",
        "spotter_http_request_duration_seconds",
        "spotter_messages_sent_total",
        "spotter_messages_delivered_total",
        "spotter_open_sockets",
    ] {
        assert!(named.contains(name), "{name} is watched in deploy/");
        assert!(
            exported.contains(name),
            "{name} exported after traffic:\n{scraped}"
        );
    }
}
