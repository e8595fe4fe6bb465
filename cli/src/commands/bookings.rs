//! `kiosk resource`, `kiosk package`, `kiosk booking`, `kiosk piano`: the
//! command line for resources, packages, bookings and the pianos.
//! The running kiosk (window or `--headless`) does what the devices need:
//! it sees each change and tells the piano bank or the robot.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_core::booking::{
    BookingState, Charge, Limits, Price, Resource, ResourceId, ResourceKind,
};
use keting_core::booking::{format_hours, parse_hours};
use keting_core::calendar::{SiteCalendar, parse_date};
use keting_core::ids::{DeviceId, MemberId};
use keting_core::time::Timestamp;
use keting_desk::bookings::CancelAs;
use keting_desk::records::Booking;
use keting_desk::records::ResourceRecord;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_desk::records::WalkUp;
use keting_desk::{self as desk, Actor};

/// `kiosk resource ...`
#[derive(Subcommand)]
pub enum ResourceCommand {
    /// Add a bookable resource, or change one (its bookings stay).
    Add {
        /// Its id: a-z, 0-9 and '-', e.g. piano-3, robot, childcare.
        id: String,
        /// What it is.
        #[arg(long, value_parser = parse_kind)]
        kind: ResourceKind,
        /// Its Chinese name, e.g. 3号钢琴.
        #[arg(long)]
        zh: String,
        /// Its English name, e.g. "Piano 3".
        #[arg(long)]
        en: String,
        /// Opening hours, e.g. 09:00-12:00,14:00-17:00.
        #[arg(long, default_value = "08:30-21:00")]
        hours: String,
        /// Slot length in minutes; without it, each window of the hours is one slot.
        #[arg(long)]
        slot: Option<u16>,
        /// Places per slot.
        #[arg(long, default_value_t = 1)]
        capacity: u16,
        /// Price of a session: free, "20 points", "88 yuan".
        #[arg(long, default_value = "free", value_parser = parse_price)]
        price: Price,
        /// Price of a member's first session, e.g. "29.9 yuan".
        #[arg(long, value_parser = parse_price)]
        trial: Option<Price>,
        /// Sessions of this kind a member may have per day.
        #[arg(long, default_value_t = 2)]
        per_day: u16,
        /// ... and per week.
        #[arg(long, default_value_t = 7)]
        per_week: u16,
        /// Staff must check it after each session ("to check").
        #[arg(long)]
        checked_after_use: bool,
        /// The device agent that powers it (piano bank, robot).
        #[arg(long)]
        device: Option<String>,
        /// Its output on that device (the piano's relay channel, 1 to 8).
        #[arg(long, requires = "device")]
        channel: Option<u8>,
        /// A walk-up session's length: 45m, 1h, 90s.
        #[arg(long, default_value = "45m", value_parser = parse_length)]
        session: Duration,
    },
    /// The resources.
    List,
}

/// `kiosk package ...`
#[derive(Subcommand)]
pub enum PackageCommand {
    /// Record a course package sold at the desk.
    Sell {
        /// The member number.
        member: u32,
        /// Sessions of which kind of resource.
        #[arg(long, value_parser = parse_kind)]
        kind: ResourceKind,
        /// How many sessions.
        #[arg(long)]
        sessions: u16,
        /// Last day it can be used, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD")]
        until: String,
    },
    /// A member's packages and the sessions left.
    List {
        /// The member number.
        member: u32,
    },
}

