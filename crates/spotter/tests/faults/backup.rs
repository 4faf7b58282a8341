//! `spotter backup` while a server takes sends, and `spotter restore` into a fresh folder: the
//! real binary throughout. Every message acknowledged before the backup began is in the
//! restored database, which is whole (positions 1…n without gaps, as its counter says), and its
//! images load; restore refuses a folder that has a database.

use std::collections::HashSet;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, RgbImage};
use spotter_client::Client;
use spotter_client::model::Photo;
use tokio::sync::Mutex;

use super::{free_port, helpers, spotter, wait_ready};

fn run(command: &str, data: &std::path::Path, file: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spotter"))
        .arg(command)
        .arg(file)
        .env("SPOTTER_DATA_DIR", data)
        .output()
        .unwrap()
}

fn jpeg() -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 7) as u8, 90])
    }))
    .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
    .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_sends_restores_every_message_acknowledged_before_it() {
    let (dir, spare) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/");
    let mut server = spotter(port, dir.path());
    wait_ready(&base).await;
    let anon = Client::new(&base).unwrap();
    let (coach, ana, ana_id) = helpers::demo_pair(&anon).await;
    let conv = coach
        .start(ana_id, "let's go", None)
        .await
        .unwrap()
        .1
        .conversation_id;
    let photo = Photo {
        bytes: &jpeg(),
        content_type: "image/jpeg",
        file_name: "plan.jpg",
    };
    let pictured = coach.send_photo(conv, None, photo, None).await.unwrap().1;

    // Two senders, each recording what the server acknowledged, until told to stop.
    let acked = Arc::new(Mutex::new(vec![pictured.id]));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = [coach.clone(), ana.clone()]
        .into_iter()
        .enumerate()
        .map(|(s, c)| {
            let (acked, stop) = (acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("s{s}-{i}");
                    let m = c.send(conv, &format!("set {key}"), Some(&key)).await;
                    acked
                        .lock()
                        .await
                        .push(m.expect("a send while backing up").1.id);
                    i += 1;
                }
            })
        })
        .collect();
    helpers::eventually("some sends to be acknowledged", || async {
        (acked.lock().await.len() > 50).then_some(())
    })
    .await;

    let before: HashSet<i64> = acked.lock().await.iter().copied().collect();
    let file = spare.path().join("spotter-backup.db");
    let (data, f) = (dir.path().to_owned(), file.clone());
    let made = tokio::task::spawn_blocking(move || run("backup", &data, &f))
        .await
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // The sends went on during the backup, and go on after it.
    let at_backup_end = acked.lock().await.len();
    helpers::eventually("more sends after the backup", || async {
        (acked.lock().await.len() > at_backup_end + 20).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    let all_acked = acked.lock().await.len();
    server.kill().unwrap();
    server.wait().unwrap();

    // Restore into a fresh folder; a second restore there is refused.
    let fresh = spare.path().join("restored");
    let done = run("restore", &fresh, &file);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let again = run("restore", &fresh, &file);
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("exists already"), "{why}");

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/");
    let mut restored = spotter(port, &fresh);
    wait_ready(&base).await;
    let (coach, _, _) = helpers::demo_pair(&Client::new(&base).unwrap()).await;
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = coach.messages_after(conv, after, 100).await.unwrap();
        stored.extend(page.results.iter().cloned());
        match page.results.last() {
            Some(last) if page.has_more => after = last.id,
            _ => break,
        }
    }
    let ids: HashSet<i64> = stored.iter().map(|m| m.id).collect();
    let missing: Vec<&i64> = before.iter().filter(|id| !ids.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, not restored: {missing:?}"
    );
    // Whole: positions 1…n, the conversation's counter n, nothing that was never sent.
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>());
    let counter: i64 = rusqlite::Connection::open(fresh.join("spotter.db"))
        .unwrap()
        .query_row(
            "SELECT message_count FROM conversations WHERE id = ?1",
            [conv],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(counter, stored.len() as i64);
    assert!(
        stored.len() <= all_acked + 1,
        "{} stored, {all_acked} sent",
        stored.len()
    );
    // The image went with it, and loads.
    let image = stored.iter().find(|m| m.id == pictured.id).unwrap();
    let link = image.image.as_deref().unwrap();
    assert_eq!(reqwest::get(link).await.unwrap().status(), 200, "{link}");
    println!(
        "backup: {} acknowledged before, {} stored in it, {all_acked} acknowledged in all",
        before.len(),
        stored.len()
    );
    restored.kill().unwrap();
    let _ = restored.wait();
}
