//! Part C: messages with an image. Multipart send and start, the image checks in the
//! contract's order (type, exactly 5 MiB and one byte more, magic number, a decompression
//! bomb), metadata stripped, thumbnails, signed URLs (tampered, expired), deletion and retries
//! leaving no file behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, RgbImage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spotter_client::model::Photo;

use crate::both_backends;
use crate::helpers::{TestApp, status_of};

both_backends!(
    a_photo_is_sent_cleaned_and_served_by_signed_url,
    image_checks_run_in_the_contracts_order,
    exactly_five_mib_passes_and_one_byte_more_does_not,
    deleting_a_photo_removes_its_files_and_a_retry_leaves_none_behind,
    a_trainer_starts_with_a_photo_and_captions_follow_the_text_rules,
);

fn pixels(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 3) as u8, (y * 5) as u8, 120])
    }))
}

pub(crate) fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    pixels(w, h)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .unwrap();
    out
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    pixels(w, h)
        .write_with_encoder(PngEncoder::new(&mut out))
        .unwrap();
    out
}

fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    pixels(w, h)
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .unwrap();
    out
}

/// A JPEG carrying an EXIF segment with GPS coordinates, as a phone writes it.
fn jpeg_with_gps() -> Vec<u8> {
    let plain = jpeg(640, 480);
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude 51.5007N GPSLongitude 0.1246W home");
    let len = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    [&plain[..2], &[0xFF, 0xE1], &len, &exif, &plain[2..]].concat()
}

/// A valid JPEG of exactly `size` bytes: comment segments fill the space.
fn jpeg_of_size(size: usize) -> Vec<u8> {
    let plain = jpeg(32, 32);
    let mut out = plain[..2].to_vec();
    let mut room = size - plain.len();
    while room > 0 {
        // A segment is 4 bytes of marker and length plus its payload (at most 65533).
        let payload = (room - 4).min(65_533);
        let payload = if room - 4 - payload > 0 && room - 4 - payload < 4 {
            payload - 4
        } else {
            payload
        };
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&u16::try_from(payload + 2).unwrap().to_be_bytes());
        out.extend(std::iter::repeat_n(b'x', payload));
        room -= payload + 4;
    }
    out.extend_from_slice(&plain[2..]);
    assert_eq!(out.len(), size);
    out
}