/// `kiosk booking ...`
#[derive(Subcommand)]
pub enum BookingCommand {
    /// Book a slot (or join its waiting list with --wait).
    Book {
        /// The member number.
        member: u32,
        /// The resource, e.g. robot.
        resource: String,
        /// The slot's start, local time: "2026-11-23 09:00".
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        at: String,
        /// Join the waiting list if the slot is full.
        #[arg(long)]
        wait: bool,
    },
    /// Cancel a booking (a member inside the window needs --staff).
    Cancel {
        /// The booking number.
        booking: i64,
        /// Cancel as staff: inside the window too, the charge given back.
        #[arg(long)]
        staff: bool,
    },
    /// Check a member in: starts their booking that may start now.
    Start {
        /// The member number.
        member: u32,
        /// Only a booking of this resource.
        #[arg(long)]
        resource: Option<String>,
    },
    /// End a session now (the device is switched off).
    End {
        /// The booking number.
        booking: i64,
    },
    /// Staff checked the device after a session ("to check" → done).
    Clear {
        /// The booking number.
        booking: i64,
    },
    /// Bookings of a member, or of a resource on a day.
    List {
        /// The member number.
        #[arg(long, conflicts_with = "resource")]
        member: Option<u32>,
        /// The resource.
        #[arg(long)]
        resource: Option<String>,
        /// The day (default today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        day: Option<String>,
    },
    /// Record a resident's rating of a session they had (1 to 5 stars).
    Rate {
        /// The booking number.
        booking: i64,
        /// Stars, 1 to 5.
        stars: u8,
    },
    /// Ratings per service over the last days.
    Ratings {
        /// How many days back.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Show the site's booking rules, or change them.
    Policy {
        /// A member may cancel (the charge given back) until this many minutes before the start.
        #[arg(long, value_name = "MINUTES")]
        cancel_before: Option<u32>,
        /// A place nobody started this many minutes after its start is released.
        #[arg(long, value_name = "MINUTES")]
        start_grace: Option<u32>,
        /// Check-in opens this many minutes before the start.
        #[arg(long, value_name = "MINUTES")]
        check_in_early: Option<u32>,
    },
    /// A resource's week: each slot free, full or yours.
    Week {
        /// The resource.
        resource: String,
        /// Whose view ("mine").
        #[arg(long)]
        member: Option<u32>,
        /// The first day (default today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
    },
}

/// `kiosk piano ...`
#[derive(Subcommand)]
pub enum PianoCommand {
    /// Scan and play: a free piano now, or a place in the queue.
    Play {
        /// The member number.
        member: u32,
    },
    /// Leave the queue.
    Leave {
        /// The member number.
        member: u32,
    },
}

fn parse_kind(s: &str) -> Result<ResourceKind, String> {
    ResourceKind::parse(s).ok_or_else(|| format!("{s:?}: one of piano, robot, childcare, room"))
}

/// `free`, `20 points`, `88 yuan`, `29.9元` (the core's reading).
pub fn parse_price(s: &str) -> Result<Price, String> {
    Price::parse_written(s)
}

/// `45m`, `1h`, `90s`.
pub fn parse_length(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?}: write a length such as 45m, 1h or 90s (5 s to 12 h)");
    let (num, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(bad()),
    };
    if !(5..=43_200).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs(secs))
}

/// `2026-11-23 09:00` in the site's local time.
pub(crate) fn parse_local(cal: SiteCalendar, s: &str) -> Result<Timestamp> {
    let (d, hm) = s
        .trim()
        .split_once(' ')
        .with_context(|| format!("{s:?}: write the slot's start as \"YYYY-MM-DD HH:MM\""))?;
    let day = parse_date(d)?;
    let t = keting_device_agents::config::parse_hhmm(hm.trim())
        .with_context(|| format!("{hm:?}: write the time as HH:MM"))?;
    let minutes = i64::from(t.hour()) * 60 + i64::from(t.minute());
    Ok(Timestamp::from_unix_millis(
        cal.start_of(day).as_unix_millis() + minutes * 60_000,
    ))
}

pub(crate) fn local(cal: SiteCalendar, t: Timestamp) -> String {
    let l = cal.local(t);
    format!("{} {:02}:{:02}", l.date(), l.hour(), l.minute())
}

