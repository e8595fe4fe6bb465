//! Sessions on devices, from the centre's side: tell the piano bank or the
//! robot to start and stop sessions, settle bookings on their answers and
//! on the sessions they report ended, and run the booking sweep (places
//! nobody started released, the waiting lists and the piano queue served).
//!
//! The device ends a session on its own at its end; the centre never has
//! to be up for a piano to power off. A device that refuses a start (its
//! hardware does not answer) fails the booking and gives its charge back.

use ed25519_dalek::SigningKey;
use keting_core::calendar::SiteCalendar;
use keting_core::ids::DeviceId;
use keting_core::messages::{Ack, Action, Event, EventKind, MessageId, Outcome, SessionEnd};
use keting_core::time::Timestamp;
use keting_link::connection::LinkHandle;

use super::command_seal;
use super::device_states::DeviceStates;
use keting_store::bookings::{self, DeviceWork};
use keting_store::site_record::SiteRecord;
use keting_store::{Store, StoreError, resources};

fn command_id(booking: i64, work: DeviceWork) -> String {
    match work {
        DeviceWork::On => format!("s-{booking}-on"),
        DeviceWork::Off => format!("s-{booking}-off"),
    }
}

/// Reads a session command's id back: the booking, and on or off.
fn parse_command_id(id: &str) -> Option<(i64, DeviceWork)> {
    let rest = id.strip_prefix("s-")?;
    let (booking, what) = rest.rsplit_once('-')?;
    let work = match what {
        "on" => DeviceWork::On,
        "off" => DeviceWork::Off,
        _ => return None,
    };
    Some((booking.parse().ok()?, work))
}

/// Queues the start and stop commands the sessions need.
pub async fn send_commands(
    store: &mut Store,
    link: &LinkHandle,
    site: &SiteRecord,
    key: &SigningKey,
    t: Timestamp,
) -> Result<(), StoreError> {
    for (work, b) in bookings::device_work(store.conn(), t)? {
        let Some((device, channel)) = b.device.clone() else {
            continue;
        };
        let Ok(id) = MessageId::new(command_id(b.id, work)) else {
            continue;
        };
        let (action, deadline) = match work {
            DeviceWork::On => (
                Action::SessionStart {
                    session: b.id,
                    channel,
                    name: b.member_name.clone(),
                    until_ms: b.slot.end.as_unix_millis(),
                    program: None,
                },
                b.slot.end,
            ),
            DeviceWork::Off => (
                Action::SessionStop { session: b.id },
                t.saturating_add(std::time::Duration::from_secs(3600)),
            ),
        };
        let sealed = command_seal::Sealer {
            key,
            site: &site.site_id,
        }
        .command(
            store.conn(),
            &device,
            id,
            deadline.as_unix_millis(),
            action,
            t,
        )?;
        if let Err(e) = link.publish(&sealed.topic, &sealed.payload, false).await {
            tracing::error!("cannot queue a session command for {device}: {e}");
            return Ok(());
        }
        bookings::mark_command_sent(store.conn(), b.id, t)?;
        tracing::info!(device = %device, booking = b.id, channel, ?work, "session command sent");
    }
    Ok(())
}

/// Whether `ack` answers a session command (it moves a booking: only the
/// device's signed word counts).
pub fn is_session_ack(ack: &Ack) -> bool {
    parse_command_id(ack.id.as_str()).is_some()
}

/// An answer to a session command; `false` if `ack` is not one.
pub fn handle_ack(
    store: &mut Store,
    cal: SiteCalendar,
    device: &DeviceId,
    ack: &Ack,
    t: Timestamp,
) -> bool {
    let Some((booking, work)) = parse_command_id(ack.id.as_str()) else {
        return false;
    };
    let result = store.write(|tx| match (&ack.outcome, work) {
        (Outcome::Done, DeviceWork::On) => bookings::mark_device(tx, booking, true, t),
        (Outcome::Done, DeviceWork::Off) => bookings::mark_device(tx, booking, false, t),
        (Outcome::Refused { reason }, DeviceWork::On) => bookings::fail(
            tx,
            cal,
            booking,
            &format!("the device did not start: {reason}"),
            t,
        )
        .map(|_| ()),
        (Outcome::Expired, DeviceWork::On) => bookings::fail(
            tx,
            cal,
            booking,
            "the device heard of the session after its end",
            t,
        )
        .map(|_| ()),
        (other, DeviceWork::Off) => {
            tracing::warn!(device = %device, booking, "a stop was not carried out: {other:?}");
            bookings::mark_device(tx, booking, false, t)
        }
        (other, DeviceWork::On) => {
            tracing::warn!(device = %device, booking, "unexpected answer: {other:?}");
            Ok(())
        }
    });
    match (result, &ack.outcome, work) {
        (Err(e), ..) => tracing::error!(booking, "cannot settle a session answer: {e}"),
        // Logged once committed: whoever reads the log may read the booking.
        (Ok(()), Outcome::Refused { reason }, DeviceWork::On) => {
            tracing::warn!(device = %device, booking, "the device did not start the session: {reason}");
        }
        (Ok(()), ..) => {}
    }
    true
}

/// A session ended at the device (stored as new): the booking ends with it.
pub fn handle_event(store: &mut Store, cal: SiteCalendar, event: &Event, t: Timestamp) {
    let EventKind::SessionEnded {
        session,
        reason,
        fault,
        ..
    } = &event.kind
    else {
        return;
    };
    let session = *session;
    let result = store.write(|tx| {
        let b = bookings::get(tx, session)?;
        if b.state != keting_core::booking::BookingState::Started {
            // Already ended at the kiosk (or by the sweep): only the device's
            // own record of switching off is new.
            return bookings::mark_device(tx, session, false, t);
        }
        match reason {
            SessionEnd::Fault => {
                let why = fault.clone().unwrap_or_else(|| "device fault".into());
                bookings::fail(tx, cal, session, &why, t).map(|_| ())
            }
            other => bookings::finish(tx, cal, session, other.as_str(), true, t).map(|_| ()),
        }
    });
    match result {
        Ok(()) => tracing::info!(
            booking = session,
            reason = reason.as_str(),
            "session ended at the device"
        ),
        Err(e) => tracing::error!(booking = session, "cannot end a session: {e}"),
    }
}

/// The resources whose device cannot be given a session now.
pub fn unavailable(store: &Store, states: &DeviceStates, connected: bool) -> Vec<String> {
    resources::list(store.conn(), None)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            r.device
                .as_ref()
                .is_some_and(|d| !states.reachable(d, connected))
        })
        .map(|r| r.resource.id.to_string())
        .collect()
}

/// The time-driven work: release, promote, lapse, end, serve the queue.
pub fn sweep(
    store: &mut Store,
    cal: SiteCalendar,
    unavailable: &[String],
    t: Timestamp,
) -> Result<(), keting_desk::bookings::BookingError> {
    let (swept, served) = keting_desk::bookings::sweep(store, cal, unavailable, t)?;
    for b in &swept.released {
        tracing::info!(booking = b.id, resource = %b.resource, "nobody started it: released");
    }
    for b in swept.promoted.iter().chain(&served) {
        tracing::info!(booking = b.id, resource = %b.resource, member = %b.member, "promoted from the waiting list");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_read_back() {
        for (b, w) in [(7, DeviceWork::On), (123_456, DeviceWork::Off)] {
            assert_eq!(parse_command_id(&command_id(b, w)), Some((b, w)));
        }
        assert_eq!(parse_command_id("c-42"), None);
        assert_eq!(parse_command_id("s-x-on"), None);
    }
}
