//! The site: its row in the database and its private key on disk.
//!
//! The first command run on an empty data directory creates the site: a
//! random site id, an Ed25519 key pair, the public half in the database and
//! the private half in `site.key` (PKCS#8 PEM, mode 0600, written to a
//! temporary file and renamed). The window on an empty directory creates the
//! demo site, with demo residents; the command line creates a plain one.
//!
//! Checking a pass needs only the public key; issuing one (adding a member,
//! revoking a pass) needs `site.key`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::SiteId;
use keting_core::pass::{PassIssuer, PassVerifier};
use keting_core::time::Timestamp;
use thiserror::Error;

use crate::data_dir::DataDir;
use crate::demo;
use keting_store::site_record::{self, SiteRecord};
use keting_store::{Store, StoreError};

/// Which kind of site to create on an empty data directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewSite {
    /// The demo site: demo residents and programme, a tap-to-scan row.
    Demo,
    /// A real site, empty.
    Plain,
}

/// Why the site cannot be opened or its key used.
#[derive(Debug, Error)]
pub enum SiteError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The demo site could not be filled.
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    /// The provisioned site's devices could not be registered.
    #[error(transparent)]
    Register(#[from] crate::provisioned_devices::RegisterError),
    /// The data directory holds another site already.
    #[error(
        "this data directory already holds site {site} ({name}); import into an empty --data directory"
    )]
    AnotherSite {
        /// That site's id.
        site: String,
        /// Its name.
        name: String,
    },
    /// The site's public key in the database is not an Ed25519 key.
    #[error("the site's public key is not a valid Ed25519 key")]
    BadPublicKey,
    /// The key file cannot be read or written.
    #[error("the site key file {}: {source}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Another file of the data directory cannot be written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The provisioning site directory cannot be read.
    #[error(transparent)]
    Provisioned(#[from] keting_provisioning::site_dir::SiteError),
    /// The provisioning site directory names an invalid site id.
    #[error("site id in {}: {message}", path.display())]
    BadSiteId {
        /// The site directory.
        path: PathBuf,
        /// What is wrong with the id.
        message: String,
    },
    /// The key file is not a PKCS#8 Ed25519 key.
    #[error("the site key file {} is not an Ed25519 private key in PKCS#8 PEM", path.display())]
    KeyFormat {
        /// The file.
        path: PathBuf,
    },
    /// The key file does not belong to this site's database.
    #[error("the site key file {} does not match this site's public key: was it copied from another site?", path.display())]
    KeyMismatch {
        /// The file.
        path: PathBuf,
    },
}

impl From<rusqlite::Error> for SiteError {
    fn from(e: rusqlite::Error) -> Self {
        SiteError::Store(StoreError::Sqlite(e))
    }
}

/// Takes over a site created by `keting-provision site init`: its id, name
/// and signing key (and the centre's broker password, if given). Importing
/// the same site again changes nothing; a data directory that holds another
/// site is refused.
pub fn import(
    store: &mut Store,
    dir: &DataDir,
    site_id: SiteId,
    name: &str,
    key: &SigningKey,
    broker_secret: Option<&str>,
    now: Timestamp,
) -> Result<SiteRecord, SiteError> {
    let site = store.write(|tx| {
        if let Some(existing) = site_record::get(tx)? {
            if existing.site_id == site_id && existing.public_key == key.verifying_key().to_bytes()
            {
                return Ok(existing);
            }
            return Err(SiteError::AnotherSite {
                site: existing.site_id.to_string(),
                name: existing.name,
            });
        }
        let site = SiteRecord {
            site_id: site_id.clone(),
            name: name.to_owned(),
            calendar: SiteCalendar::china(),
            demo: false,
            public_key: key.verifying_key().to_bytes(),
            created: now,
        };
        write_key_file(&dir.site_key(), key)?;
        site_record::insert(tx, &site)?;
        Ok::<_, SiteError>(site)
    })?;
    if let Some(secret) = broker_secret {
        let path = dir.broker_secret();
        keting_link::atomic_file::write(&path, secret.as_bytes(), 0o600)
            .map_err(|source| SiteError::KeyFile { path, source })?;
    }
    Ok(site)
}

