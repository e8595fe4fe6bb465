//! The service's command-line flags, shared by `keting-centre` and
//! `kiosk` (whose window runs the same centre in-process), and the
//! configuration they resolve to for a data directory.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::data_dir::DataDir;
use crate::site::{self, SiteError};
use keting_store::site_record::SiteRecord;

use super::{CentreConfig, MqttMode};

/// How the centre reaches its MQTT broker, and whether it runs the demo
/// site's simulated devices.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServiceFlags {
    /// Where the embedded MQTT broker listens (port 0: any free port) [default: 127.0.0.1:1883, or a free port if taken].
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "mqtt_url")]
    pub mqtt_listen: Option<SocketAddr>,

    /// Use this MQTT broker (Mosquitto) instead of the embedded one: mqtts://HOST:PORT (TLS, the site CA and the centre's certificate), or mqtt://127.0.0.1:PORT on this machine only.
    #[arg(long, value_name = "mqtts://HOST:PORT", value_parser = parse_mqtt_url)]
    pub mqtt_url: Option<BrokerUrl>,

    /// With mqtts://: the directory holding ca.pem, kiosk.pem and kiosk.key (0600) [default: DATA/tls, which `kiosk site import` fills].
    #[arg(long, value_name = "DIR", requires = "mqtt_url")]
    pub mqtt_tls: Option<PathBuf>,

    /// Require logins at the embedded broker (which listens on this machine only): a Mosquitto password file (`keting-provision broker config` writes it).
    #[arg(long, value_name = "FILE", conflicts_with = "mqtt_url")]
    pub mqtt_passwords: Option<PathBuf>,

    /// Do not run the demo site's simulated devices (the gym door, the drinks machine, the pianos, the robot).
    #[arg(long)]
    pub no_demo_devices: bool,

    /// Do not publish Home Assistant discovery configs (retained, under homeassistant/; on by default).
    #[arg(long)]
    pub no_home_assistant: bool,

    /// Serve the staff dashboard in a browser at HOST:PORT (e.g. 192.168.1.10:8080; port 0: any free port, logged). Off unless given.
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "https")]
    pub http: Option<std::net::SocketAddr>,

    /// Serve the staff dashboard over HTTPS at HOST:PORT instead (its cookie then `Secure`). The certificate is --https-cert, or else the imported site's broker certificate (the centre is the broker's machine); office browsers trust it once the site's ca.pem is installed.
    #[arg(long, value_name = "HOST:PORT")]
    pub https: Option<std::net::SocketAddr>,

    /// Serve the residents' own pages (their phones: live pass, bookings, activities, points) at HOST:PORT, plain HTTP for the operator's TLS reverse proxy in front (e.g. 127.0.0.1:8081; port 0: any free port, logged). Off unless given.
    #[arg(long, value_name = "HOST:PORT")]
    pub resident_http: Option<std::net::SocketAddr>,

    /// The residents' pages' public address, as phones reach them through the operator's proxy (e.g. https://fuwu.example.cn); the kiosk's "My phone" QR links there [default: http:// and the --resident-http address].
    #[arg(long, value_name = "URL", requires = "resident_http", value_parser = parse_public_url)]
    pub resident_url: Option<String>,

    /// Sign residents in from inside WeChat with the official account in this file (app_id, secret_file beside it, 0600; optionally authorize_url, token_url, ca_file) [default: DATA/wechat.toml, if there is one].
    #[arg(long, value_name = "FILE", requires = "resident_http")]
    pub wechat: Option<PathBuf>,

    /// The dashboard's certificate chain (PEM, its own certificate first), with --https.
    #[arg(long, value_name = "FILE", requires = "https", requires = "https_key")]
    pub https_cert: Option<PathBuf>,

    /// The dashboard certificate's private key (PEM), with --https-cert.
    #[arg(long, value_name = "FILE", requires = "https_cert")]
    pub https_key: Option<PathBuf>,

    /// Report to the district named in this file (its servers, this centre's name and NKey, the district's CA) [default: DATA/district.toml, if there is one; without it the centre reports to no district].
    #[arg(long, value_name = "FILE")]
    pub district: Option<PathBuf>,

    /// Keep the devices' events (door decisions, faults, refusals) and the cleared alarms this many days; older ones are deleted every hour. Check-ins, the points ledger, bookings and the audit log are kept whole.
    #[arg(long, value_name = "DAYS", default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub keep_device_events: u32,
}

