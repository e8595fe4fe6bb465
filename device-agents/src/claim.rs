//! `device-agent --claim TEXT`: a factory-fresh device enrols with the
//! label's one-time code (see [`keting_core::claim`]).
//!
//! It opens TLS to the label's claim listener, trusting only the CA whose
//! fingerprint the label carries ([`keting_link::pinned_ca`]), logs in as
//! `claim-<device>` with the code, makes its TLS key and a certificate
//! request ([`crate::tls_request`]) and its answer-signing key
//! ([`crate::identity`]), publishes a request with a fresh nonce and its
//! proof, shows the PIN on its panel (and prints it), and waits for the
//! kiosk's answer, which a technician gives only after comparing the PINs.
//! The answer's MAC and its CA's fingerprint are checked before anything is
//! written; then `ca.pem`, `device.pem`, `device.key` (0600), the signing
//! key and last `agent.toml` are written whole, next to each other, and the
//! configuration is checked by the agent's own parser first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keting_core::claim::{ClaimLabel, ClaimOutcome, ClaimRequest, ClaimResponse, pin_for_print};
use keting_core::messages::{PROTOCOL_VERSION, decode, encode};
use keting_core::topics::Topic;
use keting_hardware::panel::PanelDisplay;
use keting_hardware::panel::status_layout::{StatusView, render};
use keting_hardware::panel::text::PanelFont;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use thiserror::Error;

use crate::config::AgentConfig;
use keting_link::short_session::{LoginVerdict, wait_for_login};

/// How long the broker may take to answer the login.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where provisioning's configuration says the device's files are.
const PROVISIONED_DIR: &str = "/etc/keting";

/// Why the claim did not enrol the device.
#[derive(Debug, Error)]
pub enum ClaimFailure {
    /// No broker at the label's address.
    #[error("cannot reach the broker at {address}: {message}")]
    Unreachable {
        /// host:port.
        address: String,
        /// What went wrong.
        message: String,
    },
    /// The broker refused the claim login.
    #[error(
        "the broker refused the claim login ({0}): the code was used or its window closed, or the broker was not reloaded after `device label`; print a new label"
    )]
    LoginRefused(String),
    /// The kiosk said no.
    #[error("the kiosk refused the claim: {0}")]
    Refused(String),
    /// No answer in time.
    #[error(
        "no answer from the kiosk within {0} s: was the PIN confirmed on the kiosk's technician screen?"
    )]
    NoAnswer(u64),
    /// An answer that is not from the kiosk holding the code.
    #[error(transparent)]
    BadAnswer(#[from] keting_core::claim::ClaimError),
    /// The answer's CA is not the label's.
    #[error("the answer's CA is not the one on the label: print a new label at this site")]
    OtherCa,
    /// TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// The configuration received does not parse.
    #[error("the configuration received is not valid: {0}")]
    BadConfig(String),
    /// A file could not be written.
    #[error("{path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// No randomness for the nonce.
    #[error("no randomness: {0}")]
    Random(String),
}

/// Where the claim puts what it receives, and what it shows.
pub struct ClaimSetup {
    /// The label's content.
    pub label: ClaimLabel,
    /// The agent configuration to write (its directory gets `broker.secret`).
    pub config_path: PathBuf,
    /// The panel, if the device has one, and its font.
    pub panel: Option<(Box<dyn PanelDisplay>, PanelFont)>,
    /// How long to wait for the technician's confirmation.
    pub wait: Duration,
}

fn show(panel: &mut Option<(Box<dyn PanelDisplay>, PanelFont)>, view: &StatusView) {
    if let Some((p, font)) = panel
        && let Err(e) = p.show(&render(view, font))
    {
        tracing::warn!("panel: {e}");
    }
}

/// The panel while the PIN is compared.
pub fn pin_view(pin: &str) -> StatusView {
    StatusView {
        headline: pin_for_print(pin),
        line: "设备认领：请核对PIN".into(),
        small: "Claim: same PIN on kiosk?".into(),
        attention: false,
    }
}