/// A provisioned site taken over by this centre.
#[derive(Clone, Debug)]
pub struct ImportedSite {
    /// The site as this centre now holds it.
    pub site: SiteRecord,
    /// Where its devices log in to the broker (host, TLS port).
    pub broker: (String, u16),
    /// The doors and resources registered for its devices (none again on
    /// a second import).
    pub registered: Vec<crate::provisioned_devices::Registered>,
}

/// Takes over the site of a provisioning site directory (`keting-provision
/// site init`): its id, name, signing key and the centre's broker login
/// ([`import`]), and remembers the directory, against which the centre
/// judges devices' claims.
pub fn import_provisioned(
    store: &mut Store,
    dir: &DataDir,
    site_dir: &Path,
    now: Timestamp,
) -> Result<ImportedSite, SiteError> {
    let provisioned = keting_provisioning::site_dir::SiteDir::open(site_dir)?;
    let key = provisioned.signing_key()?;
    let id = SiteId::new(provisioned.site.id.clone()).map_err(|e| SiteError::BadSiteId {
        path: site_dir.to_owned(),
        message: e.to_string(),
    })?;
    let secret = provisioned.kiosk_password().ok();
    let site = import(
        store,
        dir,
        id,
        &provisioned.site.name,
        &key,
        secret.as_deref(),
        now,
    )?;
    remember_provisioning_site(dir, site_dir)?;
    // The centre's TLS files, for `--mqtt-url mqtts://...` (`DATA/tls`).
    for (name, mode) in [
        ("ca.pem", 0o644),
        ("kiosk.pem", 0o644),
        ("kiosk.key", 0o600),
    ] {
        let from = site_dir.join(name);
        let Ok(bytes) = fs::read(&from) else {
            continue; // a site made before it had a CA
        };
        let path = dir.path().join("tls").join(name);
        keting_link::atomic_file::write(&path, &bytes, mode)
            .map_err(|source| SiteError::File { path, source })?;
    }
    // Every device in service, registered: doors get the roster at once.
    let registered = crate::provisioned_devices::register(store, site_dir, now)?;
    Ok(ImportedSite {
        site,
        broker: (
            provisioned.site.broker_host.clone(),
            provisioned.site.tls_port,
        ),
        registered,
    })
}

/// Remembers the provisioning site directory (claims read it).
pub fn remember_provisioning_site(dir: &DataDir, site_dir: &Path) -> Result<(), SiteError> {
    let path = dir.provisioning_site_file();
    let absolute = std::path::absolute(site_dir).unwrap_or_else(|_| site_dir.to_owned());
    keting_link::atomic_file::write(&path, absolute.as_os_str().as_encoded_bytes(), 0o600)
        .map_err(|source| SiteError::File { path, source })
}

/// The provisioning site directory, if the site was imported from one.
pub fn provisioning_site(dir: &DataDir) -> Option<PathBuf> {
    let text = fs::read_to_string(dir.provisioning_site_file()).ok()?;
    let path = PathBuf::from(text.trim_end_matches('\n'));
    path.is_dir().then_some(path)
}

/// The centre's broker login, if the site was provisioned: `kiosk` and its secret.
pub fn broker_login(dir: &DataDir) -> Option<(String, String)> {
    let secret = fs::read_to_string(dir.broker_secret()).ok()?;
    Some(("kiosk".to_owned(), secret.trim().to_owned()))
}

