//! The door agent against a real Mosquitto and the simulated relay board on
//! Modbus TCP: the agent runs in this process with simulated GPIO, scanner
//! (the `sim/<device>/scan` topic) and panel; everything else is real.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use keting_core::calendar::SiteCalendar;
use keting_core::door::access::DoorRefusal;
use keting_core::door::lock::LockState;
use keting_core::ids::{Epoch, MemberId, SiteId};
use keting_core::messages::{DoorStatus, Event, EventKind, decode};
use keting_core::pass::PassIssuer;
use keting_core::roster::{Roster, RosterMember, sign};
use keting_device_agents::config::AgentConfig;
use keting_device_agents::door::panel_words;
use keting_device_agents::run::{PANEL_FONT, SimHardware, run_agent};
use keting_hardware::panel::status_layout::render;
use keting_hardware::panel::text::PanelFont;
use keting_hardware::relay_board::sim::{RelayFault, SimRelayBoard, serve_tcp};
use keting_link::connection::{LinkEvent, LinkHandle};
use tokio::sync::{mpsc, oneshot};

use crate::util::{Mosquitto, config, link, wait_for};

const DEVICE_TOPICS: &str = "keting/v1/demo/device/gym-door/#";

struct Door {
    _broker: Mosquitto,
    board: SimRelayBoard,
    sim: SimHardware,
    issuer: PassIssuer,
    key: SigningKey,
    watcher: LinkHandle,
    watch_events: mpsc::Receiver<LinkEvent>,
    stop: Option<oneshot::Sender<()>>,
    agent: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// A night window around now, so "night" rules apply whatever the hour.
fn night_now() -> (String, String) {
    let local = SiteCalendar::china().local(keting_link::clock::now());
    let h = local.hour();
    (
        format!("{:02}:00", (h + 23) % 24),
        format!("{:02}:00", (h + 1) % 24),
    )
}

impl Door {
    async fn start() -> Self {
        Self::start_with("").await
    }

    /// A door whose `[door]` section also has `extra` (lines of TOML).
    async fn start_with(extra: &str) -> Self {
        let broker = Mosquitto::start().await;
        let board = SimRelayBoard::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let board_port = listener.local_addr().unwrap().port();
        tokio::spawn(serve_tcp(listener, board.clone(), std::future::pending()));
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[7; 32]);
        let site = SiteId::new("demo").unwrap();
        let public = keting_core::pass::encode_public_key(&key.verifying_key());
        let (night_starts, night_ends) = night_now();
        let toml = format!(
            "site = \"demo\"\ndevice = \"gym-door\"\nsite_public_key = \"{public}\"\nstate_dir = \"{}\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n\
             [door]\ngpio = \"sim\"\npulse_ms = 400\n\
             night_starts = \"{night_starts}\"\nnight_ends = \"{night_ends}\"\n\
             strike = {{ kind = \"relay\", bus = \"tcp:127.0.0.1:{board_port}\", channel = 1 }}\n\
             contact = {{ line = \"GPIO27\" }}\nscanner = {{ kind = \"sim\" }}\n{}",
            dir.path().join("agent").display(),
            broker.port,
            extra.replace("BOARD", &format!("tcp:127.0.0.1:{board_port}"))
        );
        let agent_config = AgentConfig::parse(&toml).unwrap();
        let sim = SimHardware::default();
        let (stop, stopped) = oneshot::channel();
        let agent = tokio::spawn({
            let sim = sim.clone();
            async move {
                run_agent(agent_config, None, sim, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            }
        });
        let (watcher, mut watch_events, _t) =
            link(dir.path(), config(broker.port, "watcher", &[DEVICE_TOPICS]));
        wait_for(&mut watch_events, |e| *e == LinkEvent::Connected).await;
        let issuer = PassIssuer::new(site, key.clone());
        let mut door = Self {
            _broker: broker,
            board,
            sim,
            issuer,
            key,
            watcher,
            watch_events,
            stop: Some(stop),
            agent,
            _dir: dir,
        };
        door.status(|s| s.state == keting_core::door::lock::LockState::Locked)
            .await;
        door
    }

