//! The gym door benchmark: a program that prints figures, not a timed test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench door`
//! runs Mosquitto, the release `device-agent` and `kiosk` (headless) as
//! processes, and the simulated relay board on Modbus TCP in this process,
//! all on loopback, and prints:
//! Every link is TLS (TLS 1.3, client certificates of a site CA, as on a
//! provisioned site) and every command signed. It prints:
//! - scan to relay coil written, and to the agent's `unlocked` status (the
//!   coil written and read back), p50/p99 over 1,000 scans published on the
//!   simulated scanner's topic;
//! - the floor measured in the same run: one bare MQTT QoS 1 round trip
//!   (publish to a subscriber, through the same broker, over TLS; and over
//!   plain TCP for comparison) plus one bare Modbus write to the same
//!   simulated board, each back to back in this process;
//! - the floor in the door's own shape: this program started again as a
//!   bare agent, a process of its own on a one-thread runtime as the agent
//!   is, that takes a message over TLS and writes the coil, nothing else;
//!   paced as the scans are (one every ~100 ms, so the process sleeps in
//!   between as the agent does). The door path's ratio is given to it;
//! - staff grant (`kiosk gym grant` committed) to the door's acceptance of
//!   the new roster, p50/p99 over 30 grants;
//! - the agent's resident memory after the run;
//! - one agent's login, TCP connect to CONNACK, over TLS (handshake and
//!   certificate check included) and over plain TCP, p50/p99 over 100;
//! - 100 agents' links (the agents' own reconnect code: backoff with full
//!   jitter) coming back after a broker restart: when the last is back.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use keting_core::door::lock::LockState;
use keting_core::messages::{DoorStatus, decode};
use keting_core::signed_answer;
use keting_hardware::relay_board::sim::{SimRelayBoard, serve_tcp};
use keting_link::tls::{LinkTls, TlsFiles};
use keting_system_tests::binaries::{Process, start_kiosk};
use keting_system_tests::latency::{report, resident_kib, resident_parts_kib};
use keting_system_tests::mosquitto::Mosquitto;
use keting_system_tests::site_tls::SiteTls;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use tokio_modbus::client::Writer;

const SCANS_DEFAULT: usize = 1_000;
const GRANTS: usize = 30;
const ROSTER_MEMBERS: usize = 300;
const LOGINS: usize = 100;
const STORM_AGENTS: usize = 100;

fn client(port: u16, id: &str, tls: Option<&LinkTls>) -> (AsyncClient, EventLoop) {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(10));
    o.set_max_packet_size(2 << 20, 2 << 20);
    if let Some(tls) = tls {
        o.set_transport(tls.transport());
    }
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

/// Set when this program runs as the bare floor agent (its settings are
/// its arguments).
const FLOOR_AGENT_ENV: &str = "KETING_BENCH_FLOOR_AGENT";
/// The topic the floor agent takes its messages on.
const FLOOR_TOPIC: &str = "floor/door-shape";

fn main() {
    if std::env::var_os(FLOOR_AGENT_ENV).is_some() {
        let settings: Vec<String> = std::env::args().skip(1).collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(floor_agent(&settings));
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench());
}

/// The bare floor agent, given `port ca cert key board`. Says `ready` on
/// stdout once subscribed, then writes coil 1 on for every message on
/// [`FLOOR_TOPIC`], until it is killed.
async fn floor_agent(f: &[String]) {
    let tls = LinkTls::from_files(&TlsFiles {
        ca: (&f[1]).into(),
        cert: (&f[2]).into(),
        key: (&f[3]).into(),
    })
    .unwrap();
    let mut board = tokio_modbus::client::tcp::connect(f[4].parse().unwrap())
        .await
        .unwrap();
    let (c, mut events) = client(f[0].parse().unwrap(), "floor-agent", Some(&tls));
    subscribed(&c, &mut events, FLOOR_TOPIC).await;
    println!("ready");
    loop {
        if let Event::Incoming(Packet::Publish(_)) = events.poll().await.unwrap() {
            board.write_single_coil(0, true).await.unwrap().unwrap();
        }
    }
}

