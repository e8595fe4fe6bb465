//! Commands sealed by the centre: the broker is not trusted.
//!
//! Everything that moves a door, a drink or a device travels as a
//! [`SignedCommand`]: the [`Command`]'s JSON, as bytes, and an Ed25519
//! signature over a context label and those bytes, made with the site key
//! (the key the doors already trust for rosters and passes). The command
//! inside names the one device that may carry it out (`to`), a sequence
//! number (`seq`, see [`crate::replay_window`]) and its deadline.
//!
//! ```text
//! {"v":1,"command":"{\"v\":1,\"to\":\"gym-door\",\"seq\":1795299990000,\"id\":\"c-42\",...}","sig":"<base64url>"}
//! ```
//!
//! [`open`] is what a device does with any bytes on its `cmd` topic: the
//! command, or the one reason it is refused ([`CommandRefusal`]). Signing the
//! exact bytes (not a re-serialisation) means there is nothing to
//! canonicalise: what was signed is what is read.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::DeviceId;
use crate::messages::{Command, MessageError, MessageId, PROTOCOL_VERSION, decode, encode};
use crate::replay_window::{ReplayWindow, SequenceRefusal};

/// What the signature covers before the command's bytes, so a signature
/// over a command can never stand for a roster, a pass or an answer.
pub const COMMAND_CONTEXT: &[u8] = b"keting/v1/command\n";

/// A command and the centre's signature over it (the `cmd` topic's payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCommand {
    /// Protocol version.
    pub v: u8,
    /// The [`Command`]'s JSON, exactly as signed.
    pub command: String,
    /// Ed25519 over [`COMMAND_CONTEXT`] and `command`'s bytes, base64url.
    pub sig: String,
}

/// Why a device does not carry out what came on its `cmd` topic.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum CommandRefusal {
    /// Not a signed command at all (a bare command, or anything else).
    #[error("the command is not signed")]
    Unsigned,
    /// A signed envelope whose command cannot be read.
    #[error("the signed command cannot be read: {0}")]
    Malformed(String),
    /// The signature is not the site's over these bytes.
    #[error("the command's signature is not the site's")]
    Forged,
    /// Signed for another device.
    #[error("the command is for {to}, not for this device")]
    Misaddressed {
        /// The device it names.
        to: DeviceId,
    },
    /// Its sequence number was carried out already (or is too old to tell).
    #[error("command {} (sequence {seq}) was seen before: a replay", id.as_str())]
    Replayed {
        /// The command's id.
        id: MessageId,
        /// Its sequence number.
        seq: u64,
    },
    /// A sequence number further ahead than the device accepts.
    #[error("command {} has sequence {seq}, more than a day ahead of this device", id.as_str())]
    FromTheFuture {
        /// The command's id.
        id: MessageId,
        /// Its sequence number.
        seq: u64,
    },
}

impl CommandRefusal {
    /// The stable code, as in the `command_refused` event.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::Malformed(_) => "malformed",
            Self::Forged => "forged",
            Self::Misaddressed { .. } => "misaddressed",
            Self::Replayed { .. } => "replayed",
            Self::FromTheFuture { .. } => "sequence_from_the_future",
        }
    }

    /// The refused command's id, where one could be trusted enough to read.
    pub fn command_id(&self) -> Option<&MessageId> {
        match self {
            Self::Replayed { id, .. } | Self::FromTheFuture { id, .. } => Some(id),
            _ => None,
        }
    }
}

fn signed_bytes(command: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(COMMAND_CONTEXT.len() + command.len());
    bytes.extend_from_slice(COMMAND_CONTEXT);
    bytes.extend_from_slice(command);
    bytes
}

/// Seals `command` with the site key: the `cmd` topic's payload.
pub fn seal(key: &SigningKey, command: &Command) -> Vec<u8> {
    let json = String::from_utf8(encode(command)).unwrap_or_default();
    let sig = key.sign(&signed_bytes(json.as_bytes()));
    encode(&SignedCommand {
        v: PROTOCOL_VERSION,
        command: json,
        sig: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
    })
}

