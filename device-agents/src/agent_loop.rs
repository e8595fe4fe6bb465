//! The one run loop every device agent shares: the link's events, the
//! agent's local inputs (a scanner, buttons), its timers, and shutdown, in
//! one `select!`. An agent says only what it does with each
//! ([`DeviceAgent`]); how they are waited for is written once here.
//!
//! Each turn of the loop first gives the agent its time-driven work
//! ([`DeviceAgent::tick`], which returns when it wants the next turn), then
//! waits for whichever comes first. The broker going away is logged with
//! what the agent does meanwhile (a door keeps deciding alone); it never
//! stops the loop.

use std::future::Future;

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use keting_link::connection::LinkEvent;

/// What a device agent does with what the loop hands it.
pub trait DeviceAgent: Send + Sized {
    /// Its local inputs (scans, contacts, buttons).
    type Input: Send;

    /// What the agent does while the broker is away, for the log line.
    const OFFLINE: &'static str;

    /// Once, before the first turn (the door drives its strike locked).
    fn start(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// The time-driven work of a turn (timers due, retries, the status);
    /// returns when the next turn is wanted (`None`: only on an event).
    fn tick(&mut self) -> impl Future<Output = Option<Instant>> + Send;

    /// A message on one of the agent's subscriptions.
    fn on_message(&mut self, topic: &str, payload: &[u8]) -> impl Future<Output = ()> + Send;

    /// A local input (an agent without local inputs has none to handle).
    fn on_input(&mut self, input: Self::Input) -> impl Future<Output = ()> + Send {
        let _ = input;
        async {}
    }

    /// The link is (again) connected: the status is due.
    fn on_connected(&mut self) {}

    /// Once, after the last turn (the door leaves its strike locked).
    fn stop(self) -> impl Future<Output = ()> + Send
    where
        Self: Sized,
    {
        async {}
    }
}

/// Runs `agent` until `shutdown` completes or the link ends. `inputs` may be
/// `None` for an agent without local inputs; inputs that end (a simulated
/// scanner and no lines) leave the agent running on its messages.
pub async fn run<A: DeviceAgent>(
    mut agent: A,
    mut inputs: Option<mpsc::Receiver<A::Input>>,
    mut link_events: mpsc::Receiver<LinkEvent>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    agent.start().await;
    loop {
        let wake = agent.tick().await;
        tokio::select! {
            () = &mut shutdown => break,
            input = recv(&mut inputs), if inputs.is_some() => match input {
                Some(input) => agent.on_input(input).await,
                None => inputs = None,
            },
            event = link_events.recv() => match event {
                Some(LinkEvent::Message { topic, payload }) => agent.on_message(&topic, &payload).await,
                Some(LinkEvent::Connected) => {
                    tracing::info!("connected to the broker");
                    agent.on_connected();
                }
                Some(LinkEvent::Disconnected(why)) => {
                    tracing::warn!("broker unreachable or refused the login ({why}); {}", A::OFFLINE);
                }
                Some(LinkEvent::Drained) => {}
                None => break,
            },
            () = sleep_until_or_never(wake) => {}
        }
    }
    agent.stop().await;
}

async fn recv<T>(inputs: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match inputs {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
