//! `history`: one conversation of (by default) 100,000 messages, read page by page with
//! `messages/?before=<id>&limit=N` from the newest to the oldest, then at random depths.
//!
//! Seeding sends the missing messages concurrently over REST (idempotent `client_message_id`s,
//! so an interrupted seed resumes) and needs the server's send limit lifted. Each read is timed
//! from the request to the last byte of the body; decoding and checking come after the clock
//! stops. Reads are one at a time (closed loop): this measures a page's latency, not capacity.

use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use spotter_client::CursorPage;
use tokio::time::Instant;

use crate::hist::{Hist, Summary};
use crate::procfs::{self, Usage};
use crate::setup::{self, Setup};

#[derive(Debug, Clone, Serialize)]
pub struct HistoryOpts {
    pub messages: u32,
    /// `limit` of each page (1–100).
    pub page_size: u32,
    /// Reads at random depths after the walk.
    pub random_pages: u32,
    /// Complete walks from newest to oldest.
    pub walks: u32,
    pub seed_concurrency: usize,
}

impl Default for HistoryOpts {
    fn default() -> Self {
        Self {
            messages: 100_000,
            page_size: 50,
            random_pages: 2000,
            walks: 1,
            seed_concurrency: 32,
        }
    }
}

impl HistoryOpts {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(2..=2_000_000).contains(&self.messages) {
            bail!("--messages must be 2..=2000000");
        }
        if !(1..=100).contains(&self.page_size) {
            bail!("--page-size must be 1..=100 (the server's limit)");
        }
        if self.random_pages > 1_000_000 || self.walks > 100 {
            bail!("at most 1000000 random pages and 100 walks");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub options: HistoryOpts,
    pub conversation_id: i64,
    /// Messages in the conversation when read.
    pub messages: i64,
    pub seeded: u64,
    pub seed_seconds: f64,
    pub seed_per_s: f64,
    /// Every page of the walks, newest to oldest.
    pub walk: Summary,
    /// Pages the first walk took, and whether it saw every message once, in order.
    pub walk_pages: u64,
    pub walk_complete: bool,
    /// Pages at random depths.
    pub random: Summary,
    pub errors: u64,
    pub server: Usage,
    /// The whole machine (other work on it included) and PostgreSQL.
    pub machine: procfs::MachineUsage,
}

pub async fn run(setup: &Setup, opts: &HistoryOpts) -> anyhow::Result<HistoryReport> {
    opts.validate()?;
    let client = setup.client()?;
    let trainers = setup.trainers("history", 1, 1).await?;
    let users = vec![trainers[0].user(), trainers[0].trainees[0].clone()];
    let tokens = setup.tokens(&users).await?;
    let conv =
        setup::start_conversations(&client, vec![(tokens[0].clone(), users[1].id)], 1).await?[0];
    let sides = [
        client.with_token(tokens[0].clone()),
        client.with_token(tokens[1].clone()),
    ];

    // Seed what is missing.
    let newest = |c: spotter_client::Client| async move {
        let page = c.messages_before(conv, None, 1).await?;
        anyhow::Ok(page.results.first().map_or(0, |m| m.seq))
    };
    let have = newest(sides[0].clone()).await?;
    let target = i64::from(opts.messages);
    let seed_started = Instant::now();
    let mut seeded = 0u64;
    if have < target {
        eprintln!(
            "history: seeding {} messages into conversation {conv}",
            target - have
        );
        let jobs: Vec<(spotter_client::Client, i64)> = (have + 1..=target)
            .map(|seq| (sides[(seq % 2) as usize].clone(), seq))
            .collect();
        seeded = jobs.len() as u64;
        setup::bounded(jobs, opts.seed_concurrency, move |(c, seq)| async move {
            let content = format!("History message {seq}: 3 sets of 12, rest 90 s.");
            let cmid = format!("seed-{seq}");
            for attempt in 0..5 {
                match c.send(conv, &content, Some(&cmid)).await {
                    Ok(_) => {
                        if seq % 10_000 == 0 {
                            eprintln!("history: seeded up to {seq}");
                        }
                        return Ok(());
                    }
                    Err(e) if e.status().map(|s| s.as_u16()) == Some(429) => bail!(
                        "seeding was throttled (429): start the server with SPOTTER_SEND_RATE_PER_MINUTE raised"
                    ),
                    Err(e) if attempt < 4 && e.status().is_none_or(|s| s.is_server_error()) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => return Err(e).context("seeding"),
                }
            }
            Ok(())
        })
        .await?;
    }
    let seed_seconds = seed_started.elapsed().as_secs_f64();
    let total = newest(sides[0].clone()).await?;

    let http = reqwest::Client::new();
    let base = setup
        .url
        .join(&format!("api/messaging/conversations/{conv}/messages/"))?;
    let token = tokens[0].clone();
    let get = |before: Option<i64>| {
        let mut url = base.clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(b) = before {
                q.append_pair("before", &b.to_string());
            }
            q.append_pair("limit", &opts.page_size.to_string());
        }
        let req = http.get(url).bearer_auth(&token);
        async move {
            let t = Instant::now();
            let resp = req.send().await?;
            let status = resp.status();
            let body = resp.bytes().await?;
            let took = t.elapsed();
            if !status.is_success() {
                bail!("HTTP {status}");
            }
            let page: CursorPage = serde_json::from_slice(&body)?;
            anyhow::Ok((took, page))
        }
    };