/// A PNG whose header claims 100,000 × 100,000 pixels over a few bytes of data.
fn png_bomb() -> Vec<u8> {
    let mut file = png(1, 1);
    // IHDR's width and height follow the 8-byte signature and the chunk's length and type.
    file[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    file[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&file[12..29]);
    file[29..33].copy_from_slice(&crc.to_be_bytes());
    file
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub(crate) fn photo<'a>(bytes: &'a [u8], content_type: &'a str) -> Photo<'a> {
    Photo {
        bytes,
        content_type,
        file_name: "IMG_0001 My Home.JPG",
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file in the media folder.
pub(crate) fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.config.data_dir.join("media"), &mut out);
    out.sort();
    out
}

pub(crate) async fn fetch(url: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, kind, r.bytes().await.unwrap().to_vec())
}

async fn a_photo_is_sent_cleaned_and_served_by_signed_url(app: TestApp) {
    let conv = app.conversation().await;
    let gps = jpeg_with_gps();
    let (status, m) = app
        .trainee
        .client
        .send_photo(conv, None, photo(&gps, "image/jpeg"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(m.content, "");
    assert_eq!((m.image_width, m.image_height), (Some(640), Some(480)));
    let url = m.image.clone().expect("an image URL");
    let base = app.url.trim_end_matches('/');
    let name = url
        .strip_prefix(&format!("{base}/media/message_images/"))
        .expect("absolute, served by Spotter");
    let (file, query) = name.split_once('?').unwrap();
    assert_eq!(
        file.len(),
        32 + 4,
        "32 random hex and the extension: {file}"
    );
    assert!(
        file.ends_with(".jpg") && !file.contains("IMG"),
        "the client's name is never kept"
    );
    assert!(query.starts_with("e=") && query.contains("&s="));
    // Loaded with no token, as <img src> does; no trace of the coordinates.
    let (status, kind, bytes) = fetch(&url).await;
    assert_eq!(
        (status, kind.as_deref()),
        (StatusCode::OK, Some("image/jpeg"))
    );
    assert!(!contains(&bytes, b"GPSLatitude") && !contains(&bytes, b"Exif"));
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 640);
    let (status, _, thumb) = fetch(m.thumbnail.as_deref().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert!(thumb.width() <= 320 && thumb.height() <= 320);
    // The other side sees it; the list says what it is.
    let theirs = app.trainer.client.messages(conv, 1).await.unwrap();
    assert_eq!(theirs.results[0].id, m.id);
    assert!(theirs.results[0].image.is_some());
    let list = app.trainer.client.conversations(1).await.unwrap();
    assert_eq!(
        list.results[0].last_message_preview.as_deref(),
        Some("Sent a photo")
    );
    // A tampered signature, another file under a valid one, an unsigned link: 403.
    let tampered = url.replace("&s=", "&s=x");
    assert_eq!(fetch(&tampered).await.0, StatusCode::FORBIDDEN);
    let (_, other) = app
        .trainee
        .client
        .send_photo(conv, None, photo(&png(10, 10), "image/png"), None)
        .await
        .unwrap();
    let other_file = other.image.unwrap();
    let other_file = other_file.split('?').next().unwrap();
    assert_eq!(
        fetch(&format!("{other_file}?{query}")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        fetch(url.split('?').next().unwrap()).await.0,
        StatusCode::FORBIDDEN
    );
    // Links expire (7 days, rounded up to the hour): the same link a week and an hour later.
    app.advance(Duration::from_secs(7 * 24 * 3600 + 3600));
    let (status, _, body) = fetch(&url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"detail": "This link has expired."})
    );
}

async fn image_checks_run_in_the_contracts_order(app: TestApp) {
    let conv = app.conversation().await;
    let t = &app.trainee.client;
    let error = |m: &str| json!({ "error": m });
    let refused = |r: spotter_client::Result<(StatusCode, spotter_client::model::Message)>| {
        let e = r.expect_err("refused");
        (e.status().unwrap(), e.body().cloned().unwrap())
    };
    // Neither JSON nor a form: 415 with DRF's words.
    let r = reqwest::Client::new()
        .post(format!(
            "{}api/messaging/conversations/{conv}/send/",
            app.url
        ))
        .bearer_auth(t.token().unwrap())
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"detail": "Unsupported media type \"text/plain\" in request."})
    );
    // Impersonation comes before anything about the image.
    let imp = app.trainer_as_trainee().await;
    assert_eq!(
        refused(
            imp.send_photo(conv, None, photo(b"junk", "image/gif"), None)
                .await
        )
        .0,
        StatusCode::FORBIDDEN
    );
    // Field errors before the image's.
    let long = "x".repeat(2001);
    assert_eq!(
        refused(
            t.send_photo(conv, Some(&long), photo(b"junk", "image/gif"), None)
                .await
        ),
        (
            StatusCode::BAD_REQUEST,
            json!({"content": ["Ensure this field has no more than 2000 characters."]})
        )
    );
    assert_eq!(
        refused(
            t.send_photo(conv, Some("  "), photo(&png(4, 4), "image/png"), None)
                .await
        ),
        (
            StatusCode::BAD_REQUEST,
            json!({"content": ["This field may not be blank."]})
        )
    );
    let unsupported = (
        StatusCode::BAD_REQUEST,
        error("Only JPEG, PNG, and WebP images are supported."),
    );
    assert_eq!(
        refused(
            t.send_photo(conv, None, photo(b"GIF89a..", "image/gif"), None)
                .await
        ),
        unsupported
    );
    // The bytes must be what the part claims.
    assert_eq!(
        refused(
            t.send_photo(conv, None, photo(&png(4, 4), "image/jpeg"), None)
                .await
        ),
        unsupported
    );
    // Type before the conversation: a missing conversation with a bad image is a 400.
    assert_eq!(
        refused(
            t.send_photo(999_999, None, photo(b"x", "text/plain"), None)
                .await
        ),
        unsupported
    );
    // A decompression bomb is refused from its header: a 400, never an out-of-memory.
    let (status, body) = refused(
        t.send_photo(conv, None, photo(&png_bomb(), "image/png"), None)
            .await,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["image"][0].is_string(), "{body}");
    // Neither text nor image (a form with neither, or an empty JSON body).
    let r = t
        .raw(
            reqwest::Method::POST,
            &format!("/api/messaging/conversations/{conv}/send/"),
            Some(&json!({})),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            error("Message must contain text or an image.")
        )
    );
    // Each accepted type.
    for (bytes, kind, ext) in [
        (jpeg(50, 40), "image/jpeg", ".jpg"),
        (png(50, 40), "image/png", ".png"),
        (webp(50, 40), "image/webp", ".webp"),
    ] {
        let (_, m) = t
            .send_photo(conv, Some("caption"), photo(&bytes, kind), None)
            .await
            .unwrap();
        assert_eq!(m.content, "caption");
        assert!(m.image.unwrap().split('?').next().unwrap().ends_with(ext));
        assert_eq!((m.image_width, m.image_height), (Some(50), Some(40)));
    }
    // Nothing refused above left a file: three images, three thumbnails.
    assert_eq!(stored_files(&app).len(), 6);
}

