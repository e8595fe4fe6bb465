//! A site for one test: a kiosk data directory with members, a registered
//! door and its agent's configuration; the simulated relay board; a watcher
//! on the door's topics; helpers to run the programs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keting_core::messages::{DoorStatus, Event, decode};
use keting_hardware::relay_board::sim::{SimRelayBoard, serve_tcp};
use keting_link::connection::{self, LinkConfig, LinkEvent, LinkHandle};
use keting_link::outbox::Outbox;
use keting_system_tests::binaries::{Process, start_kiosk};
use keting_system_tests::mosquitto::Mosquitto;
use tokio::sync::mpsc;

pub const DOOR: &str = "gym-door";

pub struct SiteBed {
    pub dir: tempfile::TempDir,
    /// The door's serial scanner: a pseudo-terminal whose other end the agent reads.
    scanner: std::fs::File,
    scanner_path: String,
    _scanner_slave: std::os::fd::OwnedFd,
    pub site: String,
    pub public_key: String,
    pub board: SimRelayBoard,
    pub board_port: u16,
}

pub use keting_system_tests::binaries::kiosk as kiosk_cli;

/// A night window around now, so the night rule applies whatever the hour.
pub fn night_now() -> (String, String) {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let h = (ms / 3_600_000 + 8).rem_euclid(24);
    (
        format!("{:02}:00", (h + 23) % 24),
        format!("{:02}:00", (h + 1) % 24),
    )
}

/// The `[door]` lines that make the current hour night (`night_now`).
pub fn night_lines() -> String {
    let (starts, ends) = night_now();
    format!("night_starts = \"{starts}\"\nnight_ends = \"{ends}\"\n")
}

