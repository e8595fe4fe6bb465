//! A door whose clock is wrong, as real processes: the door agent runs
//! under libfaketime (its wall clock shifted, its monotonic clock not), the
//! kiosk answers its signed time asks through Mosquitto. The door decides
//! night hours by the centre's clock, refuses everyone while its clock is
//! known wrong with no centre to ask, and the centre raises the clock alarm.

use std::time::Duration;

use keting_core::door::access::DoorRefusal;
use keting_core::ids::MemberId;
use keting_core::messages::{Event, EventKind};
use keting_system_tests::binaries::Process;
use keting_system_tests::mosquitto::Mosquitto;

use crate::site_bed::{SiteBed, coil, kiosk_cli};

const WAIT: Duration = Duration::from_secs(30);

/// The door agent with its wall clock shifted by `shift` (`+12h`, `-1d`).
async fn agent_with_clock(config: &std::path::Path, shift: &str) -> Process {
    let lib = keting_system_tests::binaries::libfaketime();
    Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[
            ("LD_PRELOAD", lib.to_str().unwrap()),
            ("FAKETIME", shift),
            // Timers and the round trip run on the true monotonic clock.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
        "door agent running",
    )
    .await
}

fn decided(e: &Event) -> bool {
    matches!(
        e.kind,
        EventKind::AccessGranted { .. } | EventKind::AccessRefused { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_twelve_hours_ahead_judges_the_night_by_the_centres_clock_and_raises_the_alarm() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (unpaid, unpaid_pass) = bed.member("李建国");
    let (paid, paid_pass) = bed.member("陈晓梅");
    bed.grant(paid, "2099-12-31");
    let kiosk = bed.kiosk(&broker).await;
    // Night is the hour around now (site_bed::night_now): by the door's own
    // clock, twelve hours on, it is day and anyone on the roster may enter.
    let agent = agent_with_clock(&bed.agent_config(broker.port, 300), "+12h").await;
    agent.wait_for_line("new roster in force", WAIT).await;
    agent.wait_for_line("deciding by the centre's", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;

    bed.scan(&unpaid_pass);
    let e = w.event(decided).await;
    assert_eq!(
        e.kind,
        EventKind::AccessRefused {
            member: Some(MemberId(unpaid)),
            reason: DoorRefusal::NightNotPaid
        },
        "night by the centre's clock"
    );
    assert!(!bed.board.relays()[0]);
    bed.scan(&paid_pass);
    let e = w.event(decided).await;
    assert_eq!(
        e.kind,
        EventKind::AccessGranted {
            member: MemberId(paid)
        }
    );
    coil(&bed.board, true).await;

    // The centre knows: the clock alarm, with how far ahead the door is.
    kiosk.wait_for_line("alarm raised", WAIT).await;
    let list = kiosk_cli(&bed.data(), &["alarm", "list"]);
    assert!(
        list.contains("gym-door") && list.contains("clock_wrong"),
        "{list}"
    );
    assert!(
        list.contains("(+12:00:0") || list.contains("(+11:59:5"),
        "the door's lead over the centre: {list}"
    );
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_a_day_behind_with_the_centre_away_stays_shut_until_the_centre_answers() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (paid, paid_pass) = bed.member("陈晓梅");
    bed.grant(paid, "2099-12-31");
    // The door takes the roster; then the centre goes away and the door
    // restarts a day in the past (a Pi without a real-time clock): behind
    // the roster on its disk, so its clock is known wrong, with no centre
    // to ask.
    let kiosk = bed.kiosk(&broker).await;
    let config = bed.agent_config(broker.port, 300);
    let agent = bed.agent(&config).await;
    agent.wait_for_line("new roster in force", WAIT).await;
    agent.stop().await;
    kiosk.stop().await;
    let agent = agent_with_clock(&config, "-1d").await;
    agent.wait_for_line("this clock is wrong", WAIT).await;
    let mut w = bed.watcher(&broker, "watcher").await;
    bed.scan(&paid_pass);
    let e = w.event(decided).await;
    assert_eq!(
        e.kind,
        EventKind::AccessRefused {
            member: Some(MemberId(paid)),
            reason: DoorRefusal::ClockWrong
        }
    );
    assert!(!bed.board.relays()[0], "the door stays shut");

    // The centre is back: the door asks again on the centre's online flag
    // at the latest at its retry, takes the centre's time, and lets her in.
    let kiosk = bed.kiosk(&broker).await;
    agent
        .wait_for_line("deciding by the centre's", Duration::from_secs(45))
        .await;
    bed.scan(&paid_pass);
    let e = w.event(decided).await;
    assert_eq!(
        e.kind,
        EventKind::AccessGranted {
            member: MemberId(paid)
        }
    );
    coil(&bed.board, true).await;
    // The refusal and the alarm were queued while the centre was away.
    kiosk.wait_for_line("alarm raised", WAIT).await;
    kiosk.wait_for_count("device event stored", 3, WAIT).await;
    let list = kiosk_cli(&bed.data(), &["alarm", "list"]);
    assert!(
        list.contains("clock_wrong")
            && (list.contains("(-1:00:00")
                || list.contains("(-23:59:5")
                || list.contains("(-24:00:0")),
        "the door's lag, once the centre's time is known: {list}"
    );
    kiosk.stop().await;
    agent.stop().await;
}
