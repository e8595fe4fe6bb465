//! The centre controller: the centre's side of the MQTT protocol, on a tokio
//! runtime of its own thread (the UI thread only reads what it publishes).
//!
//! - [`broker`]: the embedded MQTT broker (rumqttd), unless an external one
//!   (Mosquitto, in production) is named.
//! - [`controller`]: the one task that owns the link and a database
//!   connection: it re-publishes the signed door roster within a poll
//!   interval of any change (from the screen or another process), stores
//!   every door event once, and keeps the live state of every device.
//! - [`device_states`]: what each device last said, and the rule that an
//!   offline device shows as unavailable, never as its last state.
//! - [`claims`]: devices claiming their identity with a label's code; the
//!   answer leaves only after a technician confirmed the PIN.
//! - [`command_seal`]: every command sent, numbered and signed for one
//!   device: the broker is not trusted to say who commands a door.
//! - [`sessions`]: session starts and stops to the piano bank and the
//!   robot, bookings settled on their answers, the sweep every second.
//! - [`demo_devices`]: the demo site's devices, simulated (relay boards, the
//!   drinks machine, the robot) with the real agents, in this process.
//! - [`flags`]: the service's command-line flags and the configuration
//!   they resolve to.
//! - [`home_assistant`]: Home Assistant's MQTT discovery configs for every
//!   device, and today's visits.
//! - [`alarm_watch`]: alarms raised and cleared from what the devices say
//!   and stop saying.
//! - [`occupancy_watch`]: who is inside, as alarms: someone who came in
//!   without a scan (tailgating), someone alone too long at night (welfare).
//! - [`alert_sender`]: the alarms told off-site (WeCom, DingTalk, a signed
//!   webhook), from the durable outbox their triggers fill, with retries.
//! - [`alerts_file`]: `DATA/alerts.toml`, where alarms are told, applied at the
//!   start.
//! - [`district_config`]: the centre's district (`district.toml`) and its
//!   uplink key.
//! - [`screen_feed`]: the doors view for a screen in another process
//!   (`kiosk --screen`), on a Unix socket in the data directory.
//! - [`uplink`]: the outbox of what the district needs, sent to its
//!   JetStream stream in order and marked sent once acknowledged.
//! - [`downlink`]: what the district tells this centre, pulled from its own
//!   consumer, applied once, then acknowledged.

pub mod alarm_watch;
pub mod alert_sender;
pub mod alerts_file;
pub mod broker;
pub mod claims;
pub mod command_seal;
pub mod controller;
pub mod demo_devices;
pub mod device_states;
pub mod district_config;
pub mod downlink;
pub mod flags;
pub mod home_assistant;
pub mod occupancy_watch;
pub mod screen_feed;
pub mod sessions;
pub mod uplink;

use std::net::SocketAddr;
use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use thiserror::Error;
use tokio::sync::{oneshot, watch};

pub use device_states::{DoorView, DoorsView, HeardDevice};
use keting_store::site_record::SiteRecord;

/// Where the centre's MQTT broker is.
#[derive(Clone, Debug)]
pub enum MqttMode {
    /// Run the embedded broker on this address (port 0: any free port).
    Embedded {
        /// Where to listen.
        listen: SocketAddr,
        /// If the port is taken, take a free one instead (the demo default)
        /// rather than failing (an address the user named).
        fallback: bool,
        /// Require these logins (a Mosquitto password file), and log in with
        /// `credentials` itself.
        passwords: Option<PathBuf>,
        /// The centre's own login (the provisioned site's `kiosk` user), when logins are required.
        credentials: Option<(String, String)>,
    },
    /// Use a broker that runs elsewhere.
    External {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// The centre's login (a provisioned site's `kiosk` user).
        credentials: Option<(String, String)>,
        /// TLS (the site CA, the centre's certificate `tls/kiosk.pem`); `None` only on loopback.
        tls: Option<keting_link::tls::LinkTls>,
    },
}

/// What the centre needs to start.
pub struct CentreConfig {
    /// The broker.
    pub mqtt: MqttMode,
    /// The site.
    pub site: SiteRecord,
    /// The site's signing key (rosters).
    pub signing_key: SigningKey,
    /// The database file.
    pub database: PathBuf,
    /// The data directory (agent state of the demo devices).
    pub data_dir: PathBuf,
    /// Run the demo site's simulated devices.
    pub demo_devices: bool,
    /// The provisioning site directory (`kiosk site import`), for claims.
    pub provisioning_site: Option<PathBuf>,
    /// Publish Home Assistant discovery configs (and today's visits).
    pub home_assistant: bool,
    /// How long the devices' events and cleared alarms are kept.
    pub keep_device_events_days: u32,
    /// Serve the staff dashboard here.
    pub http: Option<SocketAddr>,
    /// Serve it over TLS, with these files.
    pub dashboard_tls: Option<keting_webkit::https::TlsFiles>,
    /// Serve the residents' pages here.
    pub resident_http: Option<SocketAddr>,
    /// Their public address, if not `http://` and the listener's.
    pub resident_url: Option<String>,
    /// Sign-in from inside WeChat with the official account.
    pub wechat: Option<keting_resident::wechat::WeChatConfig>,
    /// Report to this district, members pseudonymised under this key.
    pub district: Option<(district_config::DistrictConfig, [u8; 32])>,
}

