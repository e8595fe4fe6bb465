//! `kiosk alert ...`: where alarms are told off-site: channels (a WeCom or
//! DingTalk group robot, a signed webhook), routes of alarm kinds to
//! channels, and a test message sent at once with what the channel said.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use keting_centre::clock;
use keting_centre::service::alert_sender;
use keting_desk::alerts::ChannelKind;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// A WeCom (企业微信) group robot's webhook address.
    Wecom,
    /// A DingTalk (钉钉) group robot's webhook address; its signing secret on standard input.
    Dingtalk,
    /// Any HTTPS endpoint taking the alarm as JSON, signed with HMAC-SHA256 (X-Keting-Signature) when given a secret.
    Webhook,
    /// E-mail over SMTP with STARTTLS: --url smtp://[USER@]HOST[:PORT]?from=ADDRESS&to=ADDRESS[,ADDRESS]; the login's password on standard input.
    Email,
}

#[derive(Subcommand)]
pub enum AlertCommand {
    /// The channels alarms are sent to.
    Channel {
        #[command(subcommand)]
        action: ChannelAction,
    },
    /// Send alarms of one kind to these channels only (with no route, every alarm goes to every channel).
    Route {
        /// The alarm's kind: forced, held_open, reader_lockout, offline, fault, vend_in_doubt, clock_wrong.
        kind: String,
        /// The channels, comma-separated; empty ("") sends this kind to every channel again.
        #[arg(long, value_name = "NAME[,NAME]")]
        to: String,
        /// Not acknowledged within this many minutes: tell --then as well (0: no escalation).
        #[arg(long, value_name = "MIN", requires = "then", value_parser = clap::value_parser!(u32).range(0..=1440))]
        escalate_after: Option<u32>,
        /// The channel told when nobody acknowledged in time.
        #[arg(long, value_name = "NAME", requires = "escalate_after")]
        then: Option<String>,
    },
    /// Quiet hours for one alarm kind: its messages are held until they end (e.g. drinks in doubt at night).
    Quiet {
        /// The alarm's kind.
        kind: String,
        /// From (local time), HH:MM.
        #[arg(long, value_name = "HH:MM", requires = "until", conflicts_with = "off")]
        from: Option<String>,
        /// Until (local time), HH:MM; before --from means across midnight.
        #[arg(long, value_name = "HH:MM", requires = "from")]
        until: Option<String>,
        /// No quiet hours for this kind.
        #[arg(long)]
        off: bool,
    },
    /// Send a test message now (to one channel, or to each) and print what the channel answered.
    Test {
        /// The channel (default: every channel).
        name: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ChannelAction {
    /// Add a channel (or change the one of that name).
    Add {
        /// What it is.
        #[arg(long, value_enum)]
        kind: Kind,
        /// Its name, e.g. duty-wecom (a-z, 0-9, -).
        #[arg(long)]
        name: String,
        /// Its address: https://... (http:// to this machine only); for
        /// e-mail smtp://[USER@]HOST[:PORT]?from=..&to=.., or --smtp.
        #[arg(long, required_unless_present = "smtp", conflicts_with = "smtp")]
        url: Option<String>,
        /// E-mail: the server, HOST[:PORT] (587 by default; STARTTLS always).
        #[arg(long, value_name = "HOST[:PORT]", requires_all = ["from", "to"])]
        smtp: Option<String>,
        /// E-mail: the sender's address.
        #[arg(long, value_name = "ADDRESS", requires = "smtp")]
        from: Option<String>,
        /// E-mail: the recipients, comma-separated.
        #[arg(long, value_name = "ADDRESS[,ADDRESS]", requires = "smtp")]
        to: Option<String>,
        /// E-mail: the login's user (its password through --secret-stdin).
        #[arg(long, value_name = "USER", requires = "smtp")]
        user: Option<String>,
        /// E-mail: a private authority the server's certificate is signed
        /// by (an absolute path); by default the system's.
        #[arg(long, value_name = "FILE", requires = "smtp")]
        ca: Option<std::path::PathBuf>,
        /// Read the channel's secret (DingTalk's signing secret, the webhook's HMAC key) from standard input; it is kept in a 0600 file and never shown.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// The channels and the routes.
    List,
    /// Remove a channel (its routes and unsent messages with it).
    Remove {
        /// Its name.
        name: String,
    },
}

fn alarm_kind(kind: &str) -> Result<keting_desk::records::AlarmKind> {
    keting_desk::records::AlarmKind::parse(kind).with_context(|| {
        let all: Vec<&str> = keting_desk::records::AlarmKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        format!("no alarm kind {kind:?}: {}", all.join(", "))
    })
}

fn minute_of(hh_mm: &str) -> Result<u16> {
    desk::alerts::minute_of(hh_mm)
        .with_context(|| format!("{hh_mm:?}: a time of day is HH:MM, e.g. 22:00"))
}

pub fn alert_command(cmd: AlertCommand, store: &mut Store, data_dir: &Path) -> Result<()> {
    match cmd {
        AlertCommand::Channel {
            action:
                ChannelAction::Add {
                    kind,
                    name,
                    url,
                    smtp,
                    from,
                    to,
                    user,
                    ca,
                    secret_stdin,
                },
        } => {
            let url = match (url, smtp) {
                (Some(url), _) => url,
                (None, Some(server)) => {
                    if !matches!(kind, Kind::Email) {
                        bail!("--smtp is for --kind email; a robot or a webhook has --url");
                    }
                    format!(
                        "smtp://{}{server}?from={}&to={}{}",
                        user.map(|u| format!("{u}@")).unwrap_or_default(),
                        from.unwrap_or_default(),
                        to.unwrap_or_default(),
                        ca.map(|c| format!("&ca={}", c.display()))
                            .unwrap_or_default()
                    )
                }
                (None, None) => bail!("give --url (or --smtp for e-mail)"),
            };
            let secret = if secret_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the secret from standard input")?;
                Some(s)
            } else {
                None
            };
            let kind = match kind {
                Kind::Wecom => ChannelKind::WeCom,
                Kind::Dingtalk => ChannelKind::DingTalk,
                Kind::Webhook => ChannelKind::Webhook,
                Kind::Email => ChannelKind::Email,
            };
            let c = desk::alerts::add_channel(
                store,
                Actor::CommandLine,
                data_dir,
                &name,
                kind,
                &url,
                secret.as_deref(),
                clock::now(),
            )?;
            println!(
                "channel {} ({}) -> {}{}; try it: kiosk alert test {}",
                c.name,
                c.kind.as_str(),
                c.url,
                if c.secret_file.is_some() {
                    ", secret kept (0600)"
                } else {
                    ""
                },
                c.name
            );
        }
        AlertCommand::Channel {
            action: ChannelAction::List,
        } => {
            let (channels, routes) = desk::alerts::list(store)?;
            if channels.is_empty() {
                println!("no alert channel: alarms are shown on the kiosk and the dashboard only");
            }
            for c in &channels {
                println!(
                    "{:<20} {:<9} {}{}",
                    c.name,
                    c.kind.as_str(),
                    c.url,
                    if c.secret_file.is_some() {
                        "  (secret set)"
                    } else {
                        ""
                    }
                );
            }
            for (kind, to) in &routes {
                println!("route {} -> {}", kind.as_str(), to.join(","));
            }
            if !channels.is_empty() && routes.is_empty() {
                println!("no route: every alarm goes to every channel");
            }
            for kind in keting_desk::records::AlarmKind::ALL {
                let p = desk::alerts::policy(store, kind)?;
                if let Some((f, u)) = p.quiet {
                    println!(
                        "quiet {} {}-{}",
                        kind.as_str(),
                        desk::alerts::hh_mm(f),
                        desk::alerts::hh_mm(u)
                    );
                }
                if let Some((after, to)) = p.escalate {
                    println!(
                        "escalate {} after {} min -> {to}",
                        kind.as_str(),
                        after / 60
                    );
                }
            }
        }
        AlertCommand::Channel {
            action: ChannelAction::Remove { name },
        } => {
            desk::alerts::remove_channel(store, Actor::CommandLine, data_dir, &name, clock::now())?;
            println!("channel {name} removed");
        }
        AlertCommand::Quiet {
            kind,
            from,
            until,
            off,
        } => {
            let alarm = alarm_kind(&kind)?;
            let quiet = match (from, until, off) {
                (_, _, true) => None,
                (Some(f), Some(u), false) => Some((minute_of(&f)?, minute_of(&u)?)),
                _ => bail!("give --from HH:MM --until HH:MM, or --off"),
            };
            let p = desk::alerts::set_policy(
                store,
                Actor::CommandLine,
                alarm,
                Some(quiet),
                None,
                clock::now(),
            )?;
            match p.quiet {
                Some((f, u)) => println!(
                    "{kind} alarms are held from {} until {}",
                    desk::alerts::hh_mm(f),
                    desk::alerts::hh_mm(u)
                ),
                None => println!("{kind} alarms are sent at any hour"),
            }
        }
        AlertCommand::Route {
            kind,
            to,
            escalate_after,
            then,
        } => {
            let alarm = alarm_kind(&kind)?;
            let names: Vec<String> = to
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            desk::alerts::route(store, Actor::CommandLine, alarm, &names, clock::now())?;
            if names.is_empty() {
                println!("{kind} alarms go to every channel");
            } else {
                println!("{kind} alarms go to {}", names.join(", "));
            }
            if let (Some(minutes), Some(next)) = (escalate_after, then) {
                let escalate = (minutes > 0).then(|| (minutes * 60, next.clone()));
                desk::alerts::set_policy(
                    store,
                    Actor::CommandLine,
                    alarm,
                    None,
                    Some(escalate),
                    clock::now(),
                )?;
                if minutes > 0 {
                    println!("not acknowledged within {minutes} min: {next} is told as well");
                } else {
                    println!("{kind} alarms are not escalated");
                }
            }
        }
        AlertCommand::Test { name } => {
            // Sent here at once; the centre tries again after a minute if not.
            let now = clock::now();
            let rows = desk::alerts::queue_test(
                store,
                Actor::CommandLine,
                name.as_deref(),
                now,
                now.saturating_add(std::time::Duration::from_secs(60)),
            )?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let client = alert_sender::client();
            let mut all = true;
            for (channel, id) in rows {
                let pending = keting_desk::alerts::pending(store, id)?;
                let outcome =
                    runtime.block_on(alert_sender::send(store, data_dir, &client, &pending))?;
                match outcome {
                    alert_sender::Outcome::Delivered(answer) => {
                        println!("{channel}: delivered ({answer})");
                    }
                    alert_sender::Outcome::NotDelivered(why) | alert_sender::Outcome::Held(why) => {
                        all = false;
                        println!("{channel}: NOT delivered; the centre tries again ({why})");
                    }
                }
            }
            if !all {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
