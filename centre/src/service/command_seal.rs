//! Every command the centre sends, sealed for one device: numbered from the
//! database ([`keting_store::command_sequence`]), signed with the site key
//! ([`keting_core::signed_command::seal`]), with its `cmd` topic. The one
//! way a command leaves the centre.

use ed25519_dalek::SigningKey;
use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{Action, Command, MessageId, PROTOCOL_VERSION};
use keting_core::signed_command::seal;
use keting_core::time::Timestamp;
use keting_core::topics::{DeviceChannel, Topic};
use rusqlite::Connection;

use keting_store::{StoreError, command_sequence};

/// A command ready to publish.
pub struct Sealed {
    /// The device's `cmd` topic.
    pub topic: String,
    /// The signed envelope.
    pub payload: Vec<u8>,
}

/// Who seals: the site key, for the devices of one site.
#[derive(Clone, Copy)]
pub struct Sealer<'a> {
    /// The site key.
    pub key: &'a SigningKey,
    /// The site.
    pub site: &'a SiteId,
}

impl Sealer<'_> {
    /// `action` as command `id` for `device`, not carried out after
    /// `deadline_ms`, numbered and signed at `now`.
    pub fn command(
        self,
        conn: &Connection,
        device: &DeviceId,
        id: MessageId,
        deadline_ms: i64,
        action: Action,
        now: Timestamp,
    ) -> Result<Sealed, StoreError> {
        let (key, site) = (self.key, self.site);
        let command = Command {
            v: PROTOCOL_VERSION,
            to: device.clone(),
            seq: command_sequence::next(conn, device, now)?,
            id,
            deadline_ms,
            action,
        };
        Ok(Sealed {
            topic: Topic::Device(device.clone(), DeviceChannel::Cmd).name(site),
            payload: seal(key, &command),
        })
    }
}
