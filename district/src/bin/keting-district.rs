//! `keting-district`: the district's service. `ingest` takes every
//! centre's events from the district's JetStream stream into PostgreSQL;
//! `check` recounts the rollups from the events; `stream` shows the
//! stream's replicas and leader. `anyhow` lives in the binaries only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use keting_district::{database, enrolment, ingest, stream};
use keting_link::district_link::DistrictLogin;
use tokio::sync::watch;

#[derive(Parser)]
#[command(
    name = "keting-district",
    version,
    about = "The district's service: every centre's events from the NATS JetStream cluster into PostgreSQL, once.",
    after_help = "Logs go to standard error (KETING_LOG=debug for more). Stop `ingest` with Ctrl-C or SIGTERM: \
                  it finishes the batch it is writing, and what it had not acknowledged comes again."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct NatsFlags {
    /// The cluster's servers, comma-separated or repeated (all three): nats://HOST:PORT or tls://HOST:PORT.
    #[arg(
        long = "nats",
        value_name = "URL",
        value_delimiter = ',',
        required = true,
        env = "KETING_DISTRICT_NATS"
    )]
    servers: Vec<String>,
    /// The district's name on the wire (the centres' district.toml says it too).
    #[arg(long, value_name = "NAME", env = "KETING_DISTRICT")]
    district: String,
    /// The service's NKey seed file (0600).
    #[arg(long, value_name = "FILE")]
    nkey: Option<PathBuf>,
    /// The district's CA: TLS is then required and only this CA trusted.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

impl NatsFlags {
    fn login(&self, role: &str) -> Result<DistrictLogin> {
        if !keting_core::district::valid_name(&self.district) {
            bail!("--district {:?}: 1 to 32 of a-z, 0-9 and -", self.district);
        }
        Ok(DistrictLogin {
            servers: self.servers.clone(),
            nkey_seed: self.nkey.clone(),
            ca: self.ca.clone(),
            client_cert: None,
            name: format!("keting-district {role}"),
            inbox_prefix: None,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Take the stream into PostgreSQL until stopped (creates the stream with its replicas if it is missing, and the schema).
    Ingest {
        #[command(flatten)]
        nats: NatsFlags,
        /// PostgreSQL, as a libpq connection string (e.g. "host=/var/run/postgresql dbname=keting_district user=keting").
        #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB")]
        postgres: String,
        /// The stream's replicas: 3 in production (a majority survives one server lost); 1 only for a one-server trial.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
        replicas: u8,
        /// The district's time zone as minutes east of UTC (its days start at local midnight).
        #[arg(
            long,
            value_name = "MINUTES",
            default_value_t = 480,
            allow_hyphen_values = true
        )]
        utc_offset: i32,
        /// The durable consumer's name; a new name replays the whole stream (repeats change nothing).
        #[arg(long, value_name = "NAME", default_value = stream::INGEST_CONSUMER)]
        consumer: String,
        /// Stop once nothing is pending (a replay), printing what was done.
        #[arg(long)]
        until_drained: bool,
        /// Serve the district dashboard at HOST:PORT over plain HTTP (this machine or a trusted network only; port 0: any free port, logged).
        #[arg(long, value_name = "HOST:PORT", conflicts_with = "https")]
        http: Option<std::net::SocketAddr>,
        /// Serve the district dashboard over HTTPS at HOST:PORT, with --https-cert and --https-key (its cookie then Secure).
        #[arg(
            long,
            value_name = "HOST:PORT",
            requires = "https_cert",
            requires = "https_key"
        )]
        https: Option<std::net::SocketAddr>,
        /// The dashboard's certificate chain (PEM, its own certificate first).
        #[arg(long, value_name = "FILE", requires = "https")]
        https_cert: Option<PathBuf>,
        /// The dashboard certificate's private key (PEM).
        #[arg(long, value_name = "FILE", requires = "https")]
        https_key: Option<PathBuf>,
    },
    /// The district dashboard's users: add one (the password from standard input, or typed twice at a terminal), list them, remove one.
    User {
        #[command(subcommand)]
        command: UserCommand,
        /// PostgreSQL, as a libpq connection string.
        #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB", global = true)]
        postgres: Option<String>,
    },
    /// Recount every day's rollups from the events: prints the days that differ; exit 1 if any.
    Check {
        /// PostgreSQL, as a libpq connection string.
        #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB")]
        postgres: String,
    },
    /// Issue NKeys: one per centre named (its seed 0600 and its district.toml in OUT/CENTRE/), the ingest's (OUT/ingest.nk) if missing, and OUT/authorization.conf for the three nats-server configurations, covering every centre under OUT. Centres enrolled before keep their keys.
    Enrol {
        /// The district's name on the wire.
        #[arg(long, value_name = "NAME")]
        district: String,
        /// Where the keys and files go (keep it private: it holds every seed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The servers each centre's district.toml names (comma-separated): tls://HOST:PORT.
        #[arg(
            long = "servers",
            value_name = "URL",
            value_delimiter = ',',
            required = true
        )]
        servers: Vec<String>,
        /// The district's CA certificate, copied beside each district.toml (TLS is then required).
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// The centres to enrol (1 to 32 of a-z, 0-9 and -).
        #[arg(value_name = "CENTRE")]
        centres: Vec<String>,
    },
    /// Tell the centres something: an announcement for the kiosks' home page, an activity on the programme, a lost card to refuse. To every centre heard from, or to those named with --centre.
    Notice {
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
        #[command(subcommand)]
        what: NoticeCommand,
    },
    /// Show the stream: messages, replicas and the leader.
    Stream {
        #[command(flatten)]
        nats: NatsFlags,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        /// Their sign-in name.
        name: String,
        /// manager (sees everything, manages users) or observer (sees everything).
        #[arg(long, value_parser = ["manager", "observer"])]
        role: String,
    },
    /// List the users and their roles.
    List,
    /// Remove a user (never the last manager).
    Remove {
        /// Their sign-in name.
        name: String,
    },
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

