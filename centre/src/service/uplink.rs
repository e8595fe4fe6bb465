//! The district uplink's sender: the outbox (`store::uplink`) to the
//! district's JetStream stream, in order, each event with its message id
//! `<centre>:<event id>`; a row is marked sent only once JetStream
//! acknowledged it (stored on a majority of the cluster).
//!
//! - Up to [`BATCH`] events are in flight at once; their acknowledgements
//!   are taken in order and the outbox is marked sent through the last one
//!   of an unbroken run, so a failure in the middle re-sends from there
//!   (JetStream drops the repeats it still remembers, the district's
//!   database the rest).
//! - Offline (the district down, the WAN cut), the outbox keeps growing in
//!   the centre's own database and drains oldest first when the district is
//!   back; the centre works on meanwhile. Retries wait a jittered backoff.
//! - It wakes on every commit to the database (the controller's poll), and
//!   every few seconds anyway.
//! - Every [`DistrictConfig::tally_every`] while it sends anything, it
//!   tells the district its own count (`uplink::Tally`: of the events
//!   numbered so far since the last, how many left), which the district's
//!   `check` holds its database against. The tally is persisted with the
//!   rows it counts, so a crash neither loses nor doubles it.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream;
use keting_core::district::events_subject;
use keting_link::backoff::Backoff;
use tokio::sync::watch;

use super::district_config::DistrictConfig;
use crate::clock::now;
use keting_store::{Store, StoreError, uplink};

/// How many events are in flight at once.
pub const BATCH: u32 = 256;

/// How often the outbox is looked at with no commit to wake it.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// What the uplink has done, for the people watching it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UplinkStatus {
    /// Events acknowledged since the start.
    pub sent: u64,
    /// Events waiting in the outbox, as last counted.
    pub waiting: u64,
    /// The last failure, until a send succeeds.
    pub failing: Option<String>,
}

/// Stops the downlink's task when the uplink stops.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), StoreError>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An event of a round, on its way.
enum Pending {
    /// Published; its acknowledgement to come.
    Ack(jetstream::context::PublishAckFuture),
    /// Its source was pruned: nothing to send, nothing to wait for.
    Gone,
    /// Not handed to the link.
    Unsent(String),
}

/// The sender of one centre.
pub struct Uplink {
    config: DistrictConfig,
    key: [u8; 32],
    database: PathBuf,
    status: watch::Sender<UplinkStatus>,
}

/// Why a round of sending stopped.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The district did not take an event.
    #[error("the district did not acknowledge event {id}: {why}")]
    Publish {
        /// The outbox row.
        id: u64,
        /// Why.
        why: String,
    },
    /// No link could be set up.
    #[error(transparent)]
    Link(#[from] keting_link::district_link::DistrictLinkError),
}

impl Uplink {
    /// The sender for `config`, reading the outbox of `database`.
    pub fn new(config: DistrictConfig, key: [u8; 32], database: PathBuf) -> Self {
        Self {
            config,
            key,
            database,
            status: watch::channel(UplinkStatus::default()).0,
        }
    }

    /// What it has done, as it goes.
    pub fn status(&self) -> watch::Receiver<UplinkStatus> {
        self.status.subscribe()
    }

