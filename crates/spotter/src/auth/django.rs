//! The password hashes of the original Django platform. Imported users keep theirs verbatim in
//! `users.password_hash` and must go on logging in with the same password; on their first login
//! here it is replaced by Spotter's own Argon2id (`domain::accounts`), so this module only ever
//! verifies, never writes.
//!
//! Each hash is Django's `<algorithm>$<fields>`:
//! - `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (Django's default) and `pbkdf2_sha1$…`:
//!   the iteration count is read from each string, since every Django version raised it;
//! - `argon2$<PHC string without its leading $>`: Spotter's own format behind a prefix
//!   (`argon2id`, or `argon2i` from older Django, some of them without `v=`);
//! - `bcrypt_sha256$$2b$<cost>$…`: bcrypt of the *hex* SHA-256 of the password (so bcrypt's
//!   72-byte limit never truncates a password).
//!
//! Work factors come from the stored string, so each is bounded: a corrupt row must not hold a
//! blocking thread for minutes. Verifying takes up to a second of CPU: callers run it off the
//! async threads ([`super::password`]).

use argon2::password_hash::phc::PasswordHash;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use super::password;

/// Far above any Django release's default (1,200,000 in Django 6.0).
const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;
/// Django's default is 12; each step doubles the work.
const MAX_BCRYPT_COST: u32 = 16;

/// A Django hash this module can check.
pub enum Hash<'a> {
    Pbkdf2 {
        digest: Pbkdf2Digest,
        /// The iteration count, and the digest's output length.
        params: pbkdf2::Params,
        salt: &'a str,
        /// The stored output as Django wrote it (standard base64 with padding).
        encoded: &'a str,
    },
    /// The PHC string behind Django's `argon2` prefix.
    Argon2(Box<PasswordHash>),
    /// The bcrypt string behind `bcrypt_sha256$` (Django leaves its salt field empty).
    BcryptSha256(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Digest {
    Sha256,
    Sha1,
}

/// The Django hash in `encoded`, or `None` when it is none this module knows, or malformed
/// (either never matches).
pub fn parse(encoded: &str) -> Option<Hash<'_>> {
    let (algorithm, rest) = encoded.split_once('$')?;
    match algorithm {
        "pbkdf2_sha256" => pbkdf2(Pbkdf2Digest::Sha256, rest),
        "pbkdf2_sha1" => pbkdf2(Pbkdf2Digest::Sha1, rest),
        // `rest` lost the PHC string's leading `$` to the split.
        "argon2" if rest.starts_with("argon2") => {
            password::argon2_phc(&encoded["argon2".len()..]).map(Hash::Argon2)
        }
        // `rest` is the whole bcrypt string, `$2b$…`: Django's salt field is empty.
        "bcrypt_sha256" => {
            let parts: bcrypt::HashParts = rest.parse().ok()?;
            (parts.get_cost() <= MAX_BCRYPT_COST).then_some(Hash::BcryptSha256(rest))
        }
        _ => None,
    }
}

fn pbkdf2(digest: Pbkdf2Digest, rest: &str) -> Option<Hash<'_>> {
    let mut fields = rest.splitn(3, '$');
    let (iterations, salt, encoded) = (fields.next()?, fields.next()?, fields.next()?);
    // Django writes the count in plain decimal; `parse` alone would also take `+720000`.
    if !iterations.bytes().all(|b| b.is_ascii_digit()) || encoded.is_empty() {
        return None;
    }
    let iterations: u32 = iterations.parse().ok()?;
    if iterations > MAX_PBKDF2_ITERATIONS {
        return None;
    }
    let output_len = match digest {
        Pbkdf2Digest::Sha256 => 32,
        Pbkdf2Digest::Sha1 => 20,
    };
    // Refuses fewer than 1,000 iterations: Django never wrote fewer than 10,000.
    let params = pbkdf2::Params::new_with_output_len(iterations, output_len).ok()?;
    Some(Hash::Pbkdf2 {
        digest,
        params,
        salt,
        encoded,
    })
}

