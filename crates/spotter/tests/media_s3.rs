//! The media store on a real S3-speaking server (moto's, not a mock object): create a bucket,
//! then put, fetch, sign and remove images through `Media::open` with
//! `store: Some("s3://<bucket>/media")`, the way production configures it.
//!
//! Needs `SPOTTER_TEST_S3_ENDPOINT`, the server's URL:
//!
//!     export SPOTTER_TEST_S3_ENDPOINT="$(bash scripts/s3-server.sh)"
//!
//! Without it the test fails and says so, unless `SPOTTER_TEST_S3=skip` is set.

use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, RgbImage};
use rusty_s3::actions::S3Action as _;
use rusty_s3::{Bucket, Credentials, UrlStyle};
use spotter::media::{Media, MediaConfig, UrlError};

#[path = "common/mod.rs"]
#[allow(unused)]
mod helpers;

const NOW: i64 = 1_700_000_000_000_000;

fn endpoint() -> Option<String> {
    match std::env::var("SPOTTER_TEST_S3_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ if std::env::var("SPOTTER_TEST_S3").as_deref() == Ok("skip") => {
            eprintln!("media_s3 skipped: SPOTTER_TEST_S3=skip");
            None
        }
        _ => panic!(
            "SPOTTER_TEST_S3_ENDPOINT is not set. Start an S3-speaking server (moto) with\n    \
             export SPOTTER_TEST_S3_ENDPOINT=\"$(bash scripts/s3-server.sh)\"\n\
             and stop it afterwards with `bash scripts/s3-server.sh stop`; or set \
             SPOTTER_TEST_S3=skip to skip this test on purpose."
        ),
    }
}

/// A JPEG carrying an EXIF block with "GPS" in it.
fn photo() -> Vec<u8> {
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([x as u8, y as u8, 128])
    }))
    .write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 85))
    .unwrap();
    let exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0GPSLatitude 51.5074 N";
    let len = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    [&jpeg[..2], &[0xFF, 0xE1], &len, exif, &jpeg[2..]].concat()
}

#[test]
fn images_round_trip_through_an_s3_bucket() {
    let Some(endpoint) = endpoint() else { return };
    // The store reads its settings from the environment, as in production.
    // SAFETY: this binary's only test, setting them before it starts a thread of its own.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "spotter-test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "spotter-test-secret");
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("SPOTTER_MEDIA_S3_ADDRESSING");
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(round_trip(&endpoint));
}

async fn round_trip(endpoint: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let name = format!("spotter-test-{:016x}", rand::random::<u64>());
    let bucket = Bucket::new(
        endpoint.parse().unwrap(),
        UrlStyle::Path,
        name.clone(),
        "us-east-1",
    )
    .unwrap();
    let credentials = Credentials::new("spotter-test", "spotter-test-secret");
    let created = http
        .put(
            bucket
                .create_bucket(&credentials)
                .sign(Duration::from_secs(60)),
        )
        // hyper sends no length for an empty body; S3 wants one on every PUT.
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );

    let dir = tempfile::tempdir().unwrap();
    let config = |store: String| MediaConfig {
        store: Some(store),
        ..MediaConfig::new(
            dir.path().to_owned(),
            b"test signing key".to_vec(),
            "http://127.0.0.1:8000".to_owned(),
        )
    };

    // A bucket that does not exist is found out at start.
    let missing = Media::open(config(format!("s3://{name}-missing/media"))).await;
    let err = format!("{:#}", missing.unwrap_err());
    assert!(err.contains("NoSuchBucket"), "{err}");

    let media = Media::open(config(format!("s3://{name}/media")))
        .await
        .unwrap();
    let image = media.put_image("image/jpeg", photo().into()).await.unwrap();
    assert_eq!((image.width, image.height), (400, 300));
    assert!(
        !dir.path().join("media").exists(),
        "nothing written locally"
    );

    let fetched = media.fetch(&image.key).await.unwrap().expect("stored");
    assert_eq!(fetched.content_type, "image/jpeg");
    assert!(!fetched.bytes.windows(3).any(|w| w == b"GPS"));
    let decoded = image::load_from_memory(&fetched.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (400, 300));
    let thumb = media
        .fetch(&image.thumbnail)
        .await
        .unwrap()
        .expect("thumbnail");
    let thumb = image::load_from_memory(&thumb.bytes).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));

    // Under the prefix, in the bucket itself.
    let object = format!("media/{}", image.key);
    let direct = http
        .get(
            bucket
                .get_object(Some(&credentials), &object)
                .sign(Duration::from_secs(60)),
        )
        .send()
        .await
        .unwrap();
    assert!(direct.status().is_success(), "{}", direct.status());
    assert_eq!(direct.bytes().await.unwrap(), fetched.bytes);

    // URLs are Spotter's, signed, whatever the store.
    let url = media.url(&image.key, NOW);
    let query = url.split_once('?').unwrap().1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
    };
    assert_eq!(
        media.verify(&image.key, param("e"), param("s"), NOW),
        Ok(())
    );
    assert_eq!(
        media.verify(&image.thumbnail, param("e"), param("s"), NOW),
        Err(UrlError::BadSignature)
    );

    media.remove(&image.key, Some(&image.thumbnail)).await;
    assert!(media.fetch(&image.key).await.unwrap().is_none());
    assert!(media.fetch(&image.thumbnail).await.unwrap().is_none());
    // Removing what is gone, or was never there, is quiet.
    media.remove(&image.key, Some(&image.thumbnail)).await;
    assert!(media.fetch("../../etc/passwd").await.unwrap().is_none());

    through_the_server(&name, &http, &bucket, &credentials).await;
    two_nodes_share_the_store(&name).await;
}

