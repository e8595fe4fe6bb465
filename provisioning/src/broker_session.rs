//! The tool's own short visit to the site's broker, as the kiosk (over TLS
//! with the kiosk's certificate to the site's TLS port; a site made before
//! it had a CA: the kiosk's password on the plain port): what each device
//! last said (`device list`) and the commissioning self-test (`device
//! check`).
//!
//! Retained messages have no end marker, so after subscribing the tool
//! publishes to a topic of its own and waits for it to come back: the broker
//! delivers in order, so every retained message has arrived by then. No
//! guessing with a sleep.

use std::collections::BTreeMap;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{Ack, Action, Command, MessageId, Outcome, PROTOCOL_VERSION, decode};
use keting_core::self_test::SelfCheck;
use keting_core::signed_command::seal;
use keting_core::time::Timestamp;
use keting_core::topics::{DeviceChannel, ROOT, Topic};
use keting_link::short_session::{LoginVerdict, wait_for_login};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use thiserror::Error;

use crate::secrets::random_bytes;
use crate::site_dir::{SiteDir, SiteError};

/// How long the broker may take to accept the login.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a device may take to answer the self-test.
pub const SELF_TEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the broker could not be asked.
#[derive(Debug, Error)]
pub enum BrokerError {
    /// The site directory failed.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// No connection.
    #[error(
        "cannot reach the broker at {address}: {message} (is the kiosk or Mosquitto running? is --broker right?)"
    )]
    Unreachable {
        /// host:port.
        address: String,
        /// What went wrong.
        message: String,
    },
    /// The broker refused the kiosk's login.
    #[error(
        "the broker at {address} refused the kiosk's login ({code}): run `keting-provision broker config` and reload Mosquitto"
    )]
    Refused {
        /// host:port.
        address: String,
        /// The CONNACK code.
        code: String,
    },
    /// The site's id in site.toml is not a valid id.
    #[error("site.toml: {0}")]
    BadSite(String),
}

/// What one device last said on the broker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceSeen {
    /// Its retained online flag: `None` if it never connected.
    pub online: Option<bool>,
    /// Its retained status's `at_ms`: when it last published its status.
    pub last_seen_ms: Option<i64>,
    /// Its retained status's state (`locked`, ...), if any.
    pub state: Option<String>,
    /// A fault in force, if its status says so.
    pub fault: Option<String>,
}

/// The outcome of `device check`'s conversation with the agent.
#[derive(Clone, Debug, PartialEq)]
pub enum SelfTestOutcome {
    /// The agent is not online.
    Offline,
    /// The agent is online but did not answer in time.
    NoAnswer(Duration),
    /// The agent refused or could not run the test.
    NotRun(String),
    /// The agent's report.
    Report(Vec<SelfCheck>),
}

/// A connection to the site's broker with the kiosk's login.
pub struct BrokerSession {
    client: AsyncClient,
    events: EventLoop,
    site: SiteId,
    fence: String,
}

impl BrokerSession {
    /// Connects to `address` (default: the site's broker, its TLS port).
    pub async fn connect(
        site: &SiteDir,
        address: Option<(String, u16)>,
    ) -> Result<Self, BrokerError> {
        let files = keting_link::tls::TlsFiles {
            ca: site.path.join("ca.pem"),
            cert: site.path.join("kiosk.pem"),
            key: site.path.join("kiosk.key"),
        };
        let tls = if files.cert.exists() {
            Some(
                keting_link::tls::LinkTls::from_files(&files)
                    .map_err(|e| BrokerError::BadSite(e.to_string()))?,
            )
        } else {
            None
        };
        let default_port = if tls.is_some() {
            site.site.tls_port
        } else {
            site.site.broker_port
        };
        let (host, port) = address.unwrap_or_else(|| (site.site.broker_host.clone(), default_port));
        let site_id =
            SiteId::new(site.site.id.clone()).map_err(|e| BrokerError::BadSite(e.to_string()))?;
        let tag: String = random_bytes(6)
            .map_err(|e| BrokerError::BadSite(e.to_string()))?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let client_id = format!("keting-provision-{tag}");
        let mut options = MqttOptions::new(client_id.clone(), host.clone(), port);
        match &tls {
            Some(tls) => {
                options.set_transport(tls.transport());
            }
            None => {
                options.set_credentials("kiosk", site.kiosk_password()?);
            }
        }
        options.set_keep_alive(Duration::from_secs(10));
        options.set_clean_session(true);
        let (client, mut events) = AsyncClient::new(options, 64);
        let address = format!("{host}:{port}");
        match wait_for_login(&mut events, CONNECT_TIMEOUT).await {
            LoginVerdict::Accepted => {}
            LoginVerdict::Refused(code) => return Err(BrokerError::Refused { address, code }),
            LoginVerdict::Unreachable(message) => {
                return Err(BrokerError::Unreachable { address, message });
            }
        }
        let fence = format!("{ROOT}/{site_id}/provision/{client_id}/fence");
        Ok(Self {
            client,
            events,
            site: site_id,
            fence,
        })
    }

    fn lost(&self, e: impl std::fmt::Display) -> BrokerError {
        BrokerError::Unreachable {
            address: "the broker".into(),
            message: e.to_string(),
        }
    }