/// What device `me` makes of `payload` on its `cmd` topic, with its
/// sequence numbers so far in `window` and its clock at `now_ms`: the
/// command to carry out, or why not. Changes nothing: the caller
/// [`ReplayWindow::accept`]s the command's `seq` (and stores the window)
/// before carrying it out. The deadline is the caller's to judge, since
/// what an expired command is answered with depends on the device.
pub fn open(
    payload: &[u8],
    key: &VerifyingKey,
    me: &DeviceId,
    window: &ReplayWindow,
    now_ms: i64,
) -> Result<Command, CommandRefusal> {
    let envelope: SignedCommand = decode(payload).map_err(|e| match e {
        MessageError::Invalid(_) => CommandRefusal::Unsigned,
        other => CommandRefusal::Malformed(other.to_string()),
    })?;
    let sig = URL_SAFE_NO_PAD
        .decode(envelope.sig.as_bytes())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(CommandRefusal::Forged)?;
    key.verify(&signed_bytes(envelope.command.as_bytes()), &sig)
        .map_err(|_| CommandRefusal::Forged)?;
    let command: Command = decode(envelope.command.as_bytes())
        .map_err(|e| CommandRefusal::Malformed(e.to_string()))?;
    if &command.to != me {
        return Err(CommandRefusal::Misaddressed { to: command.to });
    }
    window
        .check(command.seq, now_ms)
        .map_err(|refusal| match refusal {
            SequenceRefusal::Replayed => CommandRefusal::Replayed {
                id: command.id.clone(),
                seq: command.seq,
            },
            SequenceRefusal::FromTheFuture => CommandRefusal::FromTheFuture {
                id: command.id.clone(),
                seq: command.seq,
            },
        })?;
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MemberId;
    use crate::messages::Action;
    use proptest::prelude::*;

    const NOW: i64 = 1_795_300_000_000;

    fn site_key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn door() -> DeviceId {
        DeviceId::new("gym-door").unwrap()
    }

    fn unlock(to: &str, seq: u64) -> Command {
        Command {
            v: PROTOCOL_VERSION,
            to: DeviceId::new(to).unwrap(),
            seq,
            id: MessageId::new(format!("c-{seq}")).unwrap(),
            deadline_ms: NOW + 30_000,
            action: Action::Unlock {
                member: Some(MemberId(7)),
            },
        }
    }

    fn open_now(payload: &[u8], window: &ReplayWindow) -> Result<Command, CommandRefusal> {
        open(payload, &site_key().verifying_key(), &door(), window, NOW)
    }

    #[test]
    fn a_sealed_command_opens_once() {
        let cmd = unlock("gym-door", NOW as u64);
        let payload = seal(&site_key(), &cmd);
        let mut window = ReplayWindow::default();
        assert_eq!(open_now(&payload, &window), Ok(cmd.clone()));
        window.accept(cmd.seq);
        assert_eq!(
            open_now(&payload, &window).unwrap_err().code(),
            "replayed",
            "the same bytes again are a replay"
        );
    }

    #[test]
    fn each_kind_of_bad_command_has_its_reason() {
        let w = ReplayWindow::default();
        let bare = encode(&unlock("gym-door", 1));
        assert_eq!(open_now(&bare, &w), Err(CommandRefusal::Unsigned));
        assert_eq!(open_now(b"\xff", &w), Err(CommandRefusal::Unsigned));
        let other_key = SigningKey::from_bytes(&[1; 32]);
        assert_eq!(
            open_now(&seal(&other_key, &unlock("gym-door", 1)), &w),
            Err(CommandRefusal::Forged)
        );
        assert_eq!(
            open_now(&seal(&site_key(), &unlock("piano-bank", 1)), &w).unwrap_err(),
            CommandRefusal::Misaddressed {
                to: DeviceId::new("piano-bank").unwrap()
            }
        );
        let far = NOW as u64 + crate::replay_window::MAX_AHEAD_MS + 1;
        assert_eq!(
            open_now(&seal(&site_key(), &unlock("gym-door", far)), &w)
                .unwrap_err()
                .code(),
            "sequence_from_the_future"
        );
        // The command's text changed after signing.
        let mut env: SignedCommand = decode(&seal(&site_key(), &unlock("gym-door", 5))).unwrap();
        env.command = env.command.replace("\"member\":7", "\"member\":8");
        assert_eq!(open_now(&encode(&env), &w), Err(CommandRefusal::Forged));
        // A signature made over a roster's bytes does not stand for a command.
        let mut env: SignedCommand = decode(&seal(&site_key(), &unlock("gym-door", 5))).unwrap();
        let sig = site_key().sign(env.command.as_bytes());
        env.sig = URL_SAFE_NO_PAD.encode(sig.to_bytes());
        assert_eq!(open_now(&encode(&env), &w), Err(CommandRefusal::Forged));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any change to a sealed command's bytes is refused.
        #[test]
        fn tampering_is_refused(index in 0usize..400, byte in any::<u8>()) {
            let payload = seal(&site_key(), &unlock("gym-door", NOW as u64));
            let mut bad = payload.clone();
            let i = index % bad.len();
            prop_assume!(bad[i] != byte);
            bad[i] = byte;
            let opened = open_now(&bad, &ReplayWindow::default());
            // A change in JSON whitespace outside the signed text may still
            // open: then it is the very command that was signed.
            if let Ok(cmd) = opened {
                prop_assert_eq!(cmd, unlock("gym-door", NOW as u64));
            }
        }

        /// A device's whole loop, as an agent runs it (open, write the
        /// number down, judge the deadline, carry out): in any stream of
        /// genuine, forged, misaddressed, expired and replayed unlocks, in
        /// any order, only the genuine ones in time are carried out, each
        /// once.
        #[test]
        fn only_genuine_commands_in_time_are_carried_out(
            stream in proptest::collection::vec((0u8..5, 0usize..8), 1..60)
        ) {
            let forger = SigningKey::from_bytes(&[1; 32]);
            let mut window = ReplayWindow::default();
            let mut sent: Vec<Vec<u8>> = Vec::new();
            let mut genuine = std::collections::BTreeSet::new();
            let mut carried_out = Vec::new();
            for (i, (kind, pick)) in stream.into_iter().enumerate() {
                let seq = NOW as u64 + i as u64;
                let payload = match kind {
                    0 => {
                        genuine.insert(seq);
                        seal(&site_key(), &unlock("gym-door", seq))
                    }
                    1 => seal(&forger, &unlock("gym-door", seq)),
                    2 => seal(&site_key(), &unlock("pianos", seq)),
                    3 => {
                        let mut late = unlock("gym-door", seq);
                        late.deadline_ms = NOW - 1;
                        seal(&site_key(), &late)
                    }
                    _ => match sent.get(pick % sent.len().max(1)) {
                        Some(old) => old.clone(),
                        None => continue,
                    },
                };
                sent.push(payload.clone());
                if let Ok(cmd) = open_now(&payload, &window) {
                    window.accept(cmd.seq);
                    if cmd.deadline_ms >= NOW {
                        carried_out.push(cmd.seq);
                    }
                }
            }
            let unique: std::collections::BTreeSet<_> = carried_out.iter().copied().collect();
            prop_assert_eq!(unique.len(), carried_out.len(), "a command carried out twice");
            prop_assert_eq!(unique, genuine);
        }

        /// Any bytes at all open or are refused, never panic.
        #[test]
        fn any_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert!(open_now(&bytes, &ReplayWindow::default()).is_err());
        }
    }
}
