//! `kiosk claim ...`: devices waiting for a technician to confirm their PIN.

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum ClaimCommand {
    /// The claims waiting for a technician, with the PIN each device shows.
    List,
    /// Confirm a device's claim: the PIN on its panel must be the one listed (the running kiosk then answers it).
    Confirm {
        /// The device's name.
        device: String,
        /// The PIN the device's panel shows.
        pin: String,
    },
}

pub fn claim_command(cmd: ClaimCommand, store: &mut Store) -> Result<()> {
    let now = clock::now();
    match cmd {
        ClaimCommand::List => {
            let pending = desk::claims::pending(store, now)?;
            if pending.is_empty() {
                println!("no claims waiting (on the device: device-agent --claim 'LABEL TEXT')");
            }
            for c in pending {
                let left = c.expires.since(now).unwrap_or_default().as_secs();
                println!(
                    "{:<24}  PIN {}  ({left} s left)",
                    c.device.as_str(),
                    keting_core::claim::pin_for_print(&c.pin)
                );
            }
        }
        ClaimCommand::Confirm { device, pin } => {
            let id = keting_core::ids::DeviceId::new(&device)
                .map_err(|e| anyhow::anyhow!("device {device:?}: {e}"))?;
            desk::claims::confirm(store, Actor::CommandLine, &id, Some(&pin), now)?;
            println!("{device}'s claim confirmed: the running kiosk answers it within a second");
        }
    }
    Ok(())
}
