//! `kiosk staff ...`: who is staff with which role, and their PINs.
//!
//! A PIN is read from the terminal without echo, or from standard input
//! with `--stdin` (a script, a test); never from the command line, where
//! `ps` and the shell's history would keep it.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_core::ids::MemberId;
use keting_core::staff::{PIN_LEN, StaffRole};
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Give a member a staff role: staff (front desk), technician (devices), manager (everything), observer (sees only).
    Role {
        /// The member number.
        id: u32,
        /// The role.
        #[arg(long, value_parser = ["observer", "staff", "technician", "manager"])]
        role: String,
    },
    /// Take a member's staff role (and PIN) away.
    Remove {
        /// The member number.
        id: u32,
    },
    /// Set a staff member's PIN (6 digits), asked for twice on the terminal; clears a lock on their card.
    Pin {
        /// The member number.
        id: u32,
        /// Read the PIN from the first line of standard input instead.
        #[arg(long)]
        stdin: bool,
    },
    /// Set a staff member's dashboard password (10 to 128 characters), asked for twice on the terminal; they then sign in to the dashboard by name and password. Clears a lock on their card.
    Password {
        /// The member number.
        id: u32,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        stdin: bool,
    },
    /// List the staff: role, whether a PIN is set, locked cards.
    List,
}

fn read_secret(stdin: bool, what: &str) -> Result<String> {
    if stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .with_context(|| format!("reading the {what} from standard input"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password(format!("{what}: "))?;
    let again = rpassword::prompt_password("the same again: ")?;
    if first != again {
        bail!("the two differ; nothing changed");
    }
    Ok(first)
}

fn read_pin(stdin: bool) -> Result<String> {
    if stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the PIN from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password(format!("PIN ({PIN_LEN} digits): "))?;
    let again = rpassword::prompt_password("the same PIN again: ")?;
    if first != again {
        bail!("the two PINs differ; nothing changed");
    }
    Ok(first)
}

pub fn staff_command(cmd: StaffCommand, store: &mut Store) -> Result<()> {
    let now = clock::now();
    match cmd {
        StaffCommand::Role { id, role } => {
            let role = StaffRole::parse(&role).context("unknown role")?;
            let name =
                desk::staff::set_role(store, Actor::CommandLine, MemberId(id), Some(role), now)?;
            println!("member {id} {name}: staff role {role}");
            let has_pin = desk::staff::list(store)?
                .iter()
                .any(|(a, _)| a.member == MemberId(id) && a.pin_hash.is_some());
            if !has_pin {
                println!(
                    "no PIN yet: set one with `kiosk staff pin {id}` before the card opens the staff page"
                );
            }
        }
        StaffCommand::Remove { id } => {
            let name = desk::staff::set_role(store, Actor::CommandLine, MemberId(id), None, now)?;
            println!("member {id} {name}: no longer staff; their card opens nothing");
        }
        StaffCommand::Pin { id, stdin } => {
            let pin = read_pin(stdin)?;
            desk::staff::set_pin(store, Actor::CommandLine, MemberId(id), &pin, now)?;
            println!("member {id}: PIN set; their card opens the staff page with it");
        }
        StaffCommand::Password { id, stdin } => {
            let password = read_secret(stdin, "password (10 to 128 characters)")?;
            desk::staff::set_password(store, Actor::CommandLine, MemberId(id), &password, now)?;
            println!(
                "member {id}: password set; they sign in to the dashboard with their name and it"
            );
        }
        StaffCommand::List => {
            println!(
                "{:>6}  {:<16}  {:<10}  {:<4}  card",
                "member", "name", "role", "PIN"
            );
            let t = now.as_unix_millis();
            for (access, name) in desk::staff::list(store)? {
                let card = match access.attempts.locked_at(t) {
                    Some(until) => {
                        format!("locked for {} more minutes", (until - t + 59_999) / 60_000)
                    }
                    None if access.attempts.wrong > 0 => {
                        format!("{} wrong PINs", access.attempts.wrong)
                    }
                    None => "ok".to_owned(),
                };
                println!(
                    "{:>6}  {:<16}  {:<10}  {:<4}  {card}",
                    access.member,
                    name,
                    access.role.as_str(),
                    if access.pin_hash.is_some() {
                        "set"
                    } else {
                        "none"
                    },
                );
            }
        }
    }
    Ok(())
}
