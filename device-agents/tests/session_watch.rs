//! The kiosk's side of a session device (piano bank, robot) in a test: it
//! sends session commands and reads the acks, events and status, keeping
//! what arrived while it waited for something else.

use keting_core::messages::{
    Ack, Action, Event, EventKind, Outcome, SessionDeviceStatus, SessionEnd, decode,
};
use keting_link::clock::now;
use keting_link::connection::{LinkEvent, LinkHandle};
use tokio::sync::mpsc;

use crate::util::{config, link, sealed, wait_for};

pub struct KioskSide {
    kiosk: LinkHandle,
    events: mpsc::Receiver<LinkEvent>,
    /// Messages seen while waiting for another.
    backlog: Vec<(String, Vec<u8>)>,
    device: String,
}

impl KioskSide {
    /// Connects as the kiosk to the broker on `port`, watching `device`.
    pub async fn connect(dir: &std::path::Path, port: u16, device: &str) -> Self {
        let (kiosk, mut events, _t) = link(
            dir,
            config(
                port,
                "kiosk",
                &[&format!("keting/v1/demo/device/{device}/#")],
            ),
        );
        wait_for(&mut events, |e| *e == LinkEvent::Connected).await;
        Self {
            kiosk,
            events,
            backlog: Vec::new(),
            device: device.into(),
        }
    }

    /// The first message (seen before or arriving) that `want` accepts.
    async fn next(&mut self, want: impl Fn(&str, &[u8]) -> bool) -> Vec<u8> {
        if let Some(i) = self.backlog.iter().position(|(t, p)| want(t, p)) {
            return self.backlog.remove(i).1;
        }
        let mut seen = Vec::new();
        let LinkEvent::Message { payload, .. } = wait_for(&mut self.events, |e| match e {
            LinkEvent::Message { topic, payload, .. } if want(topic, payload) => true,
            LinkEvent::Message { topic, payload, .. } => {
                seen.push((topic.clone(), payload.clone()));
                false
            }
            _ => false,
        })
        .await
        else {
            unreachable!()
        };
        self.backlog.extend(seen);
        payload
    }

    /// Sends a command and returns its outcome.
    pub async fn send(&mut self, id: &str, action: Action) -> Outcome {
        let payload = sealed(&self.device, id, action, now().as_unix_millis() + 30_000);
        let topic = format!("keting/v1/demo/device/{}/cmd", self.device);
        self.kiosk.publish(&topic, &payload, false).await.unwrap();
        let payload = self
            .next(|topic, payload| {
                topic.ends_with("/ack")
                    && decode::<Ack>(&keting_core::signed_answer::unchecked(payload))
                        .is_ok_and(|a| a.id.as_str() == id)
            })
            .await;
        decode::<Ack>(&keting_core::signed_answer::unchecked(&payload))
            .unwrap()
            .outcome
    }

    /// Starts session `session` on `channel` for `ms` milliseconds.
    pub async fn start_session(&mut self, session: i64, channel: u8, ms: i64) -> Outcome {
        let action = Action::SessionStart {
            session,
            channel,
            name: "王秀英".into(),
            until_ms: now().as_unix_millis() + ms,
            program: None,
        };
        self.send(&format!("s-{session}-on"), action).await
    }

    /// Waits for session `session`'s end: its channel, why, the fault.
    pub async fn ended(&mut self, session: i64) -> (u8, SessionEnd, Option<String>) {
        let payload = self
            .next(|topic, payload| {
                topic.ends_with("/event")
                    && decode::<Event>(&keting_core::signed_answer::unchecked(payload)).is_ok_and(|ev| {
                        matches!(ev.kind, EventKind::SessionEnded { session: s, .. } if s == session)
                    })
            })
            .await;
        match decode::<Event>(&keting_core::signed_answer::unchecked(&payload))
            .unwrap()
            .kind
        {
            EventKind::SessionEnded {
                channel,
                reason,
                fault,
                ..
            } => (channel, reason, fault),
            _ => unreachable!(),
        }
    }

    /// Waits for a status `want` accepts.
    pub async fn status(
        &mut self,
        want: impl Fn(&SessionDeviceStatus) -> bool,
    ) -> SessionDeviceStatus {
        let payload = self
            .next(|topic, payload| {
                topic.ends_with("/status")
                    && decode::<SessionDeviceStatus>(&keting_core::signed_answer::unchecked(
                        payload,
                    ))
                    .is_ok_and(|s| want(&s))
            })
            .await;
        decode(&keting_core::signed_answer::unchecked(&payload)).unwrap()
    }
}
