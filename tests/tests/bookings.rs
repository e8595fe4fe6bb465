//! Bookings and sessions across real processes: kiosk command-line
//! processes racing for the last places, and a piano powered off at the
//! end of its session by the piano-bank agent with the kiosk killed.

use std::process::Stdio;
use std::time::{Duration, Instant};

use keting_hardware::relay_board::sim::SimRelayBoard;
use keting_system_tests::binaries::{self, Process};
use keting_system_tests::mosquitto::Mosquitto;

use crate::site_bed::{SiteBed, kiosk_cli};

const WAIT: Duration = Duration::from_secs(30);

/// Tomorrow in the site's time (UTC+8), as YYYY-MM-DD.
fn tomorrow() -> String {
    let now =
        time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    (now.date() + time::Duration::days(1)).to_string()
}

/// Runs `kiosk` with `args` in `n` processes at once; their outputs.
fn race(data: &std::path::Path, n: u32, args: impl Fn(u32) -> Vec<String>) -> Vec<(bool, String)> {
    let children: Vec<_> = (1..=n)
        .map(|i| {
            let mut cmd = std::process::Command::new(binaries::path("kiosk"));
            cmd.arg("--data").arg(data).args(args(i));
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        })
        .collect()
}

#[test]
fn concurrent_booking_requests_never_double_book_a_slot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    for i in 1..=8 {
        kiosk_cli(&data, &["member", "add", "--name", &format!("居民{i}")]);
    }
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "robot",
            "--kind",
            "robot",
            "--zh",
            "艾灸机器人",
            "--en",
            "Moxibustion robot",
            "--hours",
            "09:00-12:00",
            "--slot",
            "60",
            "--price",
            "88 yuan",
            "--trial",
            "29.9 yuan",
        ],
    );
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "childcare",
            "--kind",
            "childcare",
            "--zh",
            "临时托管",
            "--en",
            "Childcare",
            "--hours",
            "08:30-11:30,14:00-17:30",
            "--capacity",
            "3",
            "--price",
            "90 yuan",
        ],
    );
    let day = tomorrow();
    let at = format!("{day} 09:00");
    let robot = race(&data, 8, |i| {
        vec![
            "booking".into(),
            "book".into(),
            i.to_string(),
            "robot".into(),
            "--at".into(),
            at.clone(),
        ]
    });
    let won: Vec<_> = robot.iter().filter(|(ok, _)| *ok).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one of eight gets the robot's slot: {robot:#?}"
    );
    for (ok, text) in &robot {
        if !ok {
            assert!(text.contains("that slot is full"), "{text}");
        }
    }
    let morning = format!("{day} 08:30");
    let care = race(&data, 8, |i| {
        vec![
            "booking".into(),
            "book".into(),
            i.to_string(),
            "childcare".into(),
            "--at".into(),
            morning.clone(),
            "--wait".into(),
        ]
    });
    let booked = care.iter().filter(|(_, t)| t.contains(" booked (")).count();
    let waiting = care
        .iter()
        .filter(|(_, t)| t.contains("waiting list, place"))
        .count();
    assert_eq!(
        (booked, waiting),
        (3, 5),
        "three places, five on the waiting list: {care:#?}"
    );
    // The database agrees with what the processes printed.
    let list = kiosk_cli(
        &data,
        &["booking", "list", "--resource", "childcare", "--day", &day],
    );
    assert_eq!(list.matches(" booked (").count(), 3, "{list}");
    assert_eq!(list.matches(" waiting (").count(), 5, "{list}");
    let week = kiosk_cli(&data, &["booking", "week", "robot", "--from", &day]);
    assert!(
        week.lines().next().unwrap().contains("09:00 full"),
        "{week}"
    );
}