/// Why the flags describe no centre that may run.
#[derive(Debug, thiserror::Error)]
pub enum FlagsError {
    /// The WeChat official account's configuration.
    #[error(transparent)]
    WeChat(#[from] keting_resident::wechat::WeChatConfigError),
    /// The site's files.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// The embedded broker on the LAN: it speaks plain TCP only.
    #[error(
        "refusing to run the embedded MQTT broker on {0}: it has no TLS, so logins and everything the doors \
         and the drinks machine say would cross the network in clear; it serves this machine only \
         (--mqtt-listen 127.0.0.1:PORT). For devices on the network run Mosquitto with the site's TLS listener \
         (`keting-provision broker config`) and give --mqtt-url mqtts://HOST:8883"
    )]
    OpenBroker(SocketAddr),
    /// Plain MQTT to another machine: passwords and commands in clear.
    #[error(
        "refusing plain MQTT to {0}: everything on the wire, logins included, would cross the LAN in clear; \
         use mqtts://{0}:8883 (Mosquitto's TLS listener, `keting-provision broker config`)"
    )]
    PlainBeyondLoopback(String),
    /// The TLS files.
    #[error(transparent)]
    Tls(#[from] keting_link::tls::TlsError),
    /// The district file.
    #[error(transparent)]
    District(#[from] super::district_config::DistrictConfigError),
    /// The district login (the NKey seed).
    #[error(transparent)]
    DistrictLogin(#[from] keting_link::district_link::DistrictLinkError),
    /// HTTPS with no certificate to serve.
    #[error(
        "--https needs a certificate: give --https-cert and --https-key, or import the provisioned site          (`kiosk site import DIR`), whose broker certificate the dashboard then serves"
    )]
    NoDashboardCertificate,
}

/// A broker's address from `--mqtt-url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `mqtts://`: TLS.
    pub tls: bool,
}