    /// Subscribes to `filters` and returns every retained message on them,
    /// then hands each message to `take` until it returns `true` or `limit`
    /// passes.
    async fn collect(
        &mut self,
        filters: &[String],
        mut take: impl FnMut(&str, &[u8], bool) -> bool,
        limit: Duration,
    ) -> Result<bool, BrokerError> {
        for f in filters.iter().chain(std::iter::once(&self.fence)) {
            self.client
                .subscribe(f.clone(), QoS::AtLeastOnce)
                .await
                .map_err(|e| self.lost(e))?;
        }
        self.client
            .publish(
                self.fence.clone(),
                QoS::AtLeastOnce,
                false,
                b"fence".to_vec(),
            )
            .await
            .map_err(|e| self.lost(e))?;
        let mut fenced = false;
        let fence = self.fence.clone();
        let result = tokio::time::timeout(limit, async {
            loop {
                match self.events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if p.topic == fence {
                            fenced = true;
                            if take("", &[], true) {
                                return Ok(true);
                            }
                        } else if take(&p.topic, &p.payload, fenced) {
                            return Ok(true);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .await;
        match result {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(message)) => Err(self.lost(message)),
            Err(_) => Ok(false),
        }
    }

    /// What every device last said: online flag and status.
    pub async fn devices_seen(&mut self) -> Result<BTreeMap<String, DeviceSeen>, BrokerError> {
        let filters = [
            format!("{ROOT}/{}/device/+/online", self.site),
            format!("{ROOT}/{}/device/+/status", self.site),
        ];
        let site = self.site.clone();
        let mut seen: BTreeMap<String, DeviceSeen> = BTreeMap::new();
        self.collect(
            &filters,
            |topic, payload, fenced| {
                if fenced && topic.is_empty() {
                    return true;
                }
                let Ok(Topic::Device(id, channel)) = Topic::parse(&site, topic) else {
                    return false;
                };
                // A status travels signed (the centre checks the device's
                // signature); the technician's list reads what is inside.
                let body = keting_core::signed_answer::unchecked(payload);
                let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
                    return false;
                };
                let entry = seen.entry(id.as_str().to_owned()).or_default();
                match channel {
                    DeviceChannel::Online => entry.online = value["online"].as_bool(),
                    DeviceChannel::Status => {
                        entry.last_seen_ms = value["at_ms"].as_i64();
                        entry.state = value["state"].as_str().map(str::to_owned);
                        entry.fault = value["fault"].as_str().map(str::to_owned);
                    }
                    _ => {}
                }
                false
            },
            CONNECT_TIMEOUT,
        )
        .await?;
        Ok(seen)
    }

    /// Runs the commissioning self-test on `device`, the command signed
    /// with the site key `key` (the device carries out nothing unsigned) and
    /// numbered by the clock: a self-test a millisecond after the centre's
    /// last command to the device is still new to it.
    pub async fn self_test(
        &mut self,
        device: &DeviceId,
        key: &SigningKey,
        now: Timestamp,
        limit: Duration,
        test_vend: Option<u8>,
    ) -> Result<SelfTestOutcome, BrokerError> {
        let online_topic = Topic::Device(device.clone(), DeviceChannel::Online).name(&self.site);
        let ack_topic = Topic::Device(device.clone(), DeviceChannel::Ack).name(&self.site);
        let mut online = None;
        self.collect(
            &[online_topic.clone(), ack_topic.clone()],
            |topic, payload, fenced| {
                if topic == online_topic {
                    online = serde_json::from_slice::<serde_json::Value>(payload)
                        .ok()
                        .and_then(|v| v["online"].as_bool());
                }
                fenced
            },
            CONNECT_TIMEOUT,
        )
        .await?;
        if online != Some(true) {
            return Ok(SelfTestOutcome::Offline);
        }
        let id = MessageId::new(format!("check-{}", now.as_unix_millis()))
            .map_err(|e| BrokerError::BadSite(e.to_string()))?;
        let deadline_ms =
            now.as_unix_millis() + i64::try_from(limit.as_millis()).unwrap_or(i64::MAX / 2);
        let cmd = Command {
            v: PROTOCOL_VERSION,
            to: device.clone(),
            seq: u64::try_from(now.as_unix_millis()).unwrap_or(1).max(1),
            id: id.clone(),
            deadline_ms,
            action: Action::SelfTest { test_vend },
        };
        let cmd_topic = Topic::Device(device.clone(), DeviceChannel::Cmd).name(&self.site);
        self.client
            .publish(cmd_topic, QoS::AtLeastOnce, false, seal(key, &cmd))
            .await
            .map_err(|e| self.lost(e))?;
        let mut outcome = None;
        let answered = self
            .collect(
                &[],
                |topic, payload, _| {
                    if topic != ack_topic {
                        return false;
                    }
                    match decode::<Ack>(&keting_core::signed_answer::unchecked(payload)) {
                        Ok(ack) if ack.id == id => {
                            outcome = Some(ack.outcome);
                            true
                        }
                        _ => false,
                    }
                },
                limit,
            )
            .await?;
        Ok(match (answered, outcome) {
            (true, Some(Outcome::SelfTested { checks })) => SelfTestOutcome::Report(checks),
            (true, Some(Outcome::Expired)) => SelfTestOutcome::NotRun(
                "the command arrived after its deadline: is the device's clock right?".into(),
            ),
            (true, Some(Outcome::Refused { reason })) => SelfTestOutcome::NotRun(reason),
            (true, Some(Outcome::Done)) => {
                SelfTestOutcome::NotRun("the agent has no self-test: update it".into())
            }
            _ => SelfTestOutcome::NoAnswer(limit),
        })
    }

    /// Says goodbye to the broker.
    pub async fn close(mut self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while self.events.poll().await.is_ok() {}
        })
        .await;
    }
}
