//! The one run loop every device agent shares: the link's events, the
//! agent's local inputs (a scanner, buttons), its timers, and shutdown, in
//! one `select!`. An agent says only what it does with each
//! ([`DeviceAgent`]); how they are waited for is written once here.
//!
//! Each turn of the loop first gives the agent its time-driven work
//! ([`DeviceAgent::tick`], which returns when it wants the next turn), then
//! waits for whichever comes first. The broker going away is logged with
//! what the agent does meanwhile (a door keeps deciding alone); it never
//! stops the loop. Under systemd ([`Supervision::Systemd`]) the loop says
//! READY once the agent has started and feeds the watchdog on every turn,
//! waking at least as often as the watchdog needs: a hung loop is
//! restarted.
//!
//! The loop also keeps every agent's clock against the centre's
//! ([`keting_link::site_clock`]): it asks on each connection and then
//! every few minutes, and reports a clock gone wrong (or right again).

use std::future::Future;

use keting_link::sd_notify::{self, Watchdog};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use keting_core::messages::Command;
use keting_link::connection::{LinkEvent, LinkHandle};
use keting_link::device_topics::{DeviceTopics, Incoming};

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

    /// The agent's own topics and its link (for the clock's asks and events).
    fn topics_and_link(&mut self) -> (&mut DeviceTopics, &LinkHandle);

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

/// An agent that takes the centre's commands and has no roster, scanner or
/// contact of its own (the piano bank, the robot, the drinks machine).
pub trait CommandTaker: DeviceAgent {
    /// The centre (re)appeared: its status is due again.
    fn republish_status(&mut self);

    /// Carries out an admitted command (its deadline checked by
    /// [`DeviceTopics::accept`] or [`DeviceTopics::deadline_passed`]) and
    /// acks it.
    fn on_command(&mut self, cmd: Command) -> impl Future<Output = ()> + Send;
}

/// What a [`CommandTaker`] does with a message on its subscriptions,
/// written once: the centre's online flag, a command admitted by the guard,
/// a command refused (reported), anything else ignored.
pub async fn take_commands<A: CommandTaker>(agent: &mut A, topic: &str, payload: &[u8]) {
    let incoming = agent.topics_and_link().0.incoming(topic, payload);
    match incoming {
        Incoming::ControllerOnline => agent.republish_status(),
        Incoming::Command(cmd) => agent.on_command(cmd).await,
        Incoming::Refused(why) => {
            let (topics, link) = agent.topics_and_link();
            topics.refused(link, &why).await;
        }
        Incoming::Roster(_)
        | Incoming::SimScan(_)
        | Incoming::SimExitScan(_)
        | Incoming::SimContact(_)
        | Incoming::SimLine(..)
        | Incoming::Other => {}
    }
}

/// Who watches the agent's process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Supervision {
    /// Nobody (a test, or the centre's demo running agents in its own
    /// process, whose readiness and watchdog are the centre's).
    #[default]
    None,
    /// systemd: `READY=1` once the agent has started (the door's strike
    /// driven locked), `WATCHDOG=1` from the loop itself, `STOPPING=1`.
    Systemd,
}

/// Runs `agent` until `shutdown` completes or the link ends. `inputs` may be
/// `None` for an agent without local inputs; inputs that end (a simulated
/// scanner and no lines) leave the agent running on its messages.
pub async fn run<A: DeviceAgent>(
    mut agent: A,
    mut inputs: Option<mpsc::Receiver<A::Input>>,
    mut link_events: mpsc::Receiver<LinkEvent>,
    supervision: Supervision,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    agent.start().await;
    let mut watchdog = match supervision {
        Supervision::Systemd => {
            sd_notify::tell("READY=1");
            Watchdog::from_env()
        }
        Supervision::None => Watchdog::every(None),
    };
    loop {
        watchdog.feed();
        let clock_wake = {
            let (topics, link) = agent.topics_and_link();
            let link = link.clone();
            topics.clock_tick(&link).await
        };
        let wake = match (agent.tick().await, watchdog.next()) {
            (Some(a), Some(w)) => a.min(w.into()),
            (a, w) => a.or(w.map(Instant::from)).unwrap_or(clock_wake),
        }
        .min(clock_wake);
        let wake = Some(wake);
        tokio::select! {
            () = &mut shutdown => break,
            input = recv(&mut inputs), if inputs.is_some() => match input {
                Some(input) => agent.on_input(input).await,
                None => inputs = None,
            },
            event = link_events.recv() => match event {
                Some(LinkEvent::Message { topic, payload, .. }) => agent.on_message(&topic, &payload).await,
                Some(LinkEvent::Connected) => {
                    tracing::info!("connected to the broker");
                    agent.topics_and_link().0.clock_mut().reconnected();
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
    if supervision == Supervision::Systemd {
        sd_notify::tell("STOPPING=1");
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
