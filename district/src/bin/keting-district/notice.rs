//! `keting-district notice announce|activity|revoke`: something told to
//! the centres on their own downlink subjects, recorded with its sender.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use keting_district::database;

use crate::flags::{NatsFlags, ZoneFlag, command_line_actor, now_ms};

/// Tell the centres something: an announcement for the kiosks' home page, an activity on the programme, a lost card to refuse. To every centre heard from, or to those named with --centre.
#[derive(Args)]
pub struct NoticeArgs {
    #[command(flatten)]
    nats: NatsFlags,
    /// PostgreSQL, as a libpq connection string.
    #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB")]
    postgres: String,
    /// Only these centres (repeat or comma-separate); each must have reported to the district.
    #[arg(long = "centre", value_name = "NAME", value_delimiter = ',')]
    centres: Vec<String>,
    /// The downlink stream's replicas (3 in production).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
    replicas: u8,
    #[command(flatten)]
    zone: ZoneFlag,
    #[command(subcommand)]
    what: NoticeCommand,
}

#[derive(Subcommand)]
enum NoticeCommand {
    /// An announcement on the home page until a day's end (at most 200 characters each).
    Announce {
        /// In Chinese.
        #[arg(long)]
        zh: String,
        /// In English.
        #[arg(long, default_value = "")]
        en: String,
        /// Shown until the end of this day, YYYY-MM-DD (the district's time) [default: 7 days].
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
    },
    /// An activity on the district's programme, shown under "On today" on its day.
    Activity {
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// HH:MM.
        #[arg(long)]
        starts: String,
        /// Its title in Chinese.
        #[arg(long)]
        title_zh: String,
        /// In English.
        #[arg(long, default_value = "")]
        title_en: String,
        /// Where, in Chinese.
        #[arg(long, default_value = "")]
        place_zh: String,
        /// Where, in English.
        #[arg(long, default_value = "")]
        place_en: String,
    },
    /// A lost card issued at centre ISSUER to its member MEMBER: every centre refuses a district pass of it.
    Revoke {
        /// The centre that issued the card.
        #[arg(long)]
        issuer: String,
        /// The member's number there.
        #[arg(long)]
        member: u32,
    },
}

/// Runs `notice`.
pub async fn run(args: NoticeArgs) -> Result<ExitCode> {
    let NoticeArgs {
        nats,
        postgres,
        centres,
        replicas,
        zone,
        what,
    } = args;
    use keting_core::district::DownlinkKind;
    let utc_offset = zone.minutes()?;
    let message = match what {
        NoticeCommand::Announce { zh, en, until } => {
            let until_ms = match until {
                None => now_ms() + 7 * 86_400_000,
                Some(day) => {
                    let format = time::macros::format_description!("[year]-[month]-[day]");
                    let date = time::Date::parse(&day, &format)
                        .with_context(|| format!("--until {day:?}: YYYY-MM-DD"))?;
                    crate::flags::end_of_day_ms(date, utc_offset).context("--until: too far")?
                }
            };
            DownlinkKind::Announcement { zh, en, until_ms }
        }
        NoticeCommand::Activity {
            date,
            starts,
            title_zh,
            title_en,
            place_zh,
            place_en,
        } => DownlinkKind::Activity {
            date,
            starts,
            title_zh,
            title_en,
            place_zh,
            place_en,
        },
        NoticeCommand::Revoke { issuer, member } => DownlinkKind::RevokeCard { issuer, member },
    };
    let mut db = database::connect(&postgres)
        .await
        .context("cannot reach the district's PostgreSQL")?;
    database::migrate(&mut db).await?;
    let client = keting_link::district_link::connect(&nats.login("notice")?).await?;
    let js = async_nats::jetstream::new(client);
    let by = command_line_actor();
    let sent = keting_district::notices::send(
        &js,
        &mut db,
        &nats.district,
        usize::from(replicas),
        keting_district::notices::Notice {
            centres,
            message,
            by,
            now_ms: now_ms(),
        },
    )
    .await?;
    println!("sent to {sent} centre(s); each applies it once, when it is next online");
    Ok(ExitCode::SUCCESS)
}
