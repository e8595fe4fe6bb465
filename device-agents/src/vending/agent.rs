//! The vending agent's loop.
//!
//! A `vend` command's id is the redemption's id. Before the machine is told
//! anything, the id and a fresh request number go into the [`VendLog`]; the
//! machine itself ignores a repeated request number. The outcome is logged,
//! then acked. A vend whose outcome is in doubt (the machine stopped
//! answering, or is still vending at the limit) stays `started` in the log,
//! and no new vend begins until it is settled: the machine only remembers
//! its last request, so settling the old one first is what makes its answer
//! trustworthy. A `vend_query` for an id never seen records it as
//! cancelled: its vend, arriving late, is refused.

use std::future::Future;
use std::time::Duration;

use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{
    Action, Command, MessageId, Outcome, PROTOCOL_VERSION, VendOutcome, VendingStatus,
};
use keting_hardware::bus::BusAddress;
use keting_hardware::vending::{
    DEFAULT_TIMEOUT, ModbusVending, VendResult, VendingController, VendingError, await_result,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

mod self_test;

use super::vend_log::{Entry, VendLog};
use crate::agent_loop::DeviceAgent;
use keting_link::clock::now;
use keting_link::connection::{LinkEvent, LinkHandle};
use keting_link::device_topics::DeviceTopics;

/// The machine's state is read and published this often.
const STATUS_EVERY: Duration = Duration::from_secs(30);

/// Everything a vending agent needs.
pub struct VendingSetup {
    /// The site.
    pub site: SiteId,
    /// This machine.
    pub device: DeviceId,
    /// Where the controller is.
    pub bus: BusAddress,
    /// Its unit id.
    pub unit: u8,
    /// How long a vend may take before its outcome is in doubt.
    pub vend_limit: Duration,
    /// The durable record of redemptions.
    pub log: VendLog,
}

/// The vending agent.
pub struct VendingAgent {
    setup: VendingSetup,
    link: LinkHandle,
    topics: DeviceTopics,
    machine: Option<ModbusVending>,
    status_due: Instant,
}

fn outcome_of(r: VendResult) -> VendOutcome {
    match r {
        VendResult::Dispensed => VendOutcome::Dispensed,
        VendResult::Jammed => VendOutcome::Jammed,
        VendResult::Empty => VendOutcome::Empty,
        VendResult::DoorOpen => VendOutcome::DoorOpen,
        VendResult::Fault => VendOutcome::Fault,
        VendResult::NoSuchSlot => VendOutcome::NoSuchSlot,
        VendResult::Vending => VendOutcome::InDoubt,
    }
}

impl VendingAgent {
    /// A vending agent publishing through `link`.
    pub fn new(setup: VendingSetup, topics: DeviceTopics, link: LinkHandle) -> Self {
        Self {
            setup,
            link,
            topics,
            machine: None,
            status_due: Instant::now(),
        }
    }

    /// Runs until `shutdown` completes or the link ends.
    pub async fn run(
        self,
        link_events: mpsc::Receiver<LinkEvent>,
        supervision: crate::agent_loop::Supervision,
        shutdown: impl Future<Output = ()>,
    ) {
        crate::agent_loop::run(self, None, link_events, supervision, shutdown).await;
    }

    async fn handle_command(&mut self, cmd: Command) {
        let outcome = match cmd.action {
            Action::Vend { slot } => {
                let result = self.vend(&cmd.id, slot, cmd.deadline_ms).await;
                Outcome::Vended {
                    redemption: cmd.id.clone(),
                    result,
                }
            }
            Action::VendQuery { redemption } => {
                let result = self.query(&redemption).await;
                Outcome::Vended { redemption, result }
            }
            Action::Republish => {
                self.status_due = Instant::now();
                Outcome::Done
            }
            Action::SelfTest { test_vend } => Outcome::SelfTested {
                checks: self.self_test(test_vend).await,
            },
            Action::Unlock { .. }
            | Action::SessionStart { .. }
            | Action::SessionStop { .. }
            | Action::Show { .. }
            | Action::ResetRelease => Outcome::Refused {
                reason: "a vending machine does not do that".into(),
            },
        };
        self.topics.ack(&self.link, cmd.id, outcome).await;
    }

    /// Writes an outcome down; a log that cannot be written makes the
    /// outcome doubtful (it will be asked again).
    fn finish(&self, redemption: &str, outcome: VendOutcome) -> VendOutcome {
        if !outcome.is_final() {
            return outcome;
        }
        match self
            .setup
            .log
            .finish(redemption, outcome, now().as_unix_millis())
        {
            Ok(()) => outcome,
            Err(e) => {
                tracing::error!("{e}");
                VendOutcome::InDoubt
            }
        }
    }

    async fn vend(&mut self, redemption: &MessageId, slot: u8, deadline_ms: i64) -> VendOutcome {
        let id = redemption.as_str();
        match self.setup.log.get(id) {
            Ok(Some(Entry::Done(o))) => return o,
            Ok(Some(Entry::Started { request, .. })) => {
                let o = self.settle(request).await;
                return self.finish(id, o);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!("{e}: not vending");
                return VendOutcome::InDoubt;
            }
        }
        if self.topics.deadline_passed(deadline_ms) {
            tracing::info!(
                redemption = id,
                "vend arrived after its deadline: not vended"
            );
            return self.finish(id, VendOutcome::NotVended);
        }
        // The machine remembers one request: settle any in doubt first.
        if !self.settle_all_in_doubt().await {
            tracing::warn!(
                redemption = id,
                "an earlier vend is still in doubt: not vending"
            );
            return self.finish(id, VendOutcome::NotVended);
        }
        let request = match self.setup.log.start(id, slot, now().as_unix_millis()) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("{e}: not vending");
                return self.finish(id, VendOutcome::NotVended);
            }
        };
        tracing::info!(redemption = id, slot, request, "vending");
        let o = self.drive(request, slot).await;
        self.status_due = Instant::now();
        tracing::info!(redemption = id, outcome = o.as_str(), "vend outcome");
        self.finish(id, o)
    }

    async fn query(&mut self, redemption: &MessageId) -> VendOutcome {
        let id = redemption.as_str();
        match self.setup.log.get(id) {
            Ok(Some(Entry::Done(o))) => o,
            Ok(Some(Entry::Started { request, .. })) => {
                let o = self.settle(request).await;
                self.finish(id, o)
            }
            // Never seen: cancelled, so its vend can never happen.
            Ok(None) => self.finish(id, VendOutcome::NotVended),
            Err(e) => {
                tracing::error!("{e}");
                VendOutcome::InDoubt
            }
        }
    }

    async fn machine(&mut self) -> Result<&mut ModbusVending, VendingError> {
        let m = match self.machine.take() {
            Some(m) => m,
            None => {
                ModbusVending::connect(&self.setup.bus, self.setup.unit, DEFAULT_TIMEOUT).await?
            }
        };
        Ok(self.machine.insert(m))
    }

    fn lost(&mut self, e: &VendingError) {
        if e.is_unreachable() {
            self.machine = None;
        }
    }

    /// Tells the machine to vend and waits for the outcome.
    async fn drive(&mut self, request: u32, slot: u8) -> VendOutcome {
        let limit = self.setup.vend_limit;
        let m = match self.machine().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("{e}");
                self.lost(&e);
                // Never written to the machine: settled as not vended later.
                return VendOutcome::InDoubt;
            }
        };
        if let Err(e) = m.start_vend(request, slot).await {
            tracing::warn!("{e}");
            let refused = !e.is_unreachable();
            self.lost(&e);
            // An exception: the machine did not take it. Otherwise in doubt.
            return if refused {
                VendOutcome::NotVended
            } else {
                VendOutcome::InDoubt
            };
        }
        match await_result(m, request, limit).await {
            Ok(r) => outcome_of(r),
            Err(e) => {
                tracing::warn!("{e}");
                self.lost(&e);
                VendOutcome::InDoubt
            }
        }
    }

    /// What became of `request`, asking the machine.
    async fn settle(&mut self, request: u32) -> VendOutcome {
        let limit = self.setup.vend_limit;
        let m = match self.machine().await {
            Ok(m) => m,
            Err(e) => {
                self.lost(&e);
                return VendOutcome::InDoubt;
            }
        };
        let result = match m.last().await {
            Ok((last, _)) if last != request => return VendOutcome::NotVended,
            Ok((_, Some(r))) if r != VendResult::Vending => Ok(r),
            Ok(_) => await_result(m, request, limit).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => outcome_of(r),
            Err(e) => {
                self.lost(&e);
                VendOutcome::InDoubt
            }
        }
    }

    /// Settles every vend in doubt; `false` if one stays in doubt.
    async fn settle_all_in_doubt(&mut self) -> bool {
        let open = match self.setup.log.in_doubt() {
            Ok(open) => open,
            Err(e) => {
                tracing::error!("{e}");
                return false;
            }
        };
        for (redemption, request) in open {
            let o = self.settle(request).await;
            if self.finish(&redemption, o) == VendOutcome::InDoubt {
                return false;
            }
            tracing::info!(redemption, outcome = o.as_str(), "vend in doubt settled");
        }
        true
    }

    /// Reads the machine's state and publishes it if it changed or is due.
    async fn refresh_status(&mut self) {
        self.status_due = Instant::now() + STATUS_EVERY;
        let status = match self.read_status().await {
            Ok(s) => s,
            Err(e) => {
                self.lost(&e);
                VendingStatus {
                    v: PROTOCOL_VERSION,
                    state: "unavailable".into(),
                    door_open: false,
                    stock: Vec::new(),
                    at_ms: None,
                }
            }
        };
        // Published every time: the status is also the heartbeat ("last seen").
        let stamped = VendingStatus {
            at_ms: Some(now().as_unix_millis()),
            ..status
        };
        self.topics.status(&self.link, &stamped).await;
    }

    async fn read_status(&mut self) -> Result<VendingStatus, VendingError> {
        let m = self.machine().await?;
        let state = m.state().await?;
        let mut stock = Vec::new();
        for slot in 1..=state.slots.min(60) {
            match m.stock(slot).await? {
                Some(n) => stock.push(n),
                None => {
                    stock.clear();
                    break;
                }
            }
        }
        Ok(VendingStatus {
            v: PROTOCOL_VERSION,
            state: state.activity.as_str().into(),
            door_open: state.door_open,
            stock,
            at_ms: None,
        })
    }
}

impl crate::agent_loop::CommandTaker for VendingAgent {
    fn republish_status(&mut self) {
        self.status_due = Instant::now();
    }

    async fn on_command(&mut self, cmd: Command) {
        self.handle_command(cmd).await;
    }
}

impl DeviceAgent for VendingAgent {
    type Input = std::convert::Infallible;
    const OFFLINE: &'static str = "outcomes wait in the outbox";

    fn topics_and_link(&mut self) -> (&mut DeviceTopics, &LinkHandle) {
        (&mut self.topics, &self.link)
    }

    async fn tick(&mut self) -> Option<Instant> {
        if Instant::now() >= self.status_due {
            self.refresh_status().await;
        }
        Some(self.status_due)
    }

    async fn on_message(&mut self, topic: &str, payload: &[u8]) {
        crate::agent_loop::take_commands(self, topic, payload).await;
    }

    fn on_connected(&mut self) {
        self.status_due = Instant::now();
    }
}
