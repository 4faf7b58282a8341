//! What happens to an upload's bytes, on a blocking thread: the header read under a pixel bound,
//! the full decode (the integrity check, and the thumbnail's source), the EXIF orientation
//! applied, the metadata stripped and a thumbnail made. Nothing here panics on any input; the
//! unit tests feed it truncated and random files of each type.

use std::io::Cursor;

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageEncoder, ImageFormat, ImageReader, Limits};

use super::{ImageError, strip};

/// Django's `ImageField` wording for a file that is not a decodable image.
pub const INVALID_IMAGE: &str =
    "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
/// An image over the pixel bound (a decompression bomb, or a photo too big to handle).
pub const TOO_LARGE: &str = "Image is too large to process.";

/// Thumbnails fit in this square, aspect kept.
pub(super) const THUMBNAIL_SIDE: u32 = 320;
const THUMBNAIL_QUALITY: u8 = 80;
/// Quality of a JPEG re-encoded to apply its rotation: close to what cameras write.
const REENCODE_QUALITY: u8 = 90;
/// Longest side decoded (JPEG's own limit; a longer strip of pixels is no photo).
const MAX_SIDE: u32 = 65_535;
/// Bytes per pixel the decode budget allows: 8-bit RGBA. A 16-bit image needs half the pixels.
const BYTES_PER_PIXEL: u64 = 4;

/// The three accepted types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ImageKind {
    Jpeg,
    Png,
    WebP,
}

impl ImageKind {
    /// The declared type: exactly one of the three, any case, parameters after `;` ignored.
    pub(super) fn from_declared(declared: &str) -> Option<Self> {
        let essence = declared.split(';').next().unwrap_or_default().trim();
        [Self::Jpeg, Self::Png, Self::WebP]
            .into_iter()
            .find(|kind| essence.eq_ignore_ascii_case(kind.content_type()))
    }

    pub(super) fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    pub(super) fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => ".jpg",
            Self::Png => ".png",
            Self::WebP => ".webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }

    /// Whether the bytes start with this type's magic number.
    pub(super) fn has_magic(self, b: &[u8]) -> bool {
        match self {
            Self::Jpeg => b.starts_with(&[0xFF, 0xD8, 0xFF]),
            Self::Png => b.starts_with(b"\x89PNG\r\n\x1a\n"),
            Self::WebP => b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP",
        }
    }
}

/// An upload made ready to store.
pub(super) struct Processed {
    /// The file without its metadata.
    pub image: Bytes,
    /// A JPEG fitting [`THUMBNAIL_SIDE`]².
    pub thumbnail: Bytes,
    /// As displayed: after the orientation.
    pub width: u32,
    pub height: u32,
}

pub(super) fn process(
    kind: ImageKind,
    bytes: Bytes,
    max_pixels: u64,
) -> Result<Processed, ImageError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(max_pixels.saturating_mul(BYTES_PER_PIXEL));
    let mut reader = ImageReader::with_format(Cursor::new(&bytes[..]), kind.format());
    reader.limits(limits.clone());
    // Only the header so far: nothing the size of the image is allocated before this check.
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageError::Invalid(TOO_LARGE.to_owned()));
    }
    limits.reserve(decoder.total_bytes()).map_err(refused)?;
    // A broken EXIF block or ICC profile is no reason to refuse a photo that decodes.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(refused)?;
    pixels.apply_orientation(orientation);

    let image = match orientation {
        Orientation::NoTransforms => match strip::strip(kind, bytes) {
            Some(stripped) if same_size(kind, &stripped, (width, height)) => stripped,
            // Unusual structure (a truncated file that still decodes, say): the pixels are clean.
            _ => reencode(kind, &pixels, icc.as_deref())?,
        },
        _ => reencode(kind, &pixels, icc.as_deref())?,
    };
    Ok(Processed {
        image,
        thumbnail: thumbnail(&pixels, icc.as_deref())?,
        width: pixels.width(),
        height: pixels.height(),
    })
}

fn refused(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::Invalid(TOO_LARGE.to_owned()),
        _ => ImageError::Invalid(INVALID_IMAGE.to_owned()),
    }
}

