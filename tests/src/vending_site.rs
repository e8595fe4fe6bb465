//! A centre with a vending machine, for the redemption tests and the chaos
//! program: a kiosk data directory with a plain site, volunteers and a
//! catalogue; the simulated vending controller on Modbus TCP in this
//! process; a Mosquitto; and the real `kiosk --headless` and `device-agent`
//! as processes, each of which can be killed and started again.

use std::path::PathBuf;

use keting_hardware::sim::modbus_tcp;
use keting_hardware::vending::sim::SimVending;

use crate::binaries::{self, Process};
use crate::mosquitto::Mosquitto;
use crate::site_tls::SiteTls;

/// The machine's device id.
pub const MACHINE: &str = "vending";

/// The centre.
pub struct VendingSite {
    /// Everything on disk lives here.
    pub dir: tempfile::TempDir,
    /// The site id.
    pub site: String,
    /// The site's public key (base64url).
    pub public_key: String,
    /// The simulated machine (counts real drops).
    pub sim: SimVending,
    /// Its Modbus TCP port.
    pub machine_port: u16,
}

impl VendingSite {
    /// A site with a machine of `slots` slots, `stock` drinks each, every
    /// slot priced at `price` points.
    pub async fn new(slots: u8, stock: u16, price: i64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("kiosk");
        let site_info = binaries::kiosk(&data, &["site"]);
        let field = |name: &str| {
            site_info
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap()
        };
        for slot in 1..=slots {
            binaries::kiosk(
                &data,
                &[
                    "vending",
                    "set",
                    MACHINE,
                    &slot.to_string(),
                    "--zh",
                    &format!("饮料{slot}"),
                    "--en",
                    &format!("Drink {slot}"),
                    "--price",
                    &price.to_string(),
                    "--stock",
                    &stock.to_string(),
                ],
            );
        }
        // Tests and the chaos program redeem many times a day.
        binaries::kiosk(
            &data,
            &[
                "points",
                "policy",
                "--max-award",
                "1000000",
                "--daily-earn-cap",
                "1000000000",
                "--daily-spend-cap",
                "1000000000",
            ],
        );
        let sim = SimVending::new(slots, stock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let machine_port = listener.local_addr().unwrap().port();
        tokio::spawn(modbus_tcp::serve(
            listener,
            sim.clone(),
            std::future::pending(),
        ));
        Self {
            site: field("site"),
            public_key: field("public_key"),
            dir,
            sim,
            machine_port,
        }
    }

    /// The kiosk's data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("kiosk")
    }

    /// `kiosk --data DATA ARGS`, expecting success: its stdout.
    pub fn kiosk(&self, args: &[&str]) -> String {
        binaries::kiosk(&self.data(), args)
    }

    /// `kiosk --data DATA ARGS`, whatever its exit: (success, stdout, stderr).
    pub fn kiosk_status(&self, args: &[&str]) -> binaries::RunOutput {
        let data = self.data();
        let mut all: Vec<&std::ffi::OsStr> = vec!["--data".as_ref(), data.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        binaries::run_status("kiosk", &all)
    }

    /// Adds a volunteer with `points` (the bed's caps are raised for this).
    pub fn volunteer(&self, name: &str, points: i64) -> u32 {
        let out = self.kiosk(&[
            "member",
            "add",
            "--name",
            name,
            "--json",
            "--role",
            "volunteer",
        ]);
        let id: u32 = out
            .split("\"id\":")
            .nth(1)
            .and_then(|s| s.split([',', '}']).next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap();
        let mut left = points;
        let mut n = 0;
        while left > 0 {
            let p = left.min(1_000_000);
            n += 1;
            self.kiosk(&[
                "points",
                "award",
                &id.to_string(),
                "--activity",
                &format!("服务{id}-{n}"),
                "--points",
                &p.to_string(),
            ]);
            left -= p;
        }
        id
    }

    /// The agent's configuration file, written once.
    pub fn agent_config(&self, broker_port: u16) -> PathBuf {
        self.agent_config_with(broker_port, "")
    }

    /// As [`Self::agent_config`], with `broker_lines` added to its
    /// `[broker]` section (a `tls = {...}` line).
    pub fn agent_config_with(&self, broker_port: u16, broker_lines: &str) -> PathBuf {
        let path = self.dir.path().join("vending.toml");
        std::fs::write(
            &path,
            format!(
                "site = \"{}\"\ndevice = \"{MACHINE}\"\nsite_public_key = \"{}\"\nstate_dir = \"{}\"\n\
                 [broker]\nhost = \"127.0.0.1\"\nport = {broker_port}\nkeep_alive_s = 2\n{broker_lines}\
                 [vending]\nbus = \"tcp:127.0.0.1:{}\"\nvend_limit_s = 5\n",
                self.site,
                self.public_key,
                self.dir.path().join("agent-state").display(),
                self.machine_port
            ),
        )
        .unwrap();
        // The machine's own key, made on it and trusted at the centre, as a
        // technician does for a device set up without a claim label (once:
        // a restarted agent keeps its key).
        if self.dir.path().join("agent-state/device.key").exists() {
            return path;
        }
        let key = binaries::run(
            "device-agent",
            &[
                "--config".as_ref(),
                path.as_os_str(),
                "--public-key".as_ref(),
            ],
        );
        self.kiosk(&["device", "trust", MACHINE, "--key", key.trim()]);
        path
    }

    /// Starts the vending agent against the broker on `broker_port`.
    pub async fn start_agent(&self, broker_port: u16) -> Process {
        let config = self.agent_config(broker_port);
        Process::start(
            "device-agent",
            &["--config", config.to_str().unwrap()],
            &[],
            "vending agent running",
        )
        .await
    }

    /// Starts the vending agent against `broker`'s TLS listener, with its
    /// certificate from `tls`.
    pub async fn start_agent_tls(&self, broker: &Mosquitto, tls: &SiteTls) -> Process {
        let port = broker.tls.as_ref().expect("a TLS listener").port;
        let config = self.agent_config_with(port, &tls.agent_line(MACHINE));
        Process::start(
            "device-agent",
            &["--config", config.to_str().unwrap()],
            &[],
            "vending agent running",
        )
        .await
    }

    /// Starts `kiosk --headless` against `broker`'s TLS listener, with the
    /// kiosk's certificate from `tls`.
    pub async fn start_kiosk_tls(&self, broker: &Mosquitto, tls: &SiteTls) -> Process {
        let port = broker.tls.as_ref().expect("a TLS listener").port;
        let url = format!("mqtts://127.0.0.1:{port}");
        let dir = tls.kiosk_dir();
        binaries::start_kiosk(
            &self.data(),
            &["--mqtt-url", &url, "--mqtt-tls", dir.to_str().unwrap()],
            "controller connected to the broker",
        )
        .await
    }

    /// Starts `kiosk --headless` against the broker on `broker_port`.
    pub async fn start_kiosk(&self, broker_port: u16) -> Process {
        let url = format!("mqtt://127.0.0.1:{broker_port}");
        binaries::start_kiosk(
            &self.data(),
            &["--mqtt-url", &url],
            "controller connected to the broker",
        )
        .await
    }

    /// A Mosquitto for this site.
    pub async fn broker() -> Mosquitto {
        Mosquitto::start().await
    }
}
