//! `search`: one trainer with many conversations and a long history searches it
//! (`GET /api/messaging/search/?q=`), closed loop, timed from the request to the last body byte;
//! the figures are per kind of query, by how many messages match.
//!
//! Seeding sends `--messages` messages over REST (the server's send limit lifted), spread over
//! the conversations, each text made from a fixed vocabulary so that every query kind has a
//! known share of the messages:
//!
//! | kind | query | matches |
//! | --- | --- | --- |
//! | `rare` | `plyometric` | 1 message in 10,000 |
//! | `one_percent` | `deadlift` | 1 in 100 |
//! | `common` | `today` | 1 in 5 |
//! | `no_match` | `zzyzx` | none |
//! | `two_chars` | `up` | 1 in 8 (no trigram: the server reads the conversations instead) |
//!
//! Seeding keeps at most `--seed-concurrency` sends in flight (a stream, not a task per
//! message: a million messages must not mean a million tasks).

use anyhow::bail;
use futures_util::StreamExt as _;
use serde::Serialize;
use tokio::time::Instant;

use crate::hist::{Hist, Summary};
use crate::procfs::{self, Usage};
use crate::setup::{self, Setup};

#[derive(Debug, Clone, Serialize)]
pub struct SearchOpts {
    pub conversations: u32,
    pub messages: u32,
    /// Searches of each kind.
    pub iterations: u32,
    pub seed_concurrency: usize,
}

impl Default for SearchOpts {
    fn default() -> Self {
        Self {
            conversations: 500,
            messages: 1_000_000,
            iterations: 500,
            seed_concurrency: 64,
        }
    }
}

impl SearchOpts {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=10_000).contains(&self.conversations) {
            bail!("--conversations must be 1..=10000");
        }
        if !(1..=5_000_000).contains(&self.messages) {
            bail!("--messages must be 1..=5000000");
        }
        if !(1..=100_000).contains(&self.iterations) {
            bail!("--iterations must be 1..=100000");
        }
        Ok(())
    }
}

/// The query kinds, their text, and the share of messages that match.
pub const KINDS: [(&str, &str); 5] = [
    ("rare", "plyometric"),
    ("one_percent", "deadlift"),
    ("common", "today"),
    ("no_match", "zzyzx"),
    ("two_chars", "up"),
];

const FILLER: [&str; 8] = [
    "Great session, keep the form tight",
    "Remember to log your sleep and water",
    "Rest day tomorrow, light mobility only",
    "How did the squats feel on the last set?",
    "Send me a video of the hinge next time",
    "Push the tempo on the way down",
    "Nice work, the numbers are going up",
    "Stretch after, ten minutes at least",
];

/// The text of message `i`: filler, with the marker words at their rates.
pub fn text(i: u32) -> String {
    let mut t = format!("{} #{i}", FILLER[(i % 8) as usize]);
    if i.is_multiple_of(5) {
        t.push_str(" today");
    }
    if i % 100 == 7 {
        t.push_str(" deadlift day");
    }
    if i % 10_000 == 4_242 {
        t.push_str(" plyometric drills");
    }
    t
}

#[derive(Debug, Clone, Serialize)]
pub struct KindReport {
    pub kind: String,
    pub query: String,
    /// `count` of the answer: how many messages matched.
    pub matches: i64,
    pub first_page: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    pub options: SearchOpts,
    /// Messages stored a second while seeding.
    pub seed_rate: f64,
    /// Seconds after seeding until the search index had every message (SQLite indexes in the
    /// background; 0 on PostgreSQL, whose index is written with each message).
    pub index_catch_up_seconds: f64,
    pub kinds: Vec<KindReport>,
    pub errors: u64,
    pub server: Usage,
    pub machine: procfs::MachineUsage,
}

pub async fn run(setup: &Setup, opts: &SearchOpts) -> anyhow::Result<SearchReport> {
    opts.validate()?;
    let client = setup.client()?;
    let trainers = setup.trainers("search", 1, opts.conversations).await?;
    let trainer = &trainers[0];
    let trainees: Vec<_> = trainer
        .trainees
        .iter()
        .take(opts.conversations as usize)
        .cloned()
        .collect();
    let tokens = setup.tokens(&[trainer.user()]).await?;
    let token = tokens[0].clone();
    let starts = trainees.iter().map(|t| (token.clone(), t.id)).collect();
    let convs = setup::start_conversations(&client, starts, 8).await?;
    eprintln!(
        "search: seeding {} messages over {} conversations",
        opts.messages,
        convs.len()
    );
    let sender = client.with_token(token.clone());
    let started = Instant::now();
    let mut sends = futures_util::stream::iter(0..opts.messages)
        .map(|i| {
            let c = sender.clone();
            let conv = convs[i as usize % convs.len()];
            async move {
                c.send(conv, &text(i), Some(&format!("search-{i}")))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(opts.seed_concurrency.max(1));
    let mut seeded = 0u32;
    while let Some(sent) = sends.next().await {
        sent?;
        seeded += 1;
        if seeded.is_multiple_of(100_000) {
            eprintln!("search: {seeded} seeded");
        }
    }
    let seed_rate = f64::from(seeded) / started.elapsed().as_secs_f64();
    // SQLite indexes in the background: measure the steady state, once it has caught up.
    let catch_up = Instant::now();
    wait_for_index(setup).await?;
    let index_catch_up_seconds = catch_up.elapsed().as_secs_f64();

    let http = reqwest::Client::new();
    let timed = |query: &str| {
        let path = format!("api/messaging/search/?q={query}");
        let (http, token) = (&http, &token);
        async move { setup::timed_get(http, &setup.url, &path, token).await }
    };
    let window = procfs::Window::start(setup.server_pid);
    let mut kinds = Vec::new();
    let mut errors = 0u64;
    for (kind, query) in KINDS {
        let (_, first) = timed(query).await?;
        let matches = first["count"].as_i64().unwrap_or(-1);
        let mut h = Hist::new();
        for _ in 0..opts.iterations {
            match timed(query).await {
                Ok((took, _)) => h.record(took),
                Err(_) => errors += 1,
            }
        }
        kinds.push(KindReport {
            kind: kind.to_owned(),
            query: query.to_owned(),
            matches,
            first_page: h.summary(),
        });
    }
    let (server, machine) = window.finish();
    Ok(SearchReport {
        options: opts.clone(),
        seed_rate,
        index_catch_up_seconds,
        kinds,
        errors,
        server,
        machine,
    })
}

/// Until the server's `/metrics` says no message waits to be indexed (a server without the
/// gauge has none waiting).
async fn wait_for_index(setup: &Setup) -> anyhow::Result<()> {
    let url = setup.url.join("metrics")?;
    let gauge = "spotter_search_index_behind_messages";
    let deadline = Instant::now() + std::time::Duration::from_secs(1800);
    loop {
        let text = reqwest::get(url.clone()).await?.text().await?;
        let behind = text
            .lines()
            .find(|l| l.starts_with(gauge))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if behind == 0.0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the search index is still {behind} messages behind");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_words_have_their_rates() {
        let n = 100_000u32;
        let count = |w: &str| {
            (0..n)
                .filter(|&i| text(i).to_lowercase().contains(w))
                .count()
        };
        assert_eq!(count("plyometric"), 10);
        assert_eq!(count("deadlift"), 1_000);
        assert_eq!(count("today"), 20_000);
        assert_eq!(count("zzyzx"), 0);
        assert_eq!(count("up"), 12_500);
    }
}
