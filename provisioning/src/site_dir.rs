//! The site directory (`--site DIR`, default `./keting-site`): `site.toml`
//! (id, name, broker address), `site.key` (the Ed25519 private key, PKCS#8
//! PEM, mode 0600), `kiosk.secret` (the kiosk's broker password, 0600), the
//! site CA and its certificates (`ca.pem`, `ca.key`, `ca.crl`, `broker.*`,
//! `kiosk.*`: `crate::site_ca`), `devices.toml` and `devices/<name>/`.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use keting_core::ids::SiteId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::secrets::{new_password, random_bytes, write_atomic};
use crate::site_ca::{SiteCa, Usage, write_issued};

/// What went wrong with the site directory.
#[derive(Debug, Error)]
pub enum SiteError {
    /// A site is there already.
    #[error(
        "{0} already holds a site; pass --force to replace it (its devices then need new credentials)"
    )]
    Exists(PathBuf),
    /// No site there.
    #[error("no site in {0}: create one with `keting-provision site init --name NAME`")]
    Missing(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// A value given is not acceptable.
    #[error("{0}")]
    Invalid(String),
}

/// `site.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteFile {
    /// The site id (topics, passes).
    pub id: String,
    /// The centre's name.
    pub name: String,
    /// Where the devices find the broker.
    pub broker_host: String,
    /// The broker's plain port: on the broker's machine only (the kiosk
    /// beside it, the provisioning tool there).
    pub broker_port: u16,
    /// The broker's TLS port: client certificates of the site CA required;
    /// what every device and a kiosk on another machine use.
    #[serde(default = "default_tls_port")]
    pub tls_port: u16,
    /// The broker's claim port: TLS with no client certificate, claim
    /// logins (`claim-<device>` with a label's code) only of use there.
    #[serde(default = "default_claim_port")]
    pub claim_port: u16,
}

/// The TLS port unless told otherwise (MQTT over TLS, IANA).
pub const DEFAULT_TLS_PORT: u16 = 8883;
/// The claim port unless told otherwise.
pub const DEFAULT_CLAIM_PORT: u16 = 8884;

fn default_tls_port() -> u16 {
    DEFAULT_TLS_PORT
}

fn default_claim_port() -> u16 {
    DEFAULT_CLAIM_PORT
}

/// Where a new site's broker is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerAddress {
    /// Its address on the LAN.
    pub host: String,
    /// Its plain port (this machine only).
    pub port: u16,
    /// Its TLS port.
    pub tls_port: u16,
    /// Its claim port.
    pub claim_port: u16,
}

impl BrokerAddress {
    /// `host` with the default ports (1883 plain, 8883 TLS, 8884 claims).
    pub fn with_default_ports(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            port: 1883,
            tls_port: DEFAULT_TLS_PORT,
            claim_port: DEFAULT_CLAIM_PORT,
        }
    }
}

/// An opened site directory.
#[derive(Clone, Debug)]
pub struct SiteDir {
    /// The directory.
    pub path: PathBuf,
    /// Its `site.toml`.
    pub site: SiteFile,
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> SiteError {
    SiteError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn random_site_id() -> Result<String, SiteError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bytes = random_bytes(10).map_err(|e| SiteError::Invalid(e.to_string()))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect())
}

