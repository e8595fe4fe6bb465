//! `kiosk member ...`: add members, revoke a lost card's pass and print the new one, reprint, list.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self};
use keting_core::ids::MemberId;
use keting_desk::members::MemberPass;
use keting_desk::qr_image;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_desk::records::{NewMember, Role};
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add a member; prints the member number and the pass.
    Add {
        /// The name shown on the welcome screen (1 to 40 characters).
        #[arg(long)]
        name: String,
        /// The last 4 digits of the member's phone number, to tell namesakes apart.
        #[arg(long, value_name = "1234")]
        phone_tail: Option<String>,
        /// A role (repeat for several): resident, volunteer, gym, staff [default: resident].
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<Role>,
        /// Also write the pass as a QR code to this PNG.
        #[arg(long, value_name = "FILE.png")]
        qr: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a member's pass (a lost card): the old pass is refused from now on. Prints the new pass.
    Revoke {
        /// The member number.
        id: u32,
        /// Also write the new pass as a QR code to this PNG.
        #[arg(long, value_name = "FILE.png")]
        qr: Option<PathBuf>,
    },
    /// Print a member's current pass again.
    Pass {
        /// The member number.
        id: u32,
        /// Also write the pass as a QR code to this PNG.
        #[arg(long, value_name = "FILE.png")]
        qr: Option<PathBuf>,
    },
    /// List the members.
    List,
}

pub fn member_command(
    cmd: MemberCommand,
    store: &mut Store,
    site: &SiteRecord,
    dir: &DataDir,
) -> Result<()> {
    let now = clock::now();
    match cmd {
        MemberCommand::Add {
            name,
            phone_tail,
            roles,
            qr,
            json,
        } => {
            let new = NewMember::new(&name, phone_tail.as_deref(), &roles)?;
            let issuer = site::issuer(site, dir)?;
            let MemberPass { member, pass } =
                desk::members::add(store, Actor::CommandLine, &new, &issuer, now)?;
            if let Some(path) = &qr {
                qr_image::write_png(&pass, path)?;
            }
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "id": member.id.0, "name": member.name, "pass": pass })
                );
            } else {
                println!("member {}  {}", member.id, member.name);
                println!("pass   {pass}");
                if let Some(path) = &qr {
                    println!("qr     {}", path.display());
                }
            }
        }
        MemberCommand::Revoke { id, qr } => {
            let issuer = site::issuer(site, dir)?;
            let id = MemberId(id);
            let MemberPass { pass, .. } =
                desk::members::revoke(store, Actor::CommandLine, id, &issuer, now)?;
            if let Some(path) = &qr {
                qr_image::write_png(&pass, path)?;
            }
            println!("member {id}: every earlier pass is revoked");
            println!("pass   {pass}");
        }
        MemberCommand::Pass { id, qr } => {
            let issuer = site::issuer(site, dir)?;
            let MemberPass { pass, .. } = desk::members::pass(store, MemberId(id), &issuer)?;
            if let Some(path) = &qr {
                qr_image::write_png(&pass, path)?;
            }
            println!("{pass}");
        }
        MemberCommand::List => {
            let all = desk::members::list(store)?;
            println!("{:>6}  {:<4}  {:<24}  roles", "member", "tail", "name");
            for m in all {
                let roles: Vec<&str> = m.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "{:>6}  {:<4}  {:<24}  {}",
                    m.id,
                    m.phone_tail.as_deref().unwrap_or("-"),
                    m.name,
                    roles.join(",")
                );
            }
        }
    }
    Ok(())
}
