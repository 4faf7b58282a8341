//! Storage keys: made here, from randomness and the checked type, never from the client's file
//! name; and the one check every key from outside goes through before it reaches a store.

use super::process::ImageKind;

/// The folder of message images (the original's name, which imported keys keep).
const IMAGES: &str = "message_images";
/// Longest key accepted (the original's column is 100 characters; some room for later kinds).
const MAX_LEN: usize = 255;

/// 32 random lowercase hex digits: 128 bits, so keys cannot be guessed or collide.
pub(super) fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// `message_images/<id><ext>`.
pub(super) fn image_key(id: &str, kind: ImageKind) -> String {
    format!("{IMAGES}/{id}{}", kind.extension())
}

/// `message_images/thumbnails/<id>.jpg`: thumbnails are always JPEG.
pub(super) fn thumbnail_key(id: &str) -> String {
    format!("{IMAGES}/thumbnails/{id}.jpg")
}

/// Whether `key` could be one of ours: relative, only `[a-z0-9/._-]`, no `..`, no empty segment
/// and no segment starting with `.` (the folder store's temporary files are hidden that way).
/// Everything that names a file from outside (fetch, verify, remove) is checked with this, so a
/// key can never leave the store's root.
pub(super) fn is_valid(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_LEN
        && !key.contains("..")
        && key
            .bytes()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-'))
        && key
            .split('/')
            .all(|segment| !segment.is_empty() && !segment.starts_with('.'))
}

/// The content type a key is served with, from its extension.
pub(super) fn content_type(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_lowercase_hex_digits_in_the_images_folder() {
        let id = new_id();
        assert_eq!(id.len(), 32);
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(id, new_id());
        let key = image_key(&id, ImageKind::WebP);
        assert_eq!(key, format!("message_images/{id}.webp"));
        assert!(is_valid(&key));
        assert_eq!(
            thumbnail_key(&id),
            format!("message_images/thumbnails/{id}.jpg")
        );
    }

    #[test]
    fn keys_that_could_leave_the_store_are_refused() {
        for key in [
            "",
            "../etc/passwd",
            "message_images/../../secret",
            "message_images/..",
            "/etc/passwd",
            "message_images//a.jpg",
            "message_images/",
            "message_images/.tmp-0123",
            "./a.jpg",
            "Message_images/a.jpg",
            "message_images/a b.jpg",
            "message_images\\a.jpg",
            "message_images/a.jpg?x",
            "message_images/a%2e%2e.jpg",
            "message_images/é.jpg",
            &"a".repeat(256),
        ] {
            assert!(!is_valid(key), "{key:?} was accepted");
        }
        for key in [
            "message_images/0123456789abcdef0123456789abcdef.jpg",
            "message_images/thumbnails/0123456789abcdef0123456789abcdef.jpg",
            "profiles/a-b_c.png",
        ] {
            assert!(is_valid(key), "{key:?} was refused");
        }
    }

    #[test]
    fn the_content_type_follows_the_extension() {
        assert_eq!(content_type("message_images/a.jpg"), "image/jpeg");
        assert_eq!(content_type("message_images/a.png"), "image/png");
        assert_eq!(content_type("message_images/a.webp"), "image/webp");
        assert_eq!(content_type("message_images/a"), "application/octet-stream");
    }
}
