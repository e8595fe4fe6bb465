//! Attendance at a room reader over MQTT: the `reader` device agent on a
//! real Mosquitto with a serial scanner (a pseudo-terminal), the centre
//! headless. A scan is verified at the reader, counted at what is on in
//! its room, and greeted by name on its panel; a forged pass is refused at
//! the reader with nothing sent; with the centre killed the reader keeps
//! the scan and says so, and the centre, back, counts it at the time it
//! was scanned.

use std::io::Write;
use std::time::Duration;

use keting_system_tests::binaries::Process;
use keting_system_tests::mosquitto::Mosquitto;

use crate::site_bed::{SiteBed, kiosk_cli};

const WAIT: Duration = Duration::from_secs(30);
const ROOM: &str = "活动室二";

/// The site's local time (UTC+8) `minutes` from now, as the command line
/// takes it.
fn local_in(minutes: i64) -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8))
        + time::Duration::minutes(minutes);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_reader_counts_attendance_over_mqtt_and_keeps_scans_while_the_centre_is_away() {
    let broker = Mosquitto::start().await;
    let bed = SiteBed::new().await;
    let (_, wang_pass) = bed.member("王秀英");
    let (_, li_pass) = bed.member("李建国");
    let pty = nix::pty::openpty(None, None).unwrap();
    let scanner_path = nix::unistd::ttyname(&pty.slave).unwrap();
    let mut scanner = std::fs::File::from(pty.master);
    let mut scan = |pass: &str| {
        scanner.write_all(format!("{pass}\r\n").as_bytes()).unwrap();
    };
    let config = bed.session_agent_config(
        "reader-2",
        broker.port,
        &format!(
            "[reader]\nscanner = {{ kind = \"serial\", path = \"{}\" }}\npanel = {{ kind = \"sim\" }}\n",
            scanner_path.display()
        ),
    );
    let data = bed.data();
    kiosk_cli(&data, &["activity", "reader", "reader-2", "--room", ROOM]);
    let id = kiosk_cli(
        &data,
        &[
            "activity",
            "add",
            "--zh",
            "剪纸班",
            "--en",
            "Paper cutting",
            "--room",
            ROOM,
            "--start",
            &local_in(-30),
            "--end",
            &local_in(60),
            "--capacity",
            "12",
        ],
    )
    .trim()
    .to_owned();
    let kiosk = bed.kiosk(&broker).await;
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "reader agent running",
    )
    .await;
    kiosk.wait_for_line("device online", WAIT).await;

    // A resident scans: counted, and greeted by name on the reader's panel.
    scan(&wang_pass);
    kiosk.wait_for_line("reader scan counted", WAIT).await;
    agent.wait_for_line("王秀英，欢迎", WAIT).await;
    let sheet = kiosk_cli(&data, &["activity", "hours", &id]);
    assert!(
        sheet.contains("attended: 1") && sheet.contains("王秀英"),
        "{sheet}"
    );
    // Again: welcomed, not counted twice.
    scan(&wang_pass);
    agent.wait_for_line("王秀英，已签到", WAIT).await;
    assert!(kiosk_cli(&data, &["activity", "hours", &id]).contains("attended: 1"));

    // A forged pass is refused at the reader; nothing reaches the centre.
    let forged = format!("{}x", &wang_pass[..wang_pass.len() - 1]);
    scan(&forged);
    agent.wait_for_line("scan refused here", WAIT).await;

    // The centre dies. The reader keeps the scan and says so; the centre,
    // back, counts it at the time it was scanned.
    kiosk.kill9().await;
    let scanned_at = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    scan(&li_pass);
    agent.wait_for_line("稍后计入", WAIT).await;
    let kiosk = bed.kiosk(&broker).await;
    kiosk.wait_for_line("reader scan counted", WAIT).await;
    let sheet = kiosk_cli(&data, &["activity", "hours", &id]);
    assert!(sheet.contains("attended: 2"), "{sheet}");
    let li_line = sheet
        .lines()
        .find(|l| l.contains("李建国"))
        .unwrap_or_else(|| panic!("{sheet}"));
    let when = format!("{:02}:{:02}", scanned_at.hour(), scanned_at.minute());
    let next = scanned_at + time::Duration::minutes(1);
    let when_next = format!("{:02}:{:02}", next.hour(), next.minute());
    assert!(
        li_line.contains(&when) || li_line.contains(&when_next),
        "counted at its scan's time {when}: {li_line}"
    );
    kiosk.stop().await;
    agent.stop().await;
}
