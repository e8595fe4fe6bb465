//! `kiosk device ...`: the devices' own keys, which their signed answers
//! (a vend's outcome, a session's end) must verify with.

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_core::ids::DeviceId;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Trust a device's own key, for a device set up without a claim label (a claimed device's key comes with its claim).
    Trust {
        /// The device id, as in its agent configuration.
        id: String,
        /// Its public key, as `device-agent --public-key` prints it on the device.
        #[arg(long, allow_hyphen_values = true)]
        key: String,
    },
    /// List the devices' keys and where each came from.
    Keys,
}

pub fn device_command(cmd: DeviceCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    match cmd {
        DeviceCommand::Trust { id, key } => {
            let device = DeviceId::new(id)?;
            desk::devices::trust(store, Actor::CommandLine, &device, &key, now)?;
            println!("{device}: its answers must now carry the signature of this key");
        }
        DeviceCommand::Keys => {
            for (device, key, source, at) in desk::devices::keys(store)? {
                let at = site
                    .calendar
                    .local(at)
                    .format(&time::macros::format_description!(
                        "[year]-[month]-[day] [hour]:[minute]"
                    ))
                    .unwrap_or_default();
                println!("{device:<16}  {key}  {source:<14}  {at}");
            }
        }
    }
    Ok(())
}
