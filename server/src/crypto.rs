//! Secrets at rest and the random values of the engine.
//!
//! [`SecretBox`] encrypts with XChaCha20-Poly1305 under one 256-bit key that lives outside the database:
//! `--secret-key-file`, or on first run a key generated into `<data-dir>/secret.key` (mode 0600) with a log
//! line saying to back it up. The database keeps a known plaintext sealed with the key
//! (`secret_key_check`), so a console started with a different key stops at start with a clear message
//! instead of producing garbage. Every ciphertext is bound to its place (deployment id and name) through the
//! associated data.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::db::on_db;
use crate::db::{Db, DbError, now_ms};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
const CHECK_PLAINTEXT: &[u8] = b"catalyst secret key check v1";
const CHECK_AAD: &[u8] = b"secret_key_check";

/// Fills a buffer from the operating system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS generator failing is not something the console can work around.
    getrandom::getrandom(&mut buf).expect("the operating system's random generator is unavailable");
    buf
}

/// A random identifier of `len` characters from `[a-z0-9]` (≈5.17 bits each): URL-, DNS- and
/// cloud-label-safe. 20 characters carry 103 bits, not guessable.
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            // Rejection sampling: 252 = 7 × 36, so every character is equally likely.
            if b < 252 && out.len() < len {
                out.push(ALPHABET[(b % 36) as usize] as char);
            }
        }
    }
    out
}

/// `bytes` random bytes from the OS, as URL-safe base64 without padding (32 bytes → 43 characters): session
/// cookies, API tokens, invitation links, setup tokens.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the operating system's random generator is unavailable");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Lowercase hex SHA-256: what the database stores of a secret and looks it up by.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(data.as_ref()))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the ciphertext does not decrypt with this key (wrong key, or the data was altered)")]
    Decrypt,
    #[error("the nonce has {0} bytes; expected {NONCE_LEN}")]
    Nonce(usize),
}

/// Encrypts and decrypts secrets with the console's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    key_id: String,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBox(key {})", self.key_id)
    }
}

/// Where the key came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Read from this file.
    File(PathBuf),
    /// Generated on this start into this file: it must be backed up.
    Generated(PathBuf),
}