/// Enrols the device: returns the configuration path written. `on_pin` is
/// called with the PIN as soon as the request is out.
pub async fn claim(
    mut setup: ClaimSetup,
    on_pin: impl FnOnce(&str),
) -> Result<PathBuf, ClaimFailure> {
    let label = &setup.label;
    let key = label.key();
    let address = format!("{}:{}", label.host, label.port);
    let mut options = MqttOptions::new(
        format!("keting-claim-{}-{}", label.site, label.device),
        label.host.clone(),
        label.port,
    );
    options.set_credentials(label.login(), label.code.clone());
    // The code goes only to a broker of the label's CA.
    let tls = keting_link::pinned_ca::pinned_ca(&label.ca_fingerprint)
        .map_err(|e| ClaimFailure::Tls(e.to_string()))?;
    options.set_transport(tls.transport());
    options.set_clean_session(true);
    options.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = AsyncClient::new(options, 16);
    let request_topic = Topic::ClaimRequest(label.device.clone()).name(&label.site);
    let response_topic = Topic::ClaimResponse(label.device.clone()).name(&label.site);

    match wait_for_login(&mut events, CONNECT_TIMEOUT).await {
        LoginVerdict::Accepted => {}
        LoginVerdict::Refused(code) => return Err(ClaimFailure::LoginRefused(code)),
        LoginVerdict::Unreachable(message) => {
            return Err(ClaimFailure::Unreachable { address, message });
        }
    }
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| ClaimFailure::Random(e.to_string()))?;
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    // The device's own key, made here: only its public half leaves.
    let identity = crate::identity::generate().map_err(|e| ClaimFailure::Random(e.to_string()))?;
    let device_key = keting_core::pass::encode_public_key(&identity.verifying_key());
    let tls_request = crate::tls_request::make(label.device.as_str())
        .map_err(|e| ClaimFailure::Tls(e.to_string()))?;
    let request = ClaimRequest {
        v: PROTOCOL_VERSION,
        nonce: nonce.clone(),
        proof: key.proof(&nonce, &device_key, &tls_request.csr_pem),
        device_key,
        csr: tls_request.csr_pem.clone(),
    };
    let lost = |e: rumqttc::ClientError| ClaimFailure::Unreachable {
        address: address.clone(),
        message: e.to_string(),
    };
    client
        .subscribe(response_topic.clone(), QoS::AtLeastOnce)
        .await
        .map_err(lost)?;
    let mut subscribed = false;
    let pin = key.pin(&nonce);
    let mut on_pin = Some(on_pin);
    let answer = tokio::time::timeout(setup.wait, async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) if !subscribed => {
                    // Subscribed first, so the answer cannot be missed.
                    subscribed = true;
                    client
                        .publish(
                            request_topic.clone(),
                            QoS::AtLeastOnce,
                            false,
                            encode(&request),
                        )
                        .await
                        .map_err(lost)?;
                    show(&mut setup.panel, &pin_view(&pin));
                    tracing::info!(
                        "claim request sent; the panel shows PIN {}",
                        pin_for_print(&pin)
                    );
                    if let Some(f) = on_pin.take() {
                        f(&pin);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == response_topic => {
                    match decode::<ClaimResponse>(&p.payload) {
                        Ok(r) if r.nonce == nonce => return Ok(r.outcome),
                        Ok(_) => tracing::debug!("an answer to another attempt"),
                        Err(e) => tracing::warn!("claim answer not understood: {e}"),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(ClaimFailure::Unreachable {
                        address: address.clone(),
                        message: e.to_string(),
                    });
                }
            }
        }
    })
    .await;
    let _ = client.disconnect().await;
    let outcome = match answer {
        Ok(outcome) => outcome?,
        Err(_) => return Err(ClaimFailure::NoAnswer(setup.wait.as_secs())),
    };
    let made = MadeKeys {
        identity,
        tls_key_pem: tls_request.key_pem,
    };
    let written = write_enrolment(label, &nonce, outcome, &setup.config_path, &made);
    let view = match &written {
        Ok(_) => StatusView {
            headline: "已认领".into(),
            line: label.device.as_str().to_owned(),
            small: "Enrolled: start the agent".into(),
            attention: false,
        },
        Err(_) => StatusView {
            headline: "认领失败".into(),
            line: "请重新打印标签".into(),
            small: "Claim failed".into(),
            attention: true,
        },
    };
    show(&mut setup.panel, &view);
    written
}

/// The keys the device made for its claim.
struct MadeKeys {
    identity: ed25519_dalek::SigningKey,
    tls_key_pem: String,
}

/// Checks the answer and writes the CA's certificate, the device's own
/// certificate and TLS key (0600), its signing key (in the state directory
/// the configuration names), then `agent.toml`.
fn write_enrolment(
    label: &ClaimLabel,
    nonce: &str,
    outcome: ClaimOutcome,
    config_path: &Path,
    keys: &MadeKeys,
) -> Result<PathBuf, ClaimFailure> {
    outcome.check(&label.key(), nonce)?;
    let (agent_toml, cert_pem, ca_pem) = match outcome {
        ClaimOutcome::Enrolled {
            agent_toml,
            cert_pem,
            ca_pem,
            ..
        } => (agent_toml, cert_pem, ca_pem),
        ClaimOutcome::Refused { reason } => return Err(ClaimFailure::Refused(reason)),
    };
    let ca = keting_link::pinned_ca::pem_fingerprint(&ca_pem)
        .map_err(|e| ClaimFailure::Tls(e.to_string()))?;
    if ca != label.ca_fingerprint {
        return Err(ClaimFailure::OtherCa);
    }
    let dir = config_path.parent().unwrap_or(Path::new("."));
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    // The files sit next to the configuration, wherever that is.
    let agent_toml = agent_toml.replace(
        &format!("\"{PROVISIONED_DIR}/"),
        &format!("\"{}/", dir.display()),
    );
    let config = AgentConfig::parse(&agent_toml).map_err(ClaimFailure::BadConfig)?;
    let write = |name: &str, bytes: &[u8], mode| {
        let path = dir.join(name);
        keting_link::atomic_file::write(&path, bytes, mode).map_err(|e| ClaimFailure::Write {
            path: path.clone(),
            message: e.to_string(),
        })
    };
    write("ca.pem", ca_pem.as_bytes(), 0o644)?;
    write("device.pem", cert_pem.as_bytes(), 0o644)?;
    write("device.key", keys.tls_key_pem.as_bytes(), 0o600)?;
    crate::identity::store(&config.state_dir, &keys.identity).map_err(|e| ClaimFailure::Write {
        path: crate::identity::key_path(&config.state_dir),
        message: e.to_string(),
    })?;
    keting_link::atomic_file::write(config_path, agent_toml.as_bytes(), 0o644).map_err(|e| {
        ClaimFailure::Write {
            path: config_path.to_owned(),
            message: e.to_string(),
        }
    })?;
    Ok(config_path.to_owned())
}
