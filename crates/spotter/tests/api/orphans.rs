//! Issue 13: an upload whose message never committed (the process died, or the request was
//! dropped, after its files were stored) is found again by its record and removed by the
//! sweeper once the grace period has passed, while a photo whose message committed stays
//! served; records are claimed in bounded batches under a lease, so nodes sweep at once.

use std::time::Duration;

use reqwest::StatusCode;
use spotter::domain::input::Upload;
use spotter::domain::model::Image;
use spotter::store::ClaimedUpload;

use crate::both_backends;
use crate::helpers::{TestApp, eventually};
use crate::images::{fetch, jpeg, photo, stored_files};

both_backends!(
    an_upload_whose_message_never_committed_is_swept_and_a_sent_photo_stays,
    upload_records_are_claimed_in_batches_once_per_lease_and_say_whether_a_message_names_them,
);

const HOUR: i64 = 3_600_000_000;

async fn records(app: &TestApp) -> Vec<String> {
    app.column("SELECT key FROM media_uploads ORDER BY key")
        .await
}

/// What a crash between storing an upload and committing its message leaves: the send path's
/// own upload step (record the keys, store the files), and then nothing more.
async fn crashed_upload(app: &TestApp) -> Image {
    let upload = Upload {
        declared: "image/jpeg".to_owned(),
        bytes: jpeg(64, 48).into(),
        too_large: false,
    };
    app.state.messaging.upload(upload).await.unwrap().image
}

/// The status of a freshly signed `GET /media/<key>`.
async fn served(app: &TestApp, key: &str) -> StatusCode {
    fetch(&app.state.media.url(key, app.clock.now())).await.0
}

async fn an_upload_whose_message_never_committed_is_swept_and_a_sent_photo_stays(app: TestApp) {
    let conv = app.conversation().await;
    let (_, sent) = app
        .trainee
        .client
        .send_photo(conv, None, photo(&jpeg(80, 60), "image/jpeg"), None)
        .await
        .unwrap();
    assert!(
        records(&app).await.is_empty(),
        "the message's transaction forgot its upload"
    );
    let orphan = crashed_upload(&app).await;
    let orphan_keys = [orphan.key.clone(), orphan.thumbnail.clone().unwrap()];
    let mut expected = orphan_keys.to_vec();
    expected.sort();
    assert_eq!(records(&app).await, expected);
    for key in &orphan_keys {
        assert_eq!(served(&app, key).await, StatusCode::OK);
    }
    assert_eq!(stored_files(&app).len(), 4);
    // Records a sweep must survive: one for the sent photo (what an interrupted sweep or an
    // older Spotter could leave; a message names it, so only the record goes), and one whose
    // files were never stored (the process died between recording and storing).
    let named = app
        .column("SELECT image FROM messages WHERE image IS NOT NULL")
        .await;
    let never_stored = "message_images/0123456789abcdef0123456789abcdef.jpg".to_owned();
    let keys = [named, vec![never_stored]].concat();
    let store = &app.state.store;
    store.record_uploads(keys, app.clock.now()).await.unwrap();

    // Past the grace period (and the sweeper's tick): only the sweeper can remove them.
    let sweep_every = Duration::from_secs(app.config.media_sweep_secs);
    app.advance(app.config.media_orphan_grace() + sweep_every);
    eventually("the orphan's image and thumbnail removed", || async {
        let image = served(&app, &orphan_keys[0]).await;
        let thumbnail = served(&app, &orphan_keys[1]).await;
        (image == StatusCode::NOT_FOUND && thumbnail == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    eventually("every record forgotten", || async {
        records(&app).await.is_empty().then_some(())
    })
    .await;
    // The photo that was sent stays, served by the links its message gave.
    for url in [sent.image.as_deref(), sent.thumbnail.as_deref()] {
        assert_eq!(fetch(url.unwrap()).await.0, StatusCode::OK);
    }
    assert_eq!(stored_files(&app).len(), 2);
}

async fn upload_records_are_claimed_in_batches_once_per_lease_and_say_whether_a_message_names_them(
    app: TestApp,
) {
    let conv = app.conversation().await;
    app.trainee
        .client
        .send_photo(conv, None, photo(&jpeg(40, 30), "image/jpeg"), None)
        .await
        .unwrap();
    let named = app
        .column("SELECT thumbnail FROM messages WHERE thumbnail IS NOT NULL")
        .await
        .remove(0);
    let orphan = "message_images/0123456789abcdef0123456789abcdef.png".to_owned();
    let store = &app.state.store;
    let t0 = app.clock.now();
    store
        .record_uploads(vec![named.clone(), orphan.clone()], t0)
        .await
        .unwrap();
    // (The server's own sweeper sleeps: its clock does not move in this test.)
    let claim = |now: i64, lease_until: i64, limit: i64| {
        store.claim_uploads(now, now - HOUR, lease_until, limit)
    };
    assert!(
        claim(t0 + HOUR, t0 + 2 * HOUR, 100)
            .await
            .unwrap()
            .is_empty(),
        "not older than the grace period yet"
    );
    let now = t0 + HOUR + 1;
    let first = claim(now, now + 10, 1).await.unwrap();
    assert_eq!(first.len(), 1, "a claim takes at most its limit");
    // A second sweeper at the same moment takes only what the first did not.
    let second = claim(now, now + 10, 100).await.unwrap();
    let mut both = [first, second].concat();
    both.sort_by(|a, b| a.key.cmp(&b.key));
    let mut expected = vec![
        ClaimedUpload {
            key: named.clone(),
            referenced: true,
        },
        ClaimedUpload {
            key: orphan.clone(),
            referenced: false,
        },
    ];
    expected.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(both, expected);
    assert!(claim(now + 5, now + 10, 100).await.unwrap().is_empty());
    // A sweeper that died leaves its lease to run out; then the records come back.
    assert_eq!(claim(now + 11, now + 20, 100).await.unwrap().len(), 2);
    assert_eq!(store.forget_uploads(vec![named, orphan]).await.unwrap(), 2);
    assert!(claim(now + 100, now + 200, 100).await.unwrap().is_empty());
}
