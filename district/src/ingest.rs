//! The ingest: the district's stream, through its durable consumer, into
//! PostgreSQL, a batch at a time, each message acknowledged on its own only
//! after the batch is committed (explicit acknowledgement: acknowledging a
//! newer message never acknowledges an older one that was not written). A
//! crash between the commit and the acknowledgement redelivers the batch,
//! which the database's keys then ignore: every event is in the database
//! exactly once. A batch that could not be written is handed back (a
//! negative acknowledgement) for redelivery; a PostgreSQL connection that
//! closed (the server restarted) is made again, with backoff, by the same
//! process. Each round that completes feeds systemd's watchdog, so an
//! ingest that stops making progress is restarted.
//!
//! A message that is not a centre's own event (another centre's subject in
//! its body, a body that does not decode, a wrong message id) is refused:
//! logged, kept in the `refusals` table, acknowledged with its batch, so
//! the stream keeps flowing.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures_util::StreamExt;
use keting_core::district::decode;
use keting_link::backoff::Backoff;
use tokio::sync::watch;

use crate::database::{self, BatchOutcome, Incoming, Refused};
use crate::stream::{self, StreamError};

/// The most messages a batch holds.
pub const BATCH: usize = 500;

/// What the ingest has done since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestStatus {
    /// Events written.
    pub new: u64,
    /// Repeats ignored.
    pub repeats: u64,
    /// Messages refused.
    pub refused: u64,
    /// Batches committed.
    pub batches: u64,
}

/// How the ingest runs.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    /// The district.
    pub district: String,
    /// The district's offset from UTC, in minutes (China: 480).
    pub offset_minutes: i32,
    /// The consumer's name ([`stream::INGEST_CONSUMER`]; another name
    /// replays the whole stream from its start).
    pub consumer: String,
    /// Stop once the consumer has nothing pending (a replay).
    pub until_drained: bool,
    /// Read only this subject (one centre's events: a repair).
    pub filter_subject: Option<String>,
}

/// Why the ingest stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// JetStream.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// PostgreSQL.
    #[error(transparent)]
    Database(#[from] database::DatabaseError),
}

async fn consumer(
    js: &jetstream::Context,
    config: &IngestConfig,
) -> Result<PullConsumer, StreamError> {
    let stream = js
        .get_stream(stream::stream_name(&config.district))
        .await
        .map_err(|e| StreamError(e.to_string()))?;
    let mut wanted = stream::ingest_config(&config.consumer);
    if let Some(subject) = &config.filter_subject {
        wanted.filter_subject = subject.clone();
        // A repair that died leaves nothing behind for long.
        wanted.inactive_threshold = Duration::from_secs(300);
    }
    let c = stream
        .get_or_create_consumer(&config.consumer, wanted)
        .await
        .map_err(|e| StreamError(e.to_string()))?;
    explicit(c, stream, &config.consumer).await
}

/// The consumer as `ingest_config` makes it: one an older ingest made with
/// all-up-to acknowledgement (which can acknowledge an event never
/// written) is made again with explicit acknowledgement, from just after
/// what it had acknowledged.
async fn explicit(
    c: PullConsumer,
    stream: jetstream::stream::Stream,
    name: &str,
) -> Result<PullConsumer, StreamError> {
    if c.cached_info().config.ack_policy == jetstream::consumer::AckPolicy::Explicit {
        return Ok(c);
    }
    let floor = c.cached_info().ack_floor.stream_sequence;
    tracing::warn!(
        consumer = name,
        from_stream_sequence = floor + 1,
        "the consumer acknowledged all-up-to: made again with explicit acknowledgement"
    );
    stream
        .delete_consumer(name)
        .await
        .map_err(|e| StreamError(e.to_string()))?;
    let mut again = stream::ingest_config(name);
    again.deliver_policy = jetstream::consumer::DeliverPolicy::ByStartSequence {
        start_sequence: floor + 1,
    };
    stream
        .create_consumer(again)
        .await
        .map_err(|e| StreamError(e.to_string()))
}

/// Decodes what a batch brought.
fn sort_out(district: &str, messages: &[jetstream::Message]) -> (Vec<Incoming>, Vec<Refused>) {
    let mut incoming = Vec::with_capacity(messages.len());
    let mut refused = Vec::new();
    for m in messages {
        let stream_seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
        let msg_id = m
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        match decode(district, m.subject.as_str(), &msg_id, &m.payload) {
            Ok(event) => incoming.push(Incoming {
                event,
                body: m.payload.to_vec(),
                stream_seq,
            }),
            Err(why) => {
                tracing::warn!(
                    subject = m.subject.as_str(),
                    msg_id,
                    stream_seq,
                    "refused: {why}"
                );
                refused.push(Refused {
                    subject: m.subject.to_string(),
                    msg_id,
                    stream_seq,
                    reason: why.to_string(),
                });
            }
        }
    }
    (incoming, refused)
}

