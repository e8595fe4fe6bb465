//! `kiosk door ...`: register doors, open one for a pulse through the running centre, what they reported.

use anyhow::{Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum DoorCommand {
    /// Register a door (its device id as in the agent's configuration), or rename it.
    Add {
        /// The door's device id, e.g. gym-door.
        id: String,
        /// Its name for people, e.g. 健身房.
        #[arg(long)]
        name: String,
    },
    /// List the registered doors.
    List,
    /// Open a door for one pulse, remotely (the running kiosk sends it); waits for the door's answer.
    Open {
        /// The door's device id.
        id: String,
    },
    /// Lock a door released by its fire-alarm input again, once the fire
    /// alarm is clear (the door refuses while it is still active); waits
    /// for the door's answer.
    Reset {
        /// The door's device id.
        id: String,
    },
    /// Print the door events of the last hours (entries, refusals, alarms, faults).
    Events {
        /// How many hours back.
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
}

/// Waits for the door's answer to `command`: done, or why not.
fn wait_for_answer(
    store: &Store,
    command: &str,
    device: &keting_core::ids::DeviceId,
) -> Result<()> {
    // The door answers within its deadline, or the command expires.
    let give_up = std::time::Instant::now()
        + keting_desk::doors::COMMAND_DEADLINE
        + std::time::Duration::from_secs(2);
    loop {
        match desk::doors::open_outcome(store, command)? {
            Some(o) if o == "done" => return Ok(()),
            Some(o) => bail!("{device} did not do it: {o}"),
            None if std::time::Instant::now() > give_up => bail!(
                "{device} did not answer within {} s: is the kiosk running (kiosk --headless or the window), and the door online?",
                keting_desk::doors::COMMAND_DEADLINE.as_secs()
            ),
            None => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
}

pub fn door_command(cmd: DoorCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    match cmd {
        DoorCommand::Add { id, name } => {
            let device = desk::doors::door_id(&id)?;
            desk::doors::add(store, Actor::CommandLine, &device, &name, now)?;
            println!(
                "door {device} ({name}) registered; it gets the roster on keting/v1/{}/device/{device}/roster",
                site.site_id
            );
        }
        DoorCommand::Open { id } => {
            let device = desk::doors::door_id(&id)?;
            let command = desk::doors::request_open(store, Actor::CommandLine, &device, now)?;
            eprintln!(
                "asked {device} to open; waiting for its answer (the running kiosk sends it)..."
            );
            wait_for_answer(store, &command, &device)?;
            println!("{device} opened (one pulse)");
        }
        DoorCommand::Reset { id } => {
            let device = desk::doors::door_id(&id)?;
            let command = desk::doors::request_reset(store, Actor::CommandLine, &device, now)?;
            eprintln!(
                "asked {device} to lock again after the fire alarm; waiting for its answer..."
            );
            wait_for_answer(store, &command, &device)?;
            println!("{device} reset: locked again, the fire alarm cleared");
        }
        DoorCommand::List => {
            for d in desk::doors::list(store)? {
                println!("{:<24}  {}", d.id, d.name);
            }
        }
        DoorCommand::Events { hours } => {
            let since = keting_core::time::Timestamp::from_unix_millis(
                now.as_unix_millis() - i64::from(hours) * 3_600_000,
            );
            for (at, actor, action, detail) in desk::doors::events(store, since)? {
                let at = site
                    .calendar
                    .local(at)
                    .format(&time::macros::format_description!(
                        "[year]-[month]-[day] [hour]:[minute]:[second]"
                    ))
                    .unwrap_or_default();
                println!("{at}  {actor:<16}  {action:<22}  {detail}");
            }
        }
    }
    Ok(())
}
