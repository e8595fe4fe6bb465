//! The gym door benchmark: a program that prints figures, not a timed test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench door`
//! runs Mosquitto, the release `device-agent` and `kiosk` (headless) as
//! processes, and the simulated relay board on Modbus TCP in this process,
//! all on loopback, and prints:
//! - scan to relay coil written, and to the agent's `unlocked` status (the
//!   coil written and read back), p50/p99 over 1,000 scans published on the
//!   simulated scanner's topic;
//! - the floor measured in the same run: one bare MQTT QoS 1 round trip
//!   (publish to a subscriber, through the same broker) plus one bare
//!   Modbus write to the same simulated board;
//! - staff grant (`kiosk gym grant` committed) to the door's acceptance of
//!   the new roster, p50/p99 over 30 grants;
//! - the agent's resident memory after the run.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use keting_core::door::lock::LockState;
use keting_core::messages::{DoorStatus, decode};
use keting_hardware::relay_board::sim::{SimRelayBoard, serve_tcp};
use keting_system_tests::binaries::{Process, start_kiosk};
use keting_system_tests::latency::{report, resident_kib};
use keting_system_tests::mosquitto::Mosquitto;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio_modbus::client::Writer;

const SCANS_DEFAULT: usize = 1_000;
const GRANTS: usize = 30;
const ROSTER_MEMBERS: usize = 300;

fn client(port: u16, id: &str) -> (AsyncClient, EventLoop) {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(10));
    o.set_max_packet_size(2 << 20, 2 << 20);
    let (client, mut events) = AsyncClient::new(o, 100);
    let mut network = events.network_options();
    network.set_tcp_nodelay(true);
    events.set_network_options(network);
    (client, events)
}

/// Polls the event loop until a publish on `topic` arrives.
async fn next_publish(events: &mut EventLoop, topic: &str) -> Vec<u8> {
    loop {
        if let Event::Incoming(Packet::Publish(p)) = events.poll().await.unwrap()
            && p.topic == topic
        {
            return p.payload.to_vec();
        }
    }
}

async fn subscribed(client: &AsyncClient, events: &mut EventLoop, filter: &str) {
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = events.poll().await.unwrap() {
            return;
        }
    }
}