/// Publish -> coil written through the bare floor agent, `n` times, one
/// every ~100 ms as the door's scans come.
async fn door_shaped_floor(
    n: usize,
    port: u16,
    files: &TlsFiles,
    board: &SimRelayBoard,
    board_addr: std::net::SocketAddr,
    pubc: &AsyncClient,
) -> Vec<Duration> {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env(FLOOR_AGENT_ENV, "1")
        .arg(port.to_string())
        .args([&files.ca, &files.cert, &files.key])
        .arg(board_addr.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("ready"));
    let mut reset = tokio_modbus::client::tcp::connect(board_addr)
        .await
        .unwrap();
    let mut coil_on = board.changes();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        coil_on.mark_unchanged();
        let t = Instant::now();
        pubc.publish(FLOOR_TOPIC, QoS::AtLeastOnce, false, b"KT1.x".to_vec())
            .await
            .unwrap();
        coil_on.wait_for(|c| c[0]).await.unwrap();
        out.push(t.elapsed());
        reset.write_single_coil(0, false).await.unwrap().unwrap();
        // Scans come one every ~100 ms in the door's run (its pulse).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().await.unwrap();
    out
}

async fn bench() {
    // KETING_BENCH_SCANS: fewer scans for a quick look.
    let scans: usize = std::env::var("KETING_BENCH_SCANS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SCANS_DEFAULT);
    let site_tls = SiteTls::new();
    let broker = Mosquitto::start_tls(site_tls.listener()).await;
    let tls_port = broker.tls.as_ref().unwrap().port;
    let kiosk_dir = site_tls.kiosk_dir();
    let kiosk_files = TlsFiles {
        ca: kiosk_dir.join("ca.pem"),
        cert: kiosk_dir.join("kiosk.pem"),
        key: kiosk_dir.join("kiosk.key"),
    };
    let kiosk_tls = LinkTls::from_files(&kiosk_files).unwrap();
    let board = SimRelayBoard::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let board_addr = listener.local_addr().unwrap();
    tokio::spawn(serve_tcp(listener, board.clone(), std::future::pending()));
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    println!(
        "# Keting gym door benchmark (loopback, Mosquitto with TLS 1.3 and client certificates, signed commands, release binaries)"
    );

    // The floor: a bare MQTT QoS 1 round trip (over TLS, and over plain
    // TCP for comparison), and a bare Modbus write.
    let (pubc, mqtt_plain) = floor_round_trips(broker.port, None, scans).await;
    let (tls_pubc, mqtt) = floor_round_trips(tls_port, Some(&kiosk_tls), scans).await;
    drop(pubc);
    let pubc = tls_pubc;
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
    let shaped = door_shaped_floor(scans, tls_port, &kiosk_files, &board, board_addr, &pubc).await;
    report("floor: MQTT QoS 1 round trip, plain TCP", mqtt_plain);
    let (mqtt_p50, mqtt_p99) = report("floor: MQTT QoS 1 publish -> subscriber, TLS", mqtt);
    let (mb_p50, mb_p99) = report("floor: Modbus TCP write single coil", modbus);
    println!(
        "{:<52} p50={:>9.3} ms  p99={:>9.3} ms",
        "floor: sum",
        (mqtt_p50 + mb_p50).as_secs_f64() * 1e3,
        (mqtt_p99 + mb_p99).as_secs_f64() * 1e3
    );
    let (shaped_p50, shaped_p99) = report(
        "floor: door-shaped (bare agent process: TLS -> coil)",
        shaped,
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
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n{}\
             [door]\ngpio = \"sim\"\npulse_ms = 100\nanti_passback_s = 0\n\
             strike = {{ kind = \"relay\", bus = \"tcp:{board_addr}\", channel = 1 }}\n\
             contact = {{ line = \"GPIO27\" }}\nscanner = {{ kind = \"sim\" }}\npanel = {{ kind = \"sim\" }}\n",
            dir.path().join("agent").display(),
            tls_port,
            site_tls.agent_line("gym-door"),
        ),
    )
    .unwrap();
    let url = format!("mqtts://127.0.0.1:{tls_port}");
    let kiosk = start_kiosk(
        &data,
        &[
            "--mqtt-url",
            &url,
            "--mqtt-tls",
            kiosk_dir.to_str().unwrap(),
        ],
        "roster published",
    )
    .await;
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
    let (watch, mut watch_events) = client(tls_port, "bench-watch", Some(&kiosk_tls));
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
            let s: DoorStatus = decode(&signed_answer::unchecked(
                &next_publish(&mut watch_events, &status_topic).await,
            ))
            .unwrap();
            if s.state == LockState::Unlocked {
                break;
            }
        }
        to_confirmed.push(t.elapsed());
        // The pulse ends by itself (100 ms); wait for the relock before the next scan.
        loop {
            let s: DoorStatus = decode(&signed_answer::unchecked(
                &next_publish(&mut watch_events, &status_topic).await,
            ))
            .unwrap();
            if s.state == LockState::Locked {
                break;
            }
        }
    }
    let (door_p50, door_p99) = report("door: scan (MQTT sim scanner) -> coil written", to_coil);
    println!(
        "{:<52} p50={:>8.1}x     p99={:>8.1}x   (back-to-back sum: p50={:.1}x, p99={:.1}x)",
        "door: scan -> coil, over the door-shaped floor",
        door_p50.as_secs_f64() / shaped_p50.as_secs_f64(),
        door_p99.as_secs_f64() / shaped_p99.as_secs_f64(),
        door_p50.as_secs_f64() / (mqtt_p50 + mb_p50).as_secs_f64(),
        door_p99.as_secs_f64() / (mqtt_p99 + mb_p99).as_secs_f64(),
    );
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
    if let Some((anon, file)) = resident_parts_kib(agent.pid()) {
        println!(
            "{:<52} {:.1} MiB own (heap, stacks), {:.1} MiB files (binary, libraries)",
            "  of which",
            anon as f64 / 1024.0,
            file as f64 / 1024.0
        );
    }
    if std::env::var_os("KETING_BENCH_AGENT_LOG").is_some() {
        eprintln!("{}", agent.log());
    }
    kiosk.stop().await;
    agent.stop().await;

    // One agent's login, TCP connect to CONNACK.
    let door_tls = LinkTls::from_files(&site_tls.client("gym-door")).unwrap();
    report(
        "login: connect -> CONNACK, plain TCP",
        logins(broker.port, None).await,
    );
    report(
        "login: connect -> CONNACK, TLS 1.3 + client cert",
        logins(tls_port, Some(&door_tls)).await,
    );
    reconnect_storm(broker, &site_tls).await;
}