    let window = procfs::Window::start(setup.server_pid);
    let mut walk = Hist::new();
    let mut errors = 0u64;
    let mut walk_pages = 0u64;
    let mut walk_complete = false;
    let (mut min_id, mut max_id) = (i64::MAX, 0i64);
    let max_pages = (total as u64 / u64::from(opts.page_size)) + 2;
    eprintln!(
        "history: {} walk(s) over {total} messages, {} a page",
        opts.walks, opts.page_size
    );
    for w in 0..opts.walks {
        let (mut before, mut seen, mut last_seq, mut ordered) = (None, 0i64, i64::MAX, true);
        let mut pages = 0u64;
        loop {
            pages += 1;
            if pages > max_pages {
                ordered = false;
                break;
            }
            let (took, page) = match get(before).await {
                Ok(x) => x,
                Err(e) => {
                    errors += 1;
                    eprintln!("history: {e:#}");
                    ordered = false;
                    break;
                }
            };
            walk.record(took);
            for m in &page.results {
                ordered &= m.seq == last_seq - 1 || last_seq == i64::MAX;
                last_seq = m.seq;
                min_id = min_id.min(m.id);
                max_id = max_id.max(m.id);
            }
            seen += page.results.len() as i64;
            match page.results.last() {
                Some(m) if page.has_more => before = Some(m.id),
                _ => break,
            }
        }
        if w == 0 {
            walk_pages = pages;
            walk_complete = ordered && seen == total && last_seq == 1;
        }
    }

    let mut random = Hist::new();
    if max_id > min_id {
        for _ in 0..opts.random_pages {
            let before = min_id + 1 + (rand::random::<u64>() % (max_id - min_id) as u64) as i64;
            match get(Some(before)).await {
                Ok((took, page)) if !page.results.is_empty() => random.record(took),
                Ok(_) => errors += 1,
                Err(_) => errors += 1,
            }
        }
    }
    let (server, machine) = window.finish();
    Ok(HistoryReport {
        options: opts.clone(),
        conversation_id: conv,
        messages: total,
        seeded,
        seed_seconds,
        seed_per_s: if seeded > 0 {
            seeded as f64 / seed_seconds
        } else {
            0.0
        },
        walk: walk.summary(),
        walk_pages,
        walk_complete,
        random: random.summary(),
        errors,
        server,
        machine,
    })
}