/// Runs until `stop` (or, with `until_drained`, until nothing is pending).
pub async fn run(
    js: jetstream::Context,
    db: tokio_postgres::Client,
    postgres: &str,
    config: IngestConfig,
    status: watch::Sender<IngestStatus>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), IngestError> {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut messages_in: Option<async_nats::jetstream::consumer::pull::Stream> = None;
    let mut pull: Option<PullConsumer> = None;
    let mut failing = false;
    let mut db = Some(db);
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let round = async {
            if messages_in.is_none() {
                let c = consumer(&js, &config).await?;
                // A continuous pull: the server sends as messages come, so an
                // event waits for no batch to fill.
                messages_in = Some(
                    c.stream()
                        .max_messages_per_batch(BATCH)
                        .heartbeat(Duration::from_secs(5))
                        .expires(Duration::from_secs(30))
                        .messages()
                        .await
                        .map_err(|e| StreamError(e.to_string()))?,
                );
                pull = Some(c);
            }
            let Some(incoming_messages) = messages_in.as_mut() else {
                return Ok::<_, IngestError>((BatchOutcome::default(), false));
            };
            // The first message waits up to a second; the batch then takes
            // what follows within 20 ms, up to BATCH.
            let mut messages = Vec::new();
            let mut wait = Duration::from_secs(1);
            while messages.len() < BATCH {
                match tokio::time::timeout(wait, incoming_messages.next()).await {
                    Ok(Some(Ok(m))) => messages.push(m),
                    Ok(Some(Err(e))) => {
                        if messages.is_empty() {
                            return Err(StreamError(e.to_string()).into());
                        }
                        break;
                    }
                    Ok(None) => {
                        if messages.is_empty() {
                            return Err(StreamError("the consumer's stream ended".into()).into());
                        }
                        break;
                    }
                    Err(_) => break,
                }
                wait = Duration::from_millis(20);
            }
            if messages.is_empty() {
                let pending = if config.until_drained {
                    match pull.as_mut() {
                        Some(c) => c
                            .info()
                            .await
                            .map(|i| i.num_pending + i.num_ack_pending as u64)
                            .map_err(|e| StreamError(e.to_string()))?,
                        None => 1,
                    }
                } else {
                    1
                };
                return Ok((BatchOutcome::default(), pending == 0));
            }
            let (incoming, refused) = sort_out(&config.district, &messages);
            let written = async {
                let client = match db.take() {
                    Some(c) if !c.is_closed() => db.insert(c),
                    _ => {
                        let c = database::connect(postgres).await?;
                        tracing::info!("PostgreSQL connected again");
                        db.insert(c)
                    }
                };
                database::ingest(
                    client,
                    &incoming,
                    &refused,
                    config.offset_minutes,
                    keting_link::clock::now().as_unix_millis(),
                )
                .await
            }
            .await;
            let outcome = match written {
                Ok(o) => o,
                Err(e) => {
                    // Not written: back to the stream now, for whoever pulls next.
                    for m in &messages {
                        let _ = m.ack_with(jetstream::AckKind::Nak(None)).await;
                    }
                    return Err(e.into());
                }
            };
            // Committed: now, and only now, acknowledge each one.
            for m in &messages {
                m.ack().await.map_err(|e| StreamError(e.to_string()))?;
            }
            Ok((outcome, false))
        };
        match round.await {
            Ok((outcome, drained)) => {
                if failing {
                    tracing::info!("ingest running again");
                    failing = false;
                }
                backoff.reset();
                keting_link::sd_notify::tell("WATCHDOG=1");
                if outcome != BatchOutcome::default() {
                    status.send_modify(|s| {
                        s.new += outcome.new as u64;
                        s.repeats += outcome.repeats as u64;
                        s.refused += outcome.refused as u64;
                        s.batches += 1;
                    });
                }
                if drained {
                    return Ok(());
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!("ingest: {e}; retrying");
                    failing = true;
                }
                messages_in = None;
                pull = None;
                let wait = backoff.next_wait();
                tokio::select! {
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}