pub(crate) fn hhmm(cal: SiteCalendar, t: Timestamp) -> String {
    let l = cal.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

fn charge_text(c: Option<Charge>, returned: bool) -> String {
    let text = match c {
        None => "nothing charged".into(),
        Some(Charge::Free) => "free".into(),
        Some(Charge::Points { points }) => format!("{points} points"),
        Some(Charge::Yuan { fen, trial }) => format!(
            "{}.{:02} yuan at the desk{}",
            fen / 100,
            fen % 100,
            if trial { " (trial)" } else { "" }
        ),
        Some(Charge::Package { package }) => format!("1 session of package {package}"),
    };
    if returned {
        format!("{text}, given back")
    } else {
        text
    }
}

fn describe(cal: SiteCalendar, b: &Booking) -> String {
    format!(
        "booking {}: {} {} {}-{} {} ({}){}",
        b.id,
        b.member_name,
        b.resource,
        local(cal, b.slot.start),
        hhmm(cal, b.slot.end),
        b.state,
        charge_text(b.charge, b.returned),
        b.end_reason
            .as_deref()
            .map(|r| format!(", ended: {r}"))
            .unwrap_or_default()
    )
}

/// Runs `kiosk resource ...`.
pub fn resource_command(cmd: ResourceCommand, store: &mut Store) -> Result<()> {
    let now = clock::now();
    match cmd {
        ResourceCommand::Add {
            id,
            kind,
            zh,
            en,
            hours,
            slot,
            capacity,
            price,
            trial,
            per_day,
            per_week,
            checked_after_use,
            device,
            channel,
            session,
        } => {
            let record = ResourceRecord {
                resource: Resource {
                    id: ResourceId::new(id)?,
                    kind,
                    name_zh: zh,
                    name_en: en,
                    hours: parse_hours(&hours)?,
                    slot_minutes: slot,
                    capacity,
                    price,
                    trial_price: trial,
                    limits: Limits { per_day, per_week },
                    checked_after_use,
                },
                device: device
                    .map(|d| {
                        DeviceId::new(d.clone()).map_err(|e| anyhow::anyhow!("device {d:?}: {e}"))
                    })
                    .transpose()?,
                channel,
                session,
            };
            desk::bookings::put_resource(store, Actor::CommandLine, &record, now)?;
            println!(
                "{}: {} ({}), {}",
                record.resource.id,
                record.resource.name_zh,
                kind.as_str(),
                price
            );
        }
        ResourceCommand::List => {
            for r in desk::bookings::resources(store, None)? {
                let res = &r.resource;
                println!(
                    "{:<12} {:<10} {:<10} {} slots {} x{} {}{}{}{}",
                    res.id.as_str(),
                    res.kind.as_str(),
                    res.name_zh,
                    format_hours(&res.hours),
                    res.slot_minutes
                        .map_or("whole window".into(), |m| format!("{m} min")),
                    res.capacity,
                    res.price,
                    res.trial_price
                        .map(|t| format!(", trial {t}"))
                        .unwrap_or_default(),
                    r.device
                        .as_ref()
                        .map(|d| format!(", device {d} ch {}", r.channel.unwrap_or(0)))
                        .unwrap_or_default(),
                    if res.checked_after_use {
                        ", checked after use"
                    } else {
                        ""
                    },
                );
            }
        }
    }
    Ok(())
}

/// Runs `kiosk package ...`.
pub fn package_command(cmd: PackageCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let cal = site.calendar;
    match cmd {
        PackageCommand::Sell {
            member,
            kind,
            sessions,
            until,
        } => {
            let day = parse_date(&until)?;
            let id = desk::bookings::sell_package(
                store,
                Actor::CommandLine,
                MemberId(member),
                kind,
                sessions,
                day,
                cal,
                now,
            )?;
            println!(
                "package {id}: member {member}, {sessions} {} sessions, until {day}",
                kind.as_str()
            );
        }
        PackageCommand::List { member } => {
            for p in desk::bookings::packages(store, MemberId(member))? {
                let last_day =
                    cal.date_of(Timestamp::from_unix_millis(p.expires.as_unix_millis() - 1));
                let state = match p.state(now) {
                    keting_core::booking::PackageState::Valid { left } => format!("{left} left"),
                    keting_core::booking::PackageState::UsedUp => "used up".into(),
                    keting_core::booking::PackageState::Expired => "expired".into(),
                };
                println!(
                    "package {}: {} {}/{} used, until {last_day}: {state}",
                    p.id,
                    p.kind.as_str(),
                    p.used,
                    p.sessions
                );
            }
        }
    }
    Ok(())
}

/// Runs `kiosk booking ...`.
pub fn booking_command(cmd: BookingCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let cal = site.calendar;
    match cmd {
        BookingCommand::Book {
            member,
            resource,
            at,
            wait,
        } => {
            let start = parse_local(cal, &at)?;
            let booked = desk::bookings::book(
                store,
                Actor::CommandLine,
                &resource,
                start,
                MemberId(member),
                wait,
                cal,
                now,
            )?;
            match booked.waiting_position {
                Some(n) => println!(
                    "{} — waiting list, place {n}",
                    describe(cal, &booked.booking)
                ),
                None => println!("{}", describe(cal, &booked.booking)),
            }
        }
        BookingCommand::Cancel { booking, staff } => {
            let how = if staff {
                CancelAs::Staff
            } else {
                CancelAs::Member
            };
            let c = desk::bookings::cancel(store, Actor::CommandLine, booking, how, cal, now)?;
            println!(
                "booking {booking} cancelled{}",
                if c.returned {
                    "; the charge was given back"
                } else {
                    ""
                }
            );
            for p in c.promoted {
                println!("promoted from the waiting list: {}", describe(cal, &p));
            }
        }
        BookingCommand::Start { member, resource } => {
            let b = desk::bookings::start(
                store,
                Actor::CommandLine,
                MemberId(member),
                resource.as_deref(),
                cal,
                now,
            )?;
            println!("{}", describe(cal, &b));
        }
        BookingCommand::End { booking } => {
            let b = desk::bookings::end(store, Actor::CommandLine, booking, cal, now)?;
            println!("{}", describe(cal, &b));
        }
        BookingCommand::Clear { booking } => {
            let b = desk::bookings::clear(store, Actor::CommandLine, booking, now)?;
            println!("{}", describe(cal, &b));
        }
        BookingCommand::List {
            member,
            resource,
            day,
        } => {
            let day = match day {
                Some(d) => parse_date(&d)?,
                None => cal.date_of(now),
            };
            let span = cal.day_span(day);
            let list = match (member, resource) {
                (Some(m), _) => desk::bookings::of_member(store, MemberId(m), span.start)?,
                (None, Some(r)) => desk::bookings::of_resource(store, &r, span.start, span.end)?,
                (None, None) => {
                    let mut all = Vec::new();
                    for r in desk::bookings::resources(store, None)? {
                        all.extend(desk::bookings::of_resource(
                            store,
                            r.resource.id.as_str(),
                            span.start,
                            span.end,
                        )?);
                    }
                    all
                }
            };
            if list.is_empty() {
                println!("no bookings");
            }
            for b in list {
                println!("{}", describe(cal, &b));
            }
        }
        BookingCommand::Rate { booking, stars } => {
            desk::bookings::rate(store, Actor::CommandLine, booking, stars, now)?;
            println!("booking {booking}: {stars} star(s) recorded");
        }
        BookingCommand::Ratings { days } => {
            let since =
                Timestamp::from_unix_millis(now.as_unix_millis() - i64::from(days) * 86_400_000);
            let all = desk::bookings::ratings(store, since)?;
            if all.is_empty() {
                println!("no ratings in the last {days} days");
            }
            for r in all {
                println!(
                    "{:<10} {:>4} ratings, average {}.{:02}, satisfied (4-5 stars) {}%",
                    r.kind.as_str(),
                    r.count,
                    r.average_x100 / 100,
                    r.average_x100 % 100,
                    r.satisfied * 100 / r.count.max(1)
                );
            }
        }
        BookingCommand::Policy {
            cancel_before,
            start_grace,
            check_in_early,
        } => {
            let change = desk::bookings::PolicyChange {
                cancel_before_minutes: cancel_before,
                start_grace_minutes: start_grace,
                check_in_early_minutes: check_in_early,
            };
            let p = desk::bookings::policy(store, Actor::CommandLine, change, now)?;
            println!(
                "a member may cancel until {} min before the start; a place waits {} min for its member; check-in opens {} min before",
                p.cancel_before.as_secs() / 60,
                p.start_grace.as_secs() / 60,
                p.check_in_early.as_secs() / 60
            );
        }
        BookingCommand::Week {
            resource,
            member,
            from,
        } => {
            let r = desk::bookings::resource(store, &resource)?;
            let first = match from {
                Some(d) => parse_date(&d)?,
                None => cal.date_of(now),
            };
            for i in 0..7 {
                let day = first + time::Duration::days(i);
                let span = cal.day_span(day);
                let booked = desk::bookings::of_resource(store, &resource, span.start, span.end)?;
                let cells: Vec<String> =
                    keting_core::booking::slots::slots_on(&r.resource, cal, day)
                        .into_iter()
                        .map(|s| {
                            let here: Vec<&Booking> =
                                booked.iter().filter(|b| b.slot.start == s.start).collect();
                            let taken = here.iter().filter(|b| b.state.holds_place()).count();
                            let mine = member.and_then(|m| {
                                here.iter().find(|b| {
                                    b.member == MemberId(m)
                                        && (b.state.holds_place()
                                            || b.state == BookingState::Waiting)
                                })
                            });
                            let what = match mine {
                                Some(b) if b.state == BookingState::Waiting => "waiting".to_owned(),
                                Some(_) => "mine".to_owned(),
                                None if s.end <= now => "past".to_owned(),
                                None if taken >= usize::from(r.resource.capacity) => {
                                    "full".to_owned()
                                }
                                None if r.resource.capacity > 1 => {
                                    format!("{} free", usize::from(r.resource.capacity) - taken)
                                }
                                None => "free".to_owned(),
                            };
                            format!("{} {what}", hhmm(cal, s.start))
                        })
                        .collect();
                println!("{day} {}", cells.join(" | "));
            }
        }
    }
    Ok(())
}

/// Runs `kiosk piano ...`.
pub fn piano_command(cmd: PianoCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let cal = site.calendar;
    match cmd {
        PianoCommand::Play { member } => {
            let got = desk::bookings::play_piano(
                store,
                Actor::CommandLine,
                MemberId(member),
                &[],
                cal,
                now,
            )?;
            match got {
                WalkUp::Started(b) => println!(
                    "{} — play until {}",
                    describe(cal, &b),
                    hhmm(cal, b.slot.end)
                ),
                WalkUp::AlreadyPlaying(b) => println!("already playing: {}", describe(cal, &b)),
                WalkUp::Queued { position } => println!(
                    "every piano is taken: member {member} is number {position} in the queue"
                ),
            }
        }
        PianoCommand::Leave { member } => {
            if desk::bookings::leave_piano_queue(store, Actor::CommandLine, MemberId(member), now)?
            {
                println!("member {member} left the queue");
            } else {
                bail!("member {member} is not in the queue");
            }
        }
    }
    Ok(())
}
