//! Redemption across real processes: `kiosk --headless`, the vending
//! `device-agent`, Mosquitto, and the simulated machine on Modbus TCP. The
//! command line redeems (the screen uses the same path).

use std::time::Duration;

use keting_system_tests::vending_site::VendingSite;

fn balance(site: &VendingSite, member: u32) -> i64 {
    let out = site.kiosk(&["points", "balance", &member.to_string()]);
    out.lines()
        .last()
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_become_a_drink_or_come_back_and_bad_requests_touch_nothing() {
    let site = VendingSite::new(4, 2, 10).await;
    let broker = VendingSite::broker().await;
    let kiosk = site.start_kiosk(broker.port).await;
    let agent = site.start_agent(broker.port).await;
    let m = site.volunteer("王秀英", 35);
    let member = m.to_string();

    // A drink: the points are spent, the stock goes down, one drink dropped.
    let out = site.kiosk(&["vending", "redeem", &member, "1"]);
    assert!(out.contains("dispensed: take your drink"), "{out}");
    assert_eq!(balance(&site, m), 25);
    assert_eq!(site.sim.dispensed(), 1);
    assert!(
        site.kiosk(&["vending", "list"])
            .lines()
            .next()
            .unwrap()
            .contains("1 in stock")
    );

    // A jam: nothing drops, the points come back by themselves.
    site.sim.set_jammed(2, true);
    let (ok, _, err) = site.kiosk_status(&["vending", "redeem", &member, "2"]);
    assert!(
        !ok && err.contains("not dispensed (jammed): 10 points returned"),
        "{err}"
    );
    assert_eq!(balance(&site, m), 25);
    assert_eq!(site.sim.dispensed(), 1);

    // Too few points, an empty slot, an unknown slot: refused, nothing held.
    let poor = site.volunteer("李建国", 5).to_string();
    let (ok, _, err) = site.kiosk_status(&["vending", "redeem", &poor, "1"]);
    assert!(
        !ok && err.contains("not enough points: 5 held, 10 needed"),
        "{err}"
    );
    site.kiosk(&["vending", "redeem", &member, "1"]);
    let (ok, _, err) = site.kiosk_status(&["vending", "redeem", &member, "1"]);
    assert!(!ok && err.contains("sold out"), "{err}");
    let (ok, _, err) = site.kiosk_status(&["vending", "redeem", &member, "9"]);
    assert!(!ok && err.contains("slot 9 of vending not found"), "{err}");
    assert_eq!(balance(&site, m), 15);

    // A double tap: the second redemption while the first is under way is refused.
    site.sim.set_vend_time(Duration::from_millis(1500));
    let first = site.kiosk(&["vending", "redeem", &member, "3", "--no-wait"]);
    let (ok, _, err) = site.kiosk_status(&["vending", "redeem", &member, "4"]);
    assert!(!ok && err.contains("in progress"), "{first}{err}");
    kiosk
        .wait_for_count("redemption settled", 4, Duration::from_secs(30))
        .await;
    assert_eq!(balance(&site, m), 5);
    assert_eq!(site.sim.dispensed(), 3);
    let ledger = site.kiosk(&["points", "ledger"]);
    assert!(ledger.contains("(zero: the ledger balances)"), "{ledger}");
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_agent_down_a_redemption_is_in_doubt_then_settled_once_it_is_back() {
    let site = VendingSite::new(2, 5, 10).await;
    let broker = VendingSite::broker().await;
    let kiosk = site.start_kiosk(broker.port).await;
    let m = site.volunteer("陈晓梅", 20);
    // No agent: the command waits in the broker; the kiosk's deadline passes.
    let out = site.kiosk(&["vending", "redeem", &m.to_string(), "1", "--no-wait"]);
    assert!(out.contains("points held"), "{out}");
    assert_eq!(balance(&site, m), 10, "held, not spendable twice");
    kiosk
        .wait_for_line("redemption in doubt: query sent", Duration::from_secs(60))
        .await;
    // The agent comes back: it gets the vend (past its deadline: not vended)
    // and the query; the points come back, nothing dropped.
    let agent = site.start_agent(broker.port).await;
    kiosk
        .wait_for_line("redemption settled", Duration::from_secs(30))
        .await;
    assert_eq!(balance(&site, m), 20);
    assert_eq!(site.sim.dispensed(), 0);
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_dispensed_on_the_broker_commits_no_points() {
    use keting_core::messages::{Ack, MessageId, Outcome, PROTOCOL_VERSION, VendOutcome, encode};
    let site = VendingSite::new(2, 5, 10).await;
    let broker = VendingSite::broker().await;
    // The machine's key is trusted, but the machine is not running.
    let config = site.agent_config(broker.port);
    let kiosk = site.start_kiosk(broker.port).await;
    let m = site.volunteer("陈晓梅", 20);
    let out = site.kiosk(&["vending", "redeem", &m.to_string(), "1", "--no-wait"]);
    let redemption = out.split(':').next().unwrap().trim().to_owned();
    assert_eq!(balance(&site, m), 10, "held");
    let topic = format!(
        "keting/v1/{}/device/{}/ack",
        site.site,
        keting_system_tests::vending_site::MACHINE
    );
    let dispensed = Ack {
        v: PROTOCOL_VERSION,
        id: MessageId::new(redemption.clone()).unwrap(),
        outcome: Outcome::Vended {
            redemption: MessageId::new(redemption.clone()).unwrap(),
            result: VendOutcome::Dispensed,
        },
    };
    let forger = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
    for (n, payload) in [
        encode(&dispensed),
        keting_core::signed_answer::seal(&forger, &topic, &dispensed),
    ]
    .into_iter()
    .enumerate()
    {
        keting_system_tests::mosquitto::publish_once(broker.port, &topic, &payload).await;
        kiosk
            .wait_for_count("was refused", n + 1, Duration::from_secs(30))
            .await;
    }
    let log = kiosk.log();
    assert_eq!(log.matches("an answer on").count(), 2, "{log}");
    assert_eq!(balance(&site, m), 10, "nothing committed, nothing refunded");
    assert!(!log.contains("redemption settled"), "{log}");
    // The machine itself answers: settled by its word (the vend's deadline
    // passed while it was away: not vended, the points back).
    let agent = keting_system_tests::binaries::Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "vending agent running",
    )
    .await;
    kiosk
        .wait_for_line("redemption settled", Duration::from_secs(60))
        .await;
    assert_eq!(balance(&site, m), 20);
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_online_flag_or_status_and_a_made_up_device_show_staff_nothing() {
    use keting_core::messages::{DoorStatus, PROTOCOL_VERSION, encode};
    let site = VendingSite::new(2, 5, 10).await;
    let broker = VendingSite::broker().await;
    // The machine's key is trusted; the machine is not running.
    let config = site.agent_config(broker.port);
    let kiosk = site.start_kiosk(broker.port).await;
    let topic =
        |device: &str, channel: &str| format!("keting/v1/{}/device/{device}/{channel}", site.site);
    let machine = keting_system_tests::vending_site::MACHINE;
    let online = br#"{"v":1,"online":true}"#;
    // A made-up device says it is online and fine.
    let status = DoorStatus {
        v: PROTOCOL_VERSION,
        state: keting_core::door::lock::LockState::Locked,
        fault: None,
        locked_out: false,
        at_ms: Some(keting_link::clock::now().as_unix_millis()),
    };
    keting_system_tests::mosquitto::publish_once(
        broker.port,
        &topic("ghost-door", "online"),
        online,
    )
    .await;
    keting_system_tests::mosquitto::publish_once(
        broker.port,
        &topic("ghost-door", "status"),
        &encode(&status),
    )
    .await;
    // The dead machine's flag, forged; then a status of it, unsigned and
    // signed by another key.
    keting_system_tests::mosquitto::publish_once(broker.port, &topic(machine, "online"), online)
        .await;
    let forger = ed25519_dalek::SigningKey::from_bytes(&[0x42; 32]);
    let status_topic = topic(machine, "status");
    for (n, payload) in [
        encode(&status),
        keting_core::signed_answer::seal(&forger, &status_topic, &status),
    ]
    .into_iter()
    .enumerate()
    {
        keting_system_tests::mosquitto::publish_once(broker.port, &status_topic, &payload).await;
        kiosk
            .wait_for_count("was refused", n + 1, Duration::from_secs(30))
            .await;
    }
    // The centre handles its messages in order: by the refusals, the flag
    // and the made-up device were handled too, and showed nothing.
    let log = kiosk.log();
    assert!(
        !log.contains("device online"),
        "a forged flag made nobody online:\n{log}"
    );
    assert!(
        !log.contains("ghost-door"),
        "a made-up device is nobody:\n{log}"
    );
    // The machine itself: its signed status proves its flag.
    let agent = keting_system_tests::binaries::Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "vending agent running",
    )
    .await;
    kiosk
        .wait_for_line("device online", Duration::from_secs(30))
        .await;
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_recorded_on_the_broker_and_played_after_the_centre_restarts_proves_nothing() {
    let site = VendingSite::new(2, 5, 10).await;
    let broker = VendingSite::broker().await;
    let config = site.agent_config(broker.port);
    let kiosk = site.start_kiosk(broker.port).await;
    let machine = keting_system_tests::vending_site::MACHINE;
    let status_topic = format!("keting/v1/{}/device/{machine}/status", site.site);
    // Someone on the LAN records the machine's signed status.
    let mut o = rumqttc::MqttOptions::new("recorder", "127.0.0.1", broker.port);
    o.set_keep_alive(Duration::from_secs(5));
    let (recorder, mut events) = rumqttc::AsyncClient::new(o, 32);
    recorder
        .subscribe(&status_topic, rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    let (heard, mut statuses) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    if heard.send(p.payload.to_vec()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    let mut next_status = async move || {
        tokio::time::timeout(Duration::from_secs(30), statuses.recv())
            .await
            .expect("a status recorded")
            .unwrap()
    };
    let agent = keting_system_tests::binaries::Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "vending agent running",
    )
    .await;
    kiosk
        .wait_for_line("device online", Duration::from_secs(30))
        .await;
    let recorded = next_status().await;
    // The centre stops. While it is away the machine says one more status
    // (anyone on the LAN can ask for one through the centre's flag), which
    // the broker keeps and the centre never took; then the machine dies. The
    // centre comes back and is handed that status, newer than any it kept.
    kiosk.stop().await;
    let away_since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let controller = format!("keting/v1/{}/controller/online", site.site);
    keting_system_tests::mosquitto::publish_once(
        broker.port,
        &controller,
        br#"{"v":1,"online":false}"#,
    )
    .await;
    while status_time(&next_status().await) <= away_since {}
    agent.kill9().await;
    let kiosk = site.start_kiosk(broker.port).await;
    // A forged online flag and the recorded status played again, then an
    // unsigned status whose refusal says all three were handled.
    let online = format!("keting/v1/{}/device/{machine}/online", site.site);
    keting_system_tests::mosquitto::publish_once(broker.port, &online, br#"{"v":1,"online":true}"#)
        .await;
    keting_system_tests::mosquitto::publish_once(broker.port, &status_topic, &recorded).await;
    let unsigned = br#"{"v":1,"state":"locked","at_ms":1}"#;
    keting_system_tests::mosquitto::publish_once(broker.port, &status_topic, unsigned).await;
    kiosk
        .wait_for_line("was refused", Duration::from_secs(30))
        .await;
    let log = kiosk.log();
    assert!(
        !log.contains("device online"),
        "a recording played after a restart made the dead machine look alive:\n{log}"
    );
    kiosk.stop().await;
}

/// The device's own time in a signed status.
fn status_time(payload: &[u8]) -> i64 {
    let envelope: keting_core::signed_answer::SignedAnswer =
        serde_json::from_slice(payload).expect("a signed status");
    serde_json::from_str::<serde_json::Value>(&envelope.answer).expect("a status")["at_ms"]
        .as_i64()
        .expect("its time")
}
