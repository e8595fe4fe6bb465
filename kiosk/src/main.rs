//! `kiosk`: the centre's touch screen, and its command line.
//!
//! A thin layer over the `keting_centre` library (the desks) and the
//! `keting_kiosk` screens: it parses the command line, opens the data
//! directory, calls a desk, and prints. `anyhow` lives here only.

mod booking_cli;

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use keting_core::calendar::{YearMonth, parse_date};
use keting_core::checkin::CheckInDecision;
use keting_core::ids::MemberId;
use keting_centre::desk::{self, Actor};
use keting_centre::desk::gym::GymEnded;
use keting_centre::desk::members::MemberPass;
use keting_centre::service::flags::ServiceFlags;
use keting_centre::service::{Centre, CentreConfig};
use keting_centre::desk::checkin::{CheckInDesk, ScanRecord};
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_centre::store::checkins::ScanSource;
use keting_centre::store::members::{NewMember, Role};
use keting_centre::store::site_record::SiteRecord;
use keting_centre::store::{
    Store, door_commands, redemptions,
    vending_slots,
};
use keting_kiosk::ui::kiosk_adapter::KioskUi;
use keting_kiosk::ui::language::Language;
use keting_kiosk::ui::screenshot::{self, ScreenshotRequest};
use keting_centre::{clock, demo, qr_image};

#[derive(Parser)]
#[command(
    name = "kiosk",
    version,
    about = "Keting kiosk: QR check-in at the centre's door, the centre's database, and its touch screen.",
    after_help = "With no command, opens the kiosk window. On an empty data directory the window creates \
                  the demo site (demo residents to tap); any other command creates an empty site."
)]
struct Cli {
    /// Where the kiosk keeps its database and the site key [default: $XDG_DATA_HOME/keting, or ~/.local/share/keting]
    #[arg(long, global = true, value_name = "DIR", env = "KETING_DATA")]
    data: Option<PathBuf>,

    /// Run the centre (broker, door roster, door events, demo devices) without the window; stop with Ctrl-C or SIGTERM.
    #[arg(long)]
    headless: bool,

