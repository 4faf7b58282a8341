//! The module through its public face, on a folder store; the images are made here with the
//! `image` crate's encoders, their metadata added with img-parts.

use std::time::{Duration, Instant};

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::WebP;
use img_parts::{ImageEXIF as _, ImageICC as _};
use rand::{Rng as _, SeedableRng as _};

use super::process::{self, ImageKind};
use super::*;

const NOW: Micros = 1_700_000_000_000_000;
const HOUR: Micros = 3_600_000_000;

fn rgb(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    }))
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    rgb(w, h)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
        .unwrap();
    out
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 90, 128]));
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(img)
        .write_with_encoder(PngEncoder::new(&mut out))
        .unwrap();
    out
}

fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    rgb(w, h)
        .write_with_encoder(WebPEncoder::new_lossless(&mut out))
        .unwrap();
    out
}

/// A big-endian EXIF block with one tag, the orientation, and then `extra` bytes.
fn exif(orientation: u16, extra: &[u8]) -> Vec<u8> {
    let mut e = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    e.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    e.extend_from_slice(&orientation.to_be_bytes());
    e.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    e.extend_from_slice(extra);
    e
}

/// A JPEG with an APP1 EXIF segment right after its SOI.
fn jpeg_with_exif(jpeg: &[u8], orientation: u16, extra: &[u8]) -> Vec<u8> {
    let payload = [&b"Exif\0\0"[..], &exif(orientation, extra)].concat();
    let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    [&jpeg[..2], &[0xFF, 0xE1], &len, &payload, &jpeg[2..]].concat()
}

fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn media(dir: &tempfile::TempDir) -> Media {
    let cfg = MediaConfig::new(
        dir.path().to_owned(),
        b"test signing key".to_vec(),
        "http://127.0.0.1:8000/".to_owned(),
    );
    Media::open(cfg).await.unwrap()
}

async fn stored(media: &Media, key: &str) -> Fetched {
    media.fetch(key).await.unwrap().expect("stored")
}

#[tokio::test]
async fn a_jpeg_a_png_and_a_webp_are_each_stored_under_a_random_key_with_a_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let cases = [
        ("image/jpeg", jpeg(64, 48), ".jpg", "image/jpeg"),
        ("image/png", png(64, 48), ".png", "image/png"),
        (
            "IMAGE/WebP; charset=binary",
            webp(64, 48),
            ".webp",
            "image/webp",
        ),
    ];
    for (declared, bytes, ext, content_type) in cases {
        let image = media.put_image(declared, bytes.into()).await.unwrap();
        let id = image
            .key
            .strip_prefix("message_images/")
            .and_then(|k| k.strip_suffix(ext))
            .unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(
            image.thumbnail,
            format!("message_images/thumbnails/{id}.jpg")
        );
        assert_eq!((image.width, image.height), (64, 48));
        let file = stored(&media, &image.key).await;
        assert_eq!(file.content_type, content_type);
        assert_eq!(decode(&file.bytes).width(), 64);
        let thumb = stored(&media, &image.thumbnail).await;
        assert_eq!(thumb.content_type, "image/jpeg");
        assert_eq!(
            image::guess_format(&thumb.bytes).unwrap(),
            ImageFormat::Jpeg
        );
    }
}

#[tokio::test]
async fn bytes_that_are_not_the_declared_type_are_refused_as_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let refused = [
        ("image/jpeg", png(8, 8)),
        ("image/png", jpeg(8, 8)),
        ("image/webp", png(8, 8)),
        ("image/jpeg", Vec::new()),
        ("image/jpg", jpeg(8, 8)),
        ("image/gif", b"GIF89a".to_vec()),
        ("application/octet-stream", jpeg(8, 8)),
        ("", jpeg(8, 8)),
    ];
    for (declared, bytes) in refused {
        let err = media.put_image(declared, bytes.into()).await.unwrap_err();
        assert!(
            matches!(err, ImageError::UnsupportedType),
            "{declared}: {err}"
        );
        assert_eq!(
            err.to_string(),
            "Only JPEG, PNG, and WebP images are supported."
        );
    }
}

