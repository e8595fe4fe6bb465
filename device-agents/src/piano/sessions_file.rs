//! A session device's sessions on disk (the piano bank's, the robot's), so
//! a restarted agent knows which output is whose until when, and ends what
//! ended while it was down.
//!
//! One small JSON file, replaced whole (temp file, fsync, rename) before a
//! piano is switched on and after it is switched off. What it holds, and
//! when it must be written, is the core's (`keting_core::device_session`).

use std::path::{Path, PathBuf};

pub use keting_core::device_session::{ActiveSession, ENDED_REMEMBERED, Sessions};

/// The file.
#[derive(Clone, Debug)]
pub struct SessionsFile {
    path: PathBuf,
}

impl SessionsFile {
    /// The piano bank's file in the agent's state directory.
    pub fn in_dir(state_dir: &Path) -> Self {
        Self::named(state_dir, "piano-sessions.json")
    }

    /// The file `name` in the agent's state directory (the robot's).
    pub fn named(state_dir: &Path, name: &str) -> Self {
        Self {
            path: state_dir.join(name),
        }
    }

    /// What the file holds; nothing if it is missing. A file that cannot be
    /// read is an error: the agent then powers every piano off.
    pub fn load(&self) -> std::io::Result<Sessions> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sessions::default()),
            Err(e) => Err(e),
        }
    }

    /// Replaces the file with `sessions`.
    pub fn store(&self, sessions: &Sessions) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(sessions).map_err(std::io::Error::other)?;
        keting_link::atomic_file::write(&self.path, &bytes, 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_survive_a_restart_and_ended_ones_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionsFile::in_dir(dir.path());
        assert_eq!(file.load().unwrap(), Sessions::default());
        let mut s = Sessions::default();
        for i in 0..600 {
            s.active.push(ActiveSession {
                session: i,
                channel: 1,
                name: "王".into(),
                until_ms: 5,
            });
            s.end(i);
        }
        s.active.push(ActiveSession {
            session: 900,
            channel: 3,
            name: "李建国".into(),
            until_ms: 99,
        });
        file.store(&s).unwrap();
        let back = file.load().unwrap();
        assert_eq!(back.on_channel(3).unwrap().session, 900);
        assert_eq!(back.ended.len(), ENDED_REMEMBERED);
        assert_eq!(back.ended.back(), Some(&599));
        std::fs::write(dir.path().join("piano-sessions.json"), b"{not json").unwrap();
        assert!(file.load().is_err());
    }
}