impl SiteDir {
    /// Creates a site in `path`.
    pub fn init(
        path: &Path,
        name: &str,
        broker: &BrokerAddress,
        force: bool,
    ) -> Result<Self, SiteError> {
        let broker_host = broker.host.as_str();
        let ports = [broker.port, broker.tls_port, broker.claim_port];
        if ports.contains(&0)
            || ports[0] == ports[1]
            || ports[1] == ports[2]
            || ports[0] == ports[2]
        {
            return Err(SiteError::Invalid(format!(
                "the broker's plain, TLS and claim ports must be three different ports, not {}, {} and {}",
                ports[0], ports[1], ports[2]
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(SiteError::Invalid(format!(
                "--name {name:?}: 1 to 40 characters"
            )));
        }
        if path.join("site.toml").exists() && !force {
            return Err(SiteError::Exists(path.to_owned()));
        }
        let id = random_site_id()?;
        SiteId::new(id.clone()).map_err(|e| SiteError::Invalid(e.to_string()))?;
        let seed: [u8; 32] = random_bytes(32)
            .map_err(|e| SiteError::Invalid(e.to_string()))?
            .try_into()
            .map_err(|_| SiteError::Invalid("no randomness".into()))?;
        let key = SigningKey::from_bytes(&seed);
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SiteError::Invalid(e.to_string()))?;
        let site = SiteFile {
            id,
            name: name.to_owned(),
            broker_host: broker_host.to_owned(),
            broker_port: broker.port,
            tls_port: broker.tls_port,
            claim_port: broker.claim_port,
        };
        let kiosk_secret = new_password().map_err(|e| SiteError::Invalid(e.to_string()))?;
        // The key first: a site.toml without its key would be a broken site.
        let key_path = path.join("site.key");
        write_atomic(&key_path, pem.as_bytes(), 0o600).map_err(|e| file_err(&key_path, e))?;
        let secret_path = path.join("kiosk.secret");
        write_atomic(&secret_path, kiosk_secret.as_bytes(), 0o600)
            .map_err(|e| file_err(&secret_path, e))?;
        let inv = path.join("devices.toml");
        write_atomic(&inv, b"", 0o644).map_err(|e| file_err(&inv, e))?;
        // The site's CA, the broker's certificate for the addresses it
        // serves, and the kiosk's client certificate.
        let ca = SiteCa::create(path, &site.id, name)?;
        let mut sans = vec![broker_host.to_owned()];
        for local in ["127.0.0.1", "localhost"] {
            if broker_host != local {
                sans.push(local.to_owned());
            }
        }
        write_issued(path, "broker", &ca.issue("broker", &sans, Usage::Server)?)?;
        write_issued(
            path,
            "kiosk",
            &ca.issue("kiosk", &["kiosk".into()], Usage::Client)?,
        )?;
        ca.write_crl(path)?;
        let toml_path = path.join("site.toml");
        let text = toml::to_string(&site).map_err(|e| SiteError::Invalid(e.to_string()))?;
        write_atomic(&toml_path, text.as_bytes(), 0o644).map_err(|e| file_err(&toml_path, e))?;
        Ok(Self {
            path: path.to_owned(),
            site,
        })
    }

    /// Opens the site in `path`.
    pub fn open(path: &Path) -> Result<Self, SiteError> {
        let toml_path = path.join("site.toml");
        let text =
            std::fs::read_to_string(&toml_path).map_err(|_| SiteError::Missing(path.to_owned()))?;
        let site: SiteFile = toml::from_str(&text).map_err(|e| file_err(&toml_path, e))?;
        Ok(Self {
            path: path.to_owned(),
            site,
        })
    }

    /// The site's signing key.
    pub fn signing_key(&self) -> Result<SigningKey, SiteError> {
        let path = self.path.join("site.key");
        let pem = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
        SigningKey::from_pkcs8_pem(&pem).map_err(|e| file_err(&path, e))
    }

    /// The SHA-256 fingerprint of the site CA's certificate (`ca.pem`),
    /// as a claim label carries it.
    pub fn ca_fingerprint(&self) -> Result<String, SiteError> {
        let path = self.path.join(crate::site_ca::CA_CERT);
        let pem = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))?;
        keting_link::pinned_ca::pem_fingerprint(&pem).map_err(|e| file_err(&path, e))
    }

    /// Home Assistant's broker password (`homeassistant.secret`, 0600),
    /// made the first time it is asked for: a read-only login for the
    /// discovery configs and the devices' state.
    pub fn home_assistant_password(&self) -> Result<String, SiteError> {
        let path = self.path.join("homeassistant.secret");
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(s.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = new_password().map_err(|e| SiteError::Invalid(e.to_string()))?;
                write_atomic(&path, secret.as_bytes(), 0o600).map_err(|e| file_err(&path, e))?;
                Ok(secret)
            }
            Err(e) => Err(file_err(&path, e)),
        }
    }

    /// The kiosk's broker password.
    pub fn kiosk_password(&self) -> Result<String, SiteError> {
        let path = self.path.join("kiosk.secret");
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| file_err(&path, e))
    }
}
