//! The door every command comes through at a device: opened with the site
//! key ([`keting_core::signed_command::open`]), its sequence number written
//! to disk before the command is handed on, so neither a replay on the
//! broker nor a restart of the agent makes anything happen twice.
//!
//! The window lives in `<state_dir>/command-window.json` (0600); a file that
//! cannot be read starts a fresh window with a warning (its commands still
//! need the site's signature and a deadline in the future). A window that
//! cannot be written refuses the command: better a door that stays shut
//! than one a replay could open.

use std::path::PathBuf;

use ed25519_dalek::VerifyingKey;
use keting_core::ids::DeviceId;
use keting_core::messages::Command;
use keting_core::replay_window::ReplayWindow;
use keting_core::signed_command::{CommandRefusal, open};

use crate::atomic_file;

/// Why a command that opened was still not handed on.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The command was not trusted.
    #[error(transparent)]
    Refused(#[from] CommandRefusal),
    /// Its sequence number could not be written down.
    #[error("the command window {}: {source}", path.display())]
    Window {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// One device's guard.
#[derive(Debug)]
pub struct CommandGuard {
    key: VerifyingKey,
    device: DeviceId,
    window: ReplayWindow,
    file: Option<PathBuf>,
}

impl CommandGuard {
    /// The guard of `device`, trusting commands signed with `key`, its
    /// window kept in `file` (`None`: in memory only, for tests).
    pub fn open(key: VerifyingKey, device: DeviceId, file: Option<PathBuf>) -> Self {
        let window = file
            .as_ref()
            .and_then(|path| match std::fs::read(path) {
                Ok(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(window) => Some(window),
                    Err(e) => {
                        tracing::warn!(
                            "{} cannot be read ({e}): a fresh command window",
                            path.display()
                        );
                        None
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    tracing::warn!("{}: {e}: a fresh command window", path.display());
                    None
                }
            })
            .unwrap_or_default();
        Self {
            key,
            device,
            window,
            file,
        }
    }

    /// The site key it trusts (which also signs the centre's time).
    pub fn site_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The command in `payload`, its sequence number written down; or why
    /// it is not to be carried out. `now_ms` is the device's clock.
    pub fn admit(&mut self, payload: &[u8], now_ms: i64) -> Result<Command, GuardError> {
        let command = open(payload, &self.key, &self.device, &self.window, now_ms)?;
        let mut window = self.window;
        window.accept(command.seq);
        if let Some(path) = &self.file {
            let bytes = serde_json::to_vec(&window).unwrap_or_default();
            atomic_file::write(path, &bytes, 0o600).map_err(|source| GuardError::Window {
                path: path.clone(),
                source,
            })?;
        }
        self.window = window;
        Ok(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use keting_core::messages::{Action, MessageId, PROTOCOL_VERSION};
    use keting_core::signed_command::seal;

    fn command(seq: u64) -> Command {
        Command {
            v: PROTOCOL_VERSION,
            to: DeviceId::new("gym-door").unwrap(),
            seq,
            id: MessageId::new(format!("c-{seq}")).unwrap(),
            deadline_ms: 2_000_000_000_000,
            action: Action::Unlock { member: None },
        }
    }

    #[test]
    fn a_restart_remembers_what_was_carried_out() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("command-window.json");
        let site = SigningKey::from_bytes(&[4; 32]);
        let door = DeviceId::new("gym-door").unwrap();
        let first = seal(&site, &command(1_000));
        let mut guard = CommandGuard::open(site.verifying_key(), door.clone(), Some(file.clone()));
        assert!(guard.admit(&first, 0).is_ok());
        drop(guard);
        let mut guard = CommandGuard::open(site.verifying_key(), door.clone(), Some(file.clone()));
        assert!(matches!(
            guard.admit(&first, 0),
            Err(GuardError::Refused(CommandRefusal::Replayed { .. }))
        ));
        assert!(guard.admit(&seal(&site, &command(1_001)), 0).is_ok());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A window that cannot be written refuses, and remembers nothing.
        let mut guard = CommandGuard::open(
            site.verifying_key(),
            door,
            Some(PathBuf::from("/proc/no-such/command-window.json")),
        );
        assert!(matches!(
            guard.admit(&seal(&site, &command(2_000)), 0),
            Err(GuardError::Window { .. })
        ));
    }
}