/// A PNG whose header claims `w`×`h` over one tiny row of real data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut file = Png::from_bytes(png(1, 1).into()).unwrap();
    let ihdr = &mut file.chunks_mut()[0];
    let mut contents = ihdr.contents().to_vec();
    contents[..4].copy_from_slice(&w.to_be_bytes());
    contents[4..8].copy_from_slice(&h.to_be_bytes());
    *ihdr = PngChunk::new(*b"IHDR", contents.into());
    file.encoder().bytes().to_vec()
}

/// A JPEG whose frame header claims `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut file = jpeg(8, 8);
    let sof = file.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
    file[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    file[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    file
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_from_its_header_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let bombs = [
        ("image/png", png_claiming(100_000, 100_000)),
        ("image/png", png_claiming(50_000, 50_000)),
        ("image/jpeg", jpeg_claiming(65_000, 65_000)),
    ];
    for (declared, bytes) in bombs {
        assert!(bytes.len() < 2_000);
        let started = Instant::now();
        let err = media.put_image(declared, bytes.into()).await.unwrap_err();
        // Allocating, let alone filling, 10¹⁰ pixels would take far longer (or abort).
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(&err, ImageError::Invalid(m) if m == TOO_LARGE),
            "{declared}: {err}"
        );
    }
    // A smaller bound applies to a file that would otherwise pass.
    let cfg = MediaConfig {
        max_pixels: 1_000,
        ..MediaConfig::new(dir.path().to_owned(), b"k".to_vec(), String::new())
    };
    let small = Media::open(cfg).await.unwrap();
    let err = small.put_image("image/jpeg", jpeg(40, 40).into()).await;
    assert!(matches!(err, Err(ImageError::Invalid(m)) if m == TOO_LARGE));
}

#[tokio::test]
async fn a_file_that_does_not_decode_gets_django_s_wording() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let mut broken = png(16, 16);
    broken.truncate(40);
    let err = media
        .put_image("image/png", broken.into())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    );
}

#[tokio::test]
async fn exif_with_gps_is_removed_and_the_photo_still_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let original = jpeg_with_exif(&jpeg(48, 32), 1, b"GPSLatitude 51.5074 N");
    assert!(contains(&original, b"GPS"));
    let image = media
        .put_image("image/jpeg", original.clone().into())
        .await
        .unwrap();
    let file = stored(&media, &image.key).await.bytes;
    assert!(!contains(&file, b"Exif"));
    assert!(!contains(&file, b"GPS"));
    assert_eq!(
        decode(&file).to_rgb8(),
        decode(&original).to_rgb8(),
        "not re-encoded"
    );
    assert_eq!((image.width, image.height), (48, 32));
}

#[tokio::test]
async fn an_exif_orientation_of_6_is_applied_to_the_pixels_and_the_size() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let original = jpeg_with_exif(&jpeg(640, 320), 6, b"GPS");
    let image = media
        .put_image("image/jpeg", original.into())
        .await
        .unwrap();
    assert_eq!((image.width, image.height), (320, 640));
    let file = stored(&media, &image.key).await.bytes;
    assert!(!contains(&file, b"Exif"));
    let shown = decode(&file);
    assert_eq!((shown.width(), shown.height()), (320, 640));
    let thumb = decode(&stored(&media, &image.thumbnail).await.bytes);
    assert_eq!((thumb.width(), thumb.height()), (160, 320));
}

#[tokio::test]
async fn thumbnails_fit_in_320_pixels_and_small_images_are_not_enlarged() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    for (declared, bytes, expected) in [
        ("image/jpeg", jpeg(1000, 500), (320, 160)),
        ("image/png", png(300, 900), (107, 320)),
        ("image/webp", webp(100, 50), (100, 50)),
    ] {
        let image = media.put_image(declared, bytes.into()).await.unwrap();
        let thumb = decode(&stored(&media, &image.thumbnail).await.bytes);
        assert_eq!((thumb.width(), thumb.height()), expected, "{declared}");
    }
}