    async fn publish_roster(
        &self,
        issued_ms: i64,
        members: &[(u32, Option<&str>)],
        key: &SigningKey,
    ) {
        let roster = Roster {
            site: SiteId::new("demo").unwrap(),
            issued_ms,
            members: members
                .iter()
                .map(|(m, paid)| RosterMember {
                    member: MemberId(*m),
                    epoch: Epoch(0),
                    paid_until: paid.map(str::to_owned),
                })
                .collect(),
        };
        self.watcher
            .publish(
                "keting/v1/demo/device/gym-door/roster",
                &sign(&roster, key),
                true,
            )
            .await
            .unwrap();
    }

    async fn scan(&self, code: &str) {
        self.watcher
            .publish("keting/v1/demo/sim/gym-door/scan", code.as_bytes(), false)
            .await
            .unwrap();
    }

    /// Waits (up to 10 s) until the siren (relay channel 2) is `on`.
    async fn siren(&self, on: bool) {
        let mut changes = self.board.changes();
        tokio::time::timeout(Duration::from_secs(10), changes.wait_for(|c| c[1] == on))
            .await
            .unwrap_or_else(|_| panic!("siren {} within 10 s", if on { "on" } else { "off" }))
            .unwrap();
    }

    /// The next message on the door's `channel` topic that `want` takes,
    /// read inside its signature (the door's key; the centre checks it).
    async fn signed<T: serde::de::DeserializeOwned>(
        &mut self,
        channel: &str,
        want: impl Fn(&T) -> bool,
    ) -> T {
        let suffix = format!("/{channel}");
        loop {
            let e = wait_for(
                &mut self.watch_events,
                |e| matches!(e, LinkEvent::Message { topic, .. } if topic.ends_with(&suffix)),
            )
            .await;
            let LinkEvent::Message { payload, .. } = e else {
                unreachable!()
            };
            let message: T = decode(&keting_core::signed_answer::unchecked(&payload)).unwrap();
            if want(&message) {
                return message;
            }
        }
    }

    async fn event(&mut self, want: impl Fn(&EventKind) -> bool) -> Event {
        self.signed("event", |e: &Event| want(&e.kind)).await
    }