impl SecretBox {
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        let cipher = XChaCha20Poly1305::new((&key).into());
        let key_id = sha256_hex(key)[..16].to_string();
        Self { cipher, key_id }
    }

    /// A fresh random key (tests, first run).
    pub fn generate() -> Self {
        Self::new(random_bytes::<KEY_LEN>())
    }

    /// Names the key without revealing it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Reads the key from `explicit` (which must exist), or from `<data_dir>/secret.key`, generating that
    /// file (0600) on first run. Errors are one sentence for the start-up message.
    pub fn load_or_create(explicit: Option<&Path>, data_dir: &Path) -> Result<(Self, KeySource), String> {
        if let Some(path) = explicit {
            return Ok((Self::read_key_file(path)?, KeySource::File(path.to_path_buf())));
        }
        let path = data_dir.join("secret.key");
        if path.exists() {
            return Ok((Self::read_key_file(&path)?, KeySource::File(path)));
        }
        let key = random_bytes::<KEY_LEN>();
        write_private(&path, format!("{}\n", hex::encode(key)).as_bytes())
            .map_err(|e| format!("cannot create the secret key file {}: {e}", path.display()))?;
        Ok((Self::new(key), KeySource::Generated(path)))
    }

    fn read_key_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret key file {}: {e}", path.display()))?;
        let bytes = hex::decode(text.trim()).map_err(|_| {
            format!(
                "{} is not a secret key: it must hold 64 hexadecimal characters (e.g. the output of `openssl rand -hex 32`)",
                path.display()
            )
        })?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "{} holds a {}-byte key; a secret key is 32 bytes (64 hexadecimal characters)",
                path.display(),
                b.len()
            )
        })?;
        Ok(Self::new(key))
    }

    /// Encrypts `plaintext`, bound to `aad`. Returns (nonce, ciphertext).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let nonce = random_bytes::<NONCE_LEN>();
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            // Encryption fails only for inputs beyond 256 GiB.
            .expect("XChaCha20-Poly1305 encryption of a bounded input");
        (nonce.to_vec(), ct)
    }

    pub fn open(&self, aad: &[u8], nonce: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if nonce.len() != NONCE_LEN {
            return Err(CryptoError::Nonce(nonce.len()));
        }
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Checks the key against the database's record of it, recording it on first use. A mismatch is the
    /// start-up error that says which key the data was written with.
    pub async fn verify_against(&self, db: &Db) -> Result<(), KeyCheckError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            key_id: String,
            nonce: Vec<u8>,
            ciphertext: Vec<u8>,
        }
        let row: Option<Row> = on_db!(db, pool => {
            sqlx::query_as::<_, Row>("SELECT key_id, nonce, ciphertext FROM secret_key_check WHERE id = 1")
                .fetch_optional(pool)
                .await
                .map_err(DbError::from)?
        });
        match row {
            Some(row) => match self.open(CHECK_AAD, &row.nonce, &row.ciphertext) {
                Ok(p) if p == CHECK_PLAINTEXT => Ok(()),
                _ => Err(KeyCheckError::WrongKey {
                    expected: row.key_id,
                    actual: self.key_id.clone(),
                }),
            },
            None => {
                let (nonce, ct) = self.seal(CHECK_AAD, CHECK_PLAINTEXT);
                on_db!(db, pool => {
                    sqlx::query(
                        "INSERT INTO secret_key_check (id, key_id, nonce, ciphertext, created_at)
                         VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&self.key_id)
                    .bind(&nonce)
                    .bind(&ct)
                    .bind(now_ms())
                    .execute(pool)
                    .await
                    .map_err(DbError::from)?
                    .rows_affected()
                });
                // Another replica may have won the race with its own key: check again.
                Box::pin(self.verify_against(db)).await
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "this key (id {actual}) is not the one the database's secrets were encrypted with (id {expected}); start with the original key file, or the stored secrets cannot be decrypted"
    )]
    WrongKey { expected: String, actual: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Writes a file readable only by its owner (0600), creating or replacing it atomically.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        random_id(8)
    ));
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// A new Ed25519 pair in OpenSSH formats. The private key is unencrypted (the operator stores it) and is
/// returned to the caller only.
pub fn generate_ed25519(comment: &str) -> Result<app::wizard::GeneratedKey, ssh_key::Error> {
    use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};
    let mut key = PrivateKey::random(&mut rand_core::OsRng, Algorithm::Ed25519)?;
    key.set_comment(comment);
    let private_pem = key.to_openssh(LineEnding::LF)?;
    let public = key.public_key();
    Ok(app::wizard::GeneratedKey {
        public_key: public.to_openssh()?,
        private_key: app::deployments::Secret::new(private_pem.as_str()),
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token(32);
        let b = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn digests_are_sha256_hex() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex("abc"), abc);
        assert_eq!(sha256_hex(b"abc"), abc);
    }

    #[test]
    fn seals_and_opens_bound_to_the_associated_data() {
        let b = SecretBox::generate();
        let (nonce, ct) = b.seal(b"dep-1/request", b"hcloud-token-value");
        assert!(
            !ct.windows(6).any(|w| w == b"hcloud"),
            "ciphertext hides the plaintext"
        );
        assert_eq!(
            b.open(b"dep-1/request", &nonce, &ct).expect("opens"),
            b"hcloud-token-value"
        );
        assert!(
            b.open(b"dep-2/request", &nonce, &ct).is_err(),
            "moved row is rejected"
        );
        assert!(
            SecretBox::generate().open(b"dep-1/request", &nonce, &ct).is_err(),
            "other key fails"
        );
        let mut tampered = ct.clone();
        tampered[0] ^= 1;
        assert!(b.open(b"dep-1/request", &nonce, &tampered).is_err());
        assert!(matches!(
            b.open(b"x", &nonce[..5], &ct),
            Err(CryptoError::Nonce(5))
        ));
    }

    #[test]
    fn key_file_is_generated_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, src) = SecretBox::load_or_create(None, dir.path()).expect("generated");
        assert_eq!(src, KeySource::Generated(dir.path().join("secret.key")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (b, src) = SecretBox::load_or_create(None, dir.path()).expect("read back");
        assert_eq!(src, KeySource::File(dir.path().join("secret.key")));
        assert_eq!(a.key_id(), b.key_id());
    }

    #[test]
    fn bad_key_files_are_explained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.key");
        let e = SecretBox::load_or_create(Some(&missing), dir.path()).expect_err("missing");
        assert!(e.contains("cannot read"), "{e}");
        let short = dir.path().join("short.key");
        std::fs::write(&short, "abcd").expect("write");
        let e = SecretBox::load_or_create(Some(&short), dir.path()).expect_err("short");
        assert!(e.contains("2-byte key"), "{e}");
        std::fs::write(&short, "not hex at all").expect("write");
        let e = SecretBox::load_or_create(Some(&short), dir.path()).expect_err("not hex");
        assert!(e.contains("64 hexadecimal"), "{e}");
    }

    #[test]
    fn ids_are_url_safe_and_distinct() {
        let a = random_id(20);
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(a, random_id(20));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
