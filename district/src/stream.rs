//! The district's JetStream stream and the ingest's durable consumer: one
//! stream per district holding every centre's events, replicated to three
//! servers (RAFT: an acknowledged event is on a majority), with a window in
//! which a repeated message id is dropped.
//!
//! Replicas are set, never left to the server's default (1): a stream with
//! one replica loses what its server loses. The window (two hours) covers a
//! centre's retries after a cut; what is re-sent later (a centre that was
//! offline for days and never saw its acknowledgements) is dropped by the
//! database's key instead.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

/// How long JetStream remembers a message id.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(2 * 3600);

/// How long events stay in the stream (the database keeps them for good):
/// long enough to replay a month into a rebuilt database.
pub const STREAM_MAX_AGE: Duration = Duration::from_secs(400 * 86_400);

/// The ingest's durable consumer.
pub const INGEST_CONSUMER: &str = "district-ingest";

/// The stream's name for `district`: `KETING_<DISTRICT>`.
pub fn stream_name(district: &str) -> String {
    format!("KETING_{}", district.to_ascii_uppercase().replace('-', "_"))
}

/// The subjects the stream holds: every centre's events of `district`.
pub fn stream_subjects(district: &str) -> Vec<String> {
    vec![format!("keting.{district}.*.events")]
}

/// The stream's configuration, with `replicas` copies (3 in production).
pub fn stream_config(district: &str, replicas: usize) -> stream::Config {
    stream::Config {
        name: stream_name(district),
        subjects: stream_subjects(district),
        num_replicas: replicas,
        duplicate_window: DUPLICATE_WINDOW,
        max_age: STREAM_MAX_AGE,
        max_message_size: 8 * 1024,
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        deny_delete: true,
        ..Default::default()
    }
}

/// The ingest consumer's configuration: pulled in batches, each message
/// acknowledged on its own (explicit: acknowledging a newer one never
/// acknowledges an older one not written) only after its batch is
/// committed to PostgreSQL.
pub fn ingest_config(name: &str) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(name.to_owned()),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        max_ack_pending: 20_000,
        deliver_policy: consumer::DeliverPolicy::All,
        ..Default::default()
    }
}

/// How long a downlink message waits for a centre that is offline.
pub const DOWNLINK_MAX_AGE: Duration = Duration::from_secs(30 * 86_400);

/// The downlink stream's configuration: every centre's messages, each on
/// its own subject, `replicas` copies.
pub fn downlink_config(district: &str, replicas: usize) -> stream::Config {
    stream::Config {
        name: keting_core::district::downlink_stream(district),
        subjects: vec![format!("keting.{district}.*.downlink")],
        num_replicas: replicas,
        duplicate_window: DUPLICATE_WINDOW,
        max_age: DOWNLINK_MAX_AGE,
        max_message_size: 8 * 1024,
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        ..Default::default()
    }
}

/// A centre's durable consumer on the downlink: its own subject only,
/// each message acknowledged by the centre after it applied it.
pub fn centre_consumer_config(district: &str, centre: &str) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(keting_core::district::downlink_consumer(centre)),
        filter_subject: keting_core::district::downlink_subject(district, centre),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: Duration::from_secs(60),
        deliver_policy: consumer::DeliverPolicy::All,
        max_deliver: -1,
        ..Default::default()
    }
}

/// The downlink stream and `centres`' consumers, created if missing.
pub async fn ensure_downlink(
    js: &jetstream::Context,
    district: &str,
    replicas: usize,
    centres: &[String],
) -> Result<(), StreamError> {
    let err = |e: &dyn std::fmt::Display| StreamError(e.to_string());
    let stream = js
        .get_or_create_stream(downlink_config(district, replicas))
        .await
        .map_err(|e| err(&e))?;
    for centre in centres {
        stream
            .get_or_create_consumer(
                &keting_core::district::downlink_consumer(centre),
                centre_consumer_config(district, centre),
            )
            .await
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

/// Why the stream or its consumer could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("JetStream: {0}")]
pub struct StreamError(pub String);

/// The district's stream, created if missing (its replicas checked if not).
pub async fn ensure_stream(
    js: &jetstream::Context,
    district: &str,
    replicas: usize,
) -> Result<stream::Stream, StreamError> {
    let err = |e: &dyn std::fmt::Display| StreamError(e.to_string());
    let mut stream = js
        .get_or_create_stream(stream_config(district, replicas))
        .await
        .map_err(|e| err(&e))?;
    let info = stream.info().await.map_err(|e| err(&e))?;
    if info.config.num_replicas < replicas {
        return Err(StreamError(format!(
            "stream {} has {} replica(s), not {replicas}: update it (nats stream edit --replicas {replicas})",
            info.config.name, info.config.num_replicas
        )));
    }
    Ok(stream)
}

/// The stream leader's server name, as the cluster reports it.
pub async fn leader(
    js: &jetstream::Context,
    district: &str,
) -> Result<Option<String>, StreamError> {
    let mut stream = js
        .get_stream(stream_name(district))
        .await
        .map_err(|e| StreamError(e.to_string()))?;
    let info = stream
        .info()
        .await
        .map_err(|e| StreamError(e.to_string()))?;
    Ok(info.cluster.as_ref().and_then(|c| c.leader.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_stream_holds_every_centre_on_three_replicas() {
        let c = stream_config("futian", 3);
        assert_eq!(c.name, "KETING_FUTIAN");
        assert_eq!(c.subjects, ["keting.futian.*.events"]);
        assert_eq!(c.num_replicas, 3);
        assert_eq!(stream_name("bao-an"), "KETING_BAO_AN");
        let subject = keting_core::district::events_subject("futian", "futian-07");
        let pattern = &c.subjects[0];
        assert!(subject.starts_with(pattern.trim_end_matches("*.events")));
    }
}
