//! `kiosk gym ...`: paid gym months granted, ended, listed.

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_core::calendar::parse_date;
use keting_core::ids::MemberId;
use keting_desk::gym::GymEnded;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum GymCommand {
    /// Record a paid gym month: the member may enter at night up to and including --until.
    Grant {
        /// The member number.
        id: u32,
        /// The last paid day, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        until: String,
    },
    /// End a member's gym membership: day hours only from now on.
    Revoke {
        /// The member number.
        id: u32,
    },
    /// List the gym members and their paid-until dates.
    List,
}

pub fn gym_command(cmd: GymCommand, store: &mut Store) -> Result<()> {
    let now = clock::now();
    match cmd {
        GymCommand::Grant { id, until } => {
            let id = MemberId(id);
            let until =
                parse_date(&until).map_err(|e| anyhow::anyhow!("--until {until:?}: {e}"))?;
            let paid = desk::gym::grant(store, Actor::CommandLine, id, until, now)?;
            println!(
                "member {id} {}: gym paid until {} (the doors get the new roster within a second)",
                paid.name, paid.until
            );
        }
        GymCommand::Revoke { id } => {
            let id = MemberId(id);
            match desk::gym::revoke(store, Actor::CommandLine, id, now)? {
                GymEnded::Ended { .. } => {
                    println!("member {id}: gym membership ended; day hours only")
                }
                GymEnded::HadNone { .. } => {
                    println!("member {id} had no gym membership; nothing changed")
                }
            }
        }
        GymCommand::List => {
            println!("{:>6}  {:<24}  paid until", "member", "name");
            for g in desk::gym::list(store)? {
                println!("{:>6}  {:<24}  {}", g.id, g.name, g.paid_until);
            }
        }
    }
    Ok(())
}
