//! The gym door across real processes: the agent reads its serial scanner
//! (a pseudo-terminal this test writes to), decides with the roster the
//! headless kiosk published through Mosquitto, and drives the simulated
//! relay board over Modbus TCP.

use std::time::Duration;

use keting_core::door::access::DoorRefusal;
use keting_core::door::lock::LockState;
use keting_core::ids::MemberId;
use keting_core::messages::{Event, EventKind};
use keting_system_tests::mosquitto::Mosquitto;

use crate::site_bed::{SiteBed, coil, kiosk_cli, within};

const PAID: &str = "2099-12-31";
const WAIT: Duration = Duration::from_secs(30);

fn granted(id: u32) -> impl Fn(&Event) -> bool {
    move |e| {
        e.kind
            == EventKind::AccessGranted {
                member: MemberId(id),
            }
    }
}

fn decided(e: &Event) -> bool {
    matches!(
        e.kind,
        EventKind::AccessGranted { .. } | EventKind::AccessRefused { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_member_gets_in_an_expired_one_stays_out_and_the_kiosk_logs_both() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, paid_pass) = bed.member("陈晓梅");
    let (expired, expired_pass) = bed.member("李建国");
    bed.grant(paid, PAID);
    bed.grant(expired, "2020-01-31");
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 500)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;

    bed.scan(&paid_pass);
    w.event(granted(paid)).await;
    coil(&bed.board, true).await;
    // The agent relocks by itself at the end of the pulse.
    coil(&bed.board, false).await;

    bed.scan(&expired_pass);
    let e = w.event(decided).await;
    assert_eq!(
        e.kind,
        EventKind::AccessRefused {
            member: Some(MemberId(expired)),
            reason: DoorRefusal::NightNotPaid
        }
    );
    // A garbage scan: refused, door shut.
    bed.scan("https://example.com/pay?id=1");
    let e = w.event(decided).await;
    assert!(matches!(
        e.kind,
        EventKind::AccessRefused {
            member: None,
            reason: DoorRefusal::NotAPass
        }
    ));
    assert!(!bed.board.relays()[0]);
    // The kiosk keeps all three in its audit log.
    kiosk.wait_for_count("device event stored", 3, WAIT).await;
    let events = kiosk_cli(&bed.data(), &["door", "events"]);
    assert!(
        events.contains("door.access_granted") && events.contains(&format!("member {paid}")),
        "{events}"
    );
    assert!(
        events.contains("night_not_paid") && events.contains("not_a_pass"),
        "{events}"
    );
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_kiosk_and_the_broker_gone_a_paid_member_still_gets_in() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, pass) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 500)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    kiosk.kill9().await;
    let _stopped = broker.stop().await;
    bed.scan(&pass);
    coil(&bed.board, true).await;
    coil(&bed.board, false).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_card_cannot_be_written_starts_and_still_lets_a_paid_member_in() {
    // A read-only or full SD card at boot: the outbox cannot be opened
    // (here: a directory stands where its file was). The agent must start
    // all the same, with the roster it kept, and the centre away.
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, pass) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let kiosk = bed.kiosk(&broker).await;
    let config = bed.agent_config(broker.port, 500);
    let agent = bed.agent(&config).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let state = bed.dir.path().join("agent-state");
    // The roster kept on the card (written just after it is in force).
    within(async {
        while !state.join("roster.json").exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    agent.stop().await;
    kiosk.kill9().await;
    let _stopped = broker.stop().await;
    for f in ["outbox.db", "outbox.db-wal", "outbox.db-shm"] {
        let _ = std::fs::remove_file(state.join(f));
    }
    std::fs::create_dir(state.join("outbox.db")).unwrap();

    let agent = bed.agent(&config).await;
    agent
        .wait_for_line("Events are kept in memory until this agent restarts", WAIT)
        .await;
    agent.wait_for_line("roster from disk in force", WAIT).await;
    bed.scan(&pass);
    if tokio::time::timeout(WAIT, coil(&bed.board, true))
        .await
        .is_err()
    {
        panic!("the door did not open:\n{}", agent.log());
    }
    coil(&bed.board, false).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_at_the_kiosk_reaches_the_door_and_lets_the_member_in() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (id, pass) = bed.member("张玥");
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 500)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    bed.scan(&pass);
    let e = w.event(decided).await;
    assert!(
        matches!(
            e.kind,
            EventKind::AccessRefused {
                reason: DoorRefusal::NightNotPaid,
                ..
            }
        ),
        "{e:?}"
    );
    // Staff grant the month from another process; the running kiosk notices
    // the database change and re-publishes; the door takes the new roster.
    bed.grant(id, PAID);
    kiosk
        .wait_for_count("roster published", 2, Duration::from_secs(5))
        .await;
    agent
        .wait_for_count("new roster in force", 2, Duration::from_secs(5))
        .await;
    bed.scan(&pass);
    w.event(granted(id)).await;
    coil(&bed.board, true).await;
    // And a revoke takes it away again.
    kiosk_cli(&bed.data(), &["gym", "revoke", &id.to_string()]);
    agent
        .wait_for_count("new roster in force", 3, Duration::from_secs(5))
        .await;
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_a_broker_outage_all_reach_the_kiosk_once_it_is_back() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, pass) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let (dir, port) = broker.stop().await;
    // The door decides alone: one entry, then four anti-passback refusals,
    // all queued in the agent's outbox.
    bed.scan(&pass);
    coil(&bed.board, true).await;
    coil(&bed.board, false).await;
    for _ in 0..4 {
        bed.scan(&pass);
    }
    agent.wait_for_count("access refused", 4, WAIT).await;
    let broker = Mosquitto::start_again(dir, port).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    w.online(true).await;
    kiosk.wait_for_count("device event stored", 5, WAIT).await;
    let events = kiosk_cli(&bed.data(), &["door", "events"]);
    assert_eq!(
        events
            .lines()
            .filter(|l| l.contains("door.access_granted"))
            .count(),
        1,
        "{events}"
    );
    assert_eq!(
        events.lines().filter(|l| l.contains("passback")).count(),
        4,
        "{events}"
    );
    kiosk.stop().await;
    drop(broker);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_pulse_comes_back_with_the_relay_off() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, pass) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let kiosk = bed.kiosk(&broker).await;
    // A long pulse, so the kill lands inside it.
    let config = bed.agent_config(broker.port, 60_000);
    let agent = bed.agent(&config).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    bed.scan(&pass);
    coil(&bed.board, true).await;
    agent.kill9().await;
    assert!(
        bed.board.relays()[0],
        "the board keeps its coil while nobody drives it"
    );
    w.online(false).await;
    let agent = bed.agent(&config).await;
    // Power-on state: locked, long before the 60 s pulse would have ended.
    coil(&bed.board, false).await;
    w.status(|s| s.state == LockState::Locked).await;
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_pulse_and_not_restarted_leaves_the_door_locked_when_the_pulse_ends() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, pass) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let kiosk = bed.kiosk(&broker).await;
    let pulse = Duration::from_millis(1_500);
    let config = bed.agent_config(broker.port, 1_500);
    let agent = bed.agent(&config).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    bed.scan(&pass);
    coil(&bed.board, true).await;
    let released = std::time::Instant::now();
    // Killed mid-pulse, and nothing starts it again.
    agent.kill9().await;
    assert!(bed.board.relays()[0], "still inside the pulse");
    // The board's own timer ends the pulse (half a second after the
    // agent's would have): the strike is off.
    coil(&bed.board, false).await;
    let off_after = released.elapsed();
    assert!(
        off_after >= pulse && off_after < pulse + Duration::from_millis(1_200),
        "off {off_after:?} after the release, for a {pulse:?} pulse"
    );
    // As a technician would read it, with a Modbus client of its own.
    let out = tokio::process::Command::new("mbpoll")
        .args(["-m", "tcp", "-p", &bed.board_port.to_string()])
        .args(["-a", "1", "-t", "0", "-r", "1", "-c", "1", "-1", "-o", "2"])
        .arg("127.0.0.1")
        .output()
        .await
        .expect("mbpoll is installed (./run-tests installs it)");
    let read = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{read}");
    let value = read
        .lines()
        .find(|l| l.trim_start().starts_with("[1]"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim);
    assert_eq!(value, Some("0"), "mbpoll reads the strike off: {read}");
    kiosk.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_door_is_an_alarm_at_the_kiosk_within_a_second_acknowledged_by_name() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (staff, _) = bed.member("刘主任");
    kiosk_cli(
        &bed.data(),
        &["staff", "role", &staff.to_string(), "--role", "staff"],
    );
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    w.status(|s| s.state == LockState::Locked).await;
    // The simulated contact opens with the strike locked: forced.
    let contact = format!(
        "keting/v1/{}/sim/{}/contact",
        bed.site,
        crate::site_bed::DOOR
    );
    let opened = std::time::Instant::now();
    keting_system_tests::mosquitto::publish_once(broker.port, &contact, b"open").await;
    kiosk.wait_for_line("alarm raised", WAIT).await;
    let took = opened.elapsed();
    println!("contact opened -> alarm stored at the kiosk: {took:?}");
    assert!(took < Duration::from_secs(1), "the alarm took {took:?}");
    let list = kiosk_cli(&bed.data(), &["alarm", "list"]);
    assert!(
        list.contains("gym-door") && list.contains("forced"),
        "{list}"
    );
    let id = list.split_whitespace().next().unwrap().to_owned();
    // An observer may not acknowledge it; the staff member does, by name.
    let (observer, _) = bed.member("来访者");
    kiosk_cli(
        &bed.data(),
        &["staff", "role", &observer.to_string(), "--role", "observer"],
    );
    let refused = std::process::Command::new(keting_system_tests::binaries::path("kiosk"))
        .args(["--data", bed.data().to_str().unwrap()])
        .args(["alarm", "ack", &id, "--staff", &observer.to_string()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("observer may not acknowledge alarms")
    );
    let acked = kiosk_cli(
        &bed.data(),
        &["alarm", "ack", &id, "--staff", &staff.to_string()],
    );
    assert!(
        acked.contains(&format!("acknowledged by staff:{staff}")),
        "{acked}"
    );
    // The door closes: its signed event clears the alarm into history.
    keting_system_tests::mosquitto::publish_once(broker.port, &contact, b"closed").await;
    kiosk.wait_for_line("alarm cleared", WAIT).await;
    assert!(kiosk_cli(&bed.data(), &["alarm", "list"]).contains("no alarms"));
    let all = kiosk_cli(&bed.data(), &["alarm", "list", "--all"]);
    assert!(
        all.contains("forced") && all.contains("cleared at") && all.contains("acknowledged by"),
        "{all}"
    );
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_door_works_the_same_through_the_kiosks_embedded_broker() {
    let bed = SiteBed::new().await;
    let (paid, pass) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let (kiosk, port) = bed.kiosk_embedded().await;
    let agent = bed.agent(&bed.agent_config(port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher_on(port, "watcher").await;
    bed.scan(&pass);
    w.event(granted(paid)).await;
    coil(&bed.board, true).await;
    coil(&bed.board, false).await;
    w.status(|s| s.state == LockState::Locked).await;
    kiosk.wait_for_count("device event stored", 1, WAIT).await;
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_open_the_door_remotely_and_the_door_answers() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    w.status(|s| s.state == LockState::Locked).await;
    // `kiosk door open` waits for the door's answer; run it off this thread.
    let data = bed.data();
    let cli = tokio::task::spawn_blocking(move || {
        kiosk_cli(&data, &["door", "open", crate::site_bed::DOOR])
    });
    coil(&bed.board, true).await;
    let printed = cli.await.unwrap();
    assert!(printed.contains("opened"), "{printed}");
    coil(&bed.board, false).await;
    kiosk.wait_for_line("device answered", WAIT).await;
    let events = kiosk_cli(&bed.data(), &["door", "events"]);
    assert!(
        events.contains("door.open"),
        "the request is in the audit log: {events}"
    );
    // An unknown door is refused at once, with the way to find the right name.
    let out = std::process::Command::new(keting_system_tests::binaries::path("kiosk"))
        .args([
            "--data",
            bed.data().to_str().unwrap(),
            "door",
            "open",
            "back-door",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("kiosk door list"));
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlock_from_anyone_but_the_centre_opens_nothing_and_the_kiosk_records_it() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "intruder").await;
    w.status(|s| s.state == LockState::Locked).await;
    let writes = bed.board.writes();
    // The attack of the issue: a well-formed unlock, as the protocol used to take it.
    let deadline = keting_link::clock::now().as_unix_millis() + 30_000;
    let bare = format!(
        r#"{{"v":1,"to":"{}","seq":1,"id":"c-42","deadline_ms":{deadline},"action":"unlock"}}"#,
        crate::site_bed::DOOR
    );
    let topic = format!(
        "keting/v1/{}/device/{}/cmd",
        bed.site,
        crate::site_bed::DOOR
    );
    w.link
        .publish(&topic, bare.as_bytes(), false)
        .await
        .unwrap();
    let e = w
        .event(|e| matches!(e.kind, EventKind::CommandRefused { .. }))
        .await;
    assert_eq!(
        e.kind,
        EventKind::CommandRefused {
            reason: "unsigned".into(),
            command: None
        }
    );
    kiosk.wait_for_line("device event stored", WAIT).await;
    let events = kiosk_cli(&bed.data(), &["door", "events"]);
    assert!(
        events.contains("door.command_refused") && events.contains("unsigned"),
        "the kiosk keeps the refusal: {events}"
    );
    assert_eq!(bed.board.writes(), writes, "the strike was never driven");
    assert!(!bed.board.relays()[0]);
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phones_live_pass_opens_the_door_and_the_same_pass_two_minutes_on_does_not() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, _) = bed.member("陈晓梅");
    bed.grant(paid, PAID);
    let kiosk = bed.kiosk(&broker).await;
    let agent = bed.agent(&bed.agent_config(broker.port, 500)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    // The pass her phone shows: made now by the centre with the site key.
    let live = |made: keting_core::time::Timestamp| {
        let dir = keting_centre::data_dir::DataDir::prepare(bed.data()).unwrap();
        let mut store = keting_store::Store::open(&dir.database()).unwrap();
        let site = keting_centre::site::open_or_create(
            &mut store,
            &dir,
            keting_centre::site::NewSite::Demo,
            keting_centre::clock::now(),
        )
        .unwrap();
        keting_centre::site::issuer(&site, &dir)
            .unwrap()
            .issue_live(MemberId(paid), keting_core::ids::Epoch(0), made)
    };
    let now = keting_centre::clock::now();
    bed.scan(&live(now));
    w.event(granted(paid)).await;
    coil(&bed.board, true).await;
    coil(&bed.board, false).await;
    // A screenshot of it two minutes on: refused as expired, door shut.
    let two_minutes_ago =
        keting_core::time::Timestamp::from_unix_millis(now.as_unix_millis() - 120_000);
    bed.scan(&live(two_minutes_ago));
    let e = w.event(decided).await;
    assert_eq!(
        e.kind,
        EventKind::AccessRefused {
            member: None,
            reason: DoorRefusal::Expired
        }
    );
    assert!(!bed.board.relays()[0]);
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_thousand_idle_connections_to_the_dashboard_a_staff_open_still_opens_the_door() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let data = bed.data();
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let kiosk = keting_system_tests::binaries::start_kiosk(
        &data,
        &["--mqtt-url", &url, "--http", "127.0.0.1:0"],
        "roster published",
    )
    .await;
    let line = kiosk
        .wait_for_line("staff dashboard at http://", WAIT)
        .await;
    let dashboard: std::net::SocketAddr = line
        .rsplit("http://")
        .next()
        .unwrap()
        .trim_end_matches('/')
        .trim()
        .parse()
        .unwrap();
    let agent = bed.agent(&bed.agent_config(broker.port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    w.status(|s| s.state == LockState::Locked).await;
    // Another machine opens a thousand connections to the dashboard and
    // sends nothing.
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard).unwrap();
    let other: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::new(other, 0)).unwrap();
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_secs(2), socket.connect(dashboard)).await
        {
            idle.push(s);
        }
    }
    // A staff open through the running kiosk still reaches the door.
    let cli = tokio::task::spawn_blocking(move || {
        kiosk_cli(&data, &["door", "open", crate::site_bed::DOOR])
    });
    coil(&bed.board, true).await;
    let printed = cli.await.unwrap();
    assert!(printed.contains("opened"), "{printed}");
    coil(&bed.board, false).await;
    drop(idle);
    assert!(
        !kiosk.log().contains("Too many open files"),
        "no descriptor ran out"
    );
    kiosk.stop().await;
    agent.stop().await;
}
