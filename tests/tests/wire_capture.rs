//! What crosses the wire, seen with tcpdump on loopback: a device enrolled
//! by QR and a day's traffic (its roster, a member let in, a staff open,
//! status and events) over TLS carry no password, device key, claim code,
//! pass or MQTT text in clear; the same traffic over plain TCP does, so the
//! capture sees what it should.

use std::time::Duration;

use keting_system_tests::binaries::{Process, start_kiosk};
use keting_system_tests::capture::{Capture, contains};
use keting_system_tests::free_port;

use crate::provisioned::{
    SIM_PANEL, installed_agent_config, mosquitto_for, provision_words, provisioned_site,
    serial_scanner, site_ports,
};
use crate::site_bed::{SiteBed, coil, door_agent, kiosk_cli, night_lines, paid_member};

/// The label's text from `device label`'s output.
pub(crate) fn label_text(printed: &str) -> String {
    printed
        .lines()
        .find_map(|l| {
            l.split('\'')
                .nth(1)
                .filter(|t| t.starts_with("KETING-CLAIM:"))
        })
        .unwrap()
        .to_owned()
}

/// The PIN from the claiming agent's line.
fn pin_of(line: &str) -> String {
    line.rsplit("PIN ")
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_enrolment_and_a_days_traffic_show_no_secret_and_plain_tcp_shows_them() {
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let port = free_port();
    let site = provisioned_site(
        &bed,
        port,
        &["--kind lock --name gym-door --bus tcp:127.0.0.1:{board} --channel 1"],
    );
    let (_, tls_port, claim_port) = site_ports(&site);
    let device = root.join("device-etc");
    let site_config = site.join("devices/gym-door/agent.toml");
    let handed_out = std::fs::read_to_string(&site_config).unwrap().replace(
        "/var/lib/keting-agent",
        root.join("state-device-etc").to_str().unwrap(),
    );
    std::fs::write(&site_config, handed_out).unwrap();
    let broker = mosquitto_for(&site, root, port).await;
    let data = root.join("kiosk-data");
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    kiosk_cli(&data, &["door", "add", "gym-door", "--name", "健身房"]);
    let (_, pass) = paid_member(&data, "陈晓梅");
    let night = night_lines();

    // Over TLS: the kiosk, the claim and the enrolled door.
    let tls_capture = Capture::start(&[tls_port, claim_port], &root.join("tls.pcap")).await;
    let kiosk = start_kiosk(
        &data,
        &["--mqtt-url", &format!("mqtts://127.0.0.1:{tls_port}")],
        "controller connected to the broker",
    )
    .await;
    let label = label_text(&provision_words(
        &site,
        &format!(
            "device label gym-door --out {}",
            root.join("l.png").display()
        ),
    ));
    broker.reload().await;
    let config = device.join("agent.toml");
    let claim = Process::start(
        "device-agent",
        &[
            "--claim",
            &label,
            "--config",
            config.to_str().unwrap(),
            "--wait",
            "60",
        ],
        &[],
        "claim request sent",
    )
    .await;
    let pin = pin_of(
        &claim
            .wait_for_line("the panel shows PIN", Duration::from_secs(5))
            .await,
    );
    kiosk
        .wait_for_line("claim waiting", Duration::from_secs(10))
        .await;
    kiosk_cli(&data, &["claim", "confirm", "gym-door", &pin]);
    let (status, log) = claim.exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{log}");
    let run_config = root.join("run-agent.toml");
    let tls_text = installed_agent_config(
        &device,
        root,
        &serial_scanner(bed.scanner_path()),
        SIM_PANEL,
        &night,
    );
    std::fs::write(&run_config, &tls_text).unwrap();
    let agent = door_agent(&run_config, "new roster in force").await;
    bed.scan_in(&pass, &kiosk, 1).await;
    // A staff open: a signed command to the door and its signed answer.
    kiosk_cli(&data, &["door", "open", "gym-door"]);
    coil(&bed.board, true).await;
    coil(&bed.board, false).await;
    agent.stop().await;
    kiosk.stop().await;
    let over_tls = tls_capture.stop().await;

    // The control: the same kiosk and door over plain TCP, with passwords.
    let plain_capture = Capture::start(&[port], &root.join("plain.pcap")).await;
    let kiosk = start_kiosk(
        &data,
        &["--mqtt-url", &format!("mqtt://127.0.0.1:{port}")],
        "controller connected to the broker",
    )
    .await;
    let door_secret = site.join("devices/gym-door/broker.secret");
    let tls_line = tls_text
        .lines()
        .find(|l| l.starts_with("tls = "))
        .unwrap()
        .to_owned();
    let plain_text = tls_text
        .replace(&format!("port = {tls_port}\n"), &format!("port = {port}\n"))
        .replace(
            &tls_line,
            &format!(
                "username = \"gym-door\"\npassword_file = {:?}",
                door_secret.to_str().unwrap()
            ),
        );
    std::fs::write(&run_config, &plain_text).unwrap();
    let agent = door_agent(&run_config, "connected to the broker").await;
    bed.scan_in(&pass, &kiosk, 1).await;
    agent.stop().await;
    kiosk.stop().await;
    let in_clear = plain_capture.stop().await;
    drop(broker);

    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap();
    let kiosk_password = read(&site.join("kiosk.secret")).trim().to_owned();
    let door_password = read(&door_secret).trim().to_owned();
    let code = keting_core::claim::ClaimLabel::parse(&label).unwrap().code;
    let device_key = read(&device.join("device.key"));
    let site_key = read(&site.join("site.key"));
    let secrets: [(&str, &str); 7] = [
        ("the kiosk's broker password", &kiosk_password),
        ("the door's broker password", &door_password),
        ("the claim code", &code),
        ("the label's text", &label),
        ("the device's TLS key", device_key.lines().nth(1).unwrap()),
        ("the site key", site_key.lines().nth(1).unwrap()),
        ("the member's pass", &pass),
    ];
    assert!(
        over_tls.len() > 20_000,
        "the TLS capture saw the traffic: {} bytes",
        over_tls.len()
    );
    for (what, secret) in secrets {
        assert!(
            !contains(&over_tls, secret.as_bytes()),
            "{what} crossed the wire over TLS"
        );
    }
    assert!(
        !contains(&over_tls, b"keting/v1/") && !contains(&over_tls, b"\"outcome\""),
        "MQTT in clear in the TLS capture"
    );
    // TLS 1.3: even the certificates (the device's name) are encrypted.
    assert!(
        !contains(&over_tls, b"gym-door"),
        "a name in clear over TLS"
    );
    // Plain TCP shows the logins and the messages: the capture works.
    assert!(contains(&in_clear, kiosk_password.as_bytes()));
    assert!(contains(&in_clear, door_password.as_bytes()));
    assert!(contains(&in_clear, b"keting/v1/"));
}