async fn exactly_five_mib_passes_and_one_byte_more_does_not(app: TestApp) {
    let conv = app.conversation().await;
    let t = &app.trainee.client;
    let exact = jpeg_of_size(5 * 1024 * 1024);
    let (status, _) = t
        .send_photo(conv, None, photo(&exact, "image/jpeg"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let over = jpeg_of_size(5 * 1024 * 1024 + 1);
    let e = t
        .send_photo(conv, None, photo(&over, "image/jpeg"), None)
        .await
        .expect_err("over 5 MiB");
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(
        e.body(),
        Some(&json!({"error": "Image must be under 5MB."}))
    );
    // Far over: cut off while streaming, the same answer.
    let huge = jpeg_of_size(12 * 1024 * 1024);
    let e = t
        .send_photo(conv, None, photo(&huge, "image/jpeg"), None)
        .await;
    assert_eq!(status_of(e), StatusCode::BAD_REQUEST);
}

async fn deleting_a_photo_removes_its_files_and_a_retry_leaves_none_behind(app: TestApp) {
    let conv = app.conversation().await;
    let t = &app.trainee.client;
    let bytes = jpeg(80, 60);
    let (first, m) = t
        .send_photo(conv, None, photo(&bytes, "image/jpeg"), Some("p1"))
        .await
        .unwrap();
    let (again, same) = t
        .send_photo(conv, None, photo(&bytes, "image/jpeg"), Some("p1"))
        .await
        .unwrap();
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(same.id, m.id);
    assert_eq!(
        stored_files(&app).len(),
        2,
        "the retry's upload was removed"
    );
    // An upload whose send is refused after storing (the conversation was archived) is removed too.
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    let r = t
        .send_photo(conv, None, photo(&bytes, "image/jpeg"), None)
        .await;
    assert_eq!(status_of(r), StatusCode::BAD_REQUEST);
    assert_eq!(stored_files(&app).len(), 2);
    // Nor a record of their uploads for the sweeper (issue 13): the message's transaction
    // forgot the first, and each send that did not keep its upload forgot its own.
    assert!(
        app.column("SELECT key FROM media_uploads").await.is_empty(),
        "no upload record left"
    );
    t.delete_message(conv, m.id).await.unwrap();
    assert!(stored_files(&app).is_empty(), "image and thumbnail removed");
    assert_eq!(
        fetch(m.image.as_deref().unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn a_trainer_starts_with_a_photo_and_captions_follow_the_text_rules(app: TestApp) {
    let bytes = png(30, 20);
    let (status, started) = app
        .trainer
        .client
        .start_with_photo(app.trainee.id, None, photo(&bytes, "image/png"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert!(started.is_new_conversation);
    let (conv, m) = (started.conversation_id, started.message);
    assert!(m.image.is_some() && m.content.is_empty());
    // An image message may lose its caption by an edit; the preview says what is left.
    app.trainer
        .client
        .edit_message(conv, m.id, "look at this")
        .await
        .unwrap();
    let edited = app
        .trainer
        .client
        .edit_message(conv, m.id, "")
        .await
        .unwrap();
    assert_eq!(edited.content, "");
    let list = app.trainee.client.conversations(1).await.unwrap();
    assert_eq!(
        list.results[0].last_message_preview.as_deref(),
        Some("Sent a photo")
    );
}
