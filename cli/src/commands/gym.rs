//! `kiosk gym ...`: paid gym months granted, ended, listed; who is inside
//! now; the welfare watch (someone alone too long at night).

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_core::calendar::parse_date;
use keting_core::ids::MemberId;
use keting_desk::gym::GymEnded;
use keting_desk::records::{SiteRecord, Store};
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
    /// Who is inside now, per door, from tonight's passages (since 18:00).
    Inside,
    /// Show or set the welfare watch: someone alone inside longer than
    /// --alone-after minutes, between --from and --until, is an alarm told
    /// at once (quiet hours do not hold it). Defaults: 180, 22:00, 07:00.
    Welfare {
        /// Minutes alone inside before the alarm (1 to 1440).
        #[arg(long, value_name = "MINUTES")]
        alone_after: Option<u32>,
        /// The watch begins, local HH:MM.
        #[arg(long, value_name = "HH:MM")]
        from: Option<String>,
        /// The watch ends, local HH:MM (may be the next morning).
        #[arg(long, value_name = "HH:MM")]
        until: Option<String>,
    },
}

pub fn gym_command(cmd: GymCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
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
        GymCommand::Inside => {
            let doors = desk::occupancy::tonight(store, site.calendar, now)?;
            if doors.is_empty() {
                println!("nobody went through a door tonight (since 18:00)");
            }
            for d in doors {
                println!("{} ({}): {} inside now", d.name, d.door, d.head_count());
                for (m, _, since) in &d.names {
                    let t = site.calendar.local(*since);
                    println!(
                        "  {:<24} in at {:02}:{:02}",
                        d.name_of(*m),
                        t.hour(),
                        t.minute()
                    );
                }
                if d.names.len() > d.head_count() && d.head_count() > 0 {
                    println!(
                        "  ({} of them left by the exit button: whom is not known)",
                        d.names.len() - d.head_count()
                    );
                }
                for u in d.occupancy.unaccounted() {
                    let t = site.calendar.local(u.at);
                    println!(
                        "  {:02}:{:02} someone left whom no scan let in{}",
                        t.hour(),
                        t.minute(),
                        u.member
                            .map(|m| format!(" ({})", d.name_of(Some(m))))
                            .unwrap_or_default()
                    );
                }
            }
        }
        GymCommand::Welfare {
            alone_after,
            from,
            until,
        } => {
            let mut p = desk::occupancy::welfare(store)?;
            let minute = |flag: &str, s: &str| {
                desk::alerts::minute_of(s)
                    .ok_or_else(|| anyhow::anyhow!("{flag} {s:?}: a local time HH:MM, e.g. 22:00"))
            };
            let changing = alone_after.is_some() || from.is_some() || until.is_some();
            if let Some(m) = alone_after {
                p.alone_after_min = m;
            }
            if let Some(f) = &from {
                p.night_from_min = minute("--from", f)?;
            }
            if let Some(u) = &until {
                p.night_to_min = minute("--until", u)?;
            }
            if changing {
                desk::occupancy::set_welfare(store, Actor::CommandLine, p, now)?;
            }
            println!(
                "welfare watch: someone alone inside over {} min between {} and {} is an alarm",
                p.alone_after_min,
                desk::alerts::hh_mm(p.night_from_min),
                desk::alerts::hh_mm(p.night_to_min)
            );
        }
    }
    Ok(())
}