async fn relay(board: &SimRelayBoard, channel: u8, on: bool, within: Duration) {
    let mut changes = board.changes();
    let i = usize::from(channel - 1);
    tokio::time::timeout(within, changes.wait_for(|c| c[i] == on))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "piano {channel} {} within {within:?}",
                if on { "on" } else { "off" }
            )
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piano_powers_off_at_the_end_of_its_session_with_the_kiosk_killed() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (member, _) = bed.member("王秀英");
    for c in 1..=2 {
        kiosk_cli(
            &bed.data(),
            &[
                "resource",
                "add",
                &format!("piano-{c}"),
                "--kind",
                "piano",
                "--zh",
                &format!("{c}号钢琴"),
                "--en",
                &format!("Piano {c}"),
                "--hours",
                "00:00-24:00",
                "--device",
                "pianos",
                "--channel",
                &c.to_string(),
                "--session",
                "6s",
            ],
        );
    }
    let config = bed.session_agent_config(
        "pianos",
        broker.port,
        &format!(
            "[piano_bank]\nbus = \"tcp:127.0.0.1:{}\"\ngpio = \"sim\"\n\
             pianos = [{{ channel = 1, name = \"1号钢琴\" }}, {{ channel = 2, name = \"2号钢琴\" }}]\n",
            bed.board_port
        ),
    );
    let kiosk = bed.kiosk(&broker).await;
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "piano bank agent running",
    )
    .await;
    // The kiosk hears the bank before a resident plays.
    kiosk.wait_for_line("device online", WAIT).await;
    let played = kiosk_cli(&bed.data(), &["piano", "play", &member.to_string()]);
    let started = Instant::now();
    assert!(
        played.contains("piano-1") && played.contains("play until"),
        "{played}"
    );
    // The running kiosk tells the bank; piano 1 powers on.
    relay(&bed.board, 1, true, WAIT).await;
    assert!(!bed.board.relays()[1], "only the resident's piano");
    kiosk.wait_for_line("session command sent", WAIT).await;
    kiosk.kill9().await;
    // Nobody is left to tell it: the agent powers the piano off at the end.
    relay(&bed.board, 1, false, WAIT).await;
    let lasted = started.elapsed();
    assert!(
        lasted >= Duration::from_secs(5),
        "not before the end: {lasted:?}"
    );
    // The kiosk, back, learns that the session ended at the piano.
    let kiosk = bed.kiosk(&broker).await;
    kiosk
        .wait_for_line("session ended at the device", WAIT)
        .await;
    let list = kiosk_cli(
        &bed.data(),
        &["booking", "list", "--member", &member.to_string()],
    );
    assert!(
        list.contains("piano-1") && list.contains(" done ") && list.contains("time_up"),
        "{list}"
    );
    // The piano is free again: the next scan gets it.
    let again = kiosk_cli(&bed.data(), &["piano", "play", &member.to_string()]);
    assert!(again.contains("piano-1"), "{again}");
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_fault_gives_the_package_session_back_and_a_silent_robot_charges_nothing() {
    use keting_hardware::robot::RobotFault;
    use keting_hardware::robot::sim::{RobotLinkFault, SimRobot};

    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (member, _) = bed.member("李建国");
    let m = member.to_string();
    // Five-minute slots all day, so the slot in progress can always be booked.
    kiosk_cli(
        &bed.data(),
        &[
            "resource",
            "add",
            "robot",
            "--kind",
            "robot",
            "--zh",
            "艾灸机器人",
            "--en",
            "Moxibustion robot",
            "--hours",
            "00:00-24:00",
            "--slot",
            "5",
            "--price",
            "88 yuan",
            "--per-day",
            "50",
            "--per-week",
            "100",
            "--checked-after-use",
            "--device",
            "robot",
            "--channel",
            "1",
        ],
    );
    kiosk_cli(
        &bed.data(),
        &[
            "package",
            "sell",
            &m,
            "--kind",
            "robot",
            "--sessions",
            "10",
            "--until",
            "2099-12-31",
        ],
    );
    let sim = SimRobot::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let robot_port = listener.local_addr().unwrap().port();
    tokio::spawn(keting_hardware::sim::modbus_tcp::serve(
        listener,
        sim.clone(),
        std::future::pending(),
    ));
    let config = bed.session_agent_config(
        "robot",
        broker.port,
        &format!("[robot]\nbus = \"tcp:127.0.0.1:{robot_port}\"\n"),
    );
    let kiosk = bed.kiosk(&broker).await;
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "robot agent running",
    )
    .await;
    let used = || kiosk_cli(&bed.data(), &["package", "list", &m]);
    let book_now = || {
        // The slot in progress: the start of the current five minutes.
        let now =
            time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
        let at = format!(
            "{} {:02}:{:02}",
            now.date(),
            now.hour(),
            now.minute() / 5 * 5
        );
        let out = kiosk_cli(&bed.data(), &["booking", "book", &m, "robot", "--at", &at]);
        assert!(out.contains("1 session of package"), "{out}");
        kiosk_cli(&bed.data(), &["booking", "start", &m])
    };

    // A fault during the program: the session fails, the package session comes back.
    sim.fail_after(Duration::from_millis(500), RobotFault::MoxaUsedUp);
    let started = book_now();
    assert!(started.contains(" started "), "{started}");
    assert!(used().contains("1/10 used"), "{}", used());
    kiosk
        .wait_for_line("session ended at the device", WAIT)
        .await;
    let list = kiosk_cli(&bed.data(), &["booking", "list", "--member", &m]);
    assert!(
        list.contains(" failed ") && list.contains("given back") && list.contains("moxa ran out"),
        "{list}"
    );
    assert!(used().contains("0/10 used"), "{}", used());

    // Staff clear the fault; now the robot stops answering: the session
    // never starts, nothing is charged.
    sim.set_link_fault(Some(RobotLinkFault::NoReply));
    book_now();
    kiosk
        .wait_for_line("the device did not start the session", WAIT)
        .await;
    let list = kiosk_cli(&bed.data(), &["booking", "list", "--member", &m]);
    assert!(list.contains("the robot does not answer"), "{list}");
    assert!(used().contains("0/10 used"), "{}", used());
    assert_eq!(sim.programs_run(), 1);
    kiosk.stop().await;
    agent.stop().await;
}