/// Why the centre could not start.
#[derive(Debug, Error)]
pub enum CentreError {
    /// The broker could not listen.
    #[error("{0}")]
    Broker(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] keting_store::StoreError),
    /// The bookings' sweep.
    #[error(transparent)]
    Bookings(#[from] keting_desk::bookings::BookingError),
    /// The runtime or a thread.
    #[error("cannot start the centre's runtime: {0}")]
    Runtime(String),
    /// The demo devices.
    #[error("demo devices: {0}")]
    Demo(String),
    /// The dashboard's certificate.
    #[error(transparent)]
    Https(#[from] keting_webkit::https::HttpsError),
    /// The dashboard could not listen.
    #[error("the dashboard cannot listen on {addr}: {source}")]
    Http {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `DATA/alerts.toml` cannot be used.
    #[error("{0}")]
    AlertsFile(String),
}

/// The running centre. Dropping it stops it (the link says offline, the
/// demo door locks).
pub struct Centre {
    /// Where the broker is (host, port), for people and for tests.
    pub broker: (String, u16),
    /// Where the staff dashboard listens, if it was asked for.
    pub dashboard: Option<SocketAddr>,
    /// Where the residents' pages listen, if they were asked for.
    pub residents: Option<SocketAddr>,
    /// The residents' pages' public address (the kiosk's QR links there).
    pub resident_url: Option<String>,
    /// What the district uplink has done, if the centre has a district.
    pub uplink: Option<watch::Receiver<uplink::UplinkStatus>>,
    doors: watch::Receiver<DoorsView>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Centre {
    /// Starts the broker (if embedded), the controller and the demo devices.
    pub fn start(config: CentreConfig) -> Result<Self, CentreError> {
        // Where alarms are told, as the site's owner wrote it: before
        // anything runs, so a file that cannot be used stops the start.
        {
            let mut store = keting_store::Store::open(&config.database)?;
            let named = alerts_file::apply(&mut store, &config.data_dir, crate::clock::now())
                .map_err(CentreError::AlertsFile)?;
            if named > 0 {
                tracing::info!("alert channels from {}: {named}", alerts_file::ALERTS_FILE);
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("centre")
            .enable_all()
            .build()
            .map_err(|e| CentreError::Runtime(e.to_string()))?;
        let broker = match &config.mqtt {
            MqttMode::Embedded {
                listen,
                fallback,
                passwords,
                ..
            } => {
                let addr = broker::start(*listen, *fallback, passwords.as_deref())?;
                (addr.ip().to_string(), addr.port())
            }
            MqttMode::External { host, port, .. } => (host.clone(), *port),
        };
        let (doors_tx, doors) = watch::channel(DoorsView::default());
        let (commits_tx, commits) = watch::channel(0i64);
        let resident_web = match config.resident_http {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .map_err(|source| CentreError::Http { addr, source })?;
                let at = listener
                    .local_addr()
                    .map_err(|source| CentreError::Http { addr, source })?;
                let residents = keting_resident::Residents::new(
                    config.database.clone(),
                    config.site.clone(),
                    keting_core::pass::PassIssuer::new(
                        config.site.site_id.clone(),
                        config.signing_key.clone(),
                    ),
                    match &config.wechat {
                        Some(c) => Some(
                            keting_resident::wechat::WeChat::new(c.clone()).map_err(|e| {
                                CentreError::Runtime(format!("WeChat sign-in: {e}"))
                            })?,
                        ),
                        None => None,
                    },
                )?;
                tracing::info!("residents' pages at http://{at}/");
                Some((listener, at, residents))
            }
            None => None,
        };
        let residents_at = resident_web.as_ref().map(|(_, at, _)| *at);
        let resident_url = config
            .resident_url
            .clone()
            .or_else(|| residents_at.map(|a| format!("http://{a}")));
        let web = match config.http {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .map_err(|source| CentreError::Http { addr, source })?;
                let at = listener
                    .local_addr()
                    .map_err(|source| CentreError::Http { addr, source })?;
                let tls = match &config.dashboard_tls {
                    Some(files) => Some(keting_webkit::https::server_config(files)?),
                    None => None,
                };
                let dashboard = keting_dashboard::Dashboard::new(
                    config.database.clone(),
                    config.site.clone(),
                    keting_core::pass::PassIssuer::new(
                        config.site.site_id.clone(),
                        config.signing_key.clone(),
                    ),
                    doors.clone(),
                    commits,
                    keting_dashboard::Surroundings {
                        site_dir: config.provisioning_site.clone(),
                        secure: tls.is_some(),
                        resident_url: resident_url.clone(),
                    },
                )?;
                let scheme = if tls.is_some() { "https" } else { "http" };
                tracing::info!("staff dashboard at {scheme}://{at}/");
                Some((listener, at, dashboard, tls))
            }
            None => None,
        };
        let dashboard_at = web.as_ref().map(|(_, at, _, _)| *at);
        let uplink = config.district.clone().map(|(district, key)| {
            tracing::info!(
                "district uplink: centre {} of district {}",
                district.centre,
                district.district
            );
            uplink::Uplink::new(district, key, config.database.clone())
        });
        let uplink_status = uplink.as_ref().map(uplink::Uplink::status);
        let uplink_wake = commits_tx.subscribe();
        let alerts_wake = commits_tx.subscribe();
        let alerts_database = config.database.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let controller = controller::Controller::new(&config, &broker, doors_tx, commits_tx)?;
        let screen_view = doors.clone();
        let screen_dir = config.data_dir.clone();
        let demo = if config.demo_devices {
            Some(runtime.block_on(demo_devices::prepare(&config, &broker))?)
        } else {
            None
        };
        let thread = std::thread::Builder::new()
            .name("centre".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let (demo_stop, demo_stopped) = watch::channel(false);
                    let stopped_for_residents = demo_stopped.clone();
                    // A screen in its own process (`kiosk --screen`) reads
                    // the doors view here.
                    let screen_task = match screen_feed::bind(&screen_dir) {
                        Ok(listener) => Some(tokio::spawn(screen_feed::serve(
                            listener,
                            screen_view,
                            demo_stopped.clone(),
                        ))),
                        Err(e) => {
                            tracing::error!(
                                "no screen socket in {}: {e} (a screen in another process sees no devices)",
                                screen_dir.display()
                            );
                            None
                        }
                    };
                    let demo_task = demo.map(|d| tokio::spawn(d.run(demo_stopped.clone())));
                    let uplink_task = uplink.map(|u| {
                        let stopped = demo_stopped.clone();
                        tokio::spawn(async move {
                            if let Err(e) = u.run(uplink_wake, stopped).await {
                                tracing::error!("district uplink stopped: {e}");
                            }
                        })
                    });
                    let alerts_task = {
                        let stopped = demo_stopped.clone();
                        tokio::spawn(async move {
                            if let Err(e) =
                                alert_sender::run(alerts_database, alerts_wake, stopped).await
                            {
                                tracing::error!("alerts stopped: {e}");
                            }
                        })
                    };
                    let web_task = web.map(|(listener, _, dashboard, tls)| {
                        let mut stopped = demo_stopped;
                        tokio::spawn(async move {
                            let shutdown = async move {
                                let _ = stopped.wait_for(|s| *s).await;
                            };
                            let served = match tls {
                                Some(tls) => {
                                    keting_dashboard::serve_https(
                                        listener, dashboard, tls, shutdown,
                                    )
                                    .await
                                }
                                None => {
                                    keting_dashboard::serve(listener, dashboard, shutdown).await
                                }
                            };
                            if let Err(e) = served {
                                tracing::error!("staff dashboard: {e}");
                            }
                        })
                    });
                    let resident_task = resident_web.map(|(listener, _, residents)| {
                        let mut stopped = stopped_for_residents;
                        tokio::spawn(async move {
                            let shutdown = async move {
                                let _ = stopped.wait_for(|s| *s).await;
                            };
                            if let Err(e) =
                                keting_resident::serve(listener, residents, shutdown).await
                            {
                                tracing::error!("residents' pages: {e}");
                            }
                        })
                    });
                    controller
                        .run(async {
                            let _ = stopped.await;
                        })
                        .await;
                    let _ = demo_stop.send(true);
                    if let Some(t) = demo_task {
                        let _ = t.await;
                    }
                    // A message in flight waits at most its timeout.
                    let _ =
                        tokio::time::timeout(std::time::Duration::from_secs(2), alerts_task).await;
                    if let Some(t) = uplink_task {
                        // An acknowledgement in flight waits at most its timeout.
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), t).await;
                    }
                    if let Some(t) = web_task {
                        // Open event streams do not end by themselves.
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), t).await;
                    }
                    if let Some(t) = resident_task {
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), t).await;
                    }
                    if let Some(t) = screen_task {
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), t).await;
                    }
                });
            })
            .map_err(|e| CentreError::Runtime(e.to_string()))?;
        Ok(Self {
            broker,
            dashboard: dashboard_at,
            residents: residents_at,
            resident_url,
            uplink: uplink_status,
            doors,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The doors view, updated as devices report.
    pub fn doors(&self) -> watch::Receiver<DoorsView> {
        self.doors.clone()
    }

    /// Runs until SIGINT (Ctrl-C) or SIGTERM, then stops everything and
    /// waits for it. Under systemd (`Type=notify`) the controller says READY
    /// as its loop starts (the broker listens by then) and feeds the
    /// watchdog from that loop; this says STOPPING on the way out.
    pub fn run_until_terminated(self) -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r?,
                _ = term.recv() => {}
            }
            Ok::<_, std::io::Error>(())
        })?;
        tracing::info!("stopping");
        keting_link::sd_notify::tell("STOPPING=1");
        self.stop();
        Ok(())
    }

    /// Stops everything and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Centre {
    fn drop(&mut self) {
        self.shutdown();
    }
}
