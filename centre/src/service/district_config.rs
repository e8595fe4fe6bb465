//! What a centre needs to report to its district: `district.toml` (the
//! district issues it with the centre's NKey seed and the district's CA),
//! and the centre's own uplink key (`DATA/uplink.key`, 32 random bytes,
//! 0600, made on first use), under which members become pseudonyms.
//!
//! ```toml
//! district = "futian"            # the district's name on the wire
//! centre = "futian-01"           # this centre's name on the wire
//! servers = ["tls://10.20.0.11:4222", "tls://10.20.0.12:4222", "tls://10.20.0.13:4222"]
//! nkey_seed = "futian-01.nk"     # 0600; relative paths are beside this file
//! ca = "district-ca.pem"         # with it, TLS is required and only it is trusted
//! tally_every_s = 60             # how often the centre reports what it sent (default 60)
//! ```
//!
//! No file, no uplink: the centre works as an island, and its outbox is
//! pruned with its device events.

use std::path::{Path, PathBuf};

use keting_link::district_link::DistrictLogin;
use serde::Deserialize;
use thiserror::Error;

/// The file's name in the data directory (unless `--district` names one).
pub const DISTRICT_FILE: &str = "district.toml";

/// The uplink key's file name in the data directory.
pub const UPLINK_KEY_FILE: &str = "uplink.key";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistrictFile {
    district: String,
    centre: String,
    servers: Vec<String>,
    nkey_seed: Option<PathBuf>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    tally_every_s: Option<u64>,
}

/// How often a centre reports its tally by default.
pub const TALLY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// A centre's district, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictConfig {
    /// The district's name.
    pub district: String,
    /// This centre's name.
    pub centre: String,
    /// How to log in.
    pub login: DistrictLogin,
    /// How often the centre tells the district how many events it sent
    /// (`keting_store::uplink::Tally`), while it sends any.
    pub tally_every: std::time::Duration,
}

/// Why the district file describes no district.
#[derive(Debug, Error)]
pub enum DistrictConfigError {
    /// It cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not the file's format.
    #[error("{path}: {message}")]
    Format {
        /// Which file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The uplink key.
    #[error("the uplink key {path}: {source}")]
    Key {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl DistrictConfig {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Self, DistrictConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| DistrictConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path.parent().unwrap_or(Path::new("."))).map_err(|message| {
            DistrictConfigError::Format {
                path: path.to_owned(),
                message,
            }
        })
    }

    /// Reads the file's `text`, its relative paths beside `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<Self, String> {
        let file: DistrictFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let name_ok = keting_core::district::valid_name;
        if !name_ok(&file.district) {
            return Err(format!(
                "district {:?}: 1 to 32 of a-z, 0-9 and -",
                file.district
            ));
        }
        if !name_ok(&file.centre) {
            return Err(format!(
                "centre {:?}: 1 to 32 of a-z, 0-9 and -",
                file.centre
            ));
        }
        if file.servers.is_empty() {
            return Err("servers: name the district's NATS servers (all three)".into());
        }
        for s in &file.servers {
            let plain = s.starts_with("nats://") && !is_loopback_url(s);
            if plain && file.ca.is_none() {
                return Err(format!(
                    "server {s:?}: plain NATS beyond this machine would carry the centre's events in clear; \
                     use tls://HOST:PORT and name the district's CA (ca = \"...\")"
                ));
            }
            if !(s.starts_with("nats://") || s.starts_with("tls://")) {
                return Err(format!(
                    "server {s:?}: expected tls://HOST:PORT or nats://HOST:PORT"
                ));
            }
        }
        let tally_every = match file.tally_every_s {
            None => TALLY_EVERY,
            Some(s @ 1..=86_400) => std::time::Duration::from_secs(s),
            Some(s) => return Err(format!("tally_every_s = {s}: 1 to 86400 seconds")),
        };
        let at = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
        let client_cert = match (file.cert, file.key) {
            (Some(c), Some(k)) => Some((at(c), at(k))),
            (None, None) => None,
            _ => return Err("cert and key go together".into()),
        };
        Ok(Self {
            login: DistrictLogin {
                servers: file.servers,
                nkey_seed: file.nkey_seed.map(at),
                ca: file.ca.map(at),
                client_cert,
                name: format!("keting-centre {}", file.centre),
                inbox_prefix: Some(format!("_INBOX_{}", file.centre)),
            },
            district: file.district,
            centre: file.centre,
            tally_every,
        })
    }
}

fn is_loopback_url(s: &str) -> bool {
    let host = s
        .split_once("://")
        .map_or(s, |(_, r)| r)
        .rsplit_once(':')
        .map_or(s, |(h, _)| h);
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The centre's uplink key in `data_dir`, made (0600) if there is none.
pub fn uplink_key(data_dir: &Path) -> Result<[u8; 32], DistrictConfigError> {
    let path = data_dir.join(UPLINK_KEY_FILE);
    let err = |source| DistrictConfigError::Key {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not 32 bytes",
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| err(std::io::Error::other(e.to_string())))?;
            keting_link::atomic_file::write(&path, &key, 0o600).map_err(err)?;
            Ok(key)
        }
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_district_file_names_the_centre_and_its_login() {
        let c = DistrictConfig::parse(
            "district = \"futian\"\ncentre = \"futian-01\"\n\
             servers = [\"tls://10.0.0.1:4222\", \"tls://10.0.0.2:4222\"]\n\
             nkey_seed = \"futian-01.nk\"\nca = \"/etc/keting/ca.pem\"\n",
            Path::new("/var/lib/keting"),
        )
        .unwrap();
        assert_eq!(c.centre, "futian-01");
        assert_eq!(
            c.login.nkey_seed.as_deref(),
            Some(Path::new("/var/lib/keting/futian-01.nk"))
        );
        assert_eq!(c.login.ca.as_deref(), Some(Path::new("/etc/keting/ca.pem")));
        assert_eq!(c.login.inbox_prefix.as_deref(), Some("_INBOX_futian-01"));
    }

    #[test]
    fn a_bad_district_file_says_what_is_wrong() {
        let dir = Path::new("/d");
        let e = DistrictConfig::parse(
            "district = \"futian\"\ncentre = \"futian-01\"\nservers = [\"nats://10.0.0.1:4222\"]\n",
            dir,
        )
        .unwrap_err();
        assert!(e.contains("in clear"), "{e}");
        assert!(
            DistrictConfig::parse(
                "district = \"futian\"\ncentre = \"futian-01\"\nservers = [\"nats://127.0.0.1:4222\"]\n",
                dir
            )
            .is_ok(),
            "loopback may be plain"
        );
        let e = DistrictConfig::parse(
            "district = \"Futian\"\ncentre = \"futian-01\"\nservers = [\"nats://127.0.0.1:1\"]\n",
            dir,
        )
        .unwrap_err();
        assert!(e.contains("a-z"), "{e}");
        let e = DistrictConfig::parse("district = \"futian\"\ncentre = \"a\"\nservers = []\n", dir)
            .unwrap_err();
        assert!(e.contains("servers"), "{e}");
        let e = DistrictConfig::parse(
            "district = \"futian\"\ncentre = \"a\"\nservers = [\"nats://127.0.0.1:1\"]\npassword = \"x\"\n",
            dir,
        )
        .unwrap_err();
        assert!(e.contains("password"), "an unknown key is refused: {e}");
    }

    #[test]
    fn the_uplink_key_is_made_once_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = uplink_key(dir.path()).unwrap();
        assert_eq!(uplink_key(dir.path()).unwrap(), a);
        let mode = std::fs::metadata(dir.path().join(UPLINK_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
