//! The gym at night across real processes (issue 29): the headless centre,
//! the door agent with simulated lines (driven through the
//! `sim/<device>/line/<LINE>` topic, as wires to its terminal block would),
//! Mosquitto, the simulated relay board, and stand-ins for a WeCom robot,
//! a DingTalk robot and a signed webhook. A member scans in and walks in;
//! alone, they press the help button: every channel hears of it within
//! 2 s, with their name. They leave by the exit button: nobody is inside.
//! Someone else then leaves whom no scan let in: tailgating, told too.

use std::time::{Duration, Instant};

use keting_core::door::occupancy::Way;
use keting_core::ids::MemberId;
use keting_core::messages::EventKind;
use keting_system_tests::mosquitto::{Mosquitto, publish_once};

use crate::alerts::{Receiver, add_duty_channels};
use crate::site_bed::{DOOR, SiteBed, coil, kiosk_cli};

const WAIT: Duration = Duration::from_secs(30);

/// Drives a simulated line of the door active or not.
async fn line(bed: &SiteBed, broker: &Mosquitto, name: &str, active: bool) {
    let topic = format!("keting/v1/{}/sim/{DOOR}/line/{name}", bed.site);
    let payload: &[u8] = if active { b"active" } else { b"inactive" };
    publish_once(broker.port, &topic, payload).await;
}

/// Someone walks through the released door: the contact opens and closes.
async fn walk_through(bed: &SiteBed, broker: &Mosquitto) {
    coil(&bed.board, true).await;
    line(bed, broker, "GPIO27", true).await;
    line(bed, broker, "GPIO27", false).await;
}

/// Waits until `kiosk gym inside` says `says`.
async fn inside_says(bed: &SiteBed, says: &str) -> String {
    let give_up = Instant::now() + WAIT;
    loop {
        let out = kiosk_cli(&bed.data(), &["gym", "inside"]);
        if out.contains(says) {
            return out;
        }
        assert!(Instant::now() < give_up, "never {says:?}:\n{out}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alone_at_night_help_reaches_every_channel_within_2_s_and_the_head_count_follows_the_door()
{
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (member, pass) = bed.member("陈晓梅");
    bed.grant(member, "2099-12-31");
    let receiver = Receiver::start(0).await;
    let data = bed.data();
    add_duty_channels(&data, &receiver);
    let kiosk = bed.kiosk(&broker).await;
    let config = bed.agent_config(broker.port, 3000);
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("exit_button = { line = \"GPIO22\" }\nhelp_button = { line = \"GPIO23\" }\n");
    std::fs::write(&config, toml).unwrap();
    let agent = bed.agent(&config).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;

    // In on a scan: the strike releases, the member walks in.
    bed.scan(&pass);
    walk_through(&bed, &broker).await;
    let e = w
        .event(|e| matches!(e.kind, EventKind::Passed { .. }))
        .await;
    assert_eq!(
        e.kind,
        EventKind::Passed {
            way: Way::In,
            member: Some(MemberId(member))
        }
    );
    let inside = inside_says(&bed, "1 inside now").await;
    assert!(inside.contains("陈晓梅"), "{inside}");
    coil(&bed.board, false).await;

    // Alone, they press the help button.
    let pressed = Instant::now();
    line(&bed, &broker, "GPIO23", true).await;
    let told = receiver.wait_for("紧急求助", 3, WAIT).await;
    let took = pressed.elapsed();
    println!("help button -> every channel (WeCom, DingTalk, webhook): {took:?}");
    assert!(took < Duration::from_secs(2), "every channel took {took:?}");
    for t in &told {
        assert!(
            t.body.contains("陈晓梅"),
            "the one inside is named: {}",
            t.body
        );
    }
    line(&bed, &broker, "GPIO23", false).await;
    // It is on the centre's screens too.
    let alarms = kiosk_cli(&data, &["alarm", "list"]);
    assert!(alarms.contains("help"), "{alarms}");

    // They leave by the exit button: nobody is inside.
    line(&bed, &broker, "GPIO22", true).await;
    line(&bed, &broker, "GPIO22", false).await;
    walk_through(&bed, &broker).await;
    inside_says(&bed, "0 inside now").await;
    coil(&bed.board, false).await;

    // Someone else comes out whom no scan let in: two in on one scan.
    line(&bed, &broker, "GPIO22", true).await;
    line(&bed, &broker, "GPIO22", false).await;
    walk_through(&bed, &broker).await;
    let told = receiver.wait_for("未刷码跟随进入", 3, WAIT).await;
    assert!(
        told.iter().all(|t| t.body.contains("最后刷码进入")),
        "the last one in is named: {told:?}"
    );
    let inside = kiosk_cli(&data, &["gym", "inside"]);
    assert!(
        inside.contains("someone left whom no scan let in"),
        "{inside}"
    );
    kiosk.stop().await;
    agent.stop().await;
}