fn millis_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() * 1000
}

/// A new password: typed twice at a terminal, or one line of standard input.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("password (10 characters or more): ")?;
        let b = rpassword::prompt_password("again: ")?;
        if a != b {
            bail!("the two passwords differ");
        }
        Ok(a)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KETING_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,async_nats=warn,tokio_postgres=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keting-district: cannot start its runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keting-district: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest {
            nats,
            postgres,
            replicas,
            utc_offset,
            consumer,
            until_drained,
            http,
            https,
            https_cert,
            https_key,
        } => {
            if !(-720..=840).contains(&utc_offset) {
                bail!("--utc-offset {utc_offset}: between -720 and 840 minutes");
            }
            let mut db = database::connect(&postgres)
                .await
                .context("cannot reach the district's PostgreSQL")?;
            let version = database::migrate(&mut db).await?;
            tracing::info!("database at schema version {version}");
            let client = keting_link::district_link::connect(&nats.login("ingest")?).await?;
            let js = async_nats::jetstream::new(client);
            let mut waited = keting_link::backoff::Backoff::default();
            let stream = loop {
                match stream::ensure_stream(&js, &nats.district, usize::from(replicas)).await {
                    Ok(s) => break s,
                    Err(e) => {
                        tracing::warn!("waiting for the cluster: {e}");
                        tokio::time::sleep(waited.next_wait()).await;
                    }
                }
            };
            tracing::info!(
                "ingesting stream {} ({} replicas) with consumer {consumer}",
                stream.cached_info().config.name,
                stream.cached_info().config.num_replicas
            );
            let (status_tx, status) = watch::channel(ingest::IngestStatus::default());
            let (stop_tx, stop) = watch::channel(false);
            tokio::spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let Ok(mut term) = signal(SignalKind::terminate()) else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                tracing::info!("stopping after this batch");
                let _ = stop_tx.send(true);
            });
            if let Some(addr) = http.or(https) {
                let listener = std::net::TcpListener::bind(addr)
                    .with_context(|| format!("the dashboard cannot listen on {addr}"))?;
                let at = listener.local_addr()?;
                let tls = match (&https_cert, &https_key) {
                    (Some(cert), Some(key)) => Some(
                        keting_webkit::https::server_config(
                            &keting_webkit::https::TlsFiles {
                                chain: vec![cert.clone()],
                                key: key.clone(),
                            },
                        )
                        .context("the dashboard's certificate")?,
                    ),
                    _ => None,
                };
                let web_db = database::connect(&postgres).await?;
                let dashboard = keting_district::web::DistrictDashboard::new(
                    web_db,
                    &postgres,
                    &nats.district,
                    tls.is_some(),
                    utc_offset,
                );
                let scheme = if tls.is_some() { "https" } else { "http" };
                tracing::info!("district dashboard at {scheme}://{at}/");
                let mut stopped = stop.clone();
                tokio::spawn(async move {
                    let shutdown = async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    };
                    let served = match tls {
                        Some(tls) => {
                            keting_webkit::https::serve_router(
                                listener,
                                keting_district::web::router(dashboard),
                                tls,
                                shutdown,
                            )
                            .await
                        }
                        None => keting_district::web::serve(listener, dashboard, shutdown).await,
                    };
                    if let Err(e) = served {
                        tracing::error!("district dashboard: {e}");
                    }
                });
            }
            keting_link::sd_notify::tell("READY=1");
            ingest::run(
                js,
                db,
                &postgres,
                ingest::IngestConfig {
                    district: nats.district.clone(),
                    offset_minutes: utc_offset,
                    consumer,
                    until_drained,
                },
                status_tx,
                stop,
            )
            .await?;
            let s = status.borrow().clone();
            println!(
                "{} events written, {} repeats ignored, {} refused, in {} batches",
                s.new, s.repeats, s.refused, s.batches
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command, postgres } => {
            let Some(postgres) = postgres else {
                bail!("name the database: --postgres CONN (or KETING_DISTRICT_DB)");
            };
            let mut db = database::connect(&postgres)
                .await
                .context("cannot reach the district's PostgreSQL")?;
            database::migrate(&mut db).await?;
            let by = format!(
                "command line ({})",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            match command {
                UserCommand::Add { name, role } => {
                    let role = keting_district::users::DistrictRole::parse(&role)
                        .context("a role is manager or observer")?;
                    let password = read_password()?;
                    let user = keting_district::users::add(
                        &mut db,
                        &by,
                        &name,
                        role,
                        &password,
                        millis_now(),
                    )
                    .await?;
                    println!("added {} ({})", user.name, user.role.as_str());
                }
                UserCommand::List => {
                    for u in keting_district::users::list(&db).await? {
                        println!("{}\t{}", u.name, u.role.as_str());
                    }
                }
                UserCommand::Remove { name } => {
                    if keting_district::users::remove(&mut db, &by, &name, millis_now()).await? {
                        println!("removed {name}");
                    } else {
                        bail!("no user named {name:?}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { postgres } => {
            let db = database::connect(&postgres)
                .await
                .context("cannot reach the district's PostgreSQL")?;
            let (rows, keys) = database::event_counts(&db).await?;
            let wrong = database::recount_mismatches(&db).await?;
            println!("{rows} events, {keys} distinct (centre, event id)");
            if wrong.is_empty() {
                println!("every day's rollups equal a recount of its events");
                Ok(ExitCode::SUCCESS)
            } else {
                for (centre, day) in &wrong {
                    println!("differs from its recount: {centre} {day}");
                }
                Ok(ExitCode::from(1))
            }
        }
        Command::Enrol {
            district,
            out,
            servers,
            ca,
            centres,
        } => {
            if !keting_core::district::valid_name(&district) {
                bail!("--district {district:?}: 1 to 32 of a-z, 0-9 and -");
            }
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let ingest_seed = out.join("ingest.nk");
            if !ingest_seed.exists() {
                let key = enrolment::new_user_key()?;
                keting_link::atomic_file::write(
                    &ingest_seed,
                    format!("{}\n", key.seed).as_bytes(),
                    0o600,
                )
                .with_context(|| format!("cannot write {}", ingest_seed.display()))?;
            }
            for centre in &centres {
                match enrolment::enrol_centre(&out, &district, centre, &servers, ca.as_deref()) {
                    Ok(_) => println!("enrolled {centre}: {}", out.join(centre).display()),
                    Err(enrolment::EnrolError::Exists(_)) => {
                        println!("{centre} was enrolled before: its key is kept")
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let read = |p: &std::path::Path| {
                std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let ingest_public = enrolment::public_of_seed(&read(&ingest_seed)?)?;
            let mut all = Vec::new();
            for entry in std::fs::read_dir(&out)? {
                let path = entry?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned)
                else {
                    continue;
                };
                let seed = path.join(format!("{name}.nk"));
                if path.is_dir() && seed.exists() {
                    all.push((name, enrolment::public_of_seed(&read(&seed)?)?));
                }
            }
            all.sort();
            let conf = out.join("authorization.conf");
            keting_link::atomic_file::write(
                &conf,
                enrolment::authorization(&district, &ingest_public, &all).as_bytes(),
                0o644,
            )
            .with_context(|| format!("cannot write {}", conf.display()))?;
            println!(
                "{} centres in {}; include it in each nats-server configuration and reload the servers",
                all.len(),
                conf.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Notice {
            nats,
            postgres,
            centres,
            replicas,
            what,
        } => {
            use keting_core::district::DownlinkKind;
            let message = match what {
                NoticeCommand::Announce { zh, en, until } => {
                    let until_ms = match until {
                        None => millis_now() + 7 * 86_400_000,
                        Some(day) => {
                            let format = time::macros::format_description!("[year]-[month]-[day]");
                            let date = time::Date::parse(&day, &format)
                                .with_context(|| format!("--until {day:?}: YYYY-MM-DD"))?;
                            // The end of that day in China (UTC+8).
                            (date
                                .next_day()
                                .context("--until: too far")?
                                .midnight()
                                .assume_utc()
                                .unix_timestamp()
                                - 8 * 3600)
                                * 1000
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
                NoticeCommand::Revoke { issuer, member } => {
                    DownlinkKind::RevokeCard { issuer, member }
                }
            };
            let mut db = database::connect(&postgres)
                .await
                .context("cannot reach the district's PostgreSQL")?;
            database::migrate(&mut db).await?;
            let client = keting_link::district_link::connect(&nats.login("notice")?).await?;
            let js = async_nats::jetstream::new(client);
            let by = format!(
                "command line ({})",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            let sent = keting_district::notices::send(
                &js,
                &mut db,
                &nats.district,
                usize::from(replicas),
                keting_district::notices::Notice {
                    centres,
                    message,
                    by,
                    now_ms: millis_now(),
                },
            )
            .await?;
            println!("sent to {sent} centre(s); each applies it once, when it is next online");
            Ok(ExitCode::SUCCESS)
        }
        Command::Stream { nats } => {
            let client = keting_link::district_link::connect(&nats.login("stream")?).await?;
            let js = async_nats::jetstream::new(client);
            let mut s = js
                .get_stream(stream::stream_name(&nats.district))
                .await
                .context("no district stream (`keting-district ingest` creates it)")?;
            let info = s.info().await?;
            println!(
                "stream {}: {} messages, {} replicas, leader {}",
                info.config.name,
                info.state.messages,
                info.config.num_replicas,
                info.cluster
                    .as_ref()
                    .and_then(|c| c.leader.clone())
                    .unwrap_or_else(|| "none".into())
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
