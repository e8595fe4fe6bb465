//! `kiosk activity ...`: plan activities (one-off or repeated), list a
//! week's programme, sign members up and off, count attendance, confirm
//! volunteers' time, close (held, counted, volunteers paid), cancel with a
//! reason, mark a closed day, and the centre's offer and sign-up settings.
//! Each calls the activities desk; a refusal is printed with its reason and
//! the command fails, nothing written.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_core::activity::recurrence::RepeatRule;
use keting_core::activity::rules::{SignedUp, Standing};
use keting_core::activity::volunteer_hours::ShiftTime;
use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
use keting_core::calendar::parse_date;
use keting_core::ids::MemberId;
use keting_desk::Actor;
use keting_desk::activities::{self, ActivityView};
use keting_desk::records::{SiteRecord, Store};

use super::bookings::{hhmm, local, parse_local};

#[derive(Subcommand)]
pub enum ActivityCommand {
    /// Plan an activity (or one per date of --repeat); prints each new number.
    Add {
        /// The title in Chinese.
        #[arg(long)]
        zh: String,
        /// The title in English.
        #[arg(long)]
        en: String,
        /// The room (where a room reader or a kiosk in activity mode counts attendance).
        #[arg(long)]
        room: String,
        /// The start, local time.
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        start: String,
        /// The end, local time.
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        end: String,
        /// Places.
        #[arg(long)]
        capacity: u32,
        /// class, lecture, event or volunteer.
        #[arg(long, default_value = "class")]
        kind: String,
        /// everyone, members or volunteers (a volunteer shift defaults to volunteers).
        #[arg(long)]
        audience: Option<String>,
        /// A volunteer shift's points per hour.
        #[arg(long, default_value_t = 0)]
        points_per_hour: u32,
        /// An outside organisation running it (default: the centre).
        #[arg(long, default_value = "")]
        organiser: String,
        /// Repeat: "daily until YYYY-MM-DD", "weekdays until ...", "weekly mon,wed,fri until ...".
        #[arg(long, value_name = "RULE")]
        repeat: Option<String>,
    },
    /// Change an activity: only what is given changes; the places may not go below those taken.
    Edit {
        /// The activity's number.
        id: i64,
        /// The title in Chinese.
        #[arg(long)]
        zh: Option<String>,
        /// The title in English.
        #[arg(long)]
        en: Option<String>,
        /// The room.
        #[arg(long)]
        room: Option<String>,
        /// The start, local time.
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        start: Option<String>,
        /// The end, local time.
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        end: Option<String>,
        /// Places.
        #[arg(long)]
        capacity: Option<u32>,
    },
    /// The week's programme (default: this week) with places left and waiting lists.
    List {
        /// Any day of the week.
        #[arg(long, value_name = "YYYY-MM-DD")]
        week: Option<String>,
    },
    /// One activity: its list in turn, and its attendance.
    Show {
        /// The activity's number.
        id: i64,
    },
    /// Sign a member up: prints `place`, or `waiting N` (their turn on the waiting list).
    Signup {
        /// The activity's number.
        id: i64,
        /// The member's number.
        member: u32,
    },
    /// Take a member off the list (a freed place is offered to the next), or with --reason and no member, cancel the activity.
    Cancel {
        /// The activity's number.
        id: i64,
        /// The member's number.
        member: Option<u32>,
        /// Why the activity is cancelled (those signed up see it).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Count a member at the activity, as a scan in its room would (a volunteer's second scan checks out).
    Attend {
        /// The activity's number.
        id: i64,
        /// The member's number.
        member: u32,
    },
    /// Volunteers' time on a shift; with MEMBER and MINUTES, confirm one volunteer's time.
    Hours {
        /// The activity's number.
        id: i64,
        /// The volunteer's number.
        member: Option<u32>,
        /// Their time in minutes (at most the shift's length).
        minutes: Option<u32>,
    },
    /// Close after the end: held if anyone attended; volunteers paid their time's points once.
    Close {
        /// The activity's number.
        id: i64,
        /// The organiser or staff member closing it (their role is checked).
        #[arg(long, value_name = "MEMBER")]
        staff: u32,
    },
    /// Mark a day closed (a public holiday): repeat rules skip it.
    ClosedDay {
        /// The day.
        #[arg(value_name = "YYYY-MM-DD")]
        day: String,
        /// Why, e.g. 春节 Spring Festival.
        #[arg(long)]
        reason: String,
    },
    /// Put a `reader` device agent in a room: its scans count as attendance of what is on there. With no DEVICE, list the readers.
    Reader {
        /// The reader's device id (trust its key with `kiosk device trust` too).
        device: Option<String>,
        /// The room, as activities name it.
        #[arg(long, requires = "device")]
        room: Option<String>,
    },
    /// The district's activities not yet adopted (their ids, for `adopt`).
    District,
    /// Adopt a district activity as the centre's own: open for sign-up, with places.
    Adopt {
        /// The district's message id (see `activity district`).
        msg_id: String,
        /// Places.
        #[arg(long)]
        capacity: u32,
        /// How long it lasts, in minutes.
        #[arg(long, default_value_t = 60)]
        minutes: u32,
    },
    /// Show or change how long a freed place is offered and how early sign-up opens.
    Policy {
        /// Minutes a freed place is held for the next person (5 to 2880).
        #[arg(long)]
        offer_minutes: Option<u32>,
        /// Days before the start that sign-up opens (1 to 90).
        #[arg(long)]
        signup_days: Option<u32>,
    },
}

fn state_word(v: &ActivityView) -> String {
    use keting_desk::records::ActivityState;
    match &v.record.state {
        ActivityState::Open => "open".into(),
        ActivityState::Closed { held: true } => "held".into(),
        ActivityState::Closed { held: false } => "closed, not held".into(),
        ActivityState::Cancelled(r) => format!("cancelled: {r}"),
    }
}

pub fn activity_command(cmd: ActivityCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let cal = site.calendar;
    let actor = Actor::CommandLine;
    match cmd {
        ActivityCommand::Add {
            zh,
            en,
            room,
            start,
            end,
            capacity,
            kind,
            audience,
            points_per_hour,
            organiser,
            repeat,
        } => {
            let kind: ActivityKind = kind.parse()?;
            let audience: Audience = match audience {
                Some(a) => a.parse()?,
                None if kind == ActivityKind::Volunteer => Audience::Volunteers,
                None => Audience::Everyone,
            };
            let plan = ActivityPlan {
                title_zh: zh,
                title_en: en,
                room,
                starts: parse_local(cal, &start)?,
                ends: parse_local(cal, &end)?,
                capacity,
                kind,
                audience,
                points_per_hour,
                organiser_name: organiser,
            };
            let rule = repeat
                .as_deref()
                .map(|r| r.parse::<RepeatRule>().map(|rule| (rule, r.to_owned())))
                .transpose()?;
            let ids = activities::add(
                store,
                actor,
                &plan,
                rule.as_ref().map(|(r, t)| (r, t.as_str())),
                cal,
                now,
            )?;
            for id in ids {
                println!("{id}");
            }
        }
        ActivityCommand::Edit {
            id,
            zh,
            en,
            room,
            start,
            end,
            capacity,
        } => {
            let mut plan = activities::get(store, id)?.record.plan;
            if let Some(v) = zh {
                plan.title_zh = v;
            }
            if let Some(v) = en {
                plan.title_en = v;
            }
            if let Some(v) = room {
                plan.room = v;
            }
            if let Some(v) = start {
                plan.starts = parse_local(cal, &v)?;
            }
            if let Some(v) = end {
                plan.ends = parse_local(cal, &v)?;
            }
            if let Some(v) = capacity {
                plan.capacity = v;
            }
            activities::edit(store, actor, id, &plan, now)?;
            println!("activity {id} changed");
        }
        ActivityCommand::List { week } => {
            let day = match week {
                Some(d) => parse_date(&d)?,
                None => cal.date_of(now),
            };
            let span = activities::week_of(cal, day);
            let all = activities::programme(store, span, now)?;
            println!(
                "Week from {} ({} activities)",
                cal.date_of(span.start),
                all.len()
            );
            println!(
                "{:>6}  {:<16} {:<6} {:<12} {:<24} {:>6} {:>7}  state",
                "id", "when", "until", "room", "title", "left", "waiting"
            );
            for v in &all {
                let p = &v.record.plan;
                println!(
                    "{:>6}  {:<16} {:<6} {:<12} {:<24} {:>6} {:>7}  {}",
                    v.record.id,
                    local(cal, p.starts),
                    hhmm(cal, p.ends),
                    p.room,
                    format!("{} {}", p.title_zh, p.title_en),
                    format!("{}/{}", v.places_left, p.capacity),
                    v.waiting,
                    state_word(v)
                );
            }
        }
        ActivityCommand::Show { id } => {
            let v = activities::get(store, id)?;
            let p = &v.record.plan;
            println!(
                "{id}: {} / {} ({}), {} {}-{}, {} places, {} left, {} waiting, {}",
                p.title_zh,
                p.title_en,
                p.kind,
                p.room,
                local(cal, p.starts),
                hhmm(cal, p.ends),
                p.capacity,
                v.places_left,
                v.waiting,
                state_word(&v)
            );
            for (e, name) in activities::list_of(store, id)? {
                let standing = match e.standing {
                    Standing::Offered { until } => format!("offered until {}", local(cal, until)),
                    s => s.as_str().to_owned(),
                };
                println!("  {:>6} {:<20} {standing}", e.member.0, name);
            }
            print_sheet(store, id, cal)?;
        }
        ActivityCommand::Signup { id, member } => {
            match activities::sign_up(store, actor, id, MemberId(member), now)? {
                SignedUp::Place => println!("place"),
                SignedUp::Waiting(n) => println!("waiting {n}"),
            }
        }
        ActivityCommand::Cancel { id, member, reason } => match (member, reason) {
            (Some(m), None) => {
                activities::cancel_place(store, actor, id, MemberId(m), now)?;
                println!("member {m} is off activity {id}'s list");
            }
            (None, Some(reason)) => {
                activities::cancel_activity(store, actor, id, &reason, now)?;
                println!("activity {id} cancelled");
            }
            _ => bail!(
                "give a MEMBER to take off the list, or --reason (and no member) to cancel the activity"
            ),
        },
        ActivityCommand::Attend { id, member } => {
            let a = activities::attend(store, actor, id, MemberId(member), now)?;
            println!("{}: {:?}", a.name, a.attendance);
        }
        ActivityCommand::Hours {
            id,
            member,
            minutes,
        } => match (member, minutes) {
            (None, None) => print_sheet(store, id, cal)?,
            (Some(m), Some(min)) => {
                activities::confirm_time(store, actor, id, MemberId(m), min, now)?;
                println!("member {m}: {min} minutes confirmed");
            }
            _ => bail!("give both MEMBER and MINUTES to confirm a volunteer's time"),
        },
        ActivityCommand::Close { id, staff } => {
            let closed = activities::close(store, Actor::Staff(MemberId(staff)), id, cal, now)?;
            println!(
                "activity {id} closed: {}, {} attended",
                if closed.held {
                    "held"
                } else {
                    "not held (nobody attended)"
                },
                closed.attended
            );
            for (m, minutes, points, posting) in closed.awards {
                println!("  member {m}: {minutes} min, {points} points (posting {posting})");
            }
        }
        ActivityCommand::Reader { device, room } => match (device, room) {
            (Some(device), Some(room)) => {
                let device = keting_core::ids::DeviceId::new(device)
                    .map_err(|e| anyhow::anyhow!("device: {e}"))?;
                activities::set_reader(store, actor, &device, &room, now)?;
                println!("{device} counts attendance in {}", room.trim());
            }
            (Some(_), None) => bail!("give the room: --room ROOM"),
            (None, _) => {
                for (device, room) in activities::readers(store)? {
                    println!("{device}  {room}");
                }
            }
        },
        ActivityCommand::District => {
            let all = activities::from_district(store, cal, now)?;
            if all.is_empty() {
                println!("no district activity waiting to be adopted");
            }
            for a in all {
                println!(
                    "{}  {} {}  {} / {}  {}",
                    a.msg_id, a.date, a.starts, a.title_zh, a.title_en, a.place_zh
                );
            }
        }
        ActivityCommand::Adopt {
            msg_id,
            capacity,
            minutes,
        } => {
            let id = activities::adopt(store, actor, &msg_id, capacity, minutes, cal, now)?;
            println!("{id}");
        }
        ActivityCommand::ClosedDay { day, reason } => {
            let day = parse_date(&day)?;
            activities::close_day(store, actor, day, &reason, now)?;
            println!("{day} is closed: repeat rules skip it");
        }
        ActivityCommand::Policy {
            offer_minutes,
            signup_days,
        } => {
            let p = activities::policy(store)?;
            let offer =
                offer_minutes.unwrap_or(u32::try_from(p.offer_window.as_secs() / 60).unwrap_or(0));
            let days = signup_days.unwrap_or(p.signup_opens_days);
            if offer_minutes.is_some() || signup_days.is_some() {
                activities::set_policy(store, actor, offer, days, now)?;
            }
            println!(
                "a freed place is offered for {offer} minutes; sign-up opens {days} days before the start"
            );
        }
    }
    Ok(())
}

fn print_sheet(store: &Store, id: i64, cal: keting_core::calendar::SiteCalendar) -> Result<()> {
    let sheet = activities::closing_sheet(store, id).context("reading the attendance")?;
    println!("attended: {}", sheet.lines.len());
    for l in &sheet.lines {
        let time = match l.time {
            None => String::new(),
            Some(ShiftTime::Minutes(m)) => format!("{m} min, {} points", l.points),
            Some(ShiftTime::ForgotCheckOut) => {
                "no check-out: confirm with `kiosk activity hours ID MEMBER MINUTES`".into()
            }
        };
        println!(
            "  {:>6} {:<20} in {} {}",
            l.member.0,
            l.name,
            hhmm(cal, l.row.arrived),
            time
        );
    }
    Ok(())
}
