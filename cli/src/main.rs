//! `kiosk`: the centre's command line, and the program that opens its
//! touch screen.
//!
//! A thin layer over the desks (`keting_desk`), the running centre
//! (`keting_centre`) and the screens (`keting_kiosk`): it parses the
//! command line, opens the data directory, then runs a command
//! ([`commands`]: calls a desk and prints), the centre (`--headless`), or
//! the window. It names no Slint type. `anyhow` lives in the binaries only.

mod commands;

use commands::checkin::checkin_command;
use commands::claims::{ClaimCommand, claim_command};
use commands::doors::{DoorCommand, door_command};
use commands::gym::{GymCommand, gym_command};
use commands::members::{MemberCommand, member_command};
use commands::points::{PointsCommand, points_command};
use commands::screenshot::{LangArg, parse_size, screenshot_command};
use commands::stats::stats_command;
use commands::vending::{VendingCommand, vending_command};

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use keting_centre::data_dir::DataDir;
use keting_centre::service::flags::ServiceFlags;
use keting_centre::service::{Centre, CentreConfig};
use keting_centre::site::{self, NewSite};
use keting_centre::{clock, demo};
use keting_desk::checkin::CheckInDesk;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_kiosk::screen_devices;
use keting_kiosk::ui::kiosk_adapter::KioskUi;

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

    /// The screen only, for a centre running in its own process (`keting-centre`, its own systemd unit on a Pi): the devices' states come from the centre's socket in the data directory, everything else from the database. The screen goes on showing (devices unknown) while the centre restarts.
    #[arg(long, conflicts_with_all = ["headless", "room"])]
    screen: bool,

    /// Activity mode: the screen shows what is on in this room and counts each scan as attendance (a volunteer's second scan checks out). It shares the centre's data directory and starts no centre of its own; a room on another machine uses a `reader` device agent.
    #[arg(long, value_name = "NAME", conflicts_with = "headless")]
    room: Option<String>,

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
    /// Residents' own phones: a one-time sign-in link for staff helping a resident, the phones bound, ending them.
    #[command(subcommand)]
    Phone(commands::phones::PhoneCommand),
    /// Gym memberships (月付制): who may enter the gym door at night.
    #[command(subcommand)]
    Gym(GymCommand),
    /// The devices' own keys, which their signed answers must verify with.
    #[command(subcommand)]
    Device(commands::devices::DeviceCommand),
    /// Alarms: forced doors, doors held open, devices offline, faults, drinks in doubt; acknowledge one by name.
    #[command(subcommand)]
    Alarm(commands::alarms::AlarmCommand),
    /// Alarms told off-site: channels (a WeCom or DingTalk group robot, a signed webhook), which alarm kinds go where, a test message.
    Alert {
        #[command(subcommand)]
        cmd: commands::alerts::AlertCommand,
    },
    /// Back the centre up (what the daily timer runs), check a backup, restore one.
    #[command(subcommand)]
    Backup(commands::backup::BackupCommand),
    /// Staff: roles (what each may do) and the PINs their cards need on the staff page.
    #[command(subcommand)]
    Staff(commands::staff::StaffCommand),
    /// The doors the kiosk publishes the roster to.
    #[command(subcommand)]
    Door(DoorCommand),
    /// Devices claiming their identity with a label (`device-agent --claim`): list them, confirm one.
    #[command(subcommand)]
    Claim(ClaimCommand),
    /// Volunteer points: award for an activity, reverse an award, balance, history, the rules.
    #[command(subcommand)]
    Points(PointsCommand),
    /// Activities: plan (once or repeated), the week's programme, sign-up and the waiting list, attendance, volunteers' time, close and award.
    #[command(subcommand)]
    Activity(commands::activities::ActivityCommand),
    /// The vending machine's catalogue: drinks, prices in points, stock.
    #[command(subcommand)]
    Vending(VendingCommand),
    /// Bookable resources: the pianos, the robot, childcare, rooms.
    #[command(subcommand)]
    Resource(commands::bookings::ResourceCommand),
    /// Course packages sold at the desk (e.g. 10 robot sessions).
    #[command(subcommand)]
    Package(commands::bookings::PackageCommand),
    /// Bookings: book, cancel, check in, end, clear after a robot session, list, the week view.
    #[command(subcommand)]
    Booking(commands::bookings::BookingCommand),
    /// The pianos: scan and play (a free piano, or the queue).
    #[command(subcommand)]
    Piano(commands::bookings::PianoCommand),
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
    /// A new Pi's first boot (a card from packaging/pi/build-image): the question on the screen (this Pi is the centre, with a new site or a backup restored, or a device, enrolled with its claim label). It only writes the answer; keting-first-boot-apply, run by systemd as root, does it and reports back. Opens no data directory.
    FirstBoot {
        /// Where the answer goes (watched by keting-first-boot-apply.path).
        #[arg(long, value_name = "FILE", default_value = keting_kiosk::first_boot::ANSWER_FILE)]
        answer: PathBuf,
        /// Where the helper reports its progress.
        #[arg(long, value_name = "FILE", default_value = keting_kiosk::first_boot::STATUS_FILE)]
        status: PathBuf,
        /// The backups the helper found on the card's boot partition, one name per line.
        #[arg(long, value_name = "FILE", default_value = keting_kiosk::first_boot::BACKUPS_FILE)]
        backups: PathBuf,
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
enum SiteAction {
    /// Take over the site made by `keting-provision site init` (its id, name, signing key and the kiosk's broker login), into an empty data directory.
    Import {
        /// The provisioned site directory.
        #[arg(value_name = "SITE_DIR")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse_from(arguments());
    let default_log =
        if cli.command.is_none() || matches!(cli.command, Some(Command::FirstBoot { .. })) {
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

/// The command line; called as `keting-centre` (the packages install that
/// name as a link to this program, so the centre's unit and the screen map
/// one program's pages), it is `kiosk --headless`: the same flags, the same
/// centre as the `keting-centre` program built from `keting-centre`'s crate.
fn arguments() -> Vec<OsString> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let as_centre = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|name| name == "keting-centre");
    if as_centre {
        args.insert(1, "--headless".into());
    }
    args
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
    if let Some(Command::FirstBoot {
        answer,
        status,
        backups,
    }) = &cli.command
    {
        return first_boot(
            keting_kiosk::ui::first_boot_adapter::FirstBootFiles {
                answer: answer.clone(),
                status: status.clone(),
                backups: backups.clone(),
            },
            started,
        );
    }
    let data = match &cli.data {
        Some(d) => d.clone(),
        None => DataDir::default_path()?,
    };
    // A screen never makes a site: the centre, in its own process, does.
    if cli.screen
        && cli.command.is_none()
        && !data.join(keting_centre::data_dir::DATABASE_FILE).exists()
    {
        bail!(
            "no centre in {} yet: start the centre first (systemctl start keting-centre); this screen tries again",
            data.display()
        );
    }
    let dir = match DataDir::prepare(data.clone()) {
        Ok(dir) => dir,
        // The screen on a card that cannot be written: said on the screen.
        Err(e) if cli.command.is_none() && !cli.headless => {
            return match card_trouble(&e) {
                Some((trouble, detail)) => storage_notice(trouble, &detail, data),
                None => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    // A backup is taken or restored before anything opens (or creates) a site.
    if let Some(Command::Backup(cmd)) = cli.command {
        return commands::backup::backup_command(cmd, &dir);
    }
    let mut store = Store::open(&dir.database())
        .with_context(|| format!("cannot open the database {}", dir.database().display()))?;
    if let Some(Command::Site {
        action: Some(SiteAction::Import { dir: site_dir }),
    }) = &cli.command
    {
        let imported = site::import_provisioned(&mut store, &dir, site_dir, clock::now())?;
        let (host, port) = &imported.broker;
        println!(
            "site {} ({}) is this kiosk's; devices log in to the broker at {host}:{port} (TLS)",
            imported.site.site_id, imported.site.name
        );
        for r in &imported.registered {
            println!("registered {r}");
        }
        if !imported.registered.is_empty() {
            println!(
                "rename a door with `kiosk door add ID --name 健身房`; prices and hours with `kiosk resource add`"
            );
        }
        return Ok(());
    }
    let kind = if cli.command.is_none() {
        NewSite::Demo
    } else {
        NewSite::Plain
    };
    let site = site::open_or_create(&mut store, &dir, kind, clock::now())?;
    let centre =
        |site: &SiteRecord| -> Result<CentreConfig> { Ok(cli.service.config(&dir, site)?) };
    match cli.command {
        None if cli.headless => headless(centre(&site)?),
        None => {
            let doors = if cli.screen {
                Doors::Follow
            } else if cli.room.is_some() {
                Doors::None
            } else {
                Doors::Centre(centre(&site)?)
            };
            window(store, site, &dir, doors, cli.room.as_deref(), started)
        }
        Some(Command::Gym(cmd)) => gym_command(cmd, &mut store, &site),
        Some(Command::Staff(cmd)) => commands::staff::staff_command(cmd, &mut store),
        Some(Command::Device(cmd)) => commands::devices::device_command(cmd, &mut store, &site),
        Some(Command::Alarm(cmd)) => commands::alarms::alarm_command(cmd, &mut store, &site),
        Some(Command::Alert { cmd }) => {
            commands::alerts::alert_command(cmd, &mut store, dir.path())
        }
        Some(Command::Backup(_)) => Ok(()), // handled above
        Some(Command::Door(cmd)) => door_command(cmd, &mut store, &site),
        Some(Command::Claim(cmd)) => claim_command(cmd, &mut store),
        Some(Command::Points(cmd)) => points_command(cmd, &mut store, &site),
        Some(Command::Activity(cmd)) => {
            commands::activities::activity_command(cmd, &mut store, &site)
        }
        Some(Command::Vending(cmd)) => vending_command(cmd, &mut store, &site),
        Some(Command::Resource(cmd)) => commands::bookings::resource_command(cmd, &mut store),
        Some(Command::Package(cmd)) => commands::bookings::package_command(cmd, &mut store, &site),
        Some(Command::Booking(cmd)) => commands::bookings::booking_command(cmd, &mut store, &site),
        Some(Command::Piano(cmd)) => commands::bookings::piano_command(cmd, &mut store, &site),
        Some(Command::Site { .. }) => {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&site.public_key)?;
            println!("site        {}", site.site_id);
            println!("name        {}", site.name);
            println!("public_key  {}", keting_core::pass::encode_public_key(&key));
            Ok(())
        }
        Some(Command::Member(cmd)) => member_command(cmd, &mut store, &site, &dir),
        Some(Command::Phone(cmd)) => commands::phones::phone_command(cmd, &mut store, &site),
        Some(Command::Checkin { pass }) => checkin_command(&pass, store, site, &dir),
        Some(Command::Stats { day, month, csv }) => stats_command(&store, &site, day, month, csv),
        Some(Command::Screenshot { .. } | Command::FirstBoot { .. }) => {
            unreachable!("handled above")
        }
    }
}

/// Whether a window can open here: a desktop session, or on DRM/KMS a
/// display device this user may open (said in plain words if not), and
/// input devices it can read (a warning if none).
fn check_screen() -> Result<()> {
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if !has_display && !screen_devices::DRM_KMS_BUILT {
        bail!(
            "no display to open the kiosk window on (neither DISPLAY nor WAYLAND_DISPLAY is set). \
             On a desktop, run it in the desktop session; on a Raspberry Pi without X, build with \
             `--features linuxkms` and run with SLINT_BACKEND=linuxkms (see README.md)"
        );
    }
    if !has_display {
        // DRM/KMS, no desktop: the screen and the scanner are devices this
        // user opens, and what is wrong with them is said in plain words.
        let card = screen_devices::display_device(Path::new(screen_devices::DRI_DIR))?;
        tracing::info!(screen = %card.display(), "the screen's display device");
        let input = screen_devices::input_devices(Path::new(screen_devices::INPUT_DIR));
        match input.warning() {
            Some(warning) => tracing::warn!("{warning}"),
            None => tracing::info!(readable = input.readable, "input devices"),
        }
    }
    Ok(())
}

/// Whether the data directory failed for the card's sake (full, read-only),
/// and what the system said.
fn card_trouble(
    e: &keting_centre::data_dir::DataDirError,
) -> Option<(
    keting_kiosk::ui::storage_notice_adapter::CardTrouble,
    String,
)> {
    use keting_centre::data_dir::DataDirError;
    let source = match e {
        DataDirError::Create { source, .. } | DataDirError::NotWritable { source, .. } => source,
        DataDirError::NoDefault => return None,
    };
    keting_kiosk::ui::storage_notice_adapter::CardTrouble::of(source).map(|t| (t, e.to_string()))
}

/// The notice of a card that cannot be written, until it can (then the
/// program ends, and systemd starts the kiosk again).
fn storage_notice(
    trouble: keting_kiosk::ui::storage_notice_adapter::CardTrouble,
    detail: &str,
    data: PathBuf,
) -> Result<()> {
    tracing::error!("{detail}: check-in is paused, the screen says so");
    check_screen()?;
    let ui = keting_kiosk::ui::storage_notice_adapter::StorageNoticeUi::new(
        trouble,
        detail,
        move || DataDir::prepare(data.clone()).is_ok(),
    )
    .context("cannot open the kiosk window")?;
    ui.run().context("the kiosk window failed")?;
    Ok(())
}

/// The first-boot question's window, until systemd stops it (its helper
/// does, once this Pi is set up).
fn first_boot(
    files: keting_kiosk::ui::first_boot_adapter::FirstBootFiles,
    started: Instant,
) -> Result<()> {
    check_screen()?;
    tracing::info!(answer = %files.answer.display(), "first boot: asking what this Pi is");
    let ui = keting_kiosk::ui::first_boot_adapter::FirstBootUi::new(files)
        .context("cannot open the first-boot window")?;
    keting_kiosk::ui::log_first_turn("the first-boot question is on the screen", started);
    ui.run().context("the first-boot window failed")?;
    Ok(())
}

fn headless(config: CentreConfig) -> Result<()> {
    let centre = Centre::start(config)?;
    let (host, port) = &centre.broker;
    tracing::info!("kiosk ready (headless): MQTT broker at {host}:{port}");
    centre.run_until_terminated()?;
    Ok(())
}

/// Where the window's doors view comes from.
enum Doors {
    /// A centre started in this process.
    Centre(CentreConfig),
    /// The centre running in its own process, through its socket.
    Follow,
    /// None (activity mode: the room's screen shows no devices).
    None,
}

fn window(
    store: Store,
    site: SiteRecord,
    dir: &DataDir,
    doors: Doors,
    room: Option<&str>,
    started: Instant,
) -> Result<()> {
    check_screen()?;
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
    let (centre, followed) = match doors {
        Doors::Centre(config) => (Some(Centre::start(config)?), None),
        Doors::Follow => (
            None,
            Some(
                keting_centre::service::screen_feed::follow(dir.path())
                    .context("cannot follow the centre")?,
            ),
        ),
        Doors::None => (None, None),
    };
    let mut desk = CheckInDesk::new(store, site.clone(), verifier);
    // Staff may type the fallback code under a phone's live pass.
    match site::issuer(&site, dir) {
        Ok(issuer) => desk = desk.with_fallback_codes(issuer.fallback_codes()),
        Err(e) => tracing::warn!("no fallback codes at this kiosk: {e}"),
    }
    let ui = KioskUi::new(desk, cards).context("cannot open the kiosk window")?;
    if let Some(c) = &centre {
        ui.set_doors(c.doors());
        if let Some(url) = &c.resident_url {
            ui.set_resident_url(url);
        }
    }
    if let Some(doors) = followed {
        tracing::info!("screen only: the devices' states from the centre's socket");
        ui.set_doors(doors);
    }
    if let Some(room) = room {
        tracing::info!(
            room,
            "activity mode: scans count as attendance in this room"
        );
        ui.set_room(room);
    }
    // The event loop's first turn, right after the first frame: how long
    // a boot takes to the screen (the Pi's VM test reads this line).
    keting_kiosk::ui::log_first_turn("the kiosk screen is up", started);
    ui.run().context("the kiosk window failed")?;
    if let Some(c) = centre {
        c.stop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn a_device_key_that_starts_with_a_hyphen_is_a_key_not_a_flag() {
        // base64url: one key in 64 starts with '-'.
        use clap::Parser;
        let key = "-6lgLciIDwnKHqbsS1PxyZ3h-ZsMd1E1HD-vEOM1gSc";
        let cli = super::Cli::try_parse_from(["kiosk", "device", "trust", "vending", "--key", key]);
        assert!(cli.is_ok(), "{:?}", cli.err());
    }
}
