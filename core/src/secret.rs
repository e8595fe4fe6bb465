//! Secrets people type (a staff PIN, a dashboard password, a district
//! user's password), kept only as an Argon2id PHC string: 19 MiB, 2 passes,
//! 1 lane (OWASP's minimum), a 16-byte salt of its own. The caller draws the
//! salt (the core reads no randomness); comparing never says more than yes
//! or no.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use thiserror::Error;

/// A password's shortest length, in characters.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Its longest.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Why a secret could not be hashed.
#[derive(Debug, Error)]
#[error("hashing a secret: {0}")]
pub struct HashError(String);

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The Argon2id PHC string of `secret` under `salt`.
pub fn hash(secret: &str, salt: &[u8; 16]) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| HashError(e.to_string()))?;
    hasher()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `secret` is the one `hash` was made of (a hash that does not
/// parse matches nothing).
pub fn matches(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| hasher().verify_password(secret.as_bytes(), &h).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secret_that_made_a_hash_matches_it() {
        let h = hash("246810", &[7; 16]).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(matches("246810", &h));
        assert!(!matches("246811", &h) && !matches("246810", "not a hash"));
        assert_ne!(h, hash("246810", &[8; 16]).unwrap(), "the salt is in it");
    }
}
