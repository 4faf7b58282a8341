//! `list`: the conversation list (`GET /api/messaging/conversations/`, 50 a page) and the
//! unread badge (`GET unread-count/`) of a trainer with many trainees, each with a conversation
//! that has a message from each side (so the trainer has unread conversations).
//!
//! Reads are one at a time (closed loop), timed from the request to the last body byte.

use anyhow::bail;
use serde::Serialize;

use crate::hist::{Hist, Summary};
use crate::procfs::{self, Usage};
use crate::setup::{self, Setup};

#[derive(Debug, Clone, Serialize)]
pub struct ListOpts {
    pub trainees: u32,
    /// Rounds; each reads page 1, another page (if any) and the unread count.
    pub iterations: u32,
    pub setup_concurrency: usize,
}

impl Default for ListOpts {
    fn default() -> Self {
        Self {
            trainees: 500,
            iterations: 2000,
            setup_concurrency: 16,
        }
    }
}

impl ListOpts {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=100_000).contains(&self.trainees) {
            bail!("--trainees must be 1..=100000");
        }
        if !(1..=1_000_000).contains(&self.iterations) {
            bail!("--iterations must be 1..=1000000");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    pub options: ListOpts,
    /// `count` of the trainer's list.
    pub conversations: i64,
    pub unread_count: i64,
    /// `conversations/` page 1 (what the app shows first).
    pub first_page: Summary,
    /// Pages 2, 3, … in turn.
    pub other_pages: Summary,
    pub unread: Summary,
    pub errors: u64,
    pub server: Usage,
    /// The whole machine (other work on it included) and PostgreSQL.
    pub machine: procfs::MachineUsage,
}

pub async fn run(setup: &Setup, opts: &ListOpts) -> anyhow::Result<ListReport> {
    opts.validate()?;
    let client = setup.client()?;
    let trainers = setup.trainers("list", 1, opts.trainees).await?;
    let trainer = &trainers[0];
    let trainees: Vec<_> = trainer
        .trainees
        .iter()
        .take(opts.trainees as usize)
        .cloned()
        .collect();
    let mut users = vec![trainer.user()];
    users.extend(trainees.iter().cloned());
    let tokens = setup.tokens(&users).await?;
    eprintln!("list: {} conversations for one trainer", trainees.len());
    let starts = trainees.iter().map(|t| (tokens[0].clone(), t.id)).collect();
    let convs = setup::start_conversations(&client, starts, opts.setup_concurrency).await?;
    // Each trainee answers once (idempotently): the trainer has unread messages everywhere.
    let replies: Vec<_> = convs
        .iter()
        .zip(&tokens[1..])
        .map(|(c, t)| (*c, client.with_token(t.clone())))
        .collect();
    setup::bounded(replies, opts.setup_concurrency, |(conv, c)| async move {
        c.send(
            conv,
            "Done with today's workout!",
            Some(&format!("list-reply-{conv}")),
        )
        .await?;
        Ok(())
    })
    .await?;

    let http = reqwest::Client::new();
    let token = tokens[0].clone();
    let timed = |path: String| {
        let (http, token) = (&http, &token);
        async move { setup::timed_get(http, &setup.url, &path, token).await }
    };

    let (_, first) = timed("api/messaging/conversations/".into()).await?;
    let conversations = first["count"].as_i64().unwrap_or(0);
    let (_, badge) = timed("api/messaging/unread-count/".into()).await?;
    let unread_count = badge["unread_count"].as_i64().unwrap_or(0);
    let pages = (conversations + 49) / 50;

    let window = procfs::Window::start(setup.server_pid);
    let (mut h_first, mut h_other, mut h_unread) = (Hist::new(), Hist::new(), Hist::new());
    let mut errors = 0u64;
    for i in 0..opts.iterations {
        match timed("api/messaging/conversations/".into()).await {
            Ok((took, _)) => h_first.record(took),
            Err(_) => errors += 1,
        }
        if pages > 1 {
            let page = 2 + i64::from(i) % (pages - 1);
            match timed(format!("api/messaging/conversations/?page={page}")).await {
                Ok((took, _)) => h_other.record(took),
                Err(_) => errors += 1,
            }
        }
        match timed("api/messaging/unread-count/".into()).await {
            Ok((took, _)) => h_unread.record(took),
            Err(_) => errors += 1,
        }
    }
    let (server, machine) = window.finish();
    Ok(ListReport {
        options: opts.clone(),
        conversations,
        unread_count,
        first_page: h_first.summary(),
        other_pages: h_other.summary(),
        unread: h_unread.summary(),
        errors,
        server,
        machine,
    })
}
