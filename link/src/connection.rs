//! The MQTT connection: rumqttc driven by one task, with the outbox.
//!
//! [`spawn`] starts a task that owns rumqttc's event loop and the
//! [`Outbox`]. It
//! - polls the event loop continuously (rumqttc does nothing unless polled);
//! - on every CONNACK: subscribes again (a broker that lost the session, or
//!   a clean session, needs it), then publishes the retained birth message
//!   (`online: true`; the last will sets `false`), so whoever sees the birth
//!   can already reach us, and sends everything waiting in the outbox;
//! - removes a message from the outbox only on its PUBACK;
//! - after any error, drops the client and its event loop, waits a jittered
//!   exponential [`Backoff`], and connects afresh, still accepting messages
//!   into the outbox meanwhile.
//!
//! [`LinkHandle::publish`] returns once the message is durable in the outbox,
//! not when it reached the broker: that is the outbox's job.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, QoS};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::outbox::{Outbox, OutboxError, REPORT_EVERY};

/// The largest MQTT packet sent or taken: the largest roster (1 MiB) with
/// room to spare. rumqttc's default (10 KiB) would drop the connection on a
/// roster of more than about 170 members.
pub const MAX_PACKET: usize = 2 * 1024 * 1024;

/// A connection without a CONNACK after this long is given up.
pub const CONNACK_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many outbox messages wait for their PUBACK at once.
const MAX_IN_FLIGHT: u32 = 50;

/// The birth and will payloads of the retained online flag.
pub const ONLINE: &[u8] = br#"{"v":1,"online":true}"#;
/// The last will's payload.
pub const OFFLINE: &[u8] = br#"{"v":1,"online":false}"#;

/// Where and as whom to connect.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// The MQTT client id (one per device).
    pub client_id: String,
    /// User name and password, if the broker asks for them.
    pub credentials: Option<(String, String)>,
    /// The retained online flag's topic (birth and last will).
    pub online_topic: String,
    /// The birth's payload: [`ONLINE`], or for the centre the same flag
    /// with its run's nonce (`"run"`), which a device's statuses then carry.
    pub birth: Vec<u8>,
    /// Topic filters to subscribe to on every connection.
    pub subscriptions: Vec<String>,
    /// MQTT keep-alive: how soon the broker notices a dead link.
    pub keep_alive: Duration,
    /// Keep the session at the broker while away (clean session off): the
    /// broker then queues QoS 1 messages for this client until it is back.
    /// The kiosk needs it to miss no event; so does an agent for its commands.
    /// With the broker's persistence on, the session survives a broker restart.
    pub persistent_session: bool,
    /// TLS to the broker (the site CA, this client's certificate); `None`:
    /// plain TCP, for loopback only (the embedded broker, tests).
    pub tls: Option<crate::tls::LinkTls>,
}

/// What the link tells its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Connected (again): birth sent, and every subscription acknowledged by
    /// the broker (SUBACK), so nothing published from now on is missed.
    Connected,
    /// The connection failed or dropped; the link will retry.
    Disconnected(String),
    /// The broker has acknowledged everything in the outbox: it is empty.
    Drained,
    /// A message arrived on a subscription.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
        /// The broker kept it and handed it over on subscribing (MQTT's
        /// retain flag on delivery): said some time ago, not just now.
        retained: bool,
    },
}

/// Why a publish was not accepted.
#[derive(Debug, Error)]
pub enum LinkError {
    /// The link task has stopped.
    #[error("the MQTT link has stopped")]
    Stopped,
    /// The outbox could not store the message.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

enum Command {
    Publish {
        topic: String,
        payload: Vec<u8>,
        retain: bool,
        /// Replaces what still waits on the topic (retained messages always do).
        latest_only: bool,
        stored: oneshot::Sender<Result<(), OutboxError>>,
    },
}

/// Sends messages through the link. Dropping every handle stops the link
/// gracefully (it publishes `online: false` and disconnects).
#[derive(Clone, Debug)]
pub struct LinkHandle {
    commands: mpsc::Sender<Command>,
}

impl LinkHandle {
    /// Queues a QoS 1 message; returns once it is durable in the outbox. A
    /// retained one replaces what still waits on its topic.
    pub async fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        retain: bool,
    ) -> Result<(), LinkError> {
        self.queue(topic, payload, retain, retain).await
    }

    /// Queues a message of which only the latest matters (a time ask): it
    /// replaces what still waits on its topic.
    pub async fn publish_latest(&self, topic: &str, payload: &[u8]) -> Result<(), LinkError> {
        self.queue(topic, payload, false, true).await
    }

    async fn queue(
        &self,
        topic: &str,
        payload: &[u8],
        retain: bool,
        latest_only: bool,
    ) -> Result<(), LinkError> {
        let (stored, done) = oneshot::channel();
        let cmd = Command::Publish {
            topic: topic.to_owned(),
            payload: payload.to_vec(),
            retain,
            latest_only,
            stored,
        };
        self.commands
            .send(cmd)
            .await
            .map_err(|_| LinkError::Stopped)?;
        done.await
            .map_err(|_| LinkError::Stopped)?
            .map_err(LinkError::Outbox)
    }
}