impl ServiceFlags {
    /// The centre these flags describe for `site` in `dir`. The embedded
    /// broker (rumqttd, plain TCP, no topic rules) listens on loopback only:
    /// the one-box centre and its in-process demo devices. Beyond this
    /// machine the broker is Mosquitto with TLS and client certificates.
    pub fn config(&self, dir: &DataDir, site: &SiteRecord) -> Result<CentreConfig, FlagsError> {
        if let Some(listen) = self.mqtt_listen
            && !listen.ip().is_loopback()
        {
            return Err(FlagsError::OpenBroker(listen));
        }
        let credentials = site::broker_login(dir);
        let mqtt = match (&self.mqtt_url, self.mqtt_listen) {
            (Some(url), _) => {
                let loopback = url.host == "localhost"
                    || url
                        .host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback());
                if !url.tls && !loopback {
                    return Err(FlagsError::PlainBeyondLoopback(url.host.clone()));
                }
                let tls = if url.tls {
                    let tls_dir = self
                        .mqtt_tls
                        .clone()
                        .unwrap_or_else(|| dir.path().join("tls"));
                    Some(keting_link::tls::LinkTls::from_files(
                        &keting_link::tls::TlsFiles {
                            ca: tls_dir.join("ca.pem"),
                            cert: tls_dir.join("kiosk.pem"),
                            key: tls_dir.join("kiosk.key"),
                        },
                    )?)
                } else {
                    None
                };
                MqttMode::External {
                    host: url.host.clone(),
                    port: url.port,
                    credentials,
                    tls,
                }
            }
            (None, Some(listen)) => MqttMode::Embedded {
                listen,
                fallback: false,
                passwords: self.mqtt_passwords.clone(),
                credentials,
            },
            (None, None) => MqttMode::Embedded {
                listen: SocketAddr::from(([127, 0, 0, 1], 1883)),
                fallback: true,
                passwords: self.mqtt_passwords.clone(),
                credentials,
            },
        };
        let district_file = self.district.clone().or_else(|| {
            let default = dir.path().join(super::district_config::DISTRICT_FILE);
            default.exists().then_some(default)
        });
        let district = match district_file {
            Some(file) => {
                let config = super::district_config::DistrictConfig::load(&file)?;
                // The seed is read (and its mode checked) now: a centre
                // that cannot log in says so at its start, not in a log
                // line nobody reads while its outbox grows.
                keting_link::district_link::options(&config.login)?;
                Some((config, super::district_config::uplink_key(dir.path())?))
            }
            None => None,
        };
        Ok(CentreConfig {
            district,
            mqtt,
            site: site.clone(),
            signing_key: site::signing_key(site, dir)?,
            database: dir.database(),
            data_dir: dir.path().to_owned(),
            demo_devices: site.demo && !self.no_demo_devices,
            provisioning_site: site::provisioning_site(dir),
            home_assistant: !self.no_home_assistant,
            keep_device_events_days: self.keep_device_events,
            http: self.http.or(self.https),
            resident_http: self.resident_http,
            resident_url: self.resident_url.clone(),
            wechat: match (&self.wechat, self.resident_http) {
                (Some(file), _) => Some(keting_resident::wechat::WeChatConfig::load(file)?),
                (None, Some(_)) if dir.path().join("wechat.toml").exists() => Some(
                    keting_resident::wechat::WeChatConfig::load(&dir.path().join("wechat.toml"))?,
                ),
                _ => None,
            },
            dashboard_tls: match (&self.https, &self.https_cert, &self.https_key) {
                (None, _, _) => None,
                (Some(_), Some(cert), Some(key)) => Some(keting_webkit::https::TlsFiles {
                    chain: vec![cert.clone()],
                    key: key.clone(),
                }),
                (Some(_), _, _) => Some(
                    site::provisioning_site(dir)
                        .and_then(|s| keting_webkit::https::TlsFiles::of_site(&s))
                        .ok_or(FlagsError::NoDashboardCertificate)?,
                ),
            },
        })
    }
}

