//! One fuzz target's body per module, each `pub fn run(data: &[u8])`:
//!
//! - [`pass`]: the QR pass parser and verifier.
//! - [`messages`]: the JSON protocol (commands, acks, events, statuses).
//! - [`roster`]: the signed door roster.
//! - [`claim`]: the claim label and the claim request and answer.
//! - [`signed_command`]: a device's command verifier and the centre's
//!   answer verifier, past the signature too.
//! - [`device_word`]: a device's status and online flag, signed or not,
//!   and the fallback code typed at a kiosk.
//! - [`agent_toml`]: the device agent's configuration.
//! - [`rtu_frames`]: Modbus RTU framing (the simulator's side of the line)
//!   and bus addresses.

pub mod agent_toml;
pub mod claim;
pub mod device_word;
pub mod messages;
pub mod pass;
pub mod roster;
pub mod rtu_frames;
pub mod signed_command;

use ed25519_dalek::SigningKey;

/// A target's body: any bytes in, nothing out, never a panic.
pub type Body = fn(&[u8]);

/// Every target: its name (the corpus directory's) and its body.
pub const ALL: &[(&str, Body)] = &[
    ("pass", pass::run),
    ("messages", messages::run),
    ("roster", roster::run),
    ("claim", claim::run),
    ("signed_command", signed_command::run),
    ("agent_toml", agent_toml::run),
    ("rtu_frames", rtu_frames::run),
    ("device_word", device_word::run),
];

/// The key the targets sign with, so mutated inputs reach the parsing that
/// follows a good signature.
pub fn test_key() -> SigningKey {
    SigningKey::from_bytes(&[0x4b; 32])
}