/// Starts the link. Events arrive on the returned receiver; the task ends
/// when every [`LinkHandle`] is dropped.
pub fn spawn(
    config: LinkConfig,
    outbox: Outbox,
) -> (LinkHandle, mpsc::Receiver<LinkEvent>, JoinHandle<()>) {
    let (commands_tx, commands) = mpsc::channel(64);
    let (events_tx, events) = mpsc::channel(256);
    let task = tokio::spawn(run(config, outbox, commands, events_tx));
    (
        LinkHandle {
            commands: commands_tx,
        },
        events,
        task,
    )
}

fn options(config: &LinkConfig) -> MqttOptions {
    let mut o = MqttOptions::new(config.client_id.clone(), config.host.clone(), config.port);
    o.set_keep_alive(config.keep_alive);
    o.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    o.set_clean_session(!config.persistent_session);
    o.set_last_will(LastWill::new(
        config.online_topic.clone(),
        OFFLINE.to_vec(),
        QoS::AtLeastOnce,
        true,
    ));
    if let Some((user, pass)) = &config.credentials {
        o.set_credentials(user.clone(), pass.clone());
    }
    if let Some(tls) = &config.tls {
        o.set_transport(tls.transport());
    }
    o
}

/// One connection's bookkeeping: which outbox message each packet id carries.
struct Session {
    client: AsyncClient,
    connected: bool,
    /// Publishes handed to rumqttc, in order: `Some(seq)` for outbox messages.
    handed: VecDeque<Option<i64>>,
    by_packet: HashMap<u16, i64>,
    last_sent: i64,
    in_flight: u32,
    /// SUBACKs still expected before the link reports `Connected`.
    awaiting_subacks: usize,
}

impl Session {
    /// rumqttc wrote the next handed publish with this packet id.
    fn sent(&mut self, packet: u16) {
        if let Some(Some(seq)) = self.handed.pop_front() {
            self.by_packet.insert(packet, seq);
        }
    }

    /// Handles a PUBACK; returns true if it left the outbox empty.
    fn acknowledged(&mut self, packet: u16, outbox: &Outbox) -> Result<bool, OutboxError> {
        let Some(seq) = self.by_packet.remove(&packet) else {
            return Ok(false);
        };
        self.in_flight = self.in_flight.saturating_sub(1);
        outbox.acknowledged(seq)?;
        self.send_waiting(outbox)?;
        Ok(self.in_flight == 0 && outbox.is_empty()?)
    }

    fn send_waiting(&mut self, outbox: &Outbox) -> Result<(), OutboxError> {
        while self.connected && self.in_flight < MAX_IN_FLIGHT {
            let batch = outbox.pending_after(self.last_sent, MAX_IN_FLIGHT - self.in_flight)?;
            if batch.is_empty() {
                break;
            }
            for m in batch {
                if self
                    .client
                    .try_publish(m.topic, QoS::AtLeastOnce, m.retain, m.payload)
                    .is_err()
                {
                    return Ok(()); // rumqttc's queue is full: more after the next PUBACK
                }
                self.handed.push_back(Some(m.seq));
                self.last_sent = m.seq;
                self.in_flight += 1;
            }
        }
        Ok(())
    }
}

