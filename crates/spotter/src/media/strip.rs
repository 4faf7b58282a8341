//! Metadata out, pixels untouched: the files are rewritten segment by segment, without decoding
//! and re-encoding (no quality lost, no time spent). What stays is what it takes to show the
//! image as it was meant to be seen, the ICC profile included; the rest goes: EXIF (GPS, camera,
//! times), XMP, IPTC, comments, embedded thumbnails (which can show what a crop cut away), and
//! anything after the image's end (Motion Photo videos, MPF side images with their own EXIF).
//!
//! `None` means the file is not laid out as expected; the caller then re-encodes the pixels.

use bytes::Bytes;
use img_parts::png::Png;
use img_parts::riff::RiffContent;
use img_parts::webp::{
    CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP, CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X, WebP,
};
use img_parts::{ImageEXIF as _, ImageICC as _};

use super::process::ImageKind;

pub(super) fn strip(kind: ImageKind, bytes: Bytes) -> Option<Bytes> {
    match kind {
        ImageKind::Jpeg => jpeg(&bytes).map(Bytes::from),
        ImageKind::Png => png(bytes),
        ImageKind::WebP => webp(bytes),
    }
}

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;
/// `JFIF\0`, version, units, densities: the APP0 header without its optional thumbnail.
const JFIF_HEADER_LEN: usize = 12;

