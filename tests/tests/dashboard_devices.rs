//! The dashboard's devices page against a real door: the centre
//! (`keting-centre --http`, its embedded broker on a free port), the door
//! agent as a process, its relay board simulated on Modbus TCP. A
//! technician runs the door's self-test from the browser and reads its
//! checks; the audit names her; an observer sees the door but no button,
//! and a self-test posted anyway is refused with nothing written; a claim
//! confirmed with a PIN that is not the device's confirms nothing.

use std::time::Duration;

use keting_system_tests::http::{hidden, request};

use crate::site_bed::{DOOR, SiteBed};

const WAIT: Duration = Duration::from_secs(30);

async fn signed_in(addr: std::net::SocketAddr, member: u32, pin: &str) -> (String, String) {
    let r = request(
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={member}&pin={pin}"),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    let cookie = r.cookie("keting_session").expect("a session cookie");
    let page = request(addr, "GET", "/devices", &[("Cookie", &cookie)], "").await;
    assert_eq!(page.status, 200);
    (cookie, hidden(&page.body, "csrf").unwrap())
}

fn staff(data: &std::path::Path, name: &str, role: &str, pin: &str) -> u32 {
    let (id, _) = crate::site_bed::add_member(data, name);
    keting_system_tests::binaries::staff_with_pin(data, id, role, pin);
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_runs_a_doors_self_test_from_the_devices_page() {
    let bed = SiteBed::new().await;
    let data = bed.data();
    let tech = staff(&data, "王师傅", "technician", "975310");
    let watcher = staff(&data, "来访者", "observer", "135790");
    let (centre, addr) = keting_system_tests::binaries::centre_with_dashboard(&data).await;
    let ready = centre.wait_for_line("MQTT broker at", WAIT).await;
    let port: u16 = ready.rsplit(':').next().unwrap().trim().parse().unwrap();
    let agent = bed.agent(&bed.agent_config(port, 300)).await;
    agent.wait_for_line("new roster in force", WAIT).await;

    // The observer sees the door online, and no button.
    let (cookie, csrf) = signed_in(addr, watcher, "135790").await;
    let online = tokio::time::timeout(WAIT, async {
        loop {
            let p = request(addr, "GET", "/devices", &[("Cookie", &cookie)], "").await;
            if p.body.contains("在线") {
                return p.body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the door online on the devices page");
    assert!(
        online.contains(DOOR) && online.contains("健身房"),
        "{online}"
    );
    assert!(
        !online.contains("/devices/self-test"),
        "no button for an observer"
    );
    let r = request(
        addr,
        "POST",
        "/devices/self-test",
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&id={DOOR}"),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("您的角色不能管理设备"));

    // The technician runs it.
    let (cookie, csrf) = signed_in(addr, tech, "975310").await;
    let page = request(addr, "GET", "/devices", &[("Cookie", &cookie)], "").await;
    assert!(
        page.body.contains("/devices/self-test"),
        "a self-test button"
    );
    let r = request(
        addr,
        "POST",
        "/devices/self-test",
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&id={DOOR}"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let at = r.header("location").unwrap().to_owned();
    assert!(at.starts_with("/devices/command/"), "{at}");
    let report = tokio::time::timeout(WAIT, async {
        loop {
            let p = request(addr, "GET", &at, &[("Cookie", &cookie)], "").await;
            assert_eq!(p.status, 200);
            if !p.body.contains("http-equiv=\"refresh\"") {
                return p.body;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("the door's report within 30 s");
    println!("{report}");
    assert!(
        report.contains("class=\"checks\""),
        "the checks table: {report}"
    );
    assert!(report.contains("项检查"), "{report}");
    assert!(report.contains("staff:"), "who asked");
    let db = rusqlite::Connection::open(data.join("keting.db")).unwrap();
    let (actor, detail): (String, String) = db
        .query_row(
            "SELECT actor, detail FROM audit WHERE action = 'device.self_test'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, format!("staff:{tech}"));
    assert!(detail.starts_with(DOOR), "{detail}");
    let commands: i64 = db
        .query_row(
            "SELECT count(*) FROM device_commands WHERE action = 'self_test'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(commands, 1, "the observer's request wrote nothing");

    // A claim confirmed with a PIN when no claim waits: nothing confirmed.
    let r = request(
        addr,
        "POST",
        "/devices/claim",
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&id={DOOR}&pin=123456"),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = request(
        addr,
        "POST",
        "/devices/claim",
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&id={DOOR}&pin=12ab"),
    )
    .await;
    assert!(
        r.status == 400 && r.body.contains("PIN 是 6 位数字"),
        "{}",
        r.body
    );
    // This centre imported no site: a retire says what it needs.
    let r = request(
        addr,
        "POST",
        "/devices/retire",
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&id={DOOR}"),
    )
    .await;
    assert!(
        r.status == 400 && r.body.contains("kiosk site import"),
        "{}",
        r.body
    );
    agent.stop().await;
    centre.stop().await;
}