#[tokio::test]
async fn png_text_and_exif_chunks_are_dropped_and_the_icc_profile_kept() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let mut file = Png::from_bytes(png(16, 16).into()).unwrap();
    file.set_icc_profile(Some(Bytes::from_static(
        b"an ICC profile, as far as PNG cares",
    )));
    file.set_exif(Some(exif(1, b"GPS").into()));
    let end = file.chunks().len() - 1;
    for (kind, data) in [
        (*b"tEXt", &b"Comment\0GPS 51.5 N"[..]),
        (*b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"),
        (*b"zTXt", b"Author\0\0x"),
        (*b"tIME", b"\x07\xe8\x01\x01\0\0\0"),
        (*b"prVt", b"private"),
    ] {
        file.chunks_mut()
            .insert(end, PngChunk::new(kind, Bytes::copy_from_slice(data)));
    }
    let original = file.encoder().bytes();
    let image = media
        .put_image("image/png", original.clone())
        .await
        .unwrap();
    let kept = Png::from_bytes(stored(&media, &image.key).await.bytes).unwrap();
    let kinds: Vec<[u8; 4]> = kept.chunks().iter().map(PngChunk::kind).collect();
    for gone in [b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME", b"prVt"] {
        assert!(!kinds.contains(gone), "{}", String::from_utf8_lossy(gone));
    }
    assert!(kinds.contains(b"iCCP"));
    assert_eq!(decode(&kept.encoder().bytes()), decode(&original));
}

#[tokio::test]
async fn webp_exif_and_xmp_chunks_are_dropped_with_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let mut file = WebP::from_bytes(webp(16, 16).into()).unwrap();
    file.set_exif(Some(exif(1, b"GPS").into()));
    file.chunks_mut().push(RiffChunk::new(
        *b"XMP ",
        RiffContent::Data(Bytes::from_static(b"<x:xmpmeta>GPS</x:xmpmeta>")),
    ));
    file.set_icc_profile(Some(Bytes::from_static(b"an ICC profile")));
    // Raise the XMP flag, as a writer of XMP would.
    if let RiffContent::Data(d) = file.chunks_mut()[0].content_mut() {
        let mut flags = d.to_vec();
        flags[0] |= 0b0000_0100;
        *d = flags.into();
    }
    let original = file.encoder().bytes();
    assert!(contains(&original, b"GPS"));
    let image = media
        .put_image("image/webp", original.clone())
        .await
        .unwrap();
    let bytes = stored(&media, &image.key).await.bytes;
    assert!(!contains(&bytes, b"GPS"));
    let kept = WebP::from_bytes(bytes.clone()).unwrap();
    let ids: Vec<[u8; 4]> = kept.chunks().iter().map(RiffChunk::id).collect();
    assert!(!ids.contains(b"EXIF") && !ids.contains(b"XMP "));
    assert!(ids.contains(b"ICCP"));
    let flags = kept.chunks()[0].content().data().unwrap()[0];
    assert_eq!(flags & 0b0000_1100, 0, "EXIF and XMP flags cleared");
    assert_eq!(decode(&bytes), decode(&original));
}

#[test]
fn truncated_and_random_bytes_of_each_type_never_panic() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let samples = [
        (ImageKind::Jpeg, jpeg_with_exif(&jpeg(24, 16), 6, b"GPS")),
        (ImageKind::Png, png(24, 16)),
        (ImageKind::WebP, webp(24, 16)),
    ];
    for (kind, valid) in samples {
        let mut inputs: Vec<Vec<u8>> = (0..valid.len())
            .step_by((valid.len() / 40).max(1))
            .map(|cut| valid[..cut].to_vec())
            .collect();
        for _ in 0..40 {
            let mut flipped = valid.clone();
            for _ in 0..rng.random_range(1..8) {
                let at = rng.random_range(0..flipped.len());
                flipped[at] = rng.random();
            }
            inputs.push(flipped);
            let mut noise = valid[..12].to_vec();
            noise.extend((0..rng.random_range(0..400)).map(|_| rng.random::<u8>()));
            inputs.push(noise);
        }
        for input in inputs {
            let bytes = Bytes::from(input);
            // Any answer but a panic.
            let _ = process::process(kind, bytes.clone(), DEFAULT_MAX_PIXELS);
            let _ = super::strip::strip(kind, bytes);
        }
    }
}

