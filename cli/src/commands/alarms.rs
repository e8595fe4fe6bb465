//! `kiosk alarm ...`: the alarms not cleared (or all, newest first), and
//! an acknowledgement in a named staff member's name.

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_core::ids::MemberId;
use keting_desk::records::Alarm;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum AlarmCommand {
    /// The alarms not cleared: forced doors, doors held open, readers locked out, devices offline over a minute, faults, drinks in doubt.
    List {
        /// Every alarm, cleared too, newest first (the last 100).
        #[arg(long)]
        all: bool,
    },
    /// Acknowledge an alarm in a staff member's name (their role must allow it).
    Ack {
        /// The alarm's number (`kiosk alarm list`).
        id: i64,
        /// The staff member acknowledging it (their member number).
        #[arg(long, value_name = "MEMBER")]
        staff: u32,
    },
}

fn line(site: &SiteRecord, a: &Alarm) -> String {
    let at = |t| {
        site.calendar
            .local(t)
            .format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap_or_default()
    };
    let acked = a
        .acked
        .as_ref()
        .map(|(by, t)| format!("  acknowledged by {by} at {}", at(*t)))
        .unwrap_or_default();
    let cleared = a
        .cleared
        .map(|t| format!("  cleared at {}", at(t)))
        .unwrap_or_default();
    let detail = if a.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", a.detail)
    };
    format!(
        "{:>5}  {}  {:<16} {}{detail}{acked}{cleared}",
        a.id,
        at(a.raised),
        a.device.as_str(),
        a.kind.as_str()
    )
}

pub fn alarm_command(cmd: AlarmCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    match cmd {
        AlarmCommand::List { all } => {
            let alarms = if all {
                desk::alarms::history(store, 100)?
            } else {
                desk::alarms::open(store)?
            };
            if alarms.is_empty() {
                println!("no alarms");
            }
            for a in &alarms {
                println!("{}", line(site, a));
            }
        }
        AlarmCommand::Ack { id, staff } => {
            let a = desk::alarms::ack(store, Actor::Staff(MemberId(staff)), id, clock::now())?;
            println!("{}", line(site, &a));
        }
    }
    Ok(())
}
