//! The drinks machine's commissioning self-test (`keting-provision device
//! check NAME [--test-vend SLOT]`): the controller answers, its service
//! door is closed and it is in order, its stock is sensed, no vend is in
//! doubt, and on request one test vend from a chosen slot, recorded in the
//! vend log like any other so a lost answer is settled before the next.

use keting_core::messages::VendOutcome;
use keting_core::self_test::SelfCheck;
use keting_hardware::vending::{Activity, VendingController};

use super::VendingAgent;
use keting_link::clock::now;

impl VendingAgent {
    pub(super) async fn self_test(&mut self, test_vend: Option<u8>) -> Vec<SelfCheck> {
        tracing::info!(?test_vend, "self-test");
        let bus = format!("{} unit {}", self.setup.bus, self.setup.unit);
        let mut checks = Vec::new();
        let state = match self.machine().await {
            Ok(m) => m.state().await,
            Err(e) => Err(e),
        };
        let state = match state {
            Ok(s) => {
                checks.push(SelfCheck::pass(
                    format!("vending controller ({bus})"),
                    format!("answers: {}, {} slots", s.activity.as_str(), s.slots),
                ));
                s
            }
            Err(e) => {
                self.lost(&e);
                checks.push(SelfCheck::fail(
                    format!("vending controller ({bus})"),
                    e.to_string(),
                    "check the machine's power, its RS-485 or network cable and the unit id in agent.toml",
                ));
                return checks;
            }
        };
        checks.push(if state.door_open {
            SelfCheck::fail(
                "service door",
                "open",
                "close and lock the machine's service door",
            )
        } else {
            SelfCheck::pass("service door", "closed")
        });
        checks.push(if state.activity == Activity::OutOfOrder {
            SelfCheck::fail(
                "in order",
                "the machine says it is out of order",
                "see the machine's own display; clear its fault, then check again",
            )
        } else {
            SelfCheck::pass("in order", state.activity.as_str())
        });
        let mut stock = Vec::new();
        let mut sensed = true;
        for slot in 1..=state.slots.min(60) {
            let read = match self.machine().await {
                Ok(m) => m.stock(slot).await,
                Err(e) => Err(e),
            };
            match read {
                Ok(Some(n)) => stock.push(n.to_string()),
                Ok(None) => {
                    sensed = false;
                    break;
                }
                Err(e) => {
                    self.lost(&e);
                    sensed = false;
                    break;
                }
            }
        }
        checks.push(if sensed {
            SelfCheck::pass("stock sensed", format!("slots 1 to {}: {}", stock.len(), stock.join(" ")))
        } else {
            SelfCheck::fail(
                "stock sensed",
                "the machine does not report its stock",
                "check the slots' stock sensors (or the machine's stock setting); the kiosk then cannot show what is left",
            )
        });
        let in_doubt = self
            .setup
            .log
            .in_doubt()
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        checks.push(match in_doubt {
            0 => SelfCheck::pass("vends in doubt", "none"),
            usize::MAX => SelfCheck::fail(
                "vends in doubt",
                "the vend log cannot be read",
                "check the agent's state directory (disk full, permissions)",
            ),
            n => SelfCheck::fail(
                "vends in doubt",
                format!("{n} vend(s) whose outcome is not known yet"),
                "leave the agent running with the machine answering: they settle by themselves",
            ),
        });
        if let Some(slot) = test_vend {
            checks.push(self.test_vend(slot, state.slots, in_doubt == 0).await);
        }
        checks
    }

    /// One drink from `slot`, for nobody: logged under a `self-test-` id.
    async fn test_vend(&mut self, slot: u8, slots: u8, nothing_in_doubt: bool) -> SelfCheck {
        let check = format!("test vend (slot {slot})");
        if slot == 0 || slot > slots {
            return SelfCheck::fail(
                check,
                format!("the machine has slots 1 to {slots}"),
                "give a slot the machine has",
            );
        }
        if !nothing_in_doubt {
            return SelfCheck::fail(
                check,
                "not tried: an earlier vend is still in doubt",
                "wait for it to settle, then check again",
            );
        }
        let id = format!("self-test-{}", now().as_unix_millis());
        let request = match self.setup.log.start(&id, slot, now().as_unix_millis()) {
            Ok(r) => r,
            Err(e) => {
                return SelfCheck::fail(
                    check,
                    format!("the vend log cannot be written: {e}"),
                    "check the agent's state directory (disk full, permissions)",
                );
            }
        };
        let outcome = self.drive(request, slot).await;
        let outcome = self.finish(&id, outcome);
        self.status_due = tokio::time::Instant::now();
        tracing::info!(slot, outcome = outcome.as_str(), "test vend");
        match outcome {
            VendOutcome::Dispensed => {
                SelfCheck::pass(check, "a drink dropped: take it out of the tray")
            }
            VendOutcome::Empty => SelfCheck::fail(
                check,
                "the slot is empty",
                "fill the slot (and restock it at the kiosk)",
            ),
            VendOutcome::Jammed => SelfCheck::fail(
                check,
                "the drink jammed",
                "open the machine, free the spiral, then check again",
            ),
            VendOutcome::DoorOpen => {
                SelfCheck::fail(check, "the service door is open", "close the service door")
            }
            VendOutcome::InDoubt => SelfCheck::fail(
                check,
                "no answer in time: the outcome is not known",
                "look in the tray; the agent settles it by itself",
            ),
            other => SelfCheck::fail(check, other.as_str(), "see the machine's own display"),
        }
    }
}
