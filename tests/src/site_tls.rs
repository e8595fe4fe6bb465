//! A site CA for benchmarks and tests that want TLS without a provisioned
//! site: the CA (`keting_provisioning::site_ca`, as `site init` makes it),
//! the broker's certificate for 127.0.0.1, and client certificates on
//! demand, laid out as the kiosk (`--mqtt-tls DIR`) and the agents
//! (`[broker] tls = {...}`) read them.

use std::path::PathBuf;

use keting_provisioning::site_ca::{SiteCa, Usage, write_issued};

use crate::free_port;
use crate::mosquitto::TlsListener;

/// The CA and its files, in a directory of their own.
pub struct SiteTls {
    /// Where everything is.
    pub dir: tempfile::TempDir,
    ca: SiteCa,
}

impl SiteTls {
    /// A new CA, its broker's certificate chain and the kiosk's certificate.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = SiteCa::create(dir.path(), "bench", "基准中心").unwrap();
        let broker = ca
            .issue(
                "broker",
                &["127.0.0.1".into(), "localhost".into()],
                Usage::Server,
            )
            .unwrap();
        write_issued(dir.path(), "broker", &broker).unwrap();
        let ca_pem = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
        std::fs::write(
            dir.path().join("broker-chain.pem"),
            broker.cert_pem + &ca_pem,
        )
        .unwrap();
        let tls = Self { dir, ca };
        let kiosk = tls.dir.path().join("kiosk-tls");
        let issued = tls
            .ca
            .issue("kiosk", &["kiosk".into()], Usage::Client)
            .unwrap();
        write_issued(&kiosk, "kiosk", &issued).unwrap();
        std::fs::write(kiosk.join("ca.pem"), ca_pem).unwrap();
        tls
    }

    /// A TLS listener on a free port with the broker's files. Mosquitto,
    /// started as root, reads them as its own user: the key is made
    /// readable to it here (a test's directory, not a site's).
    pub fn listener(&self) -> TlsListener {
        use std::os::unix::fs::PermissionsExt;
        let key = self.dir.path().join("broker.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        TlsListener {
            port: free_port(),
            ca: self.dir.path().join("ca.pem"),
            cert: self.dir.path().join("broker-chain.pem"),
            key,
        }
    }

    /// The directory `--mqtt-tls` takes: ca.pem, kiosk.pem, kiosk.key.
    pub fn kiosk_dir(&self) -> PathBuf {
        self.dir.path().join("kiosk-tls")
    }

    /// A client certificate named `name` (its MQTT user name): the files a
    /// link reads.
    pub fn client(&self, name: &str) -> keting_link::tls::TlsFiles {
        let dir = self.dir.path().join("clients").join(name);
        if !dir.join("device.pem").exists() {
            let issued = self
                .ca
                .issue(name, &[name.to_owned()], Usage::Client)
                .unwrap();
            write_issued(&dir, "device", &issued).unwrap();
        }
        keting_link::tls::TlsFiles {
            ca: self.dir.path().join("ca.pem"),
            cert: dir.join("device.pem"),
            key: dir.join("device.key"),
        }
    }

    /// An agent configuration's `tls = {...}` line for `name`.
    pub fn agent_line(&self, name: &str) -> String {
        let f = self.client(name);
        format!(
            "tls = {{ ca = {:?}, cert = {:?}, key = {:?} }}\n",
            f.ca.display().to_string(),
            f.cert.display().to_string(),
            f.key.display().to_string()
        )
    }
}

impl Default for SiteTls {
    fn default() -> Self {
        Self::new()
    }
}