/// `n` bare QoS 1 round trips through the broker on `port`; returns the
/// publishing client (connected, its loop driven) and the latencies.
async fn floor_round_trips(
    port: u16,
    tls: Option<&LinkTls>,
    n: usize,
) -> (AsyncClient, Vec<Duration>) {
    let tag = if tls.is_some() { "tls" } else { "plain" };
    let (pubc, mut pub_events) = client(port, &format!("floor-pub-{tag}"), tls);
    let (subc, mut sub_events) = client(port, &format!("floor-sub-{tag}"), tls);
    tokio::spawn(async move {
        loop {
            if pub_events.poll().await.is_err() {
                return;
            }
        }
    });
    let topic = format!("floor/{tag}");
    subscribed(&subc, &mut sub_events, &topic).await;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        pubc.publish(&topic, QoS::AtLeastOnce, false, b"KT1.x".to_vec())
            .await
            .unwrap();
        next_publish(&mut sub_events, &topic).await;
        out.push(t.elapsed());
    }
    (pubc, out)
}

/// [`LOGINS`] logins one after another: connect to CONNACK, then goodbye.
async fn logins(port: u16, tls: Option<&LinkTls>) -> Vec<Duration> {
    let mut out = Vec::with_capacity(LOGINS);
    for i in 0..LOGINS {
        let (c, mut events) = client(port, &format!("login-{i}"), tls);
        let t = Instant::now();
        loop {
            if let Event::Incoming(Packet::ConnAck(_)) = events.poll().await.unwrap() {
                break;
            }
        }
        out.push(t.elapsed());
        c.disconnect().await.unwrap();
        while events.poll().await.is_ok() {}
    }
    out
}

