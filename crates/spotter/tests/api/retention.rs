//! Retention (issue 16): with `SPOTTER_RETENTION_DAYS` set, messages past it become tombstones
//! in both parties' views, as a deletion leaves them; newer ones stay; their photos' files go.

use std::time::Duration;

use crate::helpers::{Backend, TestApp, eventually};
use crate::images::{jpeg, photo, stored_files};

mod both {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        messages_past_retention_become_tombstones_and_their_photos_go(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        messages_past_retention_become_tombstones_and_their_photos_go(Backend::Postgres).await;
    }
}

const DAY: Duration = Duration::from_secs(86_400);

async fn messages_past_retention_become_tombstones_and_their_photos_go(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.retention_days = 30;
        c.retention_sweep_secs = 3600;
        c.media_sweep_secs = 60;
    })
    .await;
    let conversation = app.conversation().await;
    let bytes = jpeg(32, 24);
    app.trainer
        .client
        .send_photo(
            conversation,
            Some("form check"),
            photo(&bytes, "image/jpeg"),
            None,
        )
        .await
        .unwrap();
    app.trainee
        .client
        .send(conversation, "my knee hurts", None)
        .await
        .unwrap();
    assert_eq!(stored_files(&app).len(), 2, "a photo and its thumbnail");
    app.advance(20 * DAY);
    // Tokens from 20 days ago have expired: log in again.
    let trainee = app
        .anon
        .logged_in(&app.trainee.email, crate::helpers::PASSWORD)
        .await
        .unwrap();
    trainee
        .send(conversation, "better now", None)
        .await
        .unwrap();
    app.advance(11 * DAY);
    let trainer = app
        .anon
        .logged_in(&app.trainer.email, crate::helpers::PASSWORD)
        .await
        .unwrap();
    let page = eventually("the purge of messages past 30 days", || async {
        let page = trainer.messages(conversation, 1).await.ok()?;
        page.results.iter().any(|m| m.is_deleted).then_some(page)
    })
    .await;
    let view: Vec<(String, bool, bool)> = page
        .results
        .iter()
        .rev()
        .map(|m| (m.content.clone(), m.is_deleted, m.image.is_some()))
        .collect();
    let cleared = (String::new(), true, false);
    assert_eq!(
        view,
        [
            cleared.clone(),
            cleared.clone(),
            cleared,
            ("better now".to_owned(), false, false)
        ]
    );
    // The trainee sees the same; the preview is still the newest message's.
    let theirs = app
        .anon
        .logged_in(&app.trainee.email, crate::helpers::PASSWORD)
        .await
        .unwrap();
    let page = theirs.messages(conversation, 1).await.unwrap();
    assert_eq!(page.results.iter().filter(|m| m.is_deleted).count(), 3);
    let list = theirs.conversations(1).await.unwrap();
    assert_eq!(
        list.results[0].last_message_preview.as_deref(),
        Some("better now")
    );
    // The photo's files go with the next sweep of orphaned uploads.
    app.advance(Duration::from_secs(61));
    eventually("the purged photo's files to be removed", || async {
        stored_files(&app).is_empty().then_some(())
    })
    .await;
    // Positions and counts are unchanged: nothing was removed from the history.
    let count = app
        .column(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = {conversation}"
        ))
        .await;
    assert_eq!(count, ["4"]);
}