async fn run(
    config: LinkConfig,
    outbox: Outbox,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<LinkEvent>,
) {
    let mut backoff = Backoff::default();
    loop {
        tracing::debug!(host = %config.host, port = config.port, "connecting");
        let (client, mut eventloop) = AsyncClient::new(options(&config), 256);
        // Small packets, sent at once: without TCP_NODELAY, Nagle's algorithm
        // and the peer's delayed ACK hold a scan or a command for 40 ms.
        let mut network = eventloop.network_options();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let mut s = Session {
            client,
            connected: false,
            handed: VecDeque::new(),
            by_packet: HashMap::new(),
            last_sent: 0,
            in_flight: 0,
            awaiting_subacks: 0,
        };
        // One `poll()` at a time, kept across iterations (the future owns the
        // event loop): dropping it mid-connect, when a publish arrives,
        // would abort the connection and cost a reconnection.
        let mut polling = Box::pin(poll_owned(eventloop));
        // Some brokers (rumqttd) refuse a login by going silent: give up on
        // a connection that has no CONNACK after this long, and retry.
        let connack_deadline = Instant::now() + CONNACK_TIMEOUT;
        let reason = loop {
            tokio::select! {
                () = tokio::time::sleep_until(connack_deadline), if !s.connected => {
                    break format!("no answer to the login within {} s", CONNACK_TIMEOUT.as_secs());
                }
                (eventloop, event) = &mut polling => {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        s.connected = true;
                        backoff.reset();
                        match outbox.len() {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(waiting = n, "connected: sending {n} messages queued while the broker was away"),
                            Err(e) => break format!("{e}"),
                        }
                        // Subscribe before the birth: the broker handles a
                        // client's packets in order, so whoever sees us online
                        // can reach us (a command sent on our birth is not lost).
                        for filter in &config.subscriptions {
                            if s.client.try_subscribe(filter.clone(), QoS::AtLeastOnce).is_ok() {
                                s.awaiting_subacks += 1;
                            }
                        }
                        if s.client.try_publish(config.online_topic.clone(), QoS::AtLeastOnce, true, config.birth.clone()).is_ok() {
                            s.handed.push_back(None);
                        }
                        if let Err(e) = s.send_waiting(&outbox) {
                            break format!("{e}");
                        }
                        if s.awaiting_subacks == 0 {
                            let _ = events.send(LinkEvent::Connected).await;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        s.awaiting_subacks = s.awaiting_subacks.saturating_sub(1);
                        if s.awaiting_subacks == 0 {
                            let _ = events.send(LinkEvent::Connected).await;
                        }
                    }
                    Ok(Event::Outgoing(Outgoing::Publish(packet))) => s.sent(packet),
                    Ok(Event::Incoming(Packet::PubAck(ack))) => {
                        match s.acknowledged(ack.pkid, &outbox) {
                            Ok(true) => { let _ = events.send(LinkEvent::Drained).await; }
                            Ok(false) => {}
                            Err(e) => break format!("{e}"),
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = events.send(LinkEvent::Message { topic: p.topic.clone(), payload: p.payload.to_vec(), retained: p.retain }).await;
                    }
                    Ok(_) => {}
                    Err(e) => break e.to_string(),
                }
                polling = Box::pin(poll_owned(eventloop));
                }
                cmd = commands.recv() => match cmd {
                    Some(cmd) => {
                        store(&outbox, cmd);
                        if let Err(e) = s.send_waiting(&outbox) {
                            break format!("{e}");
                        }
                    }
                    None => {
                        // Get the event loop back: a request wakes the poll
                        // (and PUBACKs of what is in flight will too).
                        if s.in_flight == 0 {
                            let _ = s.client.try_publish(config.online_topic.clone(), QoS::AtLeastOnce, true, OFFLINE.to_vec());
                        }
                        if let Ok((eventloop, event)) = tokio::time::timeout(Duration::from_secs(2), &mut polling).await {
                            match event {
                                Ok(Event::Outgoing(Outgoing::Publish(packet))) => s.sent(packet),
                                Ok(Event::Incoming(Packet::PubAck(ack))) => { let _ = s.acknowledged(ack.pkid, &outbox); }
                                _ => {}
                            }
                            stop_gracefully(&config, s, eventloop, outbox).await;
                        }
                        return;
                    }
                },
            }
        };
        let _ = events.send(LinkEvent::Disconnected(reason)).await;
        // Wait out the backoff, still taking messages into the outbox.
        let until = Instant::now() + backoff.next_wait();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                cmd = commands.recv() => match cmd {
                    Some(cmd) => store(&outbox, cmd),
                    None => return,
                },
            }
        }
    }
}

/// Polls an event loop it owns, and gives it back with the event.
async fn poll_owned(
    mut eventloop: rumqttc::EventLoop,
) -> (rumqttc::EventLoop, Result<Event, rumqttc::ConnectionError>) {
    let event = eventloop.poll().await;
    (eventloop, event)
}

fn store(outbox: &Outbox, cmd: Command) {
    let Command::Publish {
        topic,
        payload,
        retain,
        latest_only,
        stored,
    } = cmd;
    let pushed = if latest_only {
        outbox
            .push_latest(&topic, &payload, retain)
            .map(|(seq, _)| seq)
    } else {
        outbox.push(&topic, &payload, retain)
    };
    if let Ok(seq) = pushed
        && seq % REPORT_EVERY == 0
        && let Ok(n) = outbox.len()
        && n >= REPORT_EVERY.unsigned_abs()
    {
        tracing::warn!(
            waiting = n,
            "{n} messages wait in the outbox for the broker; none is dropped"
        );
    }
    let _ = stored.send(pushed.map(|_| ()));
}

/// Stops: waits (at most 2 s) for the PUBACKs of what is in flight, then
/// clears the online flag and disconnects. What is not acknowledged stays in
/// the outbox for the next start.
async fn stop_gracefully(
    config: &LinkConfig,
    mut s: Session,
    mut eventloop: rumqttc::EventLoop,
    outbox: Outbox,
) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while s.connected && s.in_flight > 0 {
        // The outbox is only used between awaits: rusqlite's connection is not Sync.
        let event = match tokio::time::timeout_at(deadline, eventloop.poll()).await {
            Ok(Ok(event)) => event,
            _ => break,
        };
        match event {
            Event::Outgoing(Outgoing::Publish(packet)) => s.sent(packet),
            Event::Incoming(Packet::PubAck(ack)) if s.acknowledged(ack.pkid, &outbox).is_err() => {
                break;
            }
            _ => {}
        }
    }
    let _ = s.client.try_publish(
        config.online_topic.clone(),
        QoS::AtLeastOnce,
        true,
        OFFLINE.to_vec(),
    );
    let _ = s.client.try_disconnect();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(event) = eventloop.poll().await {
            if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                break;
            }
        }
    })
    .await;
}
