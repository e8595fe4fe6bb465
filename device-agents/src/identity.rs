//! The device's own key (`<state_dir>/device.key`, Ed25519 PKCS#8 PEM,
//! mode 0600): made on the device, never copied off it. The device signs its
//! answers with it (`keting_core::signed_answer`); the centre knows the
//! public half from the device's enrolment (the claim carries it) or from
//! `kiosk device trust`.
//!
//! A key file that others can read is refused, not used: a copy of the key
//! is a device that can forge "dispensed".

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use thiserror::Error;

/// The key file's name in the state directory.
pub const KEY_FILE: &str = "device.key";

/// Why the device's key cannot be had.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The file could not be read or written.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Readable by others than the agent's user.
    #[error(
        "{} is readable by others (mode {mode:o}): a copied key forges this device's answers; run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
}

/// Where the key of the agent with state directory `state_dir` lives.
pub fn key_path(state_dir: &Path) -> PathBuf {
    state_dir.join(KEY_FILE)
}

/// A fresh key, not yet written.
pub fn generate() -> Result<SigningKey, IdentityError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| IdentityError::File {
        path: PathBuf::from("/dev/urandom"),
        message: e.to_string(),
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `key` to `state_dir` (0600).
pub fn store(state_dir: &Path, key: &SigningKey) -> Result<(), IdentityError> {
    let path = key_path(state_dir);
    let err = |message: String| IdentityError::File {
        path: path.clone(),
        message,
    };
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| err(e.to_string()))?;
    keting_link::atomic_file::write(&path, pem.as_bytes(), 0o600).map_err(|e| err(e.to_string()))
}

/// The key in `state_dir`, made and written if there is none yet.
pub fn load_or_create(state_dir: &Path) -> Result<SigningKey, IdentityError> {
    let path = key_path(state_dir);
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(IdentityError::TooOpen { path, mode });
            }
            let pem = std::fs::read_to_string(&path).map_err(|e| IdentityError::File {
                path: path.clone(),
                message: e.to_string(),
            })?;
            SigningKey::from_pkcs8_pem(&pem).map_err(|e| IdentityError::File {
                path,
                message: format!("not an Ed25519 private key in PKCS#8 PEM: {e}"),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate()?;
            store(state_dir, &key)?;
            tracing::info!(
                public_key = %keting_core::pass::encode_public_key(&key.verifying_key()),
                "made this device's key in {}",
                path.display()
            );
            Ok(key)
        }
        Err(e) => Err(IdentityError::File {
            path,
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_0600_and_refused_when_others_can_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(first.to_bytes(), again.to_bytes());
        let path = key_path(dir.path());
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create(dir.path()).unwrap_err();
        assert!(
            matches!(e, IdentityError::TooOpen { mode: 0o644, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "not a key").unwrap();
        assert!(load_or_create(dir.path()).is_err());
    }
}
