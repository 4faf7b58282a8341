//! `upload`: what a photo send costs by size. A trainer sends JPEGs of each size to a trainee
//! as multipart `send/` forms, `--concurrency` at a time (1: one after the other), timed from
//! the request to the last byte of the 201 (the form is built before the clock starts);
//! the server's CPU time is read from `/proc` around each size's sends. The same number of text
//! sends (JSON), measured the same way first, are the baseline: what any send costs.
//!
//! The photos are made here, once per size, to look like photos to the server (it decodes every
//! pixel, and makes a thumbnail): 4:3, about 0.4 bytes a pixel at quality 85 (a phone photo's
//! density; a 5 MiB one is about 13 megapixels), a smooth picture with grain, the grain's
//! strength searched until the file is within 3 % of the size asked. The 5 MiB class aims a
//! little under the server's cap (5,242,880 bytes, which a form's framing must fit beside).

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt as _;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder as _, RgbImage};
use serde::Serialize;
use tokio::time::Instant;

use crate::hist::{Hist, Summary};
use crate::procfs::{self, Usage};
use crate::setup::{self, Setup};

/// The server's cap on an image.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Bytes a pixel the photos aim for.
const BYTES_PER_PIXEL: f64 = 0.4;

#[derive(Debug, Clone, Serialize)]
pub struct UploadOpts {
    /// Photo sizes, KiB.
    pub sizes_kib: Vec<u32>,
    /// Timed sends of each size (after two untimed ones).
    pub iterations: u32,
    /// Sends in flight at once.
    pub concurrency: usize,
}

impl Default for UploadOpts {
    fn default() -> Self {
        Self {
            sizes_kib: vec![100, 1024, 5120],
            iterations: 50,
            concurrency: 1,
        }
    }
}

impl UploadOpts {
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.sizes_kib.is_empty() || self.sizes_kib.iter().any(|&s| !(10..=5120).contains(&s)) {
            bail!("--sizes-kib must be one or more sizes from 10 to 5120");
        }
        if !(1..=10_000).contains(&self.iterations) {
            bail!("--iterations must be 1..=10000");
        }
        if !(1..=64).contains(&self.concurrency) {
            bail!("--concurrency must be 1..=64");
        }
        Ok(())
    }
}

