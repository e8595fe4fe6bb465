//! The first step of a short, one-off MQTT session (a claim, a
//! technician's check): wait for the broker's verdict on the login, with a
//! time limit. Long-lived links use [`crate::connection`] instead.

use std::time::Duration;

use rumqttc::{ConnectReturnCode, Event, EventLoop, Packet};

/// How the login went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginVerdict {
    /// Accepted.
    Accepted,
    /// The broker answered no (bad credentials, not authorised).
    Refused(String),
    /// No broker answered: the connection failed or timed out.
    Unreachable(String),
}

/// Polls `events` until the CONNACK (or an error, or `limit`).
pub async fn wait_for_login(events: &mut EventLoop, limit: Duration) -> LoginVerdict {
    let answer = tokio::time::timeout(limit, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(a))) => return Ok(a.code),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    match answer {
        Ok(Ok(ConnectReturnCode::Success)) => LoginVerdict::Accepted,
        Ok(Ok(code)) => LoginVerdict::Refused(format!("{code:?}")),
        // rumqttc reports a refused CONNACK as an error on some paths.
        Ok(Err(rumqttc::ConnectionError::ConnectionRefused(code))) => {
            LoginVerdict::Refused(format!("{code:?}"))
        }
        Ok(Err(e)) => LoginVerdict::Unreachable(e.to_string()),
        Err(_) => LoginVerdict::Unreachable(format!("no answer within {limit:?}")),
    }
}