    #[command(flatten)]
    service: ServiceFlags,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Add members, revoke and reissue their passes, list them.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Gym memberships (月付制): who may enter the gym door at night.
    #[command(subcommand)]
    Gym(GymCommand),
    /// The doors the kiosk publishes the roster to.
    #[command(subcommand)]
    Door(DoorCommand),
    /// Devices claiming their identity with a label (`device-agent --claim`): list them, confirm one.
    #[command(subcommand)]
    Claim(ClaimCommand),
    /// Volunteer points: award for an activity, reverse an award, balance, history, the rules.
    #[command(subcommand)]
    Points(PointsCommand),
    /// The vending machine's catalogue: drinks, prices in points, stock.
    #[command(subcommand)]
    Vending(VendingCommand),
    /// Bookable resources: the pianos, the robot, childcare, rooms.
    #[command(subcommand)]
    Resource(booking_cli::ResourceCommand),
    /// Course packages sold at the desk (e.g. 10 robot sessions).
    #[command(subcommand)]
    Package(booking_cli::PackageCommand),
    /// Bookings: book, cancel, check in, end, clear after a robot session, list, the week view.
    #[command(subcommand)]
    Booking(booking_cli::BookingCommand),
    /// The pianos: scan and play (a free piano, or the queue).
    #[command(subcommand)]
    Piano(booking_cli::PianoCommand),
    /// Print the site's id, name and public key (for device agent configurations); `site import` takes over a provisioned site.
    Site {
        #[command(subcommand)]
        action: Option<SiteAction>,
    },
    /// Record a scan and print the decision as one JSON line (exit code 0 for any decision).
    Checkin {
        /// The scanned text; `-` reads one scan per line from standard input.
        #[arg(value_name = "PASS")]
        pass: OsString,
    },
    /// Visits per hour of a day (default: today), or per day of a month.
    Stats {
        /// The day, as YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "month")]
        day: Option<String>,
        /// The month, as YYYY-MM.
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        /// Print CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// Render a page of the screen to a PNG, with no display. Uses a throwaway demo site.
    Screenshot {
        /// The page; `list` names them.
        #[arg(long, value_name = "NAME")]
        page: String,
        /// The PNG to write (required unless --page list).
        #[arg(long, value_name = "FILE.png")]
        out: Option<PathBuf>,
        /// The screen's language.
        #[arg(long, value_enum, default_value_t = LangArg::Zh)]
        lang: LangArg,
        /// Large-text mode.
        #[arg(long)]
        large_text: bool,
        /// Width x height in pixels.
        #[arg(long, default_value = "1280x800", value_parser = parse_size)]
        size: (u32, u32),
        /// Print the time to the first frame and the resident memory (for the benchmark).
        #[arg(long, hide = true)]
        timing: bool,
    },
}

#[derive(Subcommand)]
enum MemberCommand {
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

#[derive(Subcommand)]
enum SiteAction {
    /// Take over the site made by `keting-provision site init` (its id, name, signing key and the kiosk's broker login), into an empty data directory.
    Import {
        /// The provisioned site directory.
        #[arg(value_name = "SITE_DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum GymCommand {
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

#[derive(Subcommand)]
enum DoorCommand {
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
    /// Print the door events of the last hours (entries, refusals, alarms, faults).
    Events {
        /// How many hours back.
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
}

#[derive(Subcommand)]
enum PointsCommand {
    /// Award an activity's points to volunteers (each in its own transaction; refusals say why).
    Award {
        /// The member numbers.
        #[arg(required = true)]
        ids: Vec<u32>,
        /// The activity, e.g. 图书整理; created for today if new.
        #[arg(long)]
        activity: String,
        /// Its points.
        #[arg(long)]
        points: i64,
    },
    /// Reverse an award (a correction is a new posting; nothing is edited).
    Reverse {
        /// The award's posting number (see `points history`).
        posting: i64,
        /// Why, for the audit.
        #[arg(long)]
        reason: String,
    },
    /// A member's balance (points past their lifetime expire first).
    Balance {
        /// The member number.
        id: u32,
    },
    /// A member's postings, newest first.
    History {
        /// The member number.
        id: u32,
        /// How many lines.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Every ledger account's balance, and whether they sum to zero.
    Ledger,
    /// Show or change the rules: caps per award and per day, and how long points last.
    Policy {
        /// The most one award gives.
        #[arg(long)]
        max_award: Option<i64>,
        /// The most a member earns in a day.
        #[arg(long)]
        daily_earn_cap: Option<i64>,
        /// The most a member spends in a day.
        #[arg(long)]
        daily_spend_cap: Option<i64>,
        /// Points expire this many months after they were earned.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=120))]
        expiry_months: Option<u32>,
    },
}

#[derive(Subcommand)]
enum VendingCommand {
    /// Set a slot's drink, price and stock.
    Set {
        /// The machine's device id, e.g. vending.
        device: String,
        /// The slot number.
        slot: u8,
        /// The drink's Chinese name, e.g. 矿泉水.
        #[arg(long)]
        zh: String,
        /// Its English name, e.g. "Mineral water".
        #[arg(long)]
        en: String,
        /// Its price in points.
        #[arg(long)]
        price: i64,
        /// How many are in the slot.
        #[arg(long, default_value_t = 0)]
        stock: u32,
    },
    /// Add drinks to a slot.
    Restock {
        /// The machine's device id.
        device: String,
        /// The slot number.
        slot: u8,
        /// How many were put in.
        count: u32,
    },
    /// The catalogue.
    List,
    /// Redeem a member's points for a drink (the running kiosk sends it); waits for the outcome.
    Redeem {
        /// The member number.
        member: u32,
        /// The slot.
        slot: u8,
        /// The machine's device id.
        #[arg(long, default_value = "vending")]
        device: String,
        /// Do not wait for the outcome.
        #[arg(long)]
        no_wait: bool,
    },
    /// Redemptions: in progress first, then the latest settled.
    Redemptions {
        /// How many settled ones to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum ClaimCommand {
    /// The claims waiting for a technician, with the PIN each device shows.
    List,
    /// Confirm a device's claim: the PIN on its panel must be the one listed (the running kiosk then answers it).
    Confirm {
        /// The device's name.
        device: String,
        /// The PIN the device's panel shows.
        pin: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Zh,
    En,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected WIDTHxHEIGHT, e.g. 1280x800, got {s:?}");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(320..=4096).contains(&w) || !(240..=4096).contains(&h) {
        return Err(format!("a size from 320x240 to 4096x4096, got {s:?}"));
    }
    Ok((w, h))
}

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    let default_log = if cli.command.is_none() {
        "info,rumqttd=warn"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KETING_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_log)),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, started: Instant) -> Result<()> {
    if let Some(Command::Screenshot {
        page,
        out,
        lang,
        large_text,
        size,
        timing,
        ..
    }) = &cli.command
    {
        return screenshot_command(
            page,
            out.as_deref(),
            *lang,
            *large_text,
            *size,
            *timing,
            started,
        );
    }
    let data = match &cli.data {
        Some(d) => d.clone(),
        None => DataDir::default_path()?,
    };
    let dir = DataDir::prepare(data)?;
    let mut store = Store::open(&dir.database())
        .with_context(|| format!("cannot open the database {}", dir.database().display()))?;
    if let Some(Command::Site {
        action: Some(SiteAction::Import { dir: site_dir }),
    }) = &cli.command
    {
        let provisioned = keting_provisioning::site_dir::SiteDir::open(site_dir)?;
        let key = provisioned.signing_key()?;
        let id = keting_core::ids::SiteId::new(provisioned.site.id.clone())
            .map_err(|e| anyhow::anyhow!("site id in {}: {e}", site_dir.display()))?;
        let secret = provisioned.kiosk_password().ok();
        let site = site::import(
            &mut store,
            &dir,
            id,
            &provisioned.site.name,
            &key,
            secret.as_deref(),
            clock::now(),
        )?;
        site::remember_provisioning_site(&dir, site_dir)?;
        println!(
            "site {} ({}) is this kiosk's; devices log in to the broker at {}:{}",
            site.site_id, site.name, provisioned.site.broker_host, provisioned.site.broker_port
        );
        return Ok(());
    }
    let kind = if cli.command.is_none() {
        NewSite::Demo
    } else {
        NewSite::Plain
    };
    let site = site::open_or_create(&mut store, &dir, kind, clock::now())?;
    let centre = |site: &SiteRecord| -> Result<CentreConfig> { Ok(cli.service.config(&dir, site)?) };
    match cli.command {
        None if cli.headless => headless(centre(&site)?),
        None => {
            let config = centre(&site)?;
            window(store, site, &dir, config)
        }
        Some(Command::Gym(cmd)) => gym_command(cmd, &mut store),
        Some(Command::Door(cmd)) => door_command(cmd, &mut store, &site),
        Some(Command::Claim(cmd)) => claim_command(cmd, &mut store),
        Some(Command::Points(cmd)) => points_command(cmd, &mut store, &site),
        Some(Command::Vending(cmd)) => vending_command(cmd, &mut store, &site),
        Some(Command::Resource(cmd)) => booking_cli::resource_command(cmd, &mut store),
        Some(Command::Package(cmd)) => booking_cli::package_command(cmd, &mut store, &site),
        Some(Command::Booking(cmd)) => booking_cli::booking_command(cmd, &mut store, &site),
        Some(Command::Piano(cmd)) => booking_cli::piano_command(cmd, &mut store, &site),
        Some(Command::Site { .. }) => {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&site.public_key)?;
            println!("site        {}", site.site_id);
            println!("name        {}", site.name);
            println!("public_key  {}", keting_core::pass::encode_public_key(&key));
            Ok(())
        }
        Some(Command::Member(cmd)) => member_command(cmd, &mut store, &site, &dir),
        Some(Command::Checkin { pass }) => checkin_command(&pass, store, site),
        Some(Command::Stats { day, month, csv }) => stats_command(&store, &site, day, month, csv),
        Some(Command::Screenshot { .. }) => unreachable!("handled above"),
    }
}

fn headless(config: CentreConfig) -> Result<()> {
    let centre = Centre::start(config)?;
    let (host, port) = &centre.broker;
    tracing::info!("kiosk ready (headless): MQTT broker at {host}:{port}");
    centre.run_until_terminated()?;
    Ok(())
}

fn gym_command(cmd: GymCommand, store: &mut Store) -> Result<()> {
    let now = clock::now();
    match cmd {
        GymCommand::Grant { id, until } => {
            let id = MemberId(id);
            let until = parse_date(&until).map_err(|e| anyhow::anyhow!("--until {until:?}: {e}"))?;
            let paid = desk::gym::grant(store, Actor::CommandLine, id, until, now)?;
            println!(
                "member {id} {}: gym paid until {} (the doors get the new roster within a second)",
                paid.name, paid.until
            );
        }
        GymCommand::Revoke { id } => {
            let id = MemberId(id);
            match desk::gym::revoke(store, Actor::CommandLine, id, now)? {
                GymEnded::Ended { .. } => println!("member {id}: gym membership ended; day hours only"),
                GymEnded::HadNone { .. } => println!("member {id} had no gym membership; nothing changed"),
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

fn points_command(cmd: PointsCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let cal = site.calendar;
    match cmd {
        PointsCommand::Award {
            ids,
            activity,
            points: worth,
        } => {
            let mut refused = 0;
            for id in ids {
                let member = MemberId(id);
                match desk::points::award(store, Actor::CommandLine, member, &activity, worth, cal, now) {
                    Ok(a) => println!(
                        "member {member}: +{worth} ({activity}), balance {} (posting {})",
                        a.balance, a.posting
                    ),
                    Err(e) => {
                        refused += 1;
                        eprintln!("member {member}: refused: {e}");
                    }
                }
            }
            if refused > 0 {
                bail!("{refused} award(s) refused");
            }
        }
        PointsCommand::Reverse { posting, reason } => {
            let r = desk::points::reverse(store, Actor::CommandLine, posting, &reason, cal, now)?;
            println!("posting {posting} reversed by posting {r}");
        }
        PointsCommand::Balance { id } => {
            let member = MemberId(id);
            let (expired, balance) = desk::points::balance(store, member, cal, now)?;
            if expired > 0 {
                println!("member {member}: {expired} points expired just now");
            }
            println!("member {member}: {balance} points");
        }
        PointsCommand::History { id, limit } => {
            let member = MemberId(id);
            for line in desk::points::history(store, member, limit)? {
                let t = cal.local(line.at);
                println!(
                    "{:>6}  {:04}-{:02}-{:02} {:02}:{:02}  {:<8}  {:>+6}  {}{}  ({})",
                    line.posting,
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    line.kind.as_str(),
                    line.points,
                    line.what,
                    if line.reversed { "  [reversed]" } else { "" },
                    line.actor
                );
            }
        }
        PointsCommand::Ledger => {
            let (all, sum) = desk::points::ledger(store)?;
            for (account, b) in &all {
                println!("{account:<16}  {b:>10}");
            }
            println!(
                "{:<16}  {sum:>10}  {}",
                "sum",
                if sum == 0 {
                    "(zero: the ledger balances)"
                } else {
                    "NOT ZERO"
                }
            );
            if sum != 0 {
                bail!("the ledger does not sum to zero");
            }
        }
        PointsCommand::Policy {
            max_award,
            daily_earn_cap,
            daily_spend_cap,
            expiry_months,
        } => {
            let change = desk::points::PolicyChange {
                max_award,
                daily_earn_cap,
                daily_spend_cap,
                expiry_months,
            };
            let policy = desk::points::policy(store, Actor::CommandLine, change, now)?;
            println!(
                "one award at most {} points; per member per day: earn at most {}, spend at most {}; points expire after {} days",
                policy.max_award,
                policy.daily_earn_cap,
                policy.daily_spend_cap,
                policy.lifetime.as_secs() / (24 * 3600)
            );
        }
    }
    Ok(())
}

fn vending_command(cmd: VendingCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let device_id = |d: &str| {
        keting_core::ids::DeviceId::new(d).map_err(|e| anyhow::anyhow!("device {d:?}: {e}"))
    };
    match cmd {
        VendingCommand::Set {
            device,
            slot,
            zh,
            en,
            price,
            stock,
        } => {
            let s = vending_slots::Slot {
                device: device_id(&device)?,
                slot,
                name_zh: zh,
                name_en: en,
                price,
                stock,
            };
            desk::vending::set_slot(store, Actor::CommandLine, &s, now)?;
            println!(
                "{device} slot {slot}: {} ({}), {price} points, {stock} in stock",
                s.name_zh, s.name_en
            );
        }
        VendingCommand::Restock {
            device,
            slot,
            count,
        } => {
            let id = device_id(&device)?;
            let stock = desk::vending::restock(store, Actor::CommandLine, &id, slot, count, now)?.stock;
            println!("{device} slot {slot}: {stock} in stock");
        }
        VendingCommand::Redeem {
            member,
            slot,
            device,
            no_wait,
        } => {
            let id = device_id(&device)?;
            let member = MemberId(member);
            let cal = site.calendar;
            let r = desk::vending::redeem(store, Actor::CommandLine, member, &id, slot, cal, now)?;
            println!(
                "{}: {} points held; the running kiosk sends the vend",
                r.id, r.points
            );
            if no_wait {
                return Ok(());
            }
            let give_up = std::time::Instant::now()
                + redemptions::RESULT_DEADLINE
                + std::time::Duration::from_secs(30);
            loop {
                let now_r = desk::vending::redemption(store, &r.id)?;
                match now_r {
                    Some(x) if x.state == redemptions::State::Committed => {
                        println!("dispensed: take your drink ({} points spent)", x.points);
                        return Ok(());
                    }
                    Some(x) if x.state == redemptions::State::Refunded => bail!(
                        "not dispensed ({}): {} points returned",
                        x.result.map_or("unknown", |o| o.as_str()),
                        x.points
                    ),
                    _ if std::time::Instant::now() > give_up => bail!(
                        "{}: no outcome yet; the kiosk keeps asking the machine and settles it (see `kiosk vending redemptions`); the points are held, not lost",
                        r.id
                    ),
                    _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
        }
        VendingCommand::Redemptions { limit } => {
            for r in desk::vending::redemptions(store, limit)? {
                println!(
                    "{}  member {:<5} {} slot {:<2} {:>4} points  {:<9} {}",
                    r.id,
                    r.member,
                    r.device.as_str(),
                    r.slot,
                    r.points,
                    format!("{:?}", r.state).to_lowercase(),
                    r.result.map_or("", |o| o.as_str())
                );
            }
        }
        VendingCommand::List => {
            for s in desk::vending::catalogue(store)? {
                println!(
                    "{:<16} {:>3}  {:<12} {:<20} {:>4} points  {:>3} in stock",
                    s.device.as_str(),
                    s.slot,
                    s.name_zh,
                    s.name_en,
                    s.price,
                    s.stock
                );
            }
        }
    }
    Ok(())
}

fn claim_command(cmd: ClaimCommand, store: &mut Store) -> Result<()> {
    let now = clock::now();
    match cmd {
        ClaimCommand::List => {
            let pending = desk::claims::pending(store, now)?;
            if pending.is_empty() {
                println!("no claims waiting (on the device: device-agent --claim 'LABEL TEXT')");
            }
            for c in pending {
                let left = c.expires.since(now).unwrap_or_default().as_secs();
                println!(
                    "{:<24}  PIN {}  ({left} s left)",
                    c.device.as_str(),
                    keting_core::claim::pin_for_print(&c.pin)
                );
            }
        }
        ClaimCommand::Confirm { device, pin } => {
            let id = keting_core::ids::DeviceId::new(&device)
                .map_err(|e| anyhow::anyhow!("device {device:?}: {e}"))?;
            desk::claims::confirm(store, Actor::CommandLine, &id, Some(&pin), now)?;
            println!("{device}'s claim confirmed: the running kiosk answers it within a second");
        }
    }
    Ok(())
}

fn door_command(cmd: DoorCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
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
            // The door answers within its deadline, or the command expires.
            let give_up = std::time::Instant::now()
                + door_commands::DEADLINE
                + std::time::Duration::from_secs(2);
            loop {
                match desk::doors::open_outcome(store, &command)? {
                    Some(o) if o == "done" => {
                        println!("{device} opened (one pulse)");
                        return Ok(());
                    }
                    Some(o) => bail!("{device} did not open: {o}"),
                    None if std::time::Instant::now() > give_up => bail!(
                        "{device} did not answer within {} s: is the kiosk running (kiosk --headless or the window), and the door online?",
                        door_commands::DEADLINE.as_secs()
                    ),
                    None => std::thread::sleep(std::time::Duration::from_millis(100)),
                }
            }
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

fn window(store: Store, site: SiteRecord, dir: &DataDir, centre: CentreConfig) -> Result<()> {
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if !has_display && !cfg!(feature = "linuxkms") {
        bail!(
            "no display to open the kiosk window on (neither DISPLAY nor WAYLAND_DISPLAY is set). \
             On a desktop, run it in the desktop session; on a Raspberry Pi without X, build with \
             `--features linuxkms` and run with SLINT_BACKEND=linuxkms (see README.md)"
        );
    }
    let cards = if site.demo {
        match site::issuer(&site, dir) {
            Ok(issuer) => demo::cards(&store, &issuer)?,
            Err(e) => {
                tracing::warn!("no demo cards: {e}");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    tracing::info!(site = %site.site_id, data = %dir.path().display(), "opening the kiosk window");
    let verifier = site::verifier(&site)?;
    let centre = Centre::start(centre)?;
    let ui = KioskUi::new(CheckInDesk::new(store, site, verifier), cards)
        .context("cannot open the kiosk window")?;
    ui.set_doors(centre.doors());
    ui.run().context("the kiosk window failed")?;
    centre.stop();
    Ok(())
}

fn member_command(
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
            let MemberPass { member, pass } = desk::members::add(store, Actor::CommandLine, &new, &issuer, now)?;
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
            let MemberPass { pass, .. } = desk::members::revoke(store, Actor::CommandLine, id, &issuer, now)?;
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

fn checkin_command(pass: &OsString, store: Store, site: SiteRecord) -> Result<()> {
    let verifier = site::verifier(&site)?;
    let calendar = site.calendar;
    let mut desk = CheckInDesk::new(store, site, verifier);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut decide = |text: &str, out: &mut dyn Write| -> Result<()> {
        let record = desk.scan(text, clock::now(), ScanSource::CommandLine)?;
        writeln!(out, "{}", decision_json(&record, calendar))?;
        out.flush()?;
        Ok(())
    };
    if pass == "-" {
        let stdin = std::io::stdin();
        let mut line = Vec::new();
        let mut input = stdin.lock();
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            decide(&String::from_utf8_lossy(&line), &mut out)?;
        }
    } else {
        decide(&pass.to_string_lossy(), &mut out)?;
    }
    Ok(())
}

fn decision_json(
    record: &ScanRecord,
    calendar: keting_core::calendar::SiteCalendar,
) -> serde_json::Value {
    let at = calendar
        .local(record.at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let member = record
        .member
        .as_ref()
        .map(|(id, name)| serde_json::json!({ "id": id.0, "name": name }));
    match record.decision {
        CheckInDecision::Accepted { counted, .. } => serde_json::json!({
            "accepted": true, "counted": counted, "member": member, "checkin_id": record.checkin.0, "at": at,
        }),
        CheckInDecision::Denied(reason) => serde_json::json!({
            "accepted": false, "reason": reason.code(), "member": member, "checkin_id": record.checkin.0, "at": at,
        }),
    }
}

fn stats_command(
    store: &Store,
    site: &SiteRecord,
    day: Option<String>,
    month: Option<String>,
    csv: bool,
) -> Result<()> {
    let cal = site.calendar;
    let offset = format_offset(cal.offset_minutes());
    let (title, label, rows) = if let Some(month) = month {
        let month: YearMonth = month.parse()?;
        let per_day = desk::reports::visits_per_day(store, cal, month)?;
        let rows: Vec<(String, u64)> = per_day
            .into_iter()
            .enumerate()
            .map(|(i, n)| (format!("{month}-{:02}", i + 1), n))
            .collect();
        (format!("Visits in {month} ({offset})"), "day", rows)
    } else {
        let date = match day {
            Some(d) => parse_date(&d)?,
            None => cal.date_of(clock::now()),
        };
        let per_hour = desk::reports::visits_per_hour(store, cal, date)?;
        let rows: Vec<(String, u64)> = per_hour
            .into_iter()
            .enumerate()
            .map(|(h, n)| (format!("{h:02}:00"), n))
            .collect();
        (format!("Visits on {date} ({offset})"), "hour", rows)
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if csv {
        writeln!(out, "{label},visits")?;
        for (k, n) in &rows {
            writeln!(out, "{k},{n}")?;
        }
        return Ok(());
    }
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let peak = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    writeln!(out, "{title}: {total} in all")?;
    writeln!(out, "{label:<10} {:>6}", "visits")?;
    for (k, n) in &rows {
        let bar = "#".repeat(usize::try_from(n * 40 / peak).unwrap_or(40));
        writeln!(out, "{k:<10} {n:>6}  {bar}")?;
    }
    Ok(())
}

fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    format!(
        "UTC{sign}{:02}:{:02}",
        minutes.abs() / 60,
        minutes.abs() % 60
    )
}

fn screenshot_command(
    page: &str,
    out: Option<&std::path::Path>,
    lang: LangArg,
    large_text: bool,
    size: (u32, u32),
    timing: bool,
    started: Instant,
) -> Result<()> {
    if page == "list" {
        for (name, what) in screenshot::PAGES {
            println!("{name:<16} {what}");
        }
        return Ok(());
    }
    let Some(out) = out else {
        bail!("--out FILE.png is required")
    };
    let language = match lang {
        LangArg::Zh => Language::Chinese,
        LangArg::En => Language::English,
    };
    let request = ScreenshotRequest {
        page: page.to_owned(),
        language,
        large_text,
        size,
    };
    let report = screenshot::render(&request, out, started)?;
    if timing {
        println!(
            "first_frame_ms={:.1} rss_kib={}",
            report.first_frame.as_secs_f64() * 1000.0,
            resident_kib().map_or("unknown".to_owned(), |k| k.to_string())
        );
    }
    Ok(())
}

/// The process's resident memory, from /proc (Linux).
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