    /// Sends until `stop` says true; wakes when `commits` moves.
    pub async fn run(
        self,
        mut commits: watch::Receiver<i64>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), UplinkError> {
        let mut store = Store::open(&self.database)?;
        let client = keting_link::district_link::connect(&self.config.login).await?;
        let downlink = tokio::spawn(super::downlink::run(
            client.clone(),
            self.config.clone(),
            self.database.clone(),
            stop.clone(),
        ));
        let _stop_downlink = AbortOnDrop(downlink);
        let mut js = jetstream::new(client);
        // A publish to a leader that died is retried after 5 s, not 10: the
        // election takes a few seconds, and the retry finds the new leader.
        js.set_timeout(Duration::from_secs(5));
        let subject = events_subject(&self.config.district, &self.config.centre);
        // Capped at 5 s: a publish is no JetStream API call and costs the cluster
        // little, while a longer cap would keep a centre waiting long after an
        // election that took seconds (full jitter still spreads a hundred).
        let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(5));
        let mut tally_due = tokio::time::Instant::now() + self.config.tally_every;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let round = match self.send_round(&mut store, &js, &subject).await {
                Ok(0) if tokio::time::Instant::now() >= tally_due => {
                    tally_due = tokio::time::Instant::now() + self.config.tally_every;
                    self.send_tally(&mut store, &js, &subject).await
                }
                other => other,
            };
            let wait = match round {
                Ok(0) => None,
                Ok(_) => {
                    backoff.reset();
                    continue;
                }
                Err(e) => {
                    let waiting = uplink::backlog(store.conn()).unwrap_or(0);
                    let was_failing = self.status.borrow().failing.is_some();
                    if !was_failing {
                        tracing::warn!(
                            "district uplink: {e}; {waiting} events wait in the outbox, retrying"
                        );
                    }
                    self.status.send_modify(|s| {
                        s.failing = Some(e.to_string());
                        s.waiting = waiting;
                    });
                    Some(backoff.next_wait())
                }
            };
            let idle =
                IDLE_POLL.min(tally_due.saturating_duration_since(tokio::time::Instant::now()));
            let sleep = tokio::time::sleep(wait.unwrap_or(idle));
            tokio::select! {
                _ = stop.changed() => {}
                _ = commits.changed(), if wait.is_none() => {}
                () = sleep => {}
            }
        }
    }

    /// The tally, if one is due: returns 0 (it clears no row).
    async fn send_tally(
        &self,
        store: &mut Store,
        js: &jetstream::Context,
        subject: &str,
    ) -> Result<usize, UplinkError> {
        let Some(tally) = uplink::tally_due(store.conn())? else {
            return Ok(0);
        };
        let event = uplink::tally_event(&self.config.centre, &tally, now());
        let publish = jetstream::message::PublishMessage::build()
            .payload(event.encode().into())
            .message_id(event.message_id());
        let why = match js.send_publish(subject.to_owned(), publish).await {
            Ok(ack) => ack.await.err().map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = why {
            return Err(UplinkError::Publish {
                id: tally.through_id,
                why,
            });
        }
        uplink::tally_reported(store.conn(), &tally)?;
        tracing::debug!(
            from = tally.from_id,
            through = tally.through_id,
            sent = tally.sent,
            "tally reported"
        );
        Ok(0)
    }

    /// One batch: returns how many rows it cleared.
    async fn send_round(
        &self,
        // `&mut`: a shared `&Store` is not `Send` across an await.
        store: &mut Store,
        js: &jetstream::Context,
        subject: &str,
    ) -> Result<usize, UplinkError> {
        let rows = uplink::unsent(store.conn(), BATCH)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut in_flight = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(event) = uplink::event(store.conn(), &self.config.centre, &self.key, row)?
            else {
                // What it pointed at was pruned: nothing to send.
                in_flight.push((row.id, Pending::Gone));
                continue;
            };
            let publish = jetstream::message::PublishMessage::build()
                .payload(event.encode().into())
                .message_id(event.message_id());
            match js.send_publish(subject.to_owned(), publish).await {
                Ok(ack) => in_flight.push((row.id, Pending::Ack(ack))),
                Err(e) => {
                    // Nothing after it may count as sent before it.
                    in_flight.push((row.id, Pending::Unsent(e.to_string())));
                    break;
                }
            }
        }
        let mut through = None;
        let mut published = 0u64;
        let mut failure = None;
        for (id, pending) in in_flight {
            let (why, counts) = match pending {
                Pending::Gone => (None, 0),
                Pending::Ack(ack) => (ack.await.err().map(|e| e.to_string()), 1),
                Pending::Unsent(why) => (Some(why), 0),
            };
            match why {
                None => {
                    through = Some(id);
                    published += counts;
                }
                Some(why) => {
                    failure = Some(UplinkError::Publish { id, why });
                    break;
                }
            }
        }
        let cleared = match through {
            Some(id) => {
                uplink::mark_sent_through(store.conn(), id, published, now())?;
                rows.iter().take_while(|r| r.id <= id).count()
            }
            None => 0,
        };
        if cleared > 0 {
            let waiting = uplink::backlog(store.conn())?;
            let recovering = self.status.borrow().failing.is_some();
            if recovering {
                tracing::info!("district uplink: sending again; {waiting} events wait");
            }
            self.status.send_modify(|s| {
                s.sent += cleared as u64;
                s.waiting = waiting;
                s.failing = None;
            });
        }
        match failure {
            Some(e) if cleared == 0 => Err(e),
            _ => Ok(cleared),
        }
    }
}