/// A public address: `https://HOST[:PORT][/PATH]` or `http://…`, with no
/// query, fragment or spaces; kept without a trailing `/`.
pub fn parse_public_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("expected an address such as https://fuwu.example.cn, got {s:?}"))?;
    if rest.is_empty() || rest.starts_with('/') || s.contains(['?', '#', ' ', '"', '<', '>']) {
        return Err(format!(
            "expected an address such as https://fuwu.example.cn, got {s:?}"
        ));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// Parses `mqtts://HOST:PORT` (port 8883 by default) or `mqtt://HOST:PORT`
/// (1883); IPv6 in brackets.
pub fn parse_mqtt_url(s: &str) -> Result<BrokerUrl, String> {
    let bad = || {
        format!(
            "expected mqtts://HOST:PORT or mqtt://HOST:PORT, e.g. mqtts://192.168.1.10:8883, got {s:?}"
        )
    };
    let (rest, tls, default_port) = if let Some(rest) = s.strip_prefix("mqtts://") {
        (rest, true, "8883")
    } else if let Some(rest) = s.strip_prefix("mqtt://") {
        (rest, false, "1883")
    } else {
        return Err(bad());
    };
    let (host, port) = rest
        .rsplit_once(':')
        .map_or((rest, default_port), |(h, p)| (h, p));
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok(BrokerUrl {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data directory with a plain site.
    fn plain_site() -> (tempfile::TempDir, DataDir, SiteRecord) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::prepare(tmp.path().join("data")).unwrap();
        let mut store = keting_store::Store::open(&dir.database()).unwrap();
        let site = site::open_or_create(
            &mut store,
            &dir,
            site::NewSite::Plain,
            keting_core::time::Timestamp::from_unix_millis(0),
        )
        .unwrap();
        (tmp, dir, site)
    }

    #[test]
    fn the_embedded_broker_beyond_loopback_is_refused_with_or_without_logins() {
        let (tmp, dir, site) = plain_site();
        let open = ServiceFlags {
            mqtt_listen: Some("0.0.0.0:1883".parse().unwrap()),
            ..ServiceFlags::default()
        };
        let e = open.config(&dir, &site).err().expect("refused");
        assert!(matches!(e, FlagsError::OpenBroker(_)), "{e}");
        assert!(e.to_string().contains("mqtts://"), "{e}");
        // Logins do not make it safe: the passwords would cross the LAN in clear.
        let with_logins = ServiceFlags {
            mqtt_passwords: Some(tmp.path().join("passwords")),
            ..open.clone()
        };
        assert!(matches!(
            with_logins.config(&dir, &site).err(),
            Some(FlagsError::OpenBroker(_))
        ));
        let local = ServiceFlags {
            mqtt_listen: Some("127.0.0.1:0".parse().unwrap()),
            ..ServiceFlags::default()
        };
        assert!(local.config(&dir, &site).is_ok());
    }

    #[test]
    fn plain_mqtt_beyond_loopback_is_refused_and_mqtts_needs_its_files() {
        let (_tmp, dir, site) = plain_site();
        let flags = |url: &str| ServiceFlags {
            mqtt_url: Some(parse_mqtt_url(url).unwrap()),
            ..ServiceFlags::default()
        };
        let Err(e) = flags("mqtt://192.168.1.10:1883").config(&dir, &site) else {
            panic!("plain MQTT to the LAN was taken");
        };
        assert!(matches!(e, FlagsError::PlainBeyondLoopback(_)), "{e}");
        assert!(e.to_string().contains("mqtts://192.168.1.10:8883"), "{e}");
        assert!(flags("mqtt://127.0.0.1:1883").config(&dir, &site).is_ok());
        // No certificate in DATA/tls: a clear error, not a plain connection.
        let Err(e) = flags("mqtts://192.168.1.10").config(&dir, &site) else {
            panic!("mqtts without certificates was taken");
        };
        assert!(matches!(e, FlagsError::Tls(_)), "{e}");
        assert!(e.to_string().contains("ca.pem"), "{e}");
    }

    #[test]
    fn a_district_file_is_read_from_the_data_directory_and_a_readable_seed_refused() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, dir, site) = plain_site();
        assert!(
            ServiceFlags::default()
                .config(&dir, &site)
                .unwrap()
                .district
                .is_none(),
            "no file, no district"
        );
        std::fs::write(
            dir.path().join("district.toml"),
            "district = \"futian\"\ncentre = \"futian-001\"\nservers = [\"nats://127.0.0.1:4222\"]\nnkey_seed = \"futian-001.nk\"\n",
        )
        .unwrap();
        let seed = dir.path().join("futian-001.nk");
        std::fs::write(&seed, "SUAAAA\n").unwrap();
        std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
        let Err(e) = ServiceFlags::default().config(&dir, &site) else {
            panic!("a seed others may read was taken");
        };
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
        let config = ServiceFlags::default().config(&dir, &site).unwrap();
        let (district, _key) = config.district.expect("the data directory's district.toml");
        assert_eq!(district.centre, "futian-001");
    }

    #[test]
    fn an_mqtt_url_names_a_host_and_a_port() {
        assert_eq!(
            parse_mqtt_url("mqtt://10.0.0.2:8883").map(|u| (u.host, u.port)),
            Ok(("10.0.0.2".into(), 8883))
        );
        assert_eq!(
            parse_mqtt_url("mqtt://broker").map(|u| (u.host, u.port, u.tls)),
            Ok(("broker".into(), 1883, false))
        );
        assert_eq!(
            parse_mqtt_url("mqtts://broker").map(|u| (u.host, u.port, u.tls)),
            Ok(("broker".into(), 8883, true))
        );
        assert_eq!(
            parse_mqtt_url("mqtt://[::1]:1884").map(|u| (u.host, u.port)),
            Ok(("::1".into(), 1884))
        );
        assert!(parse_mqtt_url("tcp://broker:1883").is_err());
        assert!(parse_mqtt_url("mqtt://:1883").is_err());
        assert!(parse_mqtt_url("mqtt://broker:0").is_err());
    }
}