/// Opens the site of `dir`, creating it as `kind` if the database has none.
pub fn open_or_create(
    store: &mut Store,
    dir: &DataDir,
    kind: NewSite,
    now: Timestamp,
) -> Result<SiteRecord, SiteError> {
    if let Some(site) = site_record::get(store.conn())? {
        return Ok(site);
    }
    store.write(|tx| {
        // Another process may have created it while we waited for the lock.
        if let Some(site) = site_record::get(tx)? {
            return Ok(site);
        }
        let key = SigningKey::from_bytes(&random_bytes::<32>());
        let site = SiteRecord {
            site_id: random_site_id(),
            name: match kind {
                NewSite::Demo => "客厅示范中心".to_owned(),
                NewSite::Plain => "客厅".to_owned(),
            },
            calendar: SiteCalendar::china(),
            demo: kind == NewSite::Demo,
            public_key: key.verifying_key().to_bytes(),
            created: now,
        };
        write_key_file(&dir.site_key(), &key)?;
        site_record::insert(tx, &site)?;
        if kind == NewSite::Demo {
            demo::seed(tx, now)?;
        }
        tracing::info!(site = %site.site_id, demo = site.demo, "created the site");
        Ok::<_, SiteError>(site)
    })
}

/// The verifier for this site's passes.
pub fn verifier(site: &SiteRecord) -> Result<PassVerifier, SiteError> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(&site.public_key)
        .map_err(|_| SiteError::BadPublicKey)?;
    Ok(PassVerifier::new(site.site_id.clone(), key))
}

/// The issuer of this site's passes, from `site.key`.
pub fn issuer(site: &SiteRecord, dir: &DataDir) -> Result<PassIssuer, SiteError> {
    Ok(PassIssuer::new(
        site.site_id.clone(),
        signing_key(site, dir)?,
    ))
}

/// The site's signing key (passes and door rosters), from `site.key`,
/// checked against the public key in the database.
pub fn signing_key(site: &SiteRecord, dir: &DataDir) -> Result<SigningKey, SiteError> {
    let path = dir.site_key();
    let pem = fs::read_to_string(&path).map_err(|source| SiteError::KeyFile {
        path: path.clone(),
        source,
    })?;
    let key = SigningKey::from_pkcs8_pem(&pem)
        .map_err(|_| SiteError::KeyFormat { path: path.clone() })?;
    if key.verifying_key().to_bytes() != site.public_key {
        return Err(SiteError::KeyMismatch { path });
    }
    Ok(key)
}

fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), SiteError> {
    let err = |source| SiteError::KeyFile {
        path: path.to_owned(),
        source,
    };
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| err(io::Error::other(e.to_string())))?;
    keting_link::atomic_file::write(path, pem.as_bytes(), 0o600).map_err(err)
}

/// Bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is not something a centre can recover from.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

fn random_site_id() -> SiteId {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let id: String = random_bytes::<10>()
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    // Ten characters of a-z2-7 are always a valid site id.
    SiteId::new(id).unwrap_or_else(|_| unreachable!())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::ids::{Epoch, MemberId};

    #[test]
    fn created_once_with_a_private_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::prepare(tmp.path()).unwrap();
        let mut store = Store::open(&dir.database()).unwrap();
        let a = open_or_create(
            &mut store,
            &dir,
            NewSite::Plain,
            Timestamp::from_unix_millis(0),
        )
        .unwrap();
        let b = open_or_create(
            &mut store,
            &dir,
            NewSite::Demo,
            Timestamp::from_unix_millis(1),
        )
        .unwrap();
        assert_eq!(a, b, "an existing site is never replaced");
        assert!(!a.demo);
        let mode = fs::metadata(dir.site_key()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let pass = issuer(&a, &dir).unwrap().issue(MemberId(1), Epoch(0));
        assert!(
            verifier(&a)
                .unwrap()
                .verify(&pass, keting_core::time::Timestamp::from_unix_millis(0))
                .is_ok()
        );
    }

    #[test]
    fn a_key_from_another_site_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::prepare(tmp.path()).unwrap();
        let mut store = Store::open(&dir.database()).unwrap();
        let site = open_or_create(
            &mut store,
            &dir,
            NewSite::Plain,
            Timestamp::from_unix_millis(0),
        )
        .unwrap();
        write_key_file(&dir.site_key(), &SigningKey::from_bytes(&[9; 32])).unwrap();
        assert!(matches!(
            issuer(&site, &dir),
            Err(SiteError::KeyMismatch { .. })
        ));
        fs::write(dir.site_key(), "not a key").unwrap();
        assert!(matches!(
            issuer(&site, &dir),
            Err(SiteError::KeyFormat { .. })
        ));
    }
}