#[test]
fn the_cancellation_window_holds_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    kiosk_cli(&data, &["member", "add", "--name", "王秀英"]);
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "room",
            "--kind",
            "room",
            "--zh",
            "活动室",
            "--en",
            "Activity room",
            "--hours",
            "00:00-24:00",
            "--slot",
            "60",
            "--capacity",
            "2",
            "--price",
            "20 points",
        ],
    );
    kiosk_cli(
        &data,
        &[
            "points",
            "award",
            "1",
            "--activity",
            "敬老探访",
            "--points",
            "50",
        ],
    );
    // The next hour's slot starts within two hours: too late for her.
    let now =
        time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    let next = now + time::Duration::hours(1);
    let at = format!("{} {:02}:00", next.date(), next.hour());
    let booked = kiosk_cli(&data, &["booking", "book", "1", "room", "--at", &at]);
    assert!(
        booked.contains("booking 1:") && booked.contains("20 points"),
        "{booked}"
    );
    assert!(
        kiosk_cli(&data, &["points", "balance", "1"]).contains("30"),
        "20 held"
    );
    let (ok, _, stderr) = binaries::run_status(
        "kiosk",
        &["--data", data.to_str().unwrap(), "booking", "cancel", "1"],
    );
    assert!(!ok, "a member cannot cancel inside the window");
    assert!(
        stderr.contains("too late to cancel (until 2 h before the start): ask the staff"),
        "{stderr}"
    );
    assert!(kiosk_cli(&data, &["booking", "list", "--member", "1"]).contains(" booked "));
    // Staff can, and the points come back.
    let staff = kiosk_cli(&data, &["booking", "cancel", "1", "--staff"]);
    assert!(staff.contains("the charge was given back"), "{staff}");
    assert!(kiosk_cli(&data, &["points", "balance", "1"]).contains("50"));
}
