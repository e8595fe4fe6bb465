//! A real Mosquitto for one test, on a free loopback port, with persistence
//! (so a restart keeps sessions and retained messages, as in production).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};

use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::free_port;

/// A TLS listener for [`Mosquitto::start_tls`]: client certificates of the
/// CA in `ca` required, the certificate's name the user name.
#[derive(Clone, Debug)]
pub struct TlsListener {
    /// Its port (127.0.0.1).
    pub port: u16,
    /// The CA's certificate.
    pub ca: PathBuf,
    /// The broker's certificate chain (its own, then the CA's).
    pub cert: PathBuf,
    /// The broker's key.
    pub key: PathBuf,
}

/// A running Mosquitto on loopback; killed when dropped.
pub struct Mosquitto {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Its TLS listener, if it has one.
    pub tls: Option<TlsListener>,
    dir: tempfile::TempDir,
    /// Its log lines so far, and a signal for each new one.
    log: Arc<(Mutex<Vec<String>>, Notify)>,
}

fn mosquitto_bin() -> PathBuf {
    let sbin = Path::new("/usr/sbin/mosquitto");
    if sbin.exists() {
        sbin.to_owned()
    } else {
        PathBuf::from("mosquitto")
    }
}

impl Mosquitto {
    /// Starts a broker on a free port, in its own temporary directory.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Started as root, Mosquitto drops to its own user: it must be able to
        // save its sessions here, or a restart loses them.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        Self::start_in(dir, free_port(), None).await
    }

    /// As [`Self::start`], with a TLS listener beside the plain one.
    pub async fn start_tls(tls: TlsListener) -> Self {
        let dir = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        Self::start_in(dir, free_port(), Some(tls)).await
    }

    /// Starts Mosquitto on a configuration file someone else wrote (it must
    /// listen on `port`, and log to stderr, as it does by default).
    pub async fn start_with_config(conf: &Path, port: u16) -> Self {
        Self::run(tempfile::tempdir().unwrap(), conf, port, None).await
    }

    async fn start_in(dir: tempfile::TempDir, port: u16, tls: Option<TlsListener>) -> Self {
        let conf = dir.path().join("mosquitto.conf");
        let mut text = format!(
            "per_listener_settings true\n\
             listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n\
             persistence true\npersistence_location {}/\n\
             log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n",
            dir.path().display()
        );
        if let Some(t) = &tls {
            text += &format!(
                "listener {} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
                 require_certificate true\nuse_identity_as_username true\n",
                t.port,
                t.ca.display(),
                t.cert.display(),
                t.key.display()
            );
        }
        std::fs::write(&conf, text).unwrap();
        Self::run(dir, &conf, port, tls).await
    }

    async fn run(dir: tempfile::TempDir, conf: &Path, port: u16, tls: Option<TlsListener>) -> Self {
        let mut child = Command::new(mosquitto_bin())
            .arg("-c")
            .arg(conf)
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto is installed (./run-tests installs it)");
        // Ready when it says it runs (after its listeners are open; the
        // "Opening ... listen socket" line comes before the bind): a signal,
        // not a sleep.
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains(" running") {
                    return;
                }
            }
            panic!("mosquitto exited before listening");
        });
        ready.await.expect("mosquitto listening within 10 s");
        let log = Arc::new((Mutex::new(Vec::new()), Notify::new()));
        let keep = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                keep.0.lock().unwrap().push(line);
                keep.1.notify_waiters();
            }
        });
        Self {
            child,
            port,
            tls,
            dir,
            log,
        }
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.0.lock().unwrap().join("\n")
    }

    /// Makes it read its password and ACL files again (SIGHUP, as
    /// `systemctl reload mosquitto` does) and waits until it says so.
    pub async fn reload(&self) {
        let count = || {
            self.log
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains("Reloading config"))
                .count()
        };
        let before = count();
        let pid = self.child.id().expect("running") as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGHUP,
        )
        .unwrap();
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let notified = self.log.1.notified();
                if count() > before {
                    return;
                }
                notified.await;
            }
        })
        .await
        .expect("mosquitto reloads within 10 s (it logs \"Reloading config\")");
    }

    /// Restarts the broker on the same port (stopped with SIGTERM, as a
    /// service restart does; it saves its sessions and retained messages).
    pub async fn restart(self) -> Self {
        let tls = self.tls.clone();
        let (dir, port) = self.stop().await;
        Self::start_in(dir, port, tls).await
    }

    /// Stops the broker with SIGTERM; returns what is needed to start it again.
    pub async fn stop(self) -> (tempfile::TempDir, u16) {
        let Mosquitto {
            mut child,
            port,
            dir,
            ..
        } = self;
        let pid = child.id().expect("running") as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("mosquitto stops")
            .unwrap();
        (dir, port)
    }

    /// Starts a stopped broker again (same directory, same port).
    pub async fn start_again(dir: tempfile::TempDir, port: u16) -> Self {
        Self::start_in(dir, port, None).await
    }

    /// As [`Self::start_again`], with the TLS listener it had (same port).
    pub async fn start_again_tls(
        dir: tempfile::TempDir,
        port: u16,
        tls: Option<TlsListener>,
    ) -> Self {
        Self::start_in(dir, port, tls).await
    }
}

/// Publishes `payload` on `topic` once, QoS 1, as an anonymous client of the
/// broker on `port` would (an intruder on the LAN, in the security tests);
/// returns once the broker acknowledged it.
pub async fn publish_once(port: u16, topic: &str, payload: &[u8]) {
    let mut options = rumqttc::MqttOptions::new(
        format!("intruder-{}", crate::free_port()),
        "127.0.0.1",
        port,
    );
    options.set_keep_alive(std::time::Duration::from_secs(5));
    let (client, mut events) = rumqttc::AsyncClient::new(options, 4);
    client
        .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_vec())
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)) =
                events.poll().await.unwrap()
            {
                break;
            }
        }
    })
    .await
    .expect("the broker acknowledged the publish");
    let _ = client.disconnect().await;
}