/// Adds a member to the kiosk data directory `data`; returns (id, pass).
pub fn add_member(data: &Path, name: &str) -> (u32, String) {
    let out = kiosk_cli(data, &["member", "add", "--name", name, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    (
        v["id"].as_u64().unwrap() as u32,
        v["pass"].as_str().unwrap().to_owned(),
    )
}

/// As [`add_member`], with the gym paid to the end of 2099.
pub fn paid_member(data: &Path, name: &str) -> (u32, String) {
    let (id, pass) = add_member(data, name);
    kiosk_cli(
        data,
        &["gym", "grant", &id.to_string(), "--until", "2099-12-31"],
    );
    (id, pass)
}

/// Starts `device-agent --config config` and waits until it says `ready`
/// (e.g. "new roster in force").
pub async fn door_agent(config: &Path, ready: &str) -> Process {
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "door agent running",
    )
    .await;
    agent.wait_for_line(ready, Duration::from_secs(30)).await;
    agent
}

impl SiteBed {
    /// A plain site with the door registered, and the relay board serving.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("kiosk");
        kiosk_cli(&data, &["door", "add", DOOR, "--name", "健身房"]);
        let site_info = kiosk_cli(&data, &["site"]);
        let field = |name: &str| {
            site_info
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                .unwrap()
        };
        let board = SimRelayBoard::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let board_port = listener.local_addr().unwrap().port();
        tokio::spawn(serve_tcp(listener, board.clone(), std::future::pending()));
        let pty = nix::pty::openpty(None, None).unwrap();
        let scanner_path = nix::unistd::ttyname(&pty.slave)
            .unwrap()
            .display()
            .to_string();
        Self {
            scanner: std::fs::File::from(pty.master),
            scanner_path,
            _scanner_slave: pty.slave,
            site: field("site"),
            public_key: field("public_key"),
            dir,
            board,
            board_port,
        }
    }

    /// The door scanner's device path (the pty the agent opens).
    pub fn scanner_path(&self) -> &str {
        &self.scanner_path
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("kiosk")
    }

    /// Adds a member; returns (id, pass).
    pub fn member(&self, name: &str) -> (u32, String) {
        add_member(&self.data(), name)
    }

    /// Scans `pass` at the door (the serial scanner sends it with CR LF).
    pub fn scan(&self, pass: &str) {
        use std::io::Write;
        (&self.scanner)
            .write_all(format!("{pass}\r\n").as_bytes())
            .unwrap();
    }

    /// Scans `pass` at the door and waits for the relay board's pulse and
    /// the `count`-th "device event stored" at `kiosk`.
    pub async fn scan_in(&self, pass: &str, kiosk: &Process, count: usize) {
        self.scan(pass);
        coil(&self.board, true).await;
        coil(&self.board, false).await;
        kiosk
            .wait_for_count("device event stored", count, Duration::from_secs(30))
            .await;
    }

    pub fn grant(&self, id: u32, until: &str) {
        kiosk_cli(
            &self.data(),
            &["gym", "grant", &id.to_string(), "--until", until],
        );
    }

    /// Writes the agent's configuration; `pulse_ms` for the strike pulse.
    pub fn agent_config(&self, broker_port: u16, pulse_ms: u64) -> PathBuf {
        let (night_starts, night_ends) = night_now();
        let path = self.dir.path().join("agent.toml");
        std::fs::write(
            &path,
            format!(
                "site = \"{}\"\ndevice = \"{DOOR}\"\nsite_public_key = \"{}\"\nstate_dir = \"{}\"\n\
                 [broker]\nhost = \"127.0.0.1\"\nport = {broker_port}\nkeep_alive_s = 2\n\
                 [door]\ngpio = \"sim\"\npulse_ms = {pulse_ms}\n\
                 night_starts = \"{night_starts}\"\nnight_ends = \"{night_ends}\"\n\
                 strike = {{ kind = \"relay\", bus = \"tcp:127.0.0.1:{}\", channel = 1 }}\n\
                 contact = {{ line = \"GPIO27\" }}\nscanner = {{ kind = \"serial\", path = \"{}\" }}\n",
                self.site,
                self.public_key,
                self.dir.path().join("agent-state").display(),
                self.board_port,
                self.scanner_path
            ),
        )
        .unwrap();
        path
    }

    /// Writes the configuration of another agent of this site, `device`,
    /// with its device `section` (`[piano_bank]`, `[robot]`, ...).
    pub fn session_agent_config(&self, device: &str, broker_port: u16, section: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{device}.toml"));
        std::fs::write(
            &path,
            format!(
                "site = \"{}\"\ndevice = \"{device}\"\nsite_public_key = \"{}\"\nstate_dir = \"{}\"\n\
                 [broker]\nhost = \"127.0.0.1\"\nport = {broker_port}\nkeep_alive_s = 2\n{section}",
                self.site,
                self.public_key,
                self.dir.path().join(format!("{device}-state")).display(),
            ),
        )
        .unwrap();
        // The device's own key, trusted at the centre: its session answers
        // settle bookings only with its signature.
        let key = keting_system_tests::binaries::run(
            "device-agent",
            &[
                "--config".as_ref(),
                path.as_os_str(),
                "--public-key".as_ref(),
            ],
        );
        kiosk_cli(
            &self.data(),
            &["device", "trust", device, "--key", key.trim()],
        );
        path
    }

    /// Starts the kiosk headless against the broker; ready once it has
    /// published the roster.
    pub async fn kiosk(&self, broker: &Mosquitto) -> Process {
        let data = self.data();
        let url = format!("mqtt://127.0.0.1:{}", broker.port);
        start_kiosk(&data, &["--mqtt-url", &url], "roster published").await
    }

    /// Starts the kiosk headless with its embedded broker on a free port;
    /// returns it and the broker's port.
    pub async fn kiosk_embedded(&self) -> (Process, u16) {
        let data = self.data();
        let kiosk = start_kiosk(&data, &["--mqtt-listen", "127.0.0.1:0"], "MQTT broker at").await;
        let line = kiosk
            .wait_for_line("MQTT broker at", Duration::from_secs(1))
            .await;
        let port = line.rsplit(':').next().unwrap().trim().parse().unwrap();
        (kiosk, port)
    }

    /// Starts the device agent; ready once it runs.
    pub async fn agent(&self, config: &Path) -> Process {
        Process::start(
            "device-agent",
            &["--config", config.to_str().unwrap()],
            &[],
            "door agent running",
        )
        .await
    }

    /// A watcher on the door's topics that can also scan.
    pub async fn watcher(&self, broker: &Mosquitto, name: &str) -> Watcher {
        self.watcher_on(broker.port, name).await
    }

    /// A watcher on the broker at `port`.
    pub async fn watcher_on(&self, port: u16, name: &str) -> Watcher {
        let outbox = Outbox::open(&self.dir.path().join(format!("{name}.db"))).unwrap();
        let (link, mut events, _task) = connection::spawn(
            LinkConfig {
                host: "127.0.0.1".into(),
                port,
                client_id: name.into(),
                credentials: None,
                online_topic: format!("keting/v1/{}/test/{name}/online", self.site),
                birth: keting_link::connection::ONLINE.to_vec(),
                subscriptions: vec![format!("keting/v1/{}/device/{DOOR}/#", self.site)],
                keep_alive: Duration::from_secs(5),
                persistent_session: false,
                tls: None,
            },
            outbox,
        );
        within(async { while events.recv().await.unwrap() != LinkEvent::Connected {} }).await;
        Watcher { link, events }
    }
}

pub struct Watcher {
    /// The watcher's own connection (an intruder on the LAN can publish too).
    pub link: LinkHandle,
    events: mpsc::Receiver<LinkEvent>,
}

impl Watcher {
    async fn next(&mut self, channel: &str) -> Vec<u8> {
        let suffix = format!("/{channel}");
        within(async {
            loop {
                if let LinkEvent::Message { topic, payload, .. } = self.events.recv().await.unwrap()
                    && topic.ends_with(&suffix)
                {
                    return payload;
                }
            }
        })
        .await
    }

    pub async fn event(&mut self, want: impl Fn(&Event) -> bool) -> Event {
        loop {
            let e: Event = decode(&keting_core::signed_answer::unchecked(
                &self.next("event").await,
            ))
            .unwrap();
            if want(&e) {
                return e;
            }
        }
    }

    pub async fn status(&mut self, want: impl Fn(&DoorStatus) -> bool) -> DoorStatus {
        loop {
            let s: DoorStatus = decode(&keting_core::signed_answer::unchecked(
                &self.next("status").await,
            ))
            .unwrap();
            if want(&s) {
                return s;
            }
        }
    }

    pub async fn online(&mut self, want: bool) {
        let needle = if want { "true" } else { "false" };
        while !String::from_utf8_lossy(&self.next("online").await).contains(needle) {}
    }
}

/// Bounds any wait at 30 s.
pub async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("within 30 s")
}

/// Waits for relay 1 to be `on`.
pub async fn coil(board: &SimRelayBoard, on: bool) {
    let mut changes = board.changes();
    within(changes.wait_for(|c| c[0] == on)).await.unwrap();
}