    async fn status(&mut self, want: impl Fn(&DoorStatus) -> bool) -> DoorStatus {
        self.signed("status", want).await
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.agent.await.unwrap();
    }
}

async fn coil(board: &SimRelayBoard, on: bool) {
    let mut changes = board.changes();
    tokio::time::timeout(Duration::from_secs(10), changes.wait_for(|c| c[0] == on))
        .await
        .unwrap_or_else(|_| panic!("coil 1 {} within 10 s", if on { "on" } else { "off" }))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_member_at_night_gets_a_pulse_that_ends_by_itself() {
    let mut door = Door::start().await;
    let key = door.key.clone();
    door.publish_roster(1, &[(1, Some("2099-12-31"))], &key)
        .await;
    // The roster is in force once the agent says so in its log; a scan
    // before it would be refused, so retry until the grant comes.
    let pass = door.issuer.issue(MemberId(1), Epoch(0));
    let mut granted = false;
    for _ in 0..50 {
        door.scan(&pass).await;
        let e = door
            .event(|k| {
                matches!(
                    k,
                    EventKind::AccessGranted { .. } | EventKind::AccessRefused { .. }
                )
            })
            .await;
        if matches!(
            e.kind,
            EventKind::AccessGranted {
                member: MemberId(1)
            }
        ) {
            granted = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(granted, "the paid member was never let in");
    coil(&door.board, true).await;
    // The agent's own timer relocks: no message needed.
    coil(&door.board, false).await;
    assert!(!door.board.relays()[0]);
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_member_stays_out_with_the_reason_on_the_panel() {
    let mut door = Door::start().await;
    let key = door.key.clone();
    door.publish_roster(1, &[(1, Some("2099-12-31")), (2, Some("2020-01-31"))], &key)
        .await;
    // Wait for the roster through a paid member's grant.
    let paid = door.issuer.issue(MemberId(1), Epoch(0));
    loop {
        door.scan(&paid).await;
        let e = door.event(|_| true).await;
        if matches!(e.kind, EventKind::AccessGranted { .. }) {
            break;
        }
    }
    coil(&door.board, false).await;
    let writes = door.board.writes();
    door.scan(&door.issuer.issue(MemberId(2), Epoch(0))).await;
    let e = door
        .event(|k| matches!(k, EventKind::AccessRefused { .. }))
        .await;
    assert_eq!(
        e.kind,
        EventKind::AccessRefused {
            member: Some(MemberId(2)),
            reason: DoorRefusal::NightNotPaid
        }
    );
    let font = PanelFont::new(PANEL_FONT).unwrap();
    let expected = render(&panel_words::refused(DoorRefusal::NightNotPaid), &font);
    assert_eq!(
        door.sim.panel.frame().unwrap(),
        expected,
        "the panel shows the reason"
    );
    assert_eq!(door.board.writes(), writes, "the strike was not touched");
    // Garbage at the scanner: refused as not a pass, door shut.
    door.scan("hello\u{1b}[31m").await;
    let e = door
        .event(|k| matches!(k, EventKind::AccessRefused { .. }))
        .await;
    assert!(matches!(
        e.kind,
        EventKind::AccessRefused {
            member: None,
            reason: DoorRefusal::NotAPass
        }
    ));
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_roster_is_refused_and_the_one_in_force_stays() {
    let mut door = Door::start().await;
    let key = door.key.clone();
    door.publish_roster(1, &[(1, Some("2099-12-31"))], &key)
        .await;
    let paid = door.issuer.issue(MemberId(1), Epoch(0));
    loop {
        door.scan(&paid).await;
        if matches!(
            door.event(|_| true).await.kind,
            EventKind::AccessGranted { .. }
        ) {
            break;
        }
    }
    // Someone on the LAN publishes a roster naming member 9, signed with their own key.
    let forger = SigningKey::from_bytes(&[9; 32]);
    door.publish_roster(2, &[(9, Some("2099-12-31"))], &forger)
        .await;
    let e = door
        .event(|k| matches!(k, EventKind::RosterRejected { .. }))
        .await;
    let EventKind::RosterRejected { reason } = e.kind else {
        unreachable!()
    };
    assert!(reason.contains("signature"), "{reason}");
    // Garbage bytes on the roster topic: refused too.
    door.watcher
        .publish(
            "keting/v1/demo/device/gym-door/roster",
            b"\x00\xffnot json",
            true,
        )
        .await
        .unwrap();
    door.event(|k| matches!(k, EventKind::RosterRejected { .. }))
        .await;
    // The forged roster never took force: member 9 is still unknown.
    door.scan(&door.issuer.issue(MemberId(9), Epoch(0))).await;
    let e = door
        .event(|k| {
            matches!(
                k,
                EventKind::AccessRefused { .. } | EventKind::AccessGranted { .. }
            )
        })
        .await;
    assert!(
        matches!(
            e.kind,
            EventKind::AccessRefused {
                reason: DoorRefusal::NotOnRoster,
                ..
            }
        ),
        "{e:?}"
    );
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_board_that_does_not_answer_keeps_the_door_shut_and_says_so() {
    let mut door = Door::start().await;
    let key = door.key.clone();
    door.publish_roster(1, &[(1, Some("2099-12-31"))], &key)
        .await;
    door.board.set_fault(Some(RelayFault::NoReply));
    let paid = door.issuer.issue(MemberId(1), Epoch(0));
    door.scan(&paid).await;
    let e = door.event(|k| matches!(k, EventKind::Fault { .. })).await;
    let EventKind::Fault { message } = e.kind else {
        unreachable!()
    };
    assert!(message.contains("relay board"), "{message}");
    let status = door.status(|s| s.fault.is_some()).await;
    assert_eq!(
        status.state,
        LockState::Unknown,
        "a strike not driven is never reported locked"
    );
    assert!(status.fault.clone().unwrap().contains("channel 1"));
    assert!(!door.board.relays()[0], "the door stayed locked");
    // Staff ask to open it from the centre: refused, saying why, never
    // "done" (the staff member would be told it opened).
    {
        use keting_core::messages::{Ack, Action, Command, MessageId, Outcome, PROTOCOL_VERSION};
        let now_ms = keting_link::clock::now().as_unix_millis();
        let open = keting_core::signed_command::seal(
            &door.key,
            &Command {
                v: PROTOCOL_VERSION,
                to: keting_core::ids::DeviceId::new("gym-door").unwrap(),
                seq: u64::try_from(now_ms).unwrap(),
                id: MessageId::new("c-open").unwrap(),
                deadline_ms: now_ms + 60_000,
                action: Action::Unlock { member: None },
            },
        );
        door.watcher
            .publish("keting/v1/demo/device/gym-door/cmd", &open, false)
            .await
            .unwrap();
        let ack = wait_for(&mut door.watch_events, |e| {
            matches!(e, LinkEvent::Message { topic, payload, .. } if topic.ends_with("/ack")
                && decode::<Ack>(&keting_core::signed_answer::unchecked(payload)).is_ok_and(|a| a.id.as_str() == "c-open"))
        })
        .await;
        let LinkEvent::Message { payload, .. } = ack else {
            unreachable!()
        };
        let outcome = decode::<Ack>(&keting_core::signed_answer::unchecked(&payload))
            .unwrap()
            .outcome;
        assert!(
            matches!(&outcome, Outcome::Refused { reason } if reason.contains("relay board")),
            "{outcome:?}"
        );
        assert!(!door.board.relays()[0], "still locked");
    }
    let font = PanelFont::new(PANEL_FONT).unwrap();
    let fault_view = render(&panel_words::for_state(status.state, true, false), &font);
    assert_eq!(door.sim.panel.frame().unwrap(), fault_view);
    // The board answers again: the agent drives the strike back to locked and clears the fault.
    door.board.set_fault(None);
    let status = door.status(|s| s.fault.is_none()).await;
    assert_eq!(status.state, LockState::Locked);
    assert!(!door.board.relays()[0]);
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlocks_not_signed_for_this_door_leave_the_strike_shut_and_are_reported() {
    use keting_core::messages::{Ack, Action, Command, MessageId, Outcome, PROTOCOL_VERSION};
    use keting_core::signed_command::seal;
    let mut door = Door::start().await;
    let cmd_topic = "keting/v1/demo/device/gym-door/cmd";
    let now_ms = keting_link::clock::now().as_unix_millis();
    let unlock = |to: &str, seq: i64, id: &str, deadline_ms: i64| Command {
        v: PROTOCOL_VERSION,
        to: keting_core::ids::DeviceId::new(to).unwrap(),
        seq: u64::try_from(seq).unwrap(),
        id: MessageId::new(id).unwrap(),
        deadline_ms,
        action: Action::Unlock { member: None },
    };
    let later = now_ms + 60_000;
    let writes = door.board.writes();
    let forger = SigningKey::from_bytes(&[9; 32]);
    let bad: [(Vec<u8>, &str); 4] = [
        (
            keting_core::messages::encode(&unlock("gym-door", now_ms, "c-bare", later)),
            "unsigned",
        ),
        (
            seal(&forger, &unlock("gym-door", now_ms + 1, "c-forged", later)),
            "forged",
        ),
        (
            seal(&door.key, &unlock("pianos", now_ms + 2, "c-other", later)),
            "misaddressed",
        ),
        (
            seal(
                &door.key,
                &unlock("gym-door", now_ms + 3 * 86_400_000, "c-future", later),
            ),
            "sequence_from_the_future",
        ),
    ];
    for (payload, reason) in &bad {
        door.watcher
            .publish(cmd_topic, payload, false)
            .await
            .unwrap();
        let e = door
            .event(|k| matches!(k, EventKind::CommandRefused { .. }))
            .await;
        let EventKind::CommandRefused { reason: got, .. } = e.kind else {
            unreachable!()
        };
        assert_eq!(got, *reason);
    }
    assert_eq!(
        door.board.writes(),
        writes,
        "no untrusted unlock touched the strike"
    );
    // The centre's unlock opens the door for one pulse.
    let genuine = seal(&door.key, &unlock("gym-door", now_ms + 10, "c-real", later));
    door.watcher
        .publish(cmd_topic, &genuine, false)
        .await
        .unwrap();
    coil(&door.board, true).await;
    coil(&door.board, false).await;
    let writes = door.board.writes();
    // Recorded on the LAN and played again: refused.
    door.watcher
        .publish(cmd_topic, &genuine, false)
        .await
        .unwrap();
    let e = door
        .event(|k| matches!(k, EventKind::CommandRefused { .. }))
        .await;
    assert_eq!(
        e.kind,
        EventKind::CommandRefused {
            reason: "replayed".into(),
            command: Some(MessageId::new("c-real").unwrap())
        }
    );
    // Signed, new, but too late: acked expired and reported.
    let late = seal(
        &door.key,
        &unlock("gym-door", now_ms + 11, "c-late", now_ms - 1),
    );
    door.watcher.publish(cmd_topic, &late, false).await.unwrap();
    let e = door
        .event(|k| matches!(k, EventKind::CommandRefused { .. }))
        .await;
    assert_eq!(
        e.kind,
        EventKind::CommandRefused {
            reason: "expired".into(),
            command: Some(MessageId::new("c-late").unwrap())
        }
    );
    let ack = wait_for(&mut door.watch_events, |e| {
        matches!(e, LinkEvent::Message { topic, payload, .. } if topic.ends_with("/ack")
            && decode::<Ack>(&keting_core::signed_answer::unchecked(payload)).is_ok_and(|a| a.id.as_str() == "c-late"))
    })
    .await;
    let LinkEvent::Message { payload, .. } = ack else {
        unreachable!()
    };
    assert_eq!(
        decode::<Ack>(&keting_core::signed_answer::unchecked(&payload))
            .unwrap()
            .outcome,
        Outcome::Expired
    );
    assert_eq!(door.board.writes(), writes, "neither moved the strike");
    assert!(!door.board.relays()[0]);
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_siren_sounds_while_the_door_is_forced_and_stops_when_it_closes() {
    let door =
        Door::start_with("alarm_output = { bus = \"BOARD\", channel = 2 }\nheld_open_s = 1\n")
            .await;
    assert!(!door.board.relays()[1], "off at rest");
    // Opened with the strike locked: forced.
    door.sim.gpio.drive("GPIO27", true);
    door.siren(true).await;
    assert!(!door.board.relays()[0], "the strike stays locked");
    door.sim.gpio.drive("GPIO27", false);
    door.siren(false).await;
    door.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_help_button_raises_one_urgent_alarm_and_sounds_the_siren_for_a_while() {
    let mut door = Door::start_with(
        "alarm_output = { bus = \"BOARD\", channel = 2 }\nhelp_button = { line = \"GPIO23\" }\nhelp_siren_s = 2\n",
    )
    .await;
    assert!(!door.board.relays()[1], "off at rest");
    // A member alone at night presses it: the alarm goes up, signed like
    // every event, and the siren sounds.
    door.sim.gpio.drive("GPIO23", true);
    let e = door
        .event(|k| {
            matches!(
                k,
                EventKind::Alarm {
                    alarm: keting_core::door::lock::Alarm::Help,
                    ..
                }
            )
        })
        .await;
    assert_eq!(
        e.kind,
        EventKind::Alarm {
            alarm: keting_core::door::lock::Alarm::Help,
            raised: true
        }
    );
    door.siren(true).await;
    assert!(!door.board.relays()[0], "the door stays locked");
    // Pressed again at once: the siren goes on, no second alarm.
    door.sim.gpio.drive("GPIO23", false);
    door.sim.gpio.drive("GPIO23", true);
    door.sim.gpio.drive("GPIO23", false);
    // The siren stops by itself after its time (2 s here).
    door.siren(false).await;
    let mut again = 0;
    while let Ok(e) = door.watch_events.try_recv() {
        if let LinkEvent::Message { topic, payload, .. } = e
            && topic.ends_with("/event")
            && let Ok(event) = decode::<Event>(&keting_core::signed_answer::unchecked(&payload))
            && matches!(
                event.kind,
                EventKind::Alarm {
                    alarm: keting_core::door::lock::Alarm::Help,
                    ..
                }
            )
        {
            again += 1;
        }
    }
    assert_eq!(again, 0, "one alarm for a button pressed twice");
    door.stop().await;
}

impl Door {
    /// Sends a command sealed with the site's key; returns the door's ack.
    async fn command(
        &mut self,
        id: &str,
        action: keting_core::messages::Action,
    ) -> keting_core::messages::Outcome {
        self.send_command(id, action).await;
        self.ack(id).await
    }

    /// Sends a command sealed with the site's key.
    async fn send_command(&mut self, id: &str, action: keting_core::messages::Action) {
        use keting_core::messages::{Command, MessageId, PROTOCOL_VERSION};
        let now_ms = keting_link::clock::now().as_unix_millis();
        let cmd = Command {
            v: PROTOCOL_VERSION,
            to: keting_core::ids::DeviceId::new("gym-door").unwrap(),
            seq: u64::try_from(now_ms).unwrap(),
            id: MessageId::new(id).unwrap(),
            deadline_ms: now_ms + 10_000,
            action,
        };
        self.watcher
            .publish(
                "keting/v1/demo/device/gym-door/cmd",
                &keting_core::signed_command::seal(&self.key, &cmd),
                false,
            )
            .await
            .unwrap();
    }

    /// The door's answer to command `id`.
    async fn ack(&mut self, id: &str) -> keting_core::messages::Outcome {
        use keting_core::messages::Ack;
        self.signed("ack", |a: &Ack| a.id.as_str() == id)
            .await
            .outcome
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fail_safe_door_is_released_by_the_fire_input_until_reset_and_when_its_agent_dies() {
    use keting_core::door::lock::Alarm;
    use keting_core::messages::{Action, Outcome};
    use keting_device_agents::door::strike::FAIL_SAFE_HOLD;
    let mut door = Door::start_with("fail = \"safe\"\nfire_input = { line = \"GPIO24\" }\n").await;
    // Powered at rest: the magnet holds the door.
    coil(&door.board, true).await;

    // The fire panel's contact closes: released at once, the alarm up.
    door.sim.gpio.drive("GPIO24", true);
    coil(&door.board, false).await;
    let e = door
        .event(|k| {
            matches!(
                k,
                EventKind::Alarm {
                    alarm: Alarm::Fire,
                    ..
                }
            )
        })
        .await;
    assert_eq!(
        e.kind,
        EventKind::Alarm {
            alarm: Alarm::Fire,
            raised: true
        }
    );
    door.status(|s| s.state == LockState::Released).await;
    // People leave through it: no forced alarm.
    door.sim.gpio.drive("GPIO27", true);
    door.sim.gpio.drive("GPIO27", false);
    // Staff cannot lock it while the fire input is active.
    match door.command("reset-early", Action::ResetRelease).await {
        Outcome::Refused { reason } => assert!(reason.contains("still active"), "{reason}"),
        other => panic!("a reset during the fire: {other:?}"),
    }
    assert!(!door.board.relays()[0], "still released");
    // The fire input clears: the door stays released (the alarm too)
    // until staff reset it, which the door now takes.
    door.sim.gpio.drive("GPIO24", false);
    // The board's hold would have run out by now had it been renewed.
    assert!(!door.board.relays()[0], "released until reset");
    door.send_command("reset", Action::ResetRelease).await;
    coil(&door.board, true).await;
    let e = door
        .event(|k| {
            matches!(
                k,
                EventKind::Alarm {
                    alarm: Alarm::Fire,
                    ..
                } | EventKind::Alarm {
                    alarm: Alarm::Forced,
                    ..
                }
            )
        })
        .await;
    assert_eq!(
        e.kind,
        EventKind::Alarm {
            alarm: Alarm::Fire,
            raised: false
        },
        "cleared by the reset, and nothing was forced while released"
    );
    door.status(|s| s.state == LockState::Locked).await;
    assert_eq!(door.ack("reset").await, Outcome::Done);

    // Locked, the agent renews the board's hold: the door stays locked
    // longer than one hold.
    let writes = door.board.writes();
    let mut changes = door.board.changes();
    let held = tokio::time::timeout(FAIL_SAFE_HOLD * 2, changes.wait_for(|c| !c[0])).await;
    assert!(held.is_err(), "the magnet let go with its agent alive");
    assert!(door.board.writes() >= writes + 4, "the hold was renewed");

    // The agent dies (no way out, no last write): the board lets go by
    // itself within one hold, as a power cut would.
    door.agent.abort();
    let died = std::time::Instant::now();
    coil(&door.board, false).await;
    let after = died.elapsed();
    println!(
        "fail-safe door released {} ms after its agent died",
        after.as_millis()
    );
    assert!(
        after <= FAIL_SAFE_HOLD + Duration::from_millis(500),
        "released {after:?} after the agent died"
    );
}

impl Door {
    /// Opens the door (the contact) as soon as the strike is released, as a
    /// person waiting at it does, then closes it behind them.
    async fn walk_through_when_released(&self) {
        coil(&self.board, true).await;
        self.sim.gpio.drive("GPIO27", true);
        self.sim.gpio.drive("GPIO27", false);
    }

    async fn passage(&mut self) -> EventKind {
        self.event(|k| matches!(k, EventKind::Passed { .. }))
            .await
            .kind
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passages_in_and_out_are_reported_and_a_forced_opening_is_nobodys() {
    use keting_core::door::lock::Alarm;
    use keting_core::door::occupancy::Way;
    let mut door = Door::start_with(
        "exit_button = { line = \"GPIO22\" }\nexit_scanner = { kind = \"sim\" }\n",
    )
    .await;
    let key = door.key.clone();
    door.publish_roster(1, &[(1, Some("2099-12-31"))], &key)
        .await;
    let pass = door.issuer.issue(MemberId(1), Epoch(0));
    // In on a scan (retried until the roster is in force).
    loop {
        door.scan(&pass).await;
        let e = door
            .event(|k| {
                matches!(
                    k,
                    EventKind::AccessGranted { .. } | EventKind::AccessRefused { .. }
                )
            })
            .await;
        if matches!(e.kind, EventKind::AccessGranted { .. }) {
            break;
        }
    }
    door.walk_through_when_released().await;
    assert_eq!(
        door.passage().await,
        EventKind::Passed {
            way: Way::In,
            member: Some(MemberId(1))
        }
    );
    coil(&door.board, false).await;
    // Out by the exit reader: named.
    door.watcher
        .publish(
            "keting/v1/demo/sim/gym-door/exit_scan",
            pass.as_bytes(),
            false,
        )
        .await
        .unwrap();
    door.walk_through_when_released().await;
    assert_eq!(
        door.passage().await,
        EventKind::Passed {
            way: Way::Out,
            member: Some(MemberId(1))
        }
    );
    coil(&door.board, false).await;
    // Out by the exit button: nobody named.
    door.sim.gpio.drive("GPIO22", true);
    door.sim.gpio.drive("GPIO22", false);
    door.walk_through_when_released().await;
    assert_eq!(
        door.passage().await,
        EventKind::Passed {
            way: Way::Out,
            member: None
        }
    );
    coil(&door.board, false).await;
    // The exit button pressed, nobody goes: no passage; then the door is
    // forced: an alarm, and no passage either.
    door.sim.gpio.drive("GPIO22", true);
    door.sim.gpio.drive("GPIO22", false);
    coil(&door.board, true).await;
    coil(&door.board, false).await;
    door.sim.gpio.drive("GPIO27", true);
    let e = door
        .event(|k| {
            matches!(
                k,
                EventKind::Passed { .. }
                    | EventKind::Alarm {
                        alarm: Alarm::Forced,
                        ..
                    }
            )
        })
        .await;
    assert_eq!(
        e.kind,
        EventKind::Alarm {
            alarm: Alarm::Forced,
            raised: true
        }
    );
    door.sim.gpio.drive("GPIO27", false);
    door.stop().await;
}
