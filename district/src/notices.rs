//! What the district sends its centres, each message to one centre's own
//! downlink subject: an announcement, an activity on the programme, a lost
//! card. A message for every centre goes to each centre the district has
//! heard from; a centre it has never heard from is refused by name and
//! nothing is sent. Each message is acknowledged by the stream (kept on a
//! majority) before the next, and recorded with who sent it.

use std::time::Duration;

use async_nats::jetstream;
use keting_core::district::{
    DISTRICT_VERSION, DownlinkKind, DownlinkMessage, downlink_subject, valid_name,
};
use tokio_postgres::Client;

use crate::database::{DatabaseError, db};
use crate::stream::{StreamError, ensure_downlink};

/// Why nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// A centre the district has not heard from.
    #[error("no centre named {0:?} has reported to the district: nothing was sent")]
    UnknownCentre(String),
    /// No centre at all.
    #[error("no centre has reported to the district yet: nothing was sent")]
    NoCentres,
    /// The message is not one a centre would take.
    #[error("not sent: {0}")]
    Invalid(String),
    /// JetStream.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// PostgreSQL.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// A fresh message id: `notice-` and 16 random hex digits.
fn new_id() -> Result<String, NoticeError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| NoticeError::Invalid(e.to_string()))?;
    Ok(format!(
        "notice-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

/// A message to send.
pub struct Notice {
    /// To these centres; every centre heard from if empty.
    pub centres: Vec<String>,
    /// What it says.
    pub message: DownlinkKind,
    /// Who sends it (the audit).
    pub by: String,
    /// When (ms).
    pub now_ms: i64,
}

/// Sends `notice` on `district`'s downlink (its stream with `replicas`
/// copies); returns to how many centres.
pub async fn send(
    js: &jetstream::Context,
    client: &mut Client,
    district: &str,
    replicas: usize,
    notice: Notice,
) -> Result<usize, NoticeError> {
    let Notice {
        centres,
        message,
        by,
        now_ms,
    } = notice;
    let by = by.as_str();
    let known: Vec<String> = client
        .query("SELECT centre FROM centres ORDER BY centre", &[])
        .await
        .map_err(db("reading the centres"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let targets: Vec<String> = if centres.is_empty() {
        if known.is_empty() {
            return Err(NoticeError::NoCentres);
        }
        known
    } else {
        for c in &centres {
            if !valid_name(c) || !known.contains(c) {
                return Err(NoticeError::UnknownCentre(c.clone()));
            }
        }
        centres
    };
    // What the centres will check, checked before anything leaves.
    let probe = DownlinkMessage {
        v: DISTRICT_VERSION,
        id: "notice-check".into(),
        centre: targets[0].clone(),
        at_ms: now_ms,
        message: message.clone(),
    };
    keting_core::district::decode_downlink(
        district,
        &targets[0],
        &downlink_subject(district, &targets[0]),
        &probe.encode(),
    )
    .map_err(|e| NoticeError::Invalid(e.to_string()))?;
    ensure_downlink(js, district, replicas, &targets).await?;
    let kind = match &message {
        DownlinkKind::Announcement { .. } => "announcement",
        DownlinkKind::Activity { .. } => "activity",
        DownlinkKind::RevokeCard { .. } => "revoke_card",
    };
    let mut sent = 0;
    for centre in &targets {
        let m = DownlinkMessage {
            v: DISTRICT_VERSION,
            id: new_id()?,
            centre: centre.clone(),
            at_ms: now_ms,
            message: message.clone(),
        };
        let body = m.encode();
        // Recorded in the transaction that commits only once the stream
        // acknowledged the message: what is recorded was sent.
        let tx = client
            .transaction()
            .await
            .map_err(db("recording a notice"))?;
        tx.execute(
            "INSERT INTO notices_sent (msg_id, centre, kind, body, sent_ms, sent_by)
             VALUES ($1, $2, $3, $4::text::jsonb, $5, $6)",
            &[
                &m.id,
                centre,
                &kind,
                &String::from_utf8_lossy(&body).into_owned(),
                &now_ms,
                &by,
            ],
        )
        .await
        .map_err(db("recording a notice"))?;
        let ack = js
            .send_publish(
                downlink_subject(district, centre),
                jetstream::message::PublishMessage::build()
                    .payload(body.into())
                    .message_id(&m.id),
            )
            .await
            .map_err(|e| StreamError(e.to_string()))?;
        tokio::time::timeout(Duration::from_secs(10), ack)
            .await
            .map_err(|_| StreamError("no acknowledgement within 10 s".into()))?
            .map_err(|e| StreamError(e.to_string()))?;
        tx.commit().await.map_err(db("recording a notice"))?;
        sent += 1;
    }
    tracing::info!(by, kind, sent, "district notice sent");
    Ok(sent)
}
