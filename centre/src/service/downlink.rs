//! The district downlink's receiver: the centre's own durable consumer on
//! the district's downlink stream, pulled with JetStream's `MSG.NEXT`
//! request (no JetStream API call: a hundred centres reconnecting at once
//! ask the cluster's metadata leader nothing). Each message is applied once
//! in a transaction (`store::district_notices`, by its id) and only then
//! acknowledged, so a crash between the two applies nothing twice; a
//! message that is not this centre's is refused, logged and terminated
//! (`+TERM`) so the consumer moves on.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use keting_core::district::{decode_downlink, downlink_consumer, downlink_stream};
use keting_link::backoff::Backoff;
use tokio::sync::watch;

use super::district_config::DistrictConfig;
use crate::clock::now;
use keting_store::{Store, StoreError, district_notices};

/// How many messages one pull asks for.
const PULL_BATCH: usize = 20;
/// How long one pull waits on the server for messages.
const PULL_EXPIRES: Duration = Duration::from_secs(20);

/// Receives until `stop` says true.
pub async fn run(
    client: async_nats::Client,
    config: DistrictConfig,
    database: PathBuf,
    mut stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let mut store = Store::open(&database)?;
    let next = format!(
        "$JS.API.CONSUMER.MSG.NEXT.{}.{}",
        downlink_stream(&config.district),
        downlink_consumer(&config.centre)
    );
    let request = format!(
        "{{\"batch\":{PULL_BATCH},\"expires\":{}}}",
        PULL_EXPIRES.as_nanos()
    );
    // Capped at 10 s: until the district creates this centre's consumer
    // (with its first message) each ask is answered "no responders" at
    // once, cheaply; a message then waits at most that long.
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let inbox = client.new_inbox();
        let mut replies = match client.subscribe(inbox.clone()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("district downlink: cannot subscribe: {e}");
                tokio::select! {
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(backoff.next_wait()) => {}
                }
                continue;
            }
        };
        let asked = client
            .publish_with_reply(next.clone(), inbox, request.clone().into())
            .await;
        let mut got = 0;
        let mut refused_at_once = asked.is_err();
        let deadline = tokio::time::sleep(PULL_EXPIRES + Duration::from_secs(5));
        tokio::pin!(deadline);
        while asked.is_ok() && got < PULL_BATCH {
            tokio::select! {
                _ = stop.changed() => return Ok(()),
                () = &mut deadline => break,
                m = replies.next() => {
                    let Some(m) = m else { break };
                    if let Some(status) = m.status {
                        // 408: the pull expired; anything else (no such
                        // consumer yet, a leader change): ask again later.
                        refused_at_once = got == 0 && status != async_nats::StatusCode::TIMEOUT;
                        break;
                    }
                    got += 1;
                    receive(&mut store, &client, &config, m).await?;
                }
            }
        }
        let _ = replies.unsubscribe().await;
        if refused_at_once {
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(backoff.next_wait()) => {}
            }
        } else {
            backoff.reset();
        }
    }
}

/// Applies one message (once), then acknowledges it; refuses what is not
/// this centre's.
async fn receive(
    store: &mut Store,
    client: &async_nats::Client,
    config: &DistrictConfig,
    m: async_nats::Message,
) -> Result<(), StoreError> {
    let verdict = match decode_downlink(
        &config.district,
        &config.centre,
        m.subject.as_str(),
        &m.payload,
    ) {
        Ok(message) => {
            let t = now();
            let new = store.write(|tx| district_notices::apply(tx, &message, t))?;
            if new {
                tracing::info!(id = message.id, "district notice applied");
            }
            "+ACK"
        }
        Err(why) => {
            tracing::warn!(
                subject = m.subject.as_str(),
                "district downlink refused: {why}"
            );
            "+TERM"
        }
    };
    if let Some(reply) = m.reply
        && let Err(e) = client.publish(reply, verdict.into()).await
    {
        // Not acknowledged: it comes again, and applies nothing twice.
        tracing::debug!("district downlink: cannot acknowledge: {e}");
    }
    Ok(())
}