/// [`STORM_AGENTS`] agents' links over TLS, each with its own certificate;
/// the broker restarted under them (SIGTERM, as a service restart); prints
/// when each was back, from the moment the broker listened again.
async fn reconnect_storm(broker: Mosquitto, site_tls: &SiteTls) {
    use keting_link::connection::{self, LinkConfig, LinkEvent};
    let tls_port = broker.tls.as_ref().unwrap().port;
    let dir = tempfile::tempdir().unwrap();
    let (back_tx, mut back_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let (up_tx, mut up_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    // Certificates and outboxes first: the clock times the logins only.
    let prepared: Vec<_> = (0..STORM_AGENTS)
        .map(|i| {
            let name = format!("agent-{i:03}");
            let outbox =
                keting_link::outbox::Outbox::open(&dir.path().join(format!("{name}.db"))).unwrap();
            let tls = LinkTls::from_files(&site_tls.client(&name)).unwrap();
            (name, outbox, tls)
        })
        .collect();
    let started = Instant::now();
    let mut links = Vec::new();
    for (i, (name, outbox, tls)) in prepared.into_iter().enumerate() {
        let (link, mut events, task) = connection::spawn(
            LinkConfig {
                host: "127.0.0.1".into(),
                port: tls_port,
                client_id: name.clone(),
                credentials: None,
                online_topic: format!("storm/{name}/online"),
                birth: keting_link::connection::ONLINE.to_vec(),
                subscriptions: vec![format!("storm/{name}/cmd")],
                keep_alive: Duration::from_secs(10),
                persistent_session: true,
                tls: Some(tls),
            },
            outbox,
        );
        let (back, up) = (back_tx.clone(), up_tx.clone());
        tokio::spawn(async move {
            let mut first = true;
            while let Some(e) = events.recv().await {
                if let LinkEvent::Connected = e {
                    if first {
                        first = false;
                        let _ = up.send(i);
                    } else {
                        let _ = back.send((i, Instant::now()));
                    }
                }
            }
        });
        links.push((link, task));
    }
    for _ in 0..STORM_AGENTS {
        up_rx.recv().await.unwrap();
    }
    println!(
        "{:<52} {:.2} s",
        format!("{STORM_AGENTS} agents' first TLS logins, all at once"),
        started.elapsed().as_secs_f64()
    );
    let stopping = Instant::now();
    let broker = broker.restart().await;
    let listening = Instant::now();
    let mut back = Vec::with_capacity(STORM_AGENTS);
    let limit = tokio::time::timeout(Duration::from_secs(120), async {
        while back.len() < STORM_AGENTS {
            let (_, at) = back_rx.recv().await.unwrap();
            back.push(at.saturating_duration_since(listening));
        }
    })
    .await;
    let restart = listening - stopping;
    match limit {
        Ok(()) => {
            let last = back.iter().max().copied().unwrap_or_default();
            println!(
                "{:<52} restart {:.2} s, all {STORM_AGENTS} back {:.2} s after it listened",
                "broker restart (SIGTERM), agents reconnecting",
                restart.as_secs_f64(),
                last.as_secs_f64()
            );
            report("  each agent back, from the broker listening", back);
        }
        Err(_) => println!(
            "broker restart: only {} of {STORM_AGENTS} agents back within 120 s",
            back.len()
        ),
    }
    drop(links);
    drop(broker);
}
