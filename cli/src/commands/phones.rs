//! `kiosk phone ...`: a one-time sign-in link for a resident's own phone
//! (staff helping someone with no kiosk nearby), their bound phones, and
//! ending them.

use anyhow::{Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_core::ids::MemberId;
use keting_desk::records::{InvitationKind, SiteRecord, Store};
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum PhoneCommand {
    /// Print a one-time link that binds a resident's phone (valid 10 minutes, used once) and the number they must pick on it. The link is a path on the residents' pages (`--resident-http`); give --base to print the whole address.
    Link {
        /// The member number.
        member: u32,
        /// The residents' pages' public address, e.g. https://fuwu.example.cn (the operator's proxy).
        #[arg(long, value_name = "URL")]
        base: Option<String>,
    },
    /// List a member's bound phones.
    List {
        /// The member number.
        member: u32,
    },
    /// End a member's bound phone (signs it out for good); --all ends every one.
    End {
        /// The member number.
        member: u32,
        /// The phone's number (from `kiosk phone list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        phone: Option<i64>,
        /// End every phone of the member.
        #[arg(long)]
        all: bool,
    },
}

pub fn phone_command(cmd: PhoneCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    match cmd {
        PhoneCommand::Link { member, base } => {
            let inv = desk::phones::invite(
                store,
                Actor::CommandLine,
                MemberId(member),
                InvitationKind::Link,
                now,
            )?;
            let base = base.as_deref().unwrap_or("").trim_end_matches('/');
            if !base.is_empty() && !base.starts_with("https://") && !base.starts_with("http://") {
                bail!("--base is an address such as https://fuwu.example.cn, not {base:?}");
            }
            let minutes = desk::phones::LINK_VALID.as_secs() / 60;
            println!("link    {base}{}", inv.path);
            println!("number  {}", inv.confirm);
            println!(
                "Open the link on the resident's phone within {minutes} minutes and tap {} there.",
                inv.confirm
            );
        }
        PhoneCommand::List { member } => {
            let phones = desk::phones::list(store, Actor::CommandLine, MemberId(member))?;
            if phones.is_empty() {
                println!("member {member} has no bound phone");
            }
            for p in phones {
                println!(
                    "{:>6}  {:<20}  bound {}  seen {}",
                    p.id,
                    p.label,
                    super::bookings::local(site.calendar, p.bound),
                    super::bookings::local(site.calendar, p.used)
                );
            }
        }
        PhoneCommand::End { member, phone, all } => {
            if all {
                let n = desk::phones::end_all(store, Actor::CommandLine, MemberId(member), now)?;
                println!("member {member}: {n} phones ended");
            } else if let Some(phone) = phone {
                desk::phones::end(store, Actor::CommandLine, MemberId(member), phone, now)?;
                println!("member {member}: phone {phone} ended");
            }
        }
    }
    Ok(())
}