/// Whether a stripped file still reads as the image it came from (header only).
fn same_size(kind: ImageKind, stripped: &[u8], size: (u32, u32)) -> bool {
    ImageReader::with_format(Cursor::new(stripped), kind.format())
        .into_dimensions()
        .is_ok_and(|d| d == size)
}

/// The decoded pixels written again in their own format (which carries no metadata but the ICC
/// profile): used when the orientation had to be applied to the pixels.
fn reencode(
    kind: ImageKind,
    pixels: &DynamicImage,
    icc: Option<&[u8]>,
) -> Result<Bytes, ImageError> {
    let mut out = Vec::new();
    let written = match kind {
        ImageKind::Jpeg => {
            let flat = jpeg_pixels(pixels);
            let mut encoder = JpegEncoder::new_with_quality(&mut out, REENCODE_QUALITY);
            set_icc(&mut encoder, icc, &flat);
            flat.write_with_encoder(encoder)
        }
        ImageKind::Png => {
            let mut encoder = PngEncoder::new(&mut out);
            set_icc(&mut encoder, icc, pixels);
            pixels.write_with_encoder(encoder)
        }
        ImageKind::WebP => {
            // The only WebP encoder here is lossless: larger than the lossy original, but rare
            // (WebP files with an EXIF rotation), and never a loss of quality.
            let flat = if pixels.color().has_alpha() {
                DynamicImage::ImageRgba8(pixels.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(pixels.to_rgb8())
            };
            let mut encoder = WebPEncoder::new_lossless(&mut out);
            set_icc(&mut encoder, icc, &flat);
            flat.write_with_encoder(encoder)
        }
    };
    written.map_err(|e| ImageError::Storage(anyhow::anyhow!("re-encoding the image: {e}")))?;
    Ok(out.into())
}

/// A JPEG thumbnail fitting [`THUMBNAIL_SIDE`]², never larger than the image; transparency is
/// laid on white (JPEG has none, and the hidden colour of transparent pixels is often black).
fn thumbnail(pixels: &DynamicImage, icc: Option<&[u8]>) -> Result<Bytes, ImageError> {
    let small = if pixels.width() > THUMBNAIL_SIDE || pixels.height() > THUMBNAIL_SIDE {
        pixels.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        pixels.clone()
    };
    let flat = if small.color().has_alpha() {
        let mut rgba = small.to_rgba8();
        for p in rgba.pixels_mut() {
            let a = u16::from(p[3]);
            for c in &mut p.0[..3] {
                // c·a + 255·(1 − a), in 0..=255 steps; at most 255 so the cast cannot truncate.
                *c = ((u16::from(*c) * a + 255 * (255 - a) + 127) / 255) as u8;
            }
        }
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
    } else {
        jpeg_pixels(&small)
    };
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, THUMBNAIL_QUALITY);
    set_icc(&mut encoder, icc, &flat);
    flat.write_with_encoder(encoder)
        .map_err(|e| ImageError::Storage(anyhow::anyhow!("encoding the thumbnail: {e}")))?;
    Ok(out.into())
}

/// 8-bit grey or RGB, what the JPEG encoder takes.
fn jpeg_pixels(pixels: &DynamicImage) -> DynamicImage {
    match pixels {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => pixels.clone(),
        p if p.color().has_color() => DynamicImage::ImageRgb8(p.to_rgb8()),
        p => DynamicImage::ImageLuma8(p.to_luma8()),
    }
}

/// Carries the ICC profile over when it describes the pixels written (a CMYK JPEG's profile does
/// not describe the RGB it decodes to).
fn set_icc(encoder: &mut impl ImageEncoder, icc: Option<&[u8]>, pixels: &DynamicImage) {
    let Some(icc) = icc else { return };
    let space = if pixels.color().has_color() {
        b"RGB "
    } else {
        b"GRAY"
    };
    if icc.get(16..20) == Some(&space[..]) {
        // Encoders that cannot embed a profile just go without.
        let _ = encoder.set_icc_profile(icc.to_vec());
    }
}