/// JPEG, walked marker by marker (img-parts keeps everything after the first scan as one
/// opaque block, trailers included, so the walk is done here). Kept: every segment the decoder
/// needs, the JFIF header (without its thumbnail), the ICC profile (APP2 `ICC_PROFILE`) and
/// Adobe's colour transform flag (APP14). Dropped: every other APPn (EXIF and XMP in APP1, MPF
/// in APP2, IPTC in APP13, ...), comments, and all that follows the end-of-image marker.
fn jpeg(b: &[u8]) -> Option<Vec<u8>> {
    if b.get(..2)? != [0xFF, SOI] {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut i = 2;
    loop {
        if *b.get(i)? != 0xFF {
            return None;
        }
        // Any number of 0xFF fill bytes may precede a marker's code.
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = b[i];
        i += 1;
        match marker {
            EOI => {
                out.extend_from_slice(&[0xFF, EOI]);
                return Some(out);
            }
            // Markers without a length (TEM, RSTn); 0x00 is no marker at all.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            0x00 | SOI => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
        let segment = b.get(i..i + len)?;
        let payload = segment.get(2..)?;
        i += len;
        match marker {
            APP0 if payload.starts_with(b"JFIF\0") && payload.len() >= JFIF_HEADER_LEN => {
                let header = &payload[..JFIF_HEADER_LEN];
                // The length (2 + header + the two zero thumbnail sizes) fits a u8.
                out.extend_from_slice(&[0xFF, APP0, 0, (2 + JFIF_HEADER_LEN + 2) as u8]);
                out.extend_from_slice(header);
                out.extend_from_slice(&[0, 0]);
            }
            APP2 if payload.starts_with(b"ICC_PROFILE\0") => keep(&mut out, marker, segment),
            APP14 if payload.starts_with(b"Adobe") => keep(&mut out, marker, segment),
            0xE0..=0xEF | COM => {}
            _ => keep(&mut out, marker, segment),
        }
        if marker == SOS {
            // The entropy-coded scan runs to the next marker: a 0xFF that is neither stuffing
            // (0xFF00) nor a restart marker. A progressive image has several scans.
            let start = i;
            loop {
                i += b.get(i..)?.iter().position(|&c| c == 0xFF)?;
                match *b.get(i + 1)? {
                    0x00 | 0xD0..=0xD7 => i += 2,
                    _ => break,
                }
            }
            out.extend_from_slice(&b[start..i]);
        }
    }
}

fn keep(out: &mut Vec<u8>, marker: u8, segment: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(segment);
}

/// PNG chunks kept: the critical ones and those that change how the pixels look or move
/// (transparency, colour, the ICC profile, physical size, APNG's animation). Dropped: `eXIf`,
/// `tEXt`, `zTXt`, `iTXt` (XMP lives there), `tIME`, and any private chunk.
const PNG_KEPT: [&[u8; 4]; 16] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi",
    b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

fn png(bytes: Bytes) -> Option<Bytes> {
    let mut png = Png::from_bytes(bytes).ok()?;
    png.chunks_mut().retain(|chunk| {
        let kind = chunk.kind();
        // Critical chunks have an upper-case first letter.
        kind[0].is_ascii_uppercase() || PNG_KEPT.contains(&&kind)
    });
    Some(png.encoder().bytes())
}

/// WebP chunks kept: the bitstreams, alpha, animation and the ICC profile. Dropped: `EXIF`,
/// `XMP ` and any unknown chunk; the extended header's EXIF and XMP flags are cleared to match.
fn webp(bytes: Bytes) -> Option<Bytes> {
    const KEPT: [[u8; 4]; 7] = [
        CHUNK_VP8X, CHUNK_VP8, CHUNK_VP8L, CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ICCP,
    ];
    const EXIF_FLAG: u8 = 0b0000_1000;
    const XMP_FLAG: u8 = 0b0000_0100;
    let mut webp = WebP::from_bytes(bytes).ok()?;
    webp.chunks_mut().retain(|chunk| KEPT.contains(&chunk.id()));
    // img-parts keeps VP8X's ICC and EXIF flags in line with the chunks (not XMP's).
    let icc = webp.icc_profile();
    webp.set_exif(None);
    webp.set_icc_profile(icc);
    for chunk in webp.chunks_mut() {
        if chunk.id() == CHUNK_VP8X
            && let RiffContent::Data(data) = chunk.content_mut()
            && let Some(&flags) = data.first()
        {
            let mut cleared = data.to_vec();
            cleared[0] = flags & !(EXIF_FLAG | XMP_FLAG);
            *data = cleared.into();
        }
    }
    Some(webp.encoder().bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal JPEG-shaped byte string: enough structure for the walker, no pixels.
    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        [&[0xFF, marker][..], &len, payload].concat()
    }

    #[test]
    fn a_jpeg_loses_its_app_segments_comments_and_trailer_but_keeps_icc_and_scans() {
        let scan = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        let file = [
            vec![0xFF, SOI],
            segment(APP0, b"JFIF\0\x01\x02\x00\x00\x01\x00\x01\x02\x01abcdef"),
            segment(0xE1, b"Exif\0\0MM\0*GPS 51.5N"),
            segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"),
            segment(APP2, b"ICC_PROFILE\0\x01\x01profile"),
            segment(APP2, b"MPF\0MM"),
            segment(0xED, b"Photoshop 3.0\0IPTC"),
            segment(COM, b"a comment"),
            segment(0xDB, b"dqt"),
            segment(SOS, b"sos"),
            scan.to_vec(),
            // A second scan (progressive), with an APPn between scans.
            segment(0xE1, b"Exif\0\0late"),
            segment(SOS, b"sos2"),
            vec![0x77],
            vec![0xFF, 0xFF, EOI],
            b"trailing GPS video".to_vec(),
        ]
        .concat();
        let out = jpeg(&file).unwrap();
        let expected = [
            vec![0xFF, SOI],
            segment(APP0, b"JFIF\0\x01\x02\x00\x00\x01\x00\x01\0\0"),
            segment(APP2, b"ICC_PROFILE\0\x01\x01profile"),
            segment(0xDB, b"dqt"),
            segment(SOS, b"sos"),
            scan.to_vec(),
            segment(SOS, b"sos2"),
            vec![0x77],
            vec![0xFF, EOI],
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_jpeg_without_an_end_is_not_stripped() {
        let file = [vec![0xFF, SOI], segment(0xDB, b"dqt"), segment(SOS, b"s")].concat();
        assert_eq!(jpeg(&file), None);
        assert_eq!(jpeg(&[0xFF, SOI, 0xFF, 0xDB, 0x00]), None);
        assert_eq!(jpeg(&[0xFF, SOI, 0xFF, 0xDB, 0x00, 0x09, 1]), None);
        assert_eq!(jpeg(&[0xFF, SOI, 0xFF, 0xDB, 0x00, 0x00]), None);
        assert_eq!(jpeg(&[]), None);
    }
}