fn query(url: &str) -> (String, Option<String>, Option<String>) {
    let url = url::Url::parse(url).unwrap();
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    (url.path().to_owned(), get("e"), get("s"))
}

#[tokio::test]
async fn a_signed_url_verifies_and_fails_when_tampered_or_expired() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let key = "message_images/0123456789abcdef0123456789abcdef.jpg";
    let url = media.url(key, NOW);
    assert!(url.starts_with(&format!("http://127.0.0.1:8000/media/{key}?e=")));
    let (path, e, s) = query(&url);
    assert_eq!(path, format!("/media/{key}"));
    let (e, s) = (e.as_deref(), s.as_deref());
    assert_eq!(media.verify(key, e, s, NOW), Ok(()));
    // Cache-friendly: the same URL for a while, and valid a week on.
    assert_eq!(media.url(key, NOW + HOUR / 4), media.url(key, NOW));
    let week = crate::clock::micros(DEFAULT_URL_TTL);
    assert_eq!(media.verify(key, e, s, NOW + week), Ok(()));
    assert_eq!(
        media.verify(key, e, s, NOW + week + HOUR + 1),
        Err(UrlError::Expired)
    );
    let other = "message_images/1123456789abcdef0123456789abcdef.jpg";
    assert_eq!(media.verify(other, e, s, NOW), Err(UrlError::BadSignature));
    assert_eq!(
        media.verify(key, Some("99999999999"), s, NOW),
        Err(UrlError::BadSignature)
    );
    assert_eq!(media.verify(key, None, s, NOW), Err(UrlError::Missing));
    assert_eq!(media.verify(key, e, Some(""), NOW), Err(UrlError::Missing));
    assert_eq!(UrlError::Expired.to_string(), "The media link has expired.");
}

#[tokio::test]
async fn keys_with_dot_dot_are_refused_even_when_signed() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    std::fs::write(dir.path().join("secret"), b"the database password").unwrap();
    for key in ["../secret", "message_images/../../secret", "/etc/passwd"] {
        let (_, e, s) = query(&format!(
            "http://x/?{}",
            media.url(key, NOW).split_once('?').unwrap().1
        ));
        assert_eq!(
            media.verify(key, e.as_deref(), s.as_deref(), NOW),
            Err(UrlError::BadSignature)
        );
        assert!(media.fetch(key).await.unwrap().is_none());
        media.remove(key, Some(key)).await;
    }
    assert!(dir.path().join("secret").exists());
}

#[tokio::test]
async fn with_a_cdn_base_url_urls_are_plain() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = MediaConfig {
        cdn_base: Some("https://cdn.example.com/media/".to_owned()),
        ..MediaConfig::new(dir.path().to_owned(), b"k".to_vec(), String::new())
    };
    let media = Media::open(cfg).await.unwrap();
    assert_eq!(
        media.url("message_images/a.jpg", NOW),
        "https://cdn.example.com/media/message_images/a.jpg"
    );
}

#[tokio::test]
async fn the_folder_store_puts_fetches_and_removes_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let media = media(&dir).await;
    let image = media
        .put_image("image/png", png(20, 10).into())
        .await
        .unwrap();
    let path = dir.path().join("media").join(&image.key);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        stored(&media, &image.key).await.bytes
    );
    let folder = path.parent().unwrap();
    let names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(".tmp-")), "{names:?}");

    media.remove(&image.key, Some(&image.thumbnail)).await;
    assert!(media.fetch(&image.key).await.unwrap().is_none());
    assert!(media.fetch(&image.thumbnail).await.unwrap().is_none());
    assert!(!path.exists());
    // Removing again is not a failure.
    media.remove(&image.key, Some(&image.thumbnail)).await;
    assert!(
        media
            .fetch("message_images/0123456789abcdef0123456789abcdef.png")
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn the_config_s_debug_hides_the_signing_key() {
    let cfg = MediaConfig::new("/tmp".into(), b"hunter2".to_vec(), String::new());
    assert!(!format!("{cfg:?}").contains("104"));
    assert!(format!("{cfg:?}").contains("redacted"));
}