/// A JPEG made to measure.
#[derive(Debug, Clone)]
pub struct Photo {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// A photo-like JPEG of about `target` bytes (see the module's doc).
pub fn photo(target: usize) -> anyhow::Result<Photo> {
    let goal = target.min(MAX_IMAGE_BYTES - 96 * 1024);
    let pixels = goal as f64 / BYTES_PER_PIXEL;
    let width = ((pixels * 4.0 / 3.0).sqrt() as u32).max(16);
    let height = (width * 3 / 4).max(12);
    let (mut lo, mut hi) = (0.0f64, 96.0f64);
    let mut best: Option<Vec<u8>> = None;
    for _ in 0..12 {
        let grain = (lo + hi) / 2.0;
        let bytes = encode(width, height, grain)?;
        let off = bytes.len() as f64 / goal as f64 - 1.0;
        let closer = best
            .as_ref()
            .is_none_or(|b| off.abs() < (b.len() as f64 / goal as f64 - 1.0).abs());
        let done = off.abs() <= 0.03 && bytes.len() <= MAX_IMAGE_BYTES;
        if closer || done {
            best = Some(bytes);
        }
        if done {
            break;
        }
        if off > 0.0 { hi = grain } else { lo = grain }
    }
    let bytes = best.context("no photo was encoded")?;
    if (bytes.len() as f64 / goal as f64 - 1.0).abs() > 0.1 || bytes.len() > MAX_IMAGE_BYTES {
        bail!(
            "could not make a photo of {goal} bytes (got {})",
            bytes.len()
        );
    }
    Ok(Photo {
        bytes,
        width,
        height,
    })
}

/// Gradients and soft shapes with grain of strength `grain` (0–96), at JPEG quality 85.
fn encode(width: u32, height: u32, grain: f64) -> anyhow::Result<Vec<u8>> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (w, h) = (f64::from(width), f64::from(height));
    let img = RgbImage::from_fn(width, height, |x, y| {
        // xorshift64: the same grain every run.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = ((seed >> 40) as f64 / f64::from(1u32 << 24) - 0.5) * 2.0 * grain;
        let (fx, fy) = (f64::from(x) / w, f64::from(y) / h);
        let wave = ((fx * 9.0).sin() * (fy * 7.0).cos()) * 40.0;
        let channel = |base: f64| (base + wave + noise).clamp(0.0, 255.0) as u8;
        image::Rgb([
            channel(60.0 + 150.0 * fx),
            channel(90.0 + 100.0 * fy),
            channel(200.0 - 120.0 * fx * fy),
        ])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85).write_image(
        img.as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct SizeReport {
    /// The size asked for, KiB.
    pub size_kib: u32,
    /// The photo sent: its bytes and pixels.
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
    /// Request to the last byte of the 201.
    pub created: Summary,
    pub errors: u64,
    /// Sends a second over the timed sends.
    pub per_second: f64,
    /// Server CPU time per send, milliseconds (everything the server did meanwhile).
    pub server_cpu_ms_per_upload: f64,
    pub server: Usage,
    pub machine: procfs::MachineUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct UploadReport {
    pub options: UploadOpts,
    /// Text sends (JSON), for comparison: `size_kib` 0.
    pub text: SizeReport,
    pub sizes: Vec<SizeReport>,
}

/// One send, timed from the request to the last byte of the answer: a photo as a form, or
/// (`None`) a short text as JSON.
async fn timed_send(
    http: &reqwest::Client,
    url: &url::Url,
    token: &str,
    photo: Option<&[u8]>,
) -> anyhow::Result<Duration> {
    let req = http.post(url.clone()).bearer_auth(token);
    let req = match photo {
        Some(photo) => {
            let part = reqwest::multipart::Part::bytes(photo.to_vec())
                .file_name("IMG_0001.JPG")
                .mime_str("image/jpeg")?;
            req.multipart(reqwest::multipart::Form::new().part("image", part))
        }
        None => req.json(&serde_json::json!({ "content": "Nice form on the last set!" })),
    };
    let t = Instant::now();
    let resp = req.send().await?;
    let status = resp.status();
    resp.bytes().await?;
    let took = t.elapsed();
    if status != reqwest::StatusCode::CREATED {
        bail!("HTTP {status}");
    }
    Ok(took)
}

pub async fn run(setup: &Setup, opts: &UploadOpts) -> anyhow::Result<UploadReport> {
    opts.validate()?;
    let client = setup.client()?;
    let trainers = setup.trainers("upload", 1, 1).await?;
    let trainer = &trainers[0];
    let token = setup.tokens(&[trainer.user()]).await?.remove(0);
    let starts = vec![(token.clone(), trainer.trainees[0].id)];
    let conv = setup::start_conversations(&client, starts, 1).await?[0];
    let url = setup
        .url
        .join(&format!("api/messaging/conversations/{conv}/send/"))?;
    let http = reqwest::Client::new();
    let sends = Sends {
        http: &http,
        url: &url,
        token: &token,
        setup,
        opts,
    };
    let text = sends.measure(None).await?;
    let mut sizes = Vec::new();
    for &kib in &opts.sizes_kib {
        let photo = photo(kib as usize * 1024)?;
        eprintln!(
            "upload: {kib} KiB: a {}×{} JPEG of {} bytes, {} sends",
            photo.width,
            photo.height,
            photo.bytes.len(),
            opts.iterations
        );
        sizes.push(sends.measure(Some((kib, photo))).await?);
    }
    Ok(UploadReport {
        options: opts.clone(),
        text,
        sizes,
    })
}

/// Where the sends go, and how many.
struct Sends<'a> {
    http: &'a reqwest::Client,
    url: &'a url::Url,
    token: &'a str,
    setup: &'a Setup,
    opts: &'a UploadOpts,
}

impl Sends<'_> {
    /// Two untimed sends, then `iterations` timed ones: of a photo (and the size it was made
    /// for, KiB), or of text.
    async fn measure(&self, photo: Option<(u32, Photo)>) -> anyhow::Result<SizeReport> {
        let body = photo.as_ref().map(|(_, p)| p.bytes.as_slice());
        for _ in 0..2 {
            timed_send(self.http, self.url, self.token, body).await?;
        }
        let window = procfs::Window::start(self.setup.server_pid);
        let started = Instant::now();
        let mut sends = futures_util::stream::iter(0..self.opts.iterations)
            .map(|_| timed_send(self.http, self.url, self.token, body))
            .buffer_unordered(self.opts.concurrency);
        let (mut h, mut errors) = (Hist::new(), 0u64);
        while let Some(sent) = sends.next().await {
            match sent {
                Ok(took) => h.record(took),
                Err(_) => errors += 1,
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let (server, machine) = window.finish();
        let n = f64::from(self.opts.iterations);
        let (kib, size) = photo.as_ref().map_or((0, (0, 0, 0)), |(k, p)| {
            (*k, (p.bytes.len(), p.width, p.height))
        });
        Ok(SizeReport {
            size_kib: kib,
            bytes: size.0,
            width: size.1,
            height: size.2,
            created: h.summary(),
            errors,
            per_second: n / wall,
            server_cpu_ms_per_upload: server.cpu_seconds * 1000.0 / n,
            server,
            machine,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_is_made_close_to_its_size() {
        let p = photo(100 * 1024).unwrap();
        let off = p.bytes.len() as f64 / (100.0 * 1024.0) - 1.0;
        assert!(off.abs() <= 0.03, "{} bytes", p.bytes.len());
        assert_eq!(p.height, p.width * 3 / 4);
        assert!(image::load_from_memory(&p.bytes).is_ok());
    }
}
