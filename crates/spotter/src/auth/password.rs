//! Passwords: Spotter writes Argon2id, and reads it plus the Django hashes that imported users
//! arrive with ([`super::django`]), so they keep their password; a Django hash that matched is
//! reported as [`Verdict::MatchOutdated`] so the caller replaces it.
//!
//! Hashing and verifying take from tens of milliseconds (Argon2id) to a second (a PBKDF2 of
//! 1,200,000 iterations): both run on blocking threads, never on the async runtime's.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::django;

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Wrong password, or a stored hash that matches nothing: unusable (`!…`, as Django marks
    /// it), of an unknown scheme, or malformed.
    Mismatch,
    /// The right password, stored as Spotter stores it.
    Match,
    /// The right password, stored in a scheme Spotter does not write: re-hash it.
    MatchOutdated,
}

impl Verdict {
    pub fn matched(self) -> bool {
        self != Self::Mismatch
    }
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks `password` against a stored hash, on a blocking thread; at most one check per core at
/// once, the others wait their turn. A Django `argon2` hash costs 100 MiB and a PBKDF2 a
/// fifth of a second of a core: a burst of logins to adopted accounts queues instead of
/// taking the memory and every blocking thread.
pub async fn check(password: String, stored: String) -> Verdict {
    static CHECKS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let checks = CHECKS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from))
    });
    let Ok(_turn) = checks.acquire().await else {
        return Verdict::Mismatch;
    };
    tokio::task::spawn_blocking(move || check_now(&password, &stored))
        .await
        .unwrap_or(Verdict::Mismatch)
}

/// The stored hashes Spotter can check.
enum Stored<'a> {
    /// A PHC string (`$argon2id$…`), Spotter's own.
    Phc(Box<PasswordHash>),
    Django(django::Hash<'a>),
}

fn stored(hash: &str) -> Option<Stored<'_>> {
    if hash.starts_with('!') {
        // Django's unusable password: never matches, whatever follows the `!`.
        return None;
    }
    if hash.starts_with('$') {
        return argon2_phc(hash).map(Stored::Phc);
    }
    django::parse(hash).map(Stored::Django)
}

fn check_now(password: &str, hash: &str) -> Verdict {
    match stored(hash) {
        Some(Stored::Phc(phc)) if argon2_matches(password, &phc) => {
            if phc.algorithm.as_str() == "argon2id" {
                Verdict::Match
            } else {
                Verdict::MatchOutdated
            }
        }
        Some(Stored::Django(h)) if h.matches(password) => Verdict::MatchOutdated,
        Some(_) => Verdict::Mismatch,
        None => {
            // Spend what a wrong password costs, so that an unusable or broken hash does not
            // answer faster than a real one.
            if let Ok(phc) = PasswordHash::new(decoy()) {
                argon2_matches(password, &phc);
            }
            Verdict::Mismatch
        }
    }
}

/// An Argon2 PHC string, if it asks for a bounded amount of work: Django's `argon2` hashes are
/// these too, and a corrupt row must not ask for gigabytes.
pub(super) fn argon2_phc(s: &str) -> Option<Box<PasswordHash>> {
    /// In KiB: 1 GiB (Django's default is 100 MiB, Spotter's 19 MiB).
    const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    const MAX_PASSES: u32 = 64;
    let mut phc = PasswordHash::new(s).ok()?;
    argon2::Algorithm::try_from(phc.algorithm.as_str()).ok()?;
    // No `v=` means Argon2 1.0 (0x10) in the reference implementation, which Django's
    // argon2-cffi wraps; the crate would assume 1.3.
    phc.version.get_or_insert(0x10);
    let params = argon2::Params::try_from(&phc).ok()?;
    (params.m_cost() <= MAX_MEMORY_KIB && params.t_cost() <= MAX_PASSES).then(|| Box::new(phc))
}

/// Verifies with the algorithm, version and cost written in `phc`; constant-time comparison.
pub(super) fn argon2_matches(password: &str, phc: &PasswordHash) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash of a random password, verified against when the email is unknown, so a login for an
/// unknown email takes as long as a wrong password (no account enumeration by timing).
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        Argon2::default()
            .hash_password(&random)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spotters_own_hash_matches_as_current() {
        let h = hash_now("hunter22").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(check_now("hunter22", &h), Verdict::Match);
        assert_eq!(check_now("hunter23", &h), Verdict::Mismatch);
    }

    #[test]
    fn a_django_hash_that_matches_is_outdated() {
        let django = "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=";
        assert_eq!(check_now("lètmein", django), Verdict::MatchOutdated);
        assert_eq!(check_now("lètmeinz", django), Verdict::Mismatch);
    }

    #[test]
    fn an_argon2i_phc_string_matches_as_outdated() {
        // Django's argon2i vector without its `argon2` prefix: a bare PHC string.
        let phc = "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
        assert_eq!(check_now("secret", phc), Verdict::MatchOutdated);
    }

    #[test]
    fn unusable_unknown_and_broken_hashes_never_match() {
        let valid = "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=";
        for hash in [
            "",
            "!",
            "!unusable",
            &format!("!{valid}"),
            "$argon2id$broken",
            "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8",
            "lètmein",
        ] {
            assert_eq!(check_now("lètmein", hash), Verdict::Mismatch, "{hash}");
        }
    }
}