impl Hash<'_> {
    /// Whether `password` is the one hashed; the comparison takes constant time.
    pub fn matches(&self, password: &str) -> bool {
        match self {
            Self::Pbkdf2 {
                digest,
                params,
                salt,
                encoded,
            } => {
                let mut derived = [0u8; 32];
                let out = &mut derived[..params.output_len()];
                let (pw, salt) = (password.as_bytes(), salt.as_bytes());
                match digest {
                    // The crate's runtime-selected SHA-256 is compiled within the crate, so its
                    // profile (optimised in test builds too) applies.
                    Pbkdf2Digest::Sha256 => {
                        let sha256 = pbkdf2::Algorithm::Pbkdf2Sha256;
                        pbkdf2::pbkdf2_hmac_with_params(pw, salt, sha256, *params, out);
                    }
                    Pbkdf2Digest::Sha1 => {
                        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, params.rounds(), out);
                    }
                }
                // As Django does: compare the encodings, so a stored value that is not
                // canonical base64 simply does not match.
                let ours = STANDARD.encode(out);
                ours.as_bytes().ct_eq(encoded.as_bytes()).into()
            }
            Self::Argon2(phc) => password::argon2_matches(password, phc),
            Self::BcryptSha256(bcrypt) => {
                let hex = hex::encode(sha2::Sha256::digest(password.as_bytes()));
                bcrypt::verify(hex, bcrypt).unwrap_or(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Known answers: hashes that Django (its own test suite), passlib's Django handlers, and
    //! Python's `hashlib.pbkdf2_hmac` produced; none was made with the code under test.

    use super::*;

    fn check(encoded: &str, password: &str) -> bool {
        parse(encoded).expect("a Django hash").matches(password)
    }

    #[test]
    fn django_pbkdf2_sha256_vectors_match_only_their_password() {
        // Django's tests (390,000 iterations), and hashlib at Django 6.0's 1,200,000.
        let django = "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=";
        assert!(check(django, "lètmein"));
        assert!(!check(django, "lètmeinz"));
        let hashlib = "pbkdf2_sha256$1200000$pepper$eOvNfAhU7YGkr0aea7y1NQeHM/oWR4gy/kcdU2xZmm0=";
        assert!(check(hashlib, "correct-horse-battery"));
        assert!(!check(hashlib, "correct-horse-batterY"));
    }

    #[test]
    fn django_pbkdf2_sha1_vector_matches_only_its_password() {
        let django = "pbkdf2_sha1$390000$seasalt2$aDapRanzW8aHTz97v2TcfHzWD+I=";
        assert!(check(django, "lètmein"));
        assert!(!check(django, "letmein"));
    }

    #[test]
    fn django_argon2_vectors_match_only_their_password() {
        for encoded in [
            // argon2i with and without the version field (older Django), from Django's tests.
            "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg",
            // argon2id at Django's default cost (100 MiB, 2 passes, 8 lanes).
            "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw",
        ] {
            assert!(check(encoded, "secret"), "{encoded}");
            assert!(!check(encoded, "wrong"), "{encoded}");
        }
    }

    #[test]
    fn django_bcrypt_sha256_vectors_match_only_their_password() {
        for (password, encoded) in [
            (
                "",
                "bcrypt_sha256$$2a$06$/3OeRpbOf8/l6nPPRdZPp.nRiyYqPobEZGdNRBWihQhiFDh1ws1tu",
            ),
            (
                "lètmein",
                "bcrypt_sha256$$2a$08$NDjSAIcas.EcoxCRiArvT.MkNiPYVhrsrnJsRkLueZOoV1bsQqlmC",
            ),
        ] {
            assert!(check(encoded, password), "{encoded}");
            assert!(!check(encoded, "wrong"), "{encoded}");
        }
    }

    #[test]
    fn a_password_past_bcrypts_72_bytes_still_counts_whole() {
        // passlib's Django vectors: two passwords of 75 bytes, equal in their first 72.
        let base = "abc123".repeat(12);
        let qwr = "bcrypt_sha256$$2a$06$Tg/oYyZTyAf.Nb3qSgN61Ocy0BEz1RK6xslSNi8PlaLX2pe7x/KQG";
        assert!(check(qwr, &format!("{base}qwr")));
        assert!(!check(qwr, &format!("{base}xyz")));
    }

    #[test]
    fn unknown_malformed_or_unbounded_hashes_are_not_parsed() {
        for encoded in [
            "",
            "!unusable",
            "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
            "pbkdf2_sha256$$seasalt$abc=",
            "pbkdf2_sha256$+390000$seasalt$abc=",
            "pbkdf2_sha256$0$seasalt$abc=",
            "pbkdf2_sha256$999$seasalt$abc=",
            "pbkdf2_sha256$4000000000$seasalt$abc=",
            "pbkdf2_sha256$390000$seasalt",
            "pbkdf2_sha256$390000$seasalt$",
            "argon2$notargon",
            "argon2$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            "argon2$argon2id$v=19$m=4194304,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw",
            "bcrypt_sha256$$2b$31$/3OeRpbOf8/l6nPPRdZPp.nRiyYqPobEZGdNRBWihQhiFDh1ws1tu",
            "bcrypt_sha256$$2b$12$short",
        ] {
            assert!(parse(encoded).is_none(), "{encoded}");
        }
    }
}
