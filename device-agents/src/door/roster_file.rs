//! The roster in force, on disk: the signed payload exactly as received,
//! written atomically (temporary file, fsync, rename) and verified again
//! when read, so a tampered or torn file is refused, never trusted.

use std::path::{Path, PathBuf};

/// The file holding the last accepted roster.
#[derive(Clone, Debug)]
pub struct RosterFile {
    path: PathBuf,
}

impl RosterFile {
    /// The roster file in `state_dir`.
    pub fn in_dir(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("roster.json"),
        }
    }

    /// The stored payload, if any.
    pub fn load(&self) -> Option<Vec<u8>> {
        std::fs::read(&self.path).ok()
    }

    /// Stores `payload`, replacing the previous one atomically.
    pub fn store(&self, payload: &[u8]) -> std::io::Result<()> {
        keting_link::atomic_file::write(&self.path, payload, 0o644)
    }
}