/// The whole way on S3: a Spotter configured with `SPOTTER_MEDIA_STORE=s3://…` takes a photo
/// over multipart, stores it in the bucket (nothing on its disk), serves it by signed URL, and
/// removes it from the bucket when the message is deleted.
async fn through_the_server(
    name: &str,
    http: &reqwest::Client,
    bucket: &Bucket,
    credentials: &Credentials,
) {
    let store = format!("s3://{name}/spotter");
    let app = helpers::TestApp::spawn_with(helpers::Backend::Sqlite, |c| {
        c.media_store = Some(store);
    })
    .await;
    let conv = app.conversation().await;
    let bytes = photo();
    let (_, m) = app
        .trainee
        .client
        .send_photo(
            conv,
            Some("through S3"),
            spotter_client::model::Photo {
                bytes: &bytes,
                content_type: "image/jpeg",
                file_name: "a.jpg",
            },
            None,
        )
        .await
        .unwrap();
    assert!(
        !app.config.data_dir.join("media").exists(),
        "nothing on the node's disk"
    );
    let url = m.image.clone().unwrap();
    let served = reqwest::get(&url).await.unwrap();
    assert_eq!(served.status(), reqwest::StatusCode::OK);
    let served = served.bytes().await.unwrap();
    assert!(!served.windows(3).any(|w| w == b"GPS"));
    let key = url
        .split_once("/media/")
        .unwrap()
        .1
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let in_bucket = |key: String| async move {
        http.get(
            bucket
                .get_object(Some(credentials), &format!("spotter/{key}"))
                .sign(Duration::from_secs(60)),
        )
        .send()
        .await
        .unwrap()
        .status()
    };
    assert!(in_bucket(key.clone()).await.is_success());
    app.trainee.client.delete_message(conv, m.id).await.unwrap();
    assert_eq!(in_bucket(key).await, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(
        reqwest::get(&url).await.unwrap().status(),
        reqwest::StatusCode::NOT_FOUND
    );
}

/// The "done when", on the server side: PostgreSQL, two nodes linked through the real
/// Redis, one S3 store. A photo sent through node A reaches a socket on node B live, node B
/// serves its signed URL, and an edit made on B shows live on A.
async fn two_nodes_share_the_store(name: &str) {
    use spotter_client::ServerFrame;
    let store = format!("s3://{name}/two-nodes");
    let redis = std::env::var("SPOTTER_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let app = helpers::TestApp::spawn_with(helpers::Backend::Postgres, |c| {
        c.media_store = Some(store);
        c.redis_url = Some(redis);
        c.redis_channel = format!("spotter-test:{:016x}", rand::random::<u64>());
    })
    .await;
    let node = app.node().await;
    helpers::eventually("the nodes to link through Redis", || async {
        (app.state.bus.connected() && node.state.bus.connected()).then_some(())
    })
    .await;
    let conv = app.conversation().await;
    let trainer_b = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(app.trainer.client.token().unwrap());
    let mut on_b = helpers::live(&trainer_b, None).await;
    let mut on_a = helpers::live(&app.trainee.client, None).await;
    let bytes = photo();
    let (_, m) = app
        .trainee
        .client
        .send_photo(
            conv,
            Some("form check"),
            spotter_client::model::Photo {
                bytes: &bytes,
                content_type: "image/jpeg",
                file_name: "a.jpg",
            },
            None,
        )
        .await
        .unwrap();
    let live = loop {
        if let ServerFrame::NewMessage { message, .. } = next(&mut on_b).await
            && message.id == m.id
        {
            break message;
        }
    };
    // Node B serves the file node A stored: the store and the signing key are shared.
    let url = live.image.clone().unwrap();
    let on_node_b = format!(
        "{}{}",
        node.url.trim_end_matches('/'),
        &url[url.find("/media/").unwrap()..]
    );
    let served = reqwest::get(&on_node_b).await.unwrap();
    assert_eq!(served.status(), reqwest::StatusCode::OK);
    // The trainee edits their caption through node B's REST; their socket on A sees it.
    let trainee_b = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    trainee_b
        .edit_message(conv, m.id, "form check, side view")
        .await
        .unwrap();
    loop {
        if let ServerFrame::MessageEdited {
            message_id,
            content,
            ..
        } = next(&mut on_a).await
            && message_id == m.id
        {
            assert_eq!(content, "form check, side view");
            break;
        }
    }
    let found = trainer_b.search("side view", 1, None).await.unwrap();
    assert_eq!(found.results[0].message_id, m.id);
    assert!(found.results[0].image_url.is_some());
    node.stop().await;
}

/// The next frame of a socket (10 s at most: a frame normally comes in milliseconds).
async fn next(sock: &mut spotter_client::Socket) -> spotter_client::ServerFrame {
    match tokio::time::timeout(Duration::from_secs(10), sock.next()).await {
        Ok(Some(spotter_client::Incoming::Frame(f))) => f,
        other => panic!("no frame: {other:?}"),
    }
}
