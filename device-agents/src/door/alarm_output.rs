//! The door's alarm output: a siren or a light on a relay-board channel,
//! on while the door is forced or held open, off when it is closed again
//! (and when the agent stops). Optional (`door.alarm_output` in
//! `agent.toml`); every switch is read back, and a write that fails is
//! tried again at the loop's next turn.

use keting_core::self_test::SelfCheck;
use keting_hardware::bus::BusAddress;
use keting_hardware::relay_board::{ModbusRelayBoard, RelayError};

use super::strike::MODBUS_TIMEOUT;

/// How long the self-test sounds the siren.
const SELF_TEST_BLIP: std::time::Duration = std::time::Duration::from_millis(300);

/// A siren or light on a relay channel.
pub struct AlarmOutput {
    bus: BusAddress,
    unit: u8,
    channel: u8,
    board: Option<ModbusRelayBoard>,
    /// What the relay was last confirmed at.
    confirmed: Option<bool>,
}

impl std::fmt::Debug for AlarmOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlarmOutput({} ch {})", self.bus, self.channel)
    }
}

impl AlarmOutput {
    /// The output on `channel` of the board at `bus`; connects on first use.
    pub fn relay(bus: BusAddress, unit: u8, channel: u8) -> Self {
        Self {
            bus,
            unit,
            channel,
            board: None,
            confirmed: None,
        }
    }

    /// What it is, for people.
    pub fn describe(&self) -> String {
        format!("{} channel {}", self.bus, self.channel)
    }

    /// Switches it to `on` unless it is already confirmed there.
    pub async fn want(&mut self, on: bool) -> Result<(), RelayError> {
        if self.confirmed == Some(on) {
            return Ok(());
        }
        self.switch(on).await
    }

    async fn switch(&mut self, on: bool) -> Result<(), RelayError> {
        self.confirmed = None;
        if self.board.is_none() {
            self.board =
                Some(ModbusRelayBoard::connect(&self.bus, self.unit, MODBUS_TIMEOUT).await?);
        }
        let Some(board) = self.board.as_mut() else {
            return Ok(());
        };
        let result = board.set_confirmed(self.channel, on).await;
        match &result {
            Ok(()) => self.confirmed = Some(on),
            Err(e) if e.is_unreachable() => self.board = None,
            Err(_) => {}
        }
        result
    }

    /// The commissioning check: on for a moment (you hear or see it), off
    /// again, each read back; left off, or on if `alarm` is in force.
    pub async fn self_test(&mut self, alarm: bool) -> SelfCheck {
        let check = format!("alarm output ({})", self.describe());
        let blip = async {
            self.switch(true).await?;
            tokio::time::sleep(SELF_TEST_BLIP).await;
            self.switch(alarm).await
        };
        match blip.await {
            Ok(()) => SelfCheck::pass(
                check,
                "switched on and off, read back: did you hear or see it?",
            ),
            Err(e) => SelfCheck::fail(
                check,
                e.to_string(),
                "check the siren's channel in agent.toml and the board's wiring",
            ),
        }
    }
}
