//! Password hashing: Argon2id with parameters chosen on purpose (see BENCHMARKS.md for the measured cost).
//!
//! - **m = 19 MiB, t = 2, p = 1** — the OWASP Password Storage Cheat Sheet's first Argon2id configuration.
//!   On this machine class one hash takes about 25–35 ms of one core (BENCHMARKS.md), which keeps a sign-in
//!   well under 100 ms while costing a guesser with a stolen database 19 MiB and ~30 ms per guess per core.
//! - At most [`MAX_CONCURRENT`] hashes run at once (a semaphore): a burst of sign-ins queues instead of
//!   allocating 19 MiB per request without bound. The queue itself is bounded too (`--password-check-queue`,
//!   [`DEFAULT_QUEUE`]): a check that finds it full is refused at once with `429` and a short wait, so a flood
//!   of sign-ins cannot pile up waiting requests (and their connections) without end.
//! - Hashes are PHC strings that carry their parameters, so raising them later only affects new hashes;
//!   [`needs_rehash`] tells the sign-in path to upgrade an old hash once the password is known.
//! - A sign-in for an unknown e-mail verifies against [`dummy_hash`] so it takes as long as a real one.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use app::error::AppError;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Memory cost in KiB (19 MiB).
pub const M_COST_KIB: u32 = 19 * 1024;
/// Iterations.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;
/// Hashes computed at the same time, at most.
pub const MAX_CONCURRENT: usize = 4;
/// Checks that may wait for a slot, by default.
pub const DEFAULT_QUEUE: usize = 32;

fn params() -> Params {
    Params::new(M_COST_KIB, T_COST, P_COST, None).expect("the Argon2 parameters are valid constants")
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Hashes a password (blocking; ~30 ms).
pub fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Checks a password against a PHC string (blocking; as slow as hashing). A malformed hash never verifies.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// [`verify_blocking`] with a given hasher (benchmarks compare parameter sets with it).
pub fn verify_blocking_with(hasher: &Argon2<'_>, password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| hasher.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Whether a stored hash uses other parameters than today's.
pub fn needs_rehash(phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => {
            let current = params();
            parsed.algorithm.as_str() != "argon2id"
                || Params::try_from(&parsed).map_or(true, |p| {
                    p.m_cost() != current.m_cost()
                        || p.t_cost() != current.t_cost()
                        || p.p_cost() != current.p_cost()
                })
        }
        Err(_) => true,
    }
}

/// A valid hash of a random password, made once: verifying against it costs what a real check costs.
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let secret = crate::crypto::random_token(24);
        hash_blocking(&secret).unwrap_or_default()
    });
    &DUMMY
}

/// Runs hashes off the async workers, at most [`MAX_CONCURRENT`] at a time, with at most `queue` more waiting.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Checks running or waiting now.
    admitted: Arc<AtomicUsize>,
    /// Running plus waiting, at most.
    capacity: usize,
    /// Hashes and checks admitted since start (tests see with it what cost a hash).
    started: Arc<AtomicU64>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new(MAX_CONCURRENT, DEFAULT_QUEUE)
    }
}

/// One admitted check; leaving the queue (done, failed or the request dropped) frees its place.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    /// `concurrent` hashes at once, `queue` more waiting.
    pub fn new(concurrent: usize, queue: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: concurrent.max(1) + queue,
            started: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A place in the queue, or `429` when it is full.
    fn admit(&self) -> Result<Admission, AppError> {
        let admitted = self
            .admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            });
        match admitted {
            Ok(_) => {
                self.started.fetch_add(1, Ordering::Relaxed);
                Ok(Admission(self.admitted.clone()))
            }
            Err(_) => {
                tracing::warn!(
                    capacity = self.capacity,
                    "password checks are queued to the limit; refusing one"
                );
                Err(AppError::RateLimited {
                    detail: "The console is busy checking passwords. Try again in a few seconds.".into(),
                    retry_after_secs: 2,
                })
            }
        }
    }

    /// Checks running or waiting now.
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }

    /// Hashes and checks admitted since start.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &str) -> Result<String, crate::error::Error> {
        let _place = self.admit()?;
        let _permit = self.permits.acquire().await.map_err(std::io::Error::other)?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(std::io::Error::other)?
            .map_err(|e| crate::error::Error::Io(std::io::Error::other(e.to_string())))
    }

    /// Verifies against `phc`, or against the dummy hash when there is no account (same cost either way).
    /// `Err` only when the queue is full (`429`).
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool, AppError> {
        let _place = self.admit()?;
        let Ok(_permit) = self.permits.acquire().await else {
            return Ok(false);
        };
        let password = password.to_string();
        let (phc, real) = match phc {
            Some(h) => (h.to_string(), true),
            None => (dummy_hash().to_string(), false),
        };
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&password, &phc))
            .await
            .unwrap_or(false);
        Ok(ok && real)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_documented_parameters() {
        let h = hash_blocking("correct horse battery staple").expect("hashes");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse battery staple", &h));
        assert!(!verify_blocking("correct horse battery stapler", &h));
        assert!(!verify_blocking("anything", "not a hash"));
        assert!(!needs_rehash(&h));
        // Same password, new salt.
        assert_ne!(h, hash_blocking("correct horse battery staple").expect("hashes"));
    }

    #[test]
    fn weaker_hashes_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).expect("params"),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
        assert!(verify_blocking("pw", &weak), "old parameters still verify");
        assert!(needs_rehash(&weak));
        assert!(needs_rehash("garbage"));
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        let hasher = Hasher::default();
        assert!(!hasher.verify("whatever", None).await.expect("admitted"));
        let h = hasher.hash("a long enough password").await.expect("hash");
        assert!(
            hasher
                .verify("a long enough password", Some(&h))
                .await
                .expect("admitted")
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_its_places() {
        // One slot, one place in the queue: two checks are admitted, the third is refused with 429.
        let hasher = Hasher::new(1, 1);
        let h = hash_blocking("a long enough password").expect("hash");
        let (a, b) = (hasher.clone(), hasher.clone());
        let (h1, h2) = (h.clone(), h.clone());
        let first = tokio::spawn(async move { a.verify("a long enough password", Some(&h1)).await });
        let second = tokio::spawn(async move { b.verify("a long enough password", Some(&h2)).await });
        // Wait until both hold their places (no timing: poll the counter).
        while hasher.admitted() < 2 {
            tokio::task::yield_now().await;
        }
        match hasher.verify("a long enough password", Some(&h)).await {
            Err(AppError::RateLimited { retry_after_secs, .. }) => assert!(retry_after_secs >= 1),
            other => panic!("a third check must be refused while two are admitted: {other:?}"),
        }
        assert!(matches!(
            hasher.hash("another long password").await,
            Err(crate::error::Error::App(AppError::RateLimited { .. }))
        ));
        assert!(first.await.expect("joins").expect("admitted"));
        assert!(second.await.expect("joins").expect("admitted"));
        assert_eq!(hasher.admitted(), 0, "finished checks leave the queue");
        assert!(
            hasher
                .verify("a long enough password", Some(&h))
                .await
                .expect("admitted again")
        );
    }
}
