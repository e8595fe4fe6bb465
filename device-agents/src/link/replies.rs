//! What an agent publishes about itself, each on its topic of the tree: the
//! acks of its commands, its events (ids unique per device), its retained
//! status. A publish that cannot be queued is logged, never lost silently.

use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{Ack, Event, EventKind, MessageId, Outcome, PROTOCOL_VERSION, encode};
use keting_core::topics::{DeviceChannel, Topic};
use serde::Serialize;

use super::connection::LinkHandle;
use crate::clock::now;

/// One device's replies.
#[derive(Clone, Debug)]
pub struct Replies {
    site: SiteId,
    device: DeviceId,
}

impl Replies {
    /// The replies of `device` of `site`.
    pub fn new(site: SiteId, device: DeviceId) -> Self {
        Self { site, device }
    }

    /// The topics an agent taking commands subscribes to: the kiosk's
    /// online flag and its own `cmd`.
    pub fn command_subscriptions(&self) -> Vec<String> {
        vec![
            Topic::ControllerOnline.name(&self.site),
            Topic::Device(self.device.clone(), DeviceChannel::Cmd).name(&self.site),
        ]
    }

    fn topic(&self, channel: DeviceChannel) -> String {
        Topic::Device(self.device.clone(), channel).name(&self.site)
    }

    /// Acks command `id` with `outcome`.
    pub async fn ack(&self, link: &LinkHandle, id: MessageId, outcome: Outcome) {
        let ack = Ack {
            v: PROTOCOL_VERSION,
            id,
            outcome,
        };
        if let Err(e) = link
            .publish(&self.topic(DeviceChannel::Ack), &encode(&ack), false)
            .await
        {
            tracing::error!("could not queue an ack: {e}");
        }
    }

    /// Publishes an event whose id is `e-<device>-<suffix>` (unique per device).
    pub async fn event(&self, link: &LinkHandle, suffix: &str, kind: EventKind) {
        let Ok(id) = MessageId::new(format!("e-{}-{suffix}", self.device)) else {
            tracing::error!("an event id of {} is not valid: {suffix:?}", self.device);
            return;
        };
        let event = Event {
            v: PROTOCOL_VERSION,
            id,
            at_ms: now().as_unix_millis(),
            kind,
        };
        if let Err(e) = link
            .publish(&self.topic(DeviceChannel::Event), &encode(&event), false)
            .await
        {
            tracing::error!("could not queue an event: {e}");
        }
    }

    /// Publishes the retained status.
    pub async fn status<T: Serialize>(&self, link: &LinkHandle, status: &T) {
        if let Err(e) = link
            .publish(&self.topic(DeviceChannel::Status), &encode(status), true)
            .await
        {
            tracing::error!("could not queue the status: {e}");
        }
    }
}
