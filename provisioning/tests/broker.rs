//! The broker files in a real Mosquitto: each device logs in with its own
//! credentials, a wrong password is refused, a device cannot publish to
//! another device's topics, and a retired device is refused.

use std::time::Duration;

use keting_provisioning::device;
use keting_provisioning::site_dir::SiteDir;
use keting_system_tests::free_port;
use keting_system_tests::mosquitto::Mosquitto;
use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, QoS};

use crate::cli::ok;

fn client(port: u16, user: &str, password: &str) -> (AsyncClient, EventLoop) {
    let mut o = MqttOptions::new(format!("{user}-test"), "127.0.0.1", port);
    o.set_credentials(user, password);
    o.set_keep_alive(Duration::from_secs(5));
    AsyncClient::new(o, 10)
}

/// The CONNACK's verdict.
async fn connect(events: &mut EventLoop) -> Result<(), String> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(a))) if a.code == ConnectReturnCode::Success => {
                    return Ok(());
                }
                Ok(Event::Incoming(Packet::ConnAck(a))) => return Err(format!("{:?}", a.code)),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .expect("an answer within 10 s")
}

async fn until<T>(events: &mut EventLoop, mut f: impl FnMut(&Packet) -> Option<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Event::Incoming(p)) = events.poll().await
                && let Some(t) = f(&p)
            {
                return t;
            }
        }
    })
    .await
    .expect("within 10 s")
}

/// Writes the broker files for the site at `path` and starts Mosquitto on
/// them, on a free port.
async fn broker_from_files(
    path: &std::path::Path,
    conf_dir: &std::path::Path,
    persistence: &std::path::Path,
) -> (Mosquitto, u16) {
    // The broker's ports are the site's: fresh ones for each broker here
    // (an earlier one may still hold its own).
    let port = free_port();
    let site_toml = path.join("site.toml");
    let text: String = std::fs::read_to_string(&site_toml)
        .unwrap()
        .lines()
        .map(|l| match l.split_once(" = ") {
            Some(("broker_port", _)) => format!("broker_port = {port}\n"),
            Some(("tls_port", _)) => format!("tls_port = {}\n", free_port()),
            Some(("claim_port", _)) => format!("claim_port = {}\n", free_port()),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&site_toml, text).unwrap();
    let persistence = format!("{}/", persistence.display());
    ok(
        path,
        &[
            "broker",
            "config",
            "--mosquitto",
            conf_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1",
            "--persistence",
            &persistence,
        ],
    );
    let broker = Mosquitto::start_with_config(&conf_dir.join("mosquitto.conf"), port).await;
    (broker, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_enforces_one_login_and_one_topic_tree_per_device() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site");
    ok(&path, &["site", "init", "--name", "中心"]);
    ok(
        &path,
        &[
            "device",
            "add",
            "--kind",
            "lock",
            "--name",
            "gym-door",
            "--gpio",
            "strike=GPIO17",
        ],
    );
    ok(
        &path,
        &[
            "device",
            "add",
            "--kind",
            "piano-bank",
            "--name",
            "pianos",
            "--bus",
            "tcp:127.0.0.1:502",
        ],
    );
    let conf_dir = dir.path().join("mosquitto");
    let persistence = dir.path().join("persist");
    std::fs::create_dir_all(&persistence).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&persistence, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (broker, port) = broker_from_files(&path, &conf_dir, &persistence).await;
    let site = SiteDir::open(&path).unwrap();
    let root = format!("keting/v1/{}", site.site.id);

    // The kiosk and each device log in with their own credentials.
    let (kiosk, mut kiosk_events) = client(port, "kiosk", &site.kiosk_password().unwrap());
    connect(&mut kiosk_events).await.unwrap();
    let (door, mut door_events) = client(
        port,
        "gym-door",
        &device::password(&site, "gym-door").unwrap(),
    );
    connect(&mut door_events).await.unwrap();
    let (pianos, mut piano_events) =
        client(port, "pianos", &device::password(&site, "pianos").unwrap());
    connect(&mut piano_events).await.unwrap();

    // A wrong password, and no password at all, are refused.
    let (_c, mut bad) = client(port, "gym-door", "not-the-password");
    assert!(connect(&mut bad).await.is_err());
    let mut o = MqttOptions::new("anon", "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    let (_c, mut anon) = AsyncClient::new(o, 10);
    assert!(connect(&mut anon).await.is_err());

    // The door listens to its cmd topic.
    let cmd = format!("{root}/device/gym-door/cmd");
    door.subscribe(&cmd, QoS::AtLeastOnce).await.unwrap();
    until(&mut door_events, |p| {
        matches!(p, Packet::SubAck(_)).then_some(())
    })
    .await;
    // The piano bank tries to open the door: Mosquitto acks and drops it.
    pianos
        .publish(&cmd, QoS::AtLeastOnce, false, b"{\"forged\":true}".to_vec())
        .await
        .unwrap();
    until(&mut piano_events, |p| {
        matches!(p, Packet::PubAck(_)).then_some(())
    })
    .await;
    // Then the kiosk sends a real command: it is the first thing the door gets.
    kiosk
        .publish(
            &cmd,
            QoS::AtLeastOnce,
            false,
            b"{\"from\":\"kiosk\"}".to_vec(),
        )
        .await
        .unwrap();
    tokio::spawn(async move {
        loop {
            if kiosk_events.poll().await.is_err() {
                return;
            }
        }
    });
    let first = until(&mut door_events, |p| match p {
        Packet::Publish(m) => Some(m.payload.to_vec()),
        _ => None,
    })
    .await;
    assert_eq!(
        first,
        b"{\"from\":\"kiosk\"}".to_vec(),
        "the piano bank's forged command reached the door"
    );
    drop(broker);

    // Retired: the broker refuses its login once the files are rewritten.
    ok(&path, &["device", "retire", "pianos"]);
    let (_broker, port2) = broker_from_files(&path, &conf_dir, &persistence).await;
    let (_c, mut retired) = client(port2, "pianos", &device::password(&site, "pianos").unwrap());
    assert!(
        connect(&mut retired).await.is_err(),
        "a retired device is refused"
    );
    let old_door_password = device::password(&site, "gym-door").unwrap();
    let (_c, mut still) = client(port2, "gym-door", &old_door_password);
    connect(&mut still).await.unwrap();
    drop(_broker);

    // Replaced after a factory reset: the new secret works, the old one no longer does.
    ok(&path, &["device", "replace", "gym-door"]);
    let (_broker, port3) = broker_from_files(&path, &conf_dir, &persistence).await;
    let new_password = device::password(&site, "gym-door").unwrap();
    assert_ne!(new_password, old_door_password);
    let (_c, mut old) = client(port3, "gym-door", &old_door_password);
    assert!(
        connect(&mut old).await.is_err(),
        "the old secret is refused after a replace"
    );
    let (_c, mut new) = client(port3, "gym-door", &new_password);
    connect(&mut new).await.unwrap();
}