use keting_system_tests::binaries::kiosk as kiosk_cli;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // KETING_BENCH_SCANS: fewer scans for a quick look.
    let scans: usize = std::env::var("KETING_BENCH_SCANS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SCANS_DEFAULT);
    let broker = Mosquitto::start().await;
    let board = SimRelayBoard::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let board_addr = listener.local_addr().unwrap();
    tokio::spawn(serve_tcp(listener, board.clone(), std::future::pending()));
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    println!("# Keting gym door benchmark (loopback, Mosquitto, release binaries)");

    // The floor: a bare MQTT QoS 1 round trip, and a bare Modbus write.
    let (pubc, mut pub_events) = client(broker.port, "floor-pub");
    let (subc, mut sub_events) = client(broker.port, "floor-sub");
    tokio::spawn(async move {
        loop {
            if pub_events.poll().await.is_err() {
                return;
            }
        }
    });
    subscribed(&subc, &mut sub_events, "floor/t").await;
    let mut mqtt = Vec::with_capacity(scans);
    for _ in 0..scans {
        let t = Instant::now();
        pubc.publish("floor/t", QoS::AtLeastOnce, false, b"KT1.x".to_vec())
            .await
            .unwrap();
        next_publish(&mut sub_events, "floor/t").await;
        mqtt.push(t.elapsed());
    }
    let mut modbus_client = tokio_modbus::client::tcp::connect(board_addr)
        .await
        .unwrap();
    let mut modbus = Vec::with_capacity(scans);
    for i in 0..scans {
        let t = Instant::now();
        modbus_client
            .write_single_coil(1, i % 2 == 0)
            .await
            .unwrap()
            .unwrap();
        modbus.push(t.elapsed());
    }
    modbus_client
        .write_single_coil(0, false)
        .await
        .unwrap()
        .unwrap();
    let (mqtt_p50, mqtt_p99) = report("floor: MQTT QoS 1 publish -> subscriber", mqtt);
    let (mb_p50, mb_p99) = report("floor: Modbus TCP write single coil", modbus);
    println!(
        "{:<52} p50={:>9.3} ms  p99={:>9.3} ms",
        "floor: sum",
        (mqtt_p50 + mb_p50).as_secs_f64() * 1e3,
        (mqtt_p99 + mb_p99).as_secs_f64() * 1e3
    );

    // The site: kiosk (headless) and the agent, real processes.
    let data = dir.path().join("kiosk");
    kiosk_cli(&data, &["door", "add", "gym-door", "--name", "健身房"]);
    let site_info = kiosk_cli(&data, &["site"]);
    let field = |name: &str| {
        site_info
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap()
    };
    let (site, public_key) = (field("site"), field("public_key"));
    let add = kiosk_cli(&data, &["member", "add", "--name", "陈晓梅", "--json"]);
    let member: serde_json::Value = serde_json::from_str(add.trim()).unwrap();
    let (id, pass) = (
        member["id"].as_u64().unwrap(),
        member["pass"].as_str().unwrap().to_owned(),
    );
    // A few hundred members on the roster (each grant changes one).
    for i in 0..ROSTER_MEMBERS {
        kiosk_cli(&data, &["member", "add", "--name", &format!("会员{i}")]);
    }
    kiosk_cli(
        &data,
        &["gym", "grant", &id.to_string(), "--until", "2099-12-31"],
    );
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "site = \"{site}\"\ndevice = \"gym-door\"\nsite_public_key = \"{public_key}\"\nstate_dir = \"{}\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n\
             [door]\ngpio = \"sim\"\npulse_ms = 100\nanti_passback_s = 0\n\
             strike = {{ kind = \"relay\", bus = \"tcp:{board_addr}\", channel = 1 }}\n\
             contact = {{ line = \"GPIO27\" }}\nscanner = {{ kind = \"sim\" }}\npanel = {{ kind = \"sim\" }}\n",
            dir.path().join("agent").display(),
            broker.port
        ),
    )
    .unwrap();
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let kiosk = start_kiosk(&data, &["--mqtt-url", &url], "roster published").await;
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[(
            "RUST_LOG",
            &std::env::var("KETING_BENCH_AGENT_LOG")
                .unwrap_or_else(|_| "warn,keting_device_agents=info".into()),
        )],
        "door agent running",
    )
    .await;
    agent
        .wait_for_line("new roster in force", Duration::from_secs(30))
        .await;

    // Scan -> coil, scan -> confirmed (status unlocked), 1,000 times.
    let status_topic = format!("keting/v1/{site}/device/gym-door/status");
    let scan_topic = format!("keting/v1/{site}/sim/gym-door/scan");
    let (watch, mut watch_events) = client(broker.port, "bench-watch");
    subscribed(&watch, &mut watch_events, &status_topic).await;
    let mut coil_on = board.changes();
    let (mut to_coil, mut to_confirmed) = (Vec::with_capacity(scans), Vec::with_capacity(scans));
    for _ in 0..scans {
        coil_on.mark_unchanged();
        let t = Instant::now();
        pubc.publish(
            &scan_topic,
            QoS::AtLeastOnce,
            false,
            pass.clone().into_bytes(),
        )
        .await
        .unwrap();
        coil_on.wait_for(|c| c[0]).await.unwrap();
        to_coil.push(t.elapsed());
        loop {
            let s: DoorStatus =
                decode(&next_publish(&mut watch_events, &status_topic).await).unwrap();
            if s.state == LockState::Unlocked {
                break;
            }
        }
        to_confirmed.push(t.elapsed());
        // The pulse ends by itself (100 ms); wait for the relock before the next scan.
        loop {
            let s: DoorStatus =
                decode(&next_publish(&mut watch_events, &status_topic).await).unwrap();
            if s.state == LockState::Locked {
                break;
            }
        }
    }
    report("door: scan (MQTT sim scanner) -> coil written", to_coil);
    report(
        "door: scan -> coil confirmed, status unlocked",
        to_confirmed,
    );

    // Staff grant -> the door accepts the new roster.
    // Grants land at random moments of the kiosk's poll interval.
    let mut jitter: u64 = 0x2545_f491_4f6c_dd1d;
    let mut grants = Vec::with_capacity(GRANTS);
    for i in 0..GRANTS {
        jitter ^= jitter << 13;
        jitter ^= jitter >> 7;
        jitter ^= jitter << 17;
        tokio::time::sleep(Duration::from_millis(jitter % 250)).await;
        let member = (id + 1 + i as u64).to_string();
        let before = agent.log().matches("new roster in force").count();
        kiosk_cli(&data, &["gym", "grant", &member, "--until", "2099-12-31"]);
        let t = Instant::now();
        agent
            .wait_for_count("new roster in force", before + 1, Duration::from_secs(10))
            .await;
        grants.push(t.elapsed());
    }
    report("grant committed -> roster accepted by the door", grants);
    match resident_kib(agent.pid()) {
        Some(kib) => println!(
            "{:<52} {:.1} MiB",
            "device-agent resident memory",
            kib as f64 / 1024.0
        ),
        None => println!("device-agent resident memory: unknown"),
    }
    if std::env::var_os("KETING_BENCH_AGENT_LOG").is_some() {
        eprintln!("{}", agent.log());
    }
    kiosk.stop().await;
    agent.stop().await;
}
