//! A site set up as a technician would: `keting-provision` creates the site,
//! enrols the door and writes Mosquitto's files (logins and ACL enforced);
//! the kiosk imports the site and logs in as `kiosk`; the agent runs the
//! configuration provisioning wrote (its device paths adapted to this test).

use std::time::Duration;

use keting_system_tests::binaries::{self, Process, start_kiosk};
use keting_system_tests::free_port;
use keting_system_tests::mosquitto::Mosquitto;

use crate::site_bed::{SiteBed, coil, door_agent, kiosk_cli, night_lines, paid_member};

use keting_system_tests::binaries::provision;

/// Provisioning's `agent.toml` for the device in `device_dir`, as it would
/// run here: state under `root/state-<device>`, its TLS files where
/// provisioning wrote them (`devices/<name>/` is what is copied to
/// `/etc/keting/`), the door's scanner `scanner` and its `panel` (TOML
/// inline tables), and `extra` lines for the door.
pub(crate) fn installed_agent_config(
    device_dir: &std::path::Path,
    root: &std::path::Path,
    scanner: &str,
    panel: &str,
    extra: &str,
) -> String {
    let name = device_dir.file_name().unwrap().to_str().unwrap();
    std::fs::read_to_string(device_dir.join("agent.toml"))
        .unwrap()
        .replace(
            "/var/lib/keting-agent",
            root.join(format!("state-{name}")).to_str().unwrap(),
        )
        .replace("\"/etc/keting/", &format!("\"{}/", device_dir.display()))
        .replace(
            "scanner = { kind = \"evdev\", device = \"/dev/input/by-id/usb-scanner-event-kbd\" }",
            &format!("scanner = {scanner}\n{extra}"),
        )
        .replace(
            "panel = { kind = \"ssd1306\", i2c = \"/dev/i2c-1\", address = 60 }",
            &format!("panel = {panel}"),
        )
}

pub(crate) const SIM_PANEL: &str = "{ kind = \"sim\" }";

pub(crate) fn serial_scanner(path: &str) -> String {
    format!("{{ kind = \"serial\", path = \"{path}\" }}")
}

/// `keting-provision --site SITE ARGS`, whatever its exit: (success, stdout, stderr).
fn provision_status(site: &std::path::Path, args: &[&str]) -> binaries::RunOutput {
    let mut all: Vec<&std::ffi::OsStr> = vec!["--site".as_ref(), site.as_os_str()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    binaries::run_status("keting-provision", &all)
}

/// A site in `bed`'s directory whose broker is 127.0.0.1:`port` (its TLS
/// and claim ports free ones), with a `device add` for each of `devices`
/// (`{board}` is the simulated relay board's port).
pub(crate) fn provisioned_site(bed: &SiteBed, port: u16, devices: &[&str]) -> std::path::PathBuf {
    let site = bed.dir.path().join("provisioned");
    provision_words(
        &site,
        &format!(
            "site init --name 中心 --broker-host 127.0.0.1 --broker-port {port} --tls-port {} --claim-port {}",
            free_port(),
            free_port()
        ),
    );
    for d in devices {
        let line = format!(
            "device add {}",
            d.replace("{board}", &bed.board_port.to_string())
        );
        provision_words(&site, &line);
    }
    site
}

/// The site's id.
fn site_id(site: &std::path::Path) -> String {
    keting_provisioning::site_dir::SiteDir::open(site)
        .unwrap()
        .site
        .id
}

/// The site's broker ports: (plain, TLS, claim).
pub(crate) fn site_ports(site: &std::path::Path) -> (u16, u16, u16) {
    let s = keting_provisioning::site_dir::SiteDir::open(site)
        .unwrap()
        .site;
    (s.broker_port, s.tls_port, s.claim_port)
}

/// Writes Mosquitto's files for `site` into `root/mosquitto` and starts it
/// on the site's ports (plain `port`, TLS, claims).
pub(crate) async fn mosquitto_for(
    site: &std::path::Path,
    root: &std::path::Path,
    port: u16,
) -> Mosquitto {
    assert_eq!(site_ports(site).0, port);
    write_broker_files(site, root);
    Mosquitto::start_with_config(&root.join("mosquitto/mosquitto.conf"), port).await
}

/// `keting-provision broker config` into `root/mosquitto`.
fn write_broker_files(site: &std::path::Path, root: &std::path::Path) {
    let persistence = root.join("persist");
    std::fs::create_dir_all(&persistence).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&persistence, std::fs::Permissions::from_mode(0o777)).unwrap();
    let conf = root.join("mosquitto");
    provision(
        site,
        &[
            "broker",
            "config",
            "--mosquitto",
            conf.to_str().unwrap(),
            "--listen",
            "127.0.0.1",
            "--persistence",
            &format!("{}/", persistence.display()),
        ],
    );
}

/// `keting-provision --site SITE` with a command line of words without spaces.
pub(crate) fn provision_words(site: &std::path::Path, line: &str) -> String {
    provision(site, &line.split_whitespace().collect::<Vec<_>>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provisioned_site_runs_with_per_device_logins() {
    // The bed gives the relay board, the pty scanner and a temp dir; its own
    // kiosk data directory is not used here.
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let site = root.join("provisioned");
    let port = free_port();
    provision_words(
        &site,
        &format!(
            "site init --name 福田示范中心 --broker-host 127.0.0.1 --broker-port {} --tls-port {} --claim-port {}",
            port,
            free_port(),
            free_port()
        ),
    );
    provision_words(
        &site,
        &format!(
            "device add --kind lock --name gym-door --bus tcp:127.0.0.1:{} --channel 1",
            bed.board_port
        ),
    );
    let broker = mosquitto_for(&site, root, port).await;

    // The kiosk takes the site over, then the usual set-up.
    let data = root.join("kiosk-provisioned");
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    // Again: nothing changes. Into a kiosk that has another site: refused.
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    let (ok, _, err) = binaries::run_status(
        "kiosk",
        &[
            "--data",
            bed.data().to_str().unwrap(),
            "site",
            "import",
            site.to_str().unwrap(),
        ],
    );
    assert!(!ok);
    assert!(err.contains("already holds site"), "{err}");
    let shown = kiosk_cli(&data, &["site"]);
    let written = std::fs::read_to_string(site.join("devices/gym-door/agent.toml")).unwrap();
    let key = shown
        .lines()
        .find_map(|l| l.strip_prefix("public_key"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        written.contains(&key),
        "the kiosk verifies with the key the devices were given"
    );
    kiosk_cli(&data, &["door", "add", "gym-door", "--name", "健身房"]);
    let (id, pass) = paid_member(&data, "陈晓梅");
    let url = format!("mqtt://127.0.0.1:{port}");
    let kiosk = start_kiosk(
        &data,
        &["--mqtt-url", &url],
        "controller connected to the broker",
    )
    .await;

    // The agent: provisioning's file, with this test's scanner, state and secret paths.
    let device_dir = site.join("devices/gym-door");
    let text = installed_agent_config(
        &device_dir,
        root,
        &serial_scanner(bed.scanner_path()),
        SIM_PANEL,
        &night_lines(),
    );
    let config = root.join("provisioned-agent.toml");
    std::fs::write(&config, text).unwrap();
    let agent = door_agent(&config, "new roster in force").await;

    bed.scan_in(&pass, &kiosk, 1).await;
    let events = kiosk_cli(&data, &["door", "events"]);
    assert!(events.contains(&format!("member {id}")), "{events}");
    // A staff member signs in with card and PIN through the same desk the
    // screen uses (set from stdin, as a manager would).
    let staff_pin = "730165";
    binaries::staff_with_pin(&data, id, "manager", staff_pin);
    // Home Assistant's own read-only login sees the door's discovery config
    // and its online flag through Mosquitto's ACL.
    let ha_password = std::fs::read_to_string(site.join("homeassistant.secret"))
        .unwrap()
        .trim()
        .to_owned();
    {
        let mut o = rumqttc::MqttOptions::new("home-assistant", "127.0.0.1", port);
        o.set_credentials("homeassistant", ha_password.clone());
        o.set_keep_alive(Duration::from_secs(10));
        let (c, mut events) = rumqttc::AsyncClient::new(o, 32);
        c.subscribe("homeassistant/#", rumqttc::QoS::AtLeastOnce)
            .await
            .unwrap();
        let config = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) =
                    events.poll().await.unwrap()
                    && p.topic.ends_with("/gym-door_lock/config")
                {
                    return p.payload.to_vec();
                }
            }
        })
        .await
        .expect("Home Assistant gets the door's config");
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(config["device_class"], "lock");
    }
    let (kiosk_log, agent_log, mosquitto_log) = (kiosk.log(), agent.log(), broker.log());
    kiosk.stop().await;
    agent.stop().await;
    drop(broker);

    // No secret in any log line: not the pass (a bearer token), not a
    // broker password, not the site key, not a PIN. The logs are those of
    // the kiosk, the agent and Mosquitto over the whole run.
    let secrets = [
        ("the member's pass", pass.clone()),
        (
            "the pass's signature",
            pass.rsplit('.').next().unwrap().to_owned(),
        ),
        (
            "the kiosk's broker password",
            std::fs::read_to_string(site.join("kiosk.secret"))
                .unwrap()
                .trim()
                .to_owned(),
        ),
        (
            "the door's broker password",
            std::fs::read_to_string(device_dir.join("broker.secret"))
                .unwrap()
                .trim()
                .to_owned(),
        ),
        (
            "the site key",
            std::fs::read_to_string(site.join("site.key"))
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
                .to_owned(),
        ),
        ("the staff PIN", staff_pin.to_owned()),
        ("Home Assistant's broker password", ha_password.clone()),
    ];
    for (what, secret) in &secrets {
        assert!(secret.len() >= 6, "{what} is a real secret");
        for (whose, log) in [
            ("kiosk", &kiosk_log),
            ("agent", &agent_log),
            ("broker", &mosquitto_log),
        ] {
            assert!(
                !log.contains(secret.as_str()),
                "{what} in the {whose}'s log"
            );
        }
    }
    assert!(
        kiosk_log.contains("device event stored"),
        "the logs were read: {kiosk_log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_requires_the_same_logins() {
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let site = root.join("provisioned");
    provision_words(&site, "site init --name 中心 --broker-host 127.0.0.1");
    provision_words(
        &site,
        &format!(
            "device add --kind lock --name gym-door --bus tcp:127.0.0.1:{}",
            bed.board_port
        ),
    );
    provision_words(
        &site,
        &format!(
            "device add --kind piano-bank --name pianos --bus tcp:127.0.0.1:{} --pianos 2",
            bed.board_port
        ),
    );
    let conf = root.join("mosquitto");
    provision(
        &site,
        &["broker", "config", "--mosquitto", conf.to_str().unwrap()],
    );
    let data = root.join("kiosk-provisioned");
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    kiosk_cli(&data, &["door", "add", "gym-door", "--name", "健身房"]);
    let kiosk = start_kiosk(
        &data,
        &[
            "--mqtt-listen",
            "127.0.0.1:0",
            "--mqtt-passwords",
            conf.join("passwords").to_str().unwrap(),
        ],
        "controller connected to the broker",
    )
    .await;
    let line = kiosk
        .wait_for_line("MQTT broker at", Duration::from_secs(5))
        .await;
    let port: u16 = line.rsplit(':').next().unwrap().trim().parse().unwrap();

    // The door logs in with its own secret and gets its roster.
    let device_dir = site.join("devices/gym-door");
    let text = installed_agent_config(
        &device_dir,
        root,
        &serial_scanner(bed.scanner_path()),
        SIM_PANEL,
        "",
    )
    .replace("port = 8883", &format!("port = {port}"));
    // The embedded broker speaks plain MQTT on this machine only: the
    // device logs in with its password, not its certificate.
    let tls_line = text
        .lines()
        .find(|l| l.starts_with("tls = "))
        .unwrap()
        .to_owned();
    let text = text.replace(
        &tls_line,
        &format!(
            "username = \"gym-door\"\npassword_file = {:?}",
            device_dir.join("broker.secret").to_str().unwrap()
        ),
    );
    let config = root.join("agent.toml");
    std::fs::write(&config, &text).unwrap();
    let agent = door_agent(&config, "new roster in force").await;

    // The piano bank's login can publish anywhere here (the embedded broker
    // has no topic rules), but the door takes only the site's signature:
    // the forged unlock moves nothing and the kiosk records the refusal.
    let writes = bed.board.writes();
    publish_as(
        port,
        None,
        Some((
            "pianos".into(),
            std::fs::read_to_string(site.join("devices/pianos/broker.secret"))
                .unwrap()
                .trim()
                .to_owned(),
        )),
        &format!("keting/v1/{}/device/gym-door/cmd", site_id(&site)),
        &forged_unlock(),
    )
    .await;
    kiosk
        .wait_for_line("device event stored", Duration::from_secs(10))
        .await;
    let events = kiosk_cli(&data, &["door", "events"]);
    assert!(
        events.contains("door.command_refused") && events.contains("forged"),
        "{events}"
    );
    assert_eq!(bed.board.writes(), writes, "the strike was never driven");
    assert!(!bed.board.relays()[0]);

    // The same device with a wrong password is refused, and says so.
    std::fs::write(root.join("wrong.secret"), "not-the-password").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            root.join("wrong.secret"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let wrong = text
        .replace(
            device_dir.join("broker.secret").to_str().unwrap(),
            root.join("wrong.secret").to_str().unwrap(),
        )
        .replace(
            root.join("agent-state").to_str().unwrap(),
            root.join("agent-state-2").to_str().unwrap(),
        )
        .replace(
            &format!(
                "scanner = {{ kind = \"serial\", path = \"{}\" }}",
                bed.scanner_path()
            ),
            "scanner = { kind = \"sim\" }",
        );
    let wrong_config = root.join("wrong.toml");
    std::fs::write(&wrong_config, wrong).unwrap();
    let intruder = Process::start(
        "device-agent",
        &["--config", wrong_config.to_str().unwrap()],
        &[("RUST_LOG", "info,keting_device_agents::link=debug")],
        "door agent running",
    )
    .await;
    let refused = intruder
        .wait_for_line("refused the login", Duration::from_secs(30))
        .await;
    assert!(
        !intruder.log().contains("connected to the broker"),
        "{refused}"
    );
    assert!(!intruder.log().contains("new roster in force"));
    kiosk.stop().await;
    agent.stop().await;
    drop(intruder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_check_passes_a_good_door_and_fails_a_dead_relay_channel_with_what_to_do() {
    // Two doors on one simulated relay board: gym-door on channel 1, with a
    // door contact and a panel; study-door on channel 2, which is dead.
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let port = free_port();
    let site = provisioned_site(
        &bed,
        port,
        &[
            "--kind lock --name gym-door --bus tcp:127.0.0.1:{board} --channel 1 --gpio contact=GPIO27",
            "--kind lock --name study-door --bus tcp:127.0.0.1:{board} --channel 2",
        ],
    );
    let broker = mosquitto_for(&site, root, port).await;
    bed.board.kill_channel(2);

    // Before any agent runs: never connected, and the check says what to do.
    let list = provision_words(&site, "device list");
    assert!(
        list.lines()
            .any(|l| l.starts_with("gym-door") && l.contains("never connected")),
        "{list}"
    );
    let (ok, out, _) = provision_status(&site, &["device", "check", "gym-door"]);
    assert!(!ok);
    assert!(
        out.contains("agent online") && out.contains("FAIL") && out.contains("-> power it"),
        "{out}"
    );

    let panel_png = root.join("gym-door-panel.png");
    let mut agents = Vec::new();
    for (name, scanner, panel, extra) in [
        (
            "gym-door",
            serial_scanner(bed.scanner_path()),
            format!("{{ kind = \"png\", path = \"{}\" }}", panel_png.display()),
            "gpio = \"sim\"\n",
        ),
        (
            "study-door",
            "{ kind = \"sim\" }".to_owned(),
            "{ kind = \"none\" }".to_owned(),
            "",
        ),
    ] {
        let text = installed_agent_config(
            &site.join("devices").join(name),
            root,
            &scanner,
            &panel,
            extra,
        );
        let config = root.join(format!("{name}.toml"));
        std::fs::write(&config, text).unwrap();
        let agent = Process::start(
            "device-agent",
            &["--config", config.to_str().unwrap()],
            &[],
            "door agent running",
        )
        .await;
        agent
            .wait_for_line("connected to the broker", Duration::from_secs(30))
            .await;
        agents.push(agent);
    }

    // The good door: every row passes and the strike really pulsed.
    let writes_before = bed.board.writes();
    let (ok, out, err) = provision_status(&site, &["device", "check", "gym-door"]);
    assert!(ok, "{out}{err}");
    println!("{out}");
    for row in [
        "agent online",
        "Modbus unit 1 on tcp:127.0.0.1:",
        "relay channel 1 (the strike)",
        "the board's pulse timer (relocks with no software)",
        "door contact (GPIO27)",
        "exit button (not fitted)",
        "panel (simulated, drawn to",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("{row}: {out}"));
        assert!(line.contains(" pass "), "{line}\n{out}");
    }
    assert!(out.contains("reads closed"), "{out}");
    assert!(panel_png.exists(), "the panel drew to its file");
    assert!(out.contains("every check passed"), "{out}");
    // Switched on and back off (the row says each was read back).
    assert!(
        bed.board.writes() >= writes_before + 2,
        "the board saw the pulse"
    );
    assert!(!bed.board.relays()[0], "the strike is back at rest");

    // The dead channel: the check fails on that row, says why and what to do.
    let (ok, out, err) = provision_status(&site, &["device", "check", "study-door"]);
    assert!(!ok, "{out}");
    println!("{out}{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("relay channel 2 (the strike)"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("FAIL") && line.contains("switched on but reads back off"),
        "{out}"
    );
    assert!(out.contains("-> the relay channel is dead"), "{out}");
    // A dead channel cannot be pulsed by the board's timer either.
    assert!(err.contains("study-door: 2 check(s) failed"), "{err}");

    // The list: both online; once study-door's agent stops, it is offline
    // and was last seen seconds ago.
    let list = provision_words(&site, "device list");
    assert!(
        list.lines()
            .any(|l| l.starts_with("gym-door") && l.contains("online, locked")),
        "{list}"
    );
    let study = agents.pop().unwrap();
    study.stop().await;
    let list = provision_words(&site, "device list");
    println!("{list}");
    let line = list.lines().find(|l| l.starts_with("study-door")).unwrap();
    assert!(
        line.contains("offline") && line.contains(" s ago"),
        "{list}"
    );
    for a in agents {
        a.stop().await;
    }
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_claims_its_identity_with_the_label_once_the_pin_is_confirmed() {
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let port = free_port();
    let site = provisioned_site(
        &bed,
        port,
        &["--kind lock --name gym-door --bus tcp:127.0.0.1:{board}"],
    );
    // This test's state directory for the device (its answer-signing key
    // is written there), in the configuration the claim hands out.
    let device = root.join("device-etc");
    let site_config = site.join("devices/gym-door/agent.toml");
    let handed_out = std::fs::read_to_string(&site_config).unwrap().replace(
        "/var/lib/keting-agent",
        root.join("state-device-etc").to_str().unwrap(),
    );
    std::fs::write(&site_config, handed_out).unwrap();
    let issued_by_add =
        std::fs::read_to_string(site.join("devices/gym-door/device.serial")).unwrap();
    let broker = mosquitto_for(&site, root, port).await;
    let data = root.join("kiosk-provisioned");
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    kiosk_cli(&data, &["door", "add", "gym-door", "--name", "健身房"]);
    let url = format!("mqtt://127.0.0.1:{port}");
    let kiosk = start_kiosk(
        &data,
        &["--mqtt-url", &url],
        "controller connected to the broker",
    )
    .await;

    // The technician prints the label; the broker lets the claim login in.
    let label_png = root.join("gym-door.png");
    let printed = provision_words(
        &site,
        &format!("device label gym-door --out {}", label_png.display()),
    );
    let text = printed
        .lines()
        .find_map(|l| {
            l.split('\'')
                .nth(1)
                .filter(|t| t.starts_with("KETING-CLAIM:"))
        })
        .unwrap()
        .to_owned();
    broker.reload().await;

    // The factory-fresh device: nothing but the label's text.
    let config = device.join("agent.toml");
    let panel = root.join("claim-panel.png");
    let claim = |text: String| {
        let config = config.clone();
        let panel = panel.clone();
        async move {
            Process::start(
                "device-agent",
                &[
                    "--claim",
                    &text,
                    "--config",
                    config.to_str().unwrap(),
                    "--panel",
                    &format!("png:{}", panel.display()),
                    "--wait",
                    "60",
                ],
                &[],
                "claim request sent",
            )
            .await
        }
    };
    let agent = claim(text.clone()).await;
    let line = agent
        .wait_for_line("the panel shows PIN", Duration::from_secs(5))
        .await;
    let pin: String = line
        .rsplit("PIN ")
        .next()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(pin.len(), 6, "{line}");
    assert!(panel.exists(), "the PIN is on the device's panel");
    kiosk
        .wait_for_line("claim waiting", Duration::from_secs(10))
        .await;
    let listed = kiosk_cli(&data, &["claim", "list"]);
    assert!(
        listed.contains(&format!(
            "gym-door                  PIN {} {}",
            &pin[..3],
            &pin[3..]
        )),
        "the kiosk shows the same PIN: {listed}"
    );

    // A PIN that differs confirms nothing.
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let (ok, _, err) = binaries::run_status(
        "kiosk",
        &[
            "--data",
            data.to_str().unwrap(),
            "claim",
            "confirm",
            "gym-door",
            wrong,
        ],
    );
    assert!(!ok);
    assert!(err.contains("another device may be claiming"), "{err}");
    assert!(!config.exists());

    // The right PIN: the device gets its configuration and the certificate
    // the site CA signed for the key it made; no secret came over the wire.
    kiosk_cli(&data, &["claim", "confirm", "gym-door", &pin]);
    let (status, log) = agent.exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{log}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("device = \"gym-door\""), "{written}");
    assert!(!device.join("broker.secret").exists());
    assert_eq!(
        std::fs::read(device.join("ca.pem")).unwrap(),
        std::fs::read(site.join("ca.pem")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(device.join("device.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // The site holds the device's new certificate, never its key; the one
    // `device add` issued is revoked.
    let device_pem = std::fs::read_to_string(device.join("device.pem")).unwrap();
    assert_eq!(
        std::fs::read_to_string(site.join("devices/gym-door/device.pem")).unwrap(),
        device_pem
    );
    assert!(!site.join("devices/gym-door/device.key").exists());
    let revoked = std::fs::read_to_string(site.join("revoked.txt")).unwrap();
    assert!(revoked.contains(issued_by_add.trim()), "{revoked}");
    let checked = binaries::run(
        "device-agent",
        &["--check".as_ref(), "--config".as_ref(), config.as_os_str()],
    );
    assert!(checked.contains("configuration OK"), "{checked}");
    // The device made its own key; the centre holds its public half, from
    // the claim, and nothing else crossed the wire.
    let public = binaries::run(
        "device-agent",
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--public-key".as_ref(),
        ],
    );
    let keys = kiosk_cli(&data, &["device", "keys"]);
    assert!(
        keys.contains("gym-door") && keys.contains(public.trim()) && keys.contains("claim"),
        "{keys}"
    );
    assert!(!log.contains(&text), "the code is never logged");
    let device_key = std::fs::read_to_string(device.join("device.key")).unwrap();
    let key_line = device_key.lines().nth(1).unwrap();
    assert!(
        !kiosk.log().contains(key_line) && !log.contains(key_line),
        "the key is never logged"
    );

    // The enrolled device runs as written: over TLS with its own
    // certificate, it gets its roster.
    let run_config = root.join("claimed-agent.toml");
    std::fs::write(
        &run_config,
        installed_agent_config(
            &device,
            root,
            &serial_scanner(bed.scanner_path()),
            SIM_PANEL,
            &night_lines(),
        ),
    )
    .unwrap();
    let enrolled = door_agent(&run_config, "new roster in force").await;
    enrolled.stop().await;

    // The same label again: the code is spent.
    std::fs::remove_file(&config).unwrap();
    let again = claim(text.clone()).await;
    let (status, log) = again.exit(Duration::from_secs(30)).await;
    assert!(!status.success());
    assert!(
        log.contains("the kiosk refused the claim: this label's code was used already"),
        "{log}"
    );
    assert!(!config.exists());

    // A code that is not the label's: the broker refuses the claim login.
    let label = keting_core::claim::ClaimLabel::parse(&text).unwrap();
    let forged = text.replace(&label.code, "0000000000000000");
    let (ok, _, err) = binaries::run_status(
        "device-agent",
        &[
            "--claim",
            &forged,
            "--config",
            config.to_str().unwrap(),
            "--wait",
            "5",
        ],
    );
    assert!(!ok);
    assert!(err.contains("the broker refused the claim login"), "{err}");
    assert!(!config.exists());

    // A label whose CA is not this broker's: the device does not send the
    // code to it at all (TLS refuses the broker first).
    let elsewhere = text.replace(&label.ca_fingerprint, &"ab".repeat(32));
    let (ok, _, err) = binaries::run_status(
        "device-agent",
        &[
            "--claim",
            &elsewhere,
            "--config",
            config.to_str().unwrap(),
            "--wait",
            "5",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("cannot reach the broker") && err.contains("UnknownIssuer"),
        "{err}"
    );
    assert!(!config.exists());
    kiosk.stop().await;
    drop(broker);
}

/// A link of the test's own to the broker on `port` (TLS with `files`, or
/// plain; a login with `credentials`), named `name`; its outbox lives in the
/// returned directory.
fn test_link(
    port: u16,
    files: Option<keting_link::tls::TlsFiles>,
    credentials: Option<(String, String)>,
    name: &str,
) -> (
    tempfile::TempDir,
    keting_link::connection::LinkHandle,
    tokio::sync::mpsc::Receiver<keting_link::connection::LinkEvent>,
) {
    use keting_link::connection::{self, LinkConfig};
    let dir = tempfile::tempdir().unwrap();
    let outbox = keting_link::outbox::Outbox::open(&dir.path().join("o.db")).unwrap();
    let (link, events, _task) = connection::spawn(
        LinkConfig {
            host: "127.0.0.1".into(),
            port,
            client_id: format!("test-link-{name}"),
            credentials,
            online_topic: format!("test/{name}/online"),
            birth: keting_link::connection::ONLINE.to_vec(),
            subscriptions: vec![],
            keep_alive: Duration::from_secs(5),
            persistent_session: false,
            tls: files.map(|f| keting_link::tls::LinkTls::from_files(&f).unwrap()),
        },
        outbox,
    );
    (dir, link, events)
}

/// A link to the TLS listener on `port` with `files`, as the agents and the
/// kiosk connect: whether the broker let it in within a few seconds.
async fn tls_link_connects(
    port: u16,
    files: Option<keting_link::tls::TlsFiles>,
    name: &str,
) -> bool {
    use keting_link::connection::LinkEvent;
    let (_dir, _link, mut events) = test_link(port, files, None, name);
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Some(LinkEvent::Connected) => return true,
                Some(LinkEvent::Disconnected(_)) | None => return false,
                _ => {}
            }
        }
    })
    .await
    .unwrap_or(false)
}

/// An unlock for `gym-door` sealed with a key that is not the site's (a
/// device's own, say): what a piano bank could forge.
fn forged_unlock() -> Vec<u8> {
    use keting_core::messages::{Action, Command, MessageId, PROTOCOL_VERSION};
    let now_ms = keting_link::clock::now().as_unix_millis();
    let not_the_site = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    keting_core::signed_command::seal(
        &not_the_site,
        &Command {
            v: PROTOCOL_VERSION,
            to: keting_core::ids::DeviceId::new("gym-door").unwrap(),
            seq: u64::try_from(now_ms).unwrap(),
            id: MessageId::new("c-from-the-pianos").unwrap(),
            deadline_ms: now_ms + 60_000,
            action: Action::Unlock { member: None },
        },
    )
}

/// Logs in to the broker on `port` (with a certificate or a password),
/// publishes `payload` on `topic` at QoS 1 and returns once the broker has
/// acknowledged it.
async fn publish_as(
    port: u16,
    tls: Option<keting_link::tls::TlsFiles>,
    credentials: Option<(String, String)>,
    topic: &str,
    payload: &[u8],
) {
    use keting_link::connection::LinkEvent;
    let (_dir, link, mut events) = test_link(port, tls, credentials, "publish-as");
    async fn until(
        events: &mut tokio::sync::mpsc::Receiver<LinkEvent>,
        want: fn(&LinkEvent) -> bool,
    ) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(e) = events.recv().await {
                if want(&e) {
                    return;
                }
            }
        })
        .await
        .expect("the broker answered");
    }
    until(&mut events, |e| matches!(e, LinkEvent::Connected)).await;
    link.publish(topic, payload, false).await.unwrap();
    until(&mut events, |e| matches!(e, LinkEvent::Drained)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_is_tls_to_the_site_ca_and_a_retired_devices_certificate_is_refused() {
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let port = free_port();
    let site = provisioned_site(
        &bed,
        port,
        &[
            "--kind lock --name gym-door --bus tcp:127.0.0.1:{board} --channel 1",
            "--kind piano-bank --name pianos --bus tcp:127.0.0.1:{board} --pianos 2",
        ],
    );
    let tls_port = site_ports(&site).1;
    let broker = mosquitto_for(&site, root, port).await;
    use std::os::unix::fs::PermissionsExt;
    for key in [
        "ca.key",
        "broker.key",
        "kiosk.key",
        "devices/gym-door/device.key",
    ] {
        let mode = std::fs::metadata(site.join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    // The kiosk over TLS with its own certificate, as the site import left it.
    let data = root.join("kiosk-tls");
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    kiosk_cli(&data, &["door", "add", "gym-door", "--name", "健身房"]);
    let (_, pass) = paid_member(&data, "陈晓梅");
    let url = format!("mqtts://127.0.0.1:{tls_port}");
    let kiosk = start_kiosk(
        &data,
        &["--mqtt-url", &url],
        "controller connected to the broker",
    )
    .await;

    // The door over TLS with the certificate `device add` issued it, as
    // provisioning wrote its configuration.
    let device_dir = site.join("devices/gym-door");
    let text = installed_agent_config(
        &device_dir,
        root,
        &serial_scanner(bed.scanner_path()),
        SIM_PANEL,
        &night_lines(),
    );
    assert!(
        text.contains(&format!("port = {tls_port}\n")) && text.contains("tls = {"),
        "{text}"
    );
    let config = root.join("tls-agent.toml");
    std::fs::write(&config, &text).unwrap();
    let agent = door_agent(&config, "new roster in force").await;
    bed.scan_in(&pass, &kiosk, 1).await;
    let device_files = |dir: &std::path::Path| keting_link::tls::TlsFiles {
        ca: site.join("ca.pem"),
        cert: dir.join("device.pem"),
        key: dir.join("device.key"),
    };
    // The piano bank's certificate cannot command the lock: Mosquitto's
    // ACL drops its publish on the door's topics. A staff open sent after
    // it comes back with nothing before it: no refusal, one pulse.
    let writes = bed.board.writes();
    let door_cmd = format!("keting/v1/{}/device/gym-door/cmd", site_id(&site));
    publish_as(
        tls_port,
        Some(device_files(&site.join("devices/pianos"))),
        None,
        &door_cmd,
        &forged_unlock(),
    )
    .await;
    kiosk_cli(&data, &["door", "open", "gym-door"]);
    coil(&bed.board, true).await;
    coil(&bed.board, false).await;
    let events = kiosk_cli(&data, &["door", "events"]);
    assert!(!events.contains("command_refused"), "{events}");
    assert_eq!(
        bed.board.writes(),
        writes + 2,
        "only the staff open's pulse"
    );
    agent.stop().await;

    assert!(tls_link_connects(tls_port, Some(device_files(&device_dir)), "good").await);
    // No certificate, plain TCP on the TLS port: refused.
    assert!(!tls_link_connects(tls_port, None, "plain").await);
    // A certificate from another site's CA: refused.
    let other = root.join("other-site");
    provision_words(
        &other,
        "site init --name 别的中心 --broker-host 127.0.0.1 --broker-port 1883",
    );
    provision_words(
        &other,
        "device add --kind lock --name gym-door --bus tcp:127.0.0.1:502 --channel 1",
    );
    let foreign = keting_link::tls::TlsFiles {
        ca: site.join("ca.pem"),
        cert: other.join("devices/gym-door/device.pem"),
        key: other.join("devices/gym-door/device.key"),
    };
    assert!(!tls_link_connects(tls_port, Some(foreign), "foreign").await);
    // The client trusts only its site's CA: a broker of another CA is refused.
    let wrong_ca = keting_link::tls::TlsFiles {
        ca: other.join("ca.pem"),
        ..device_files(&device_dir)
    };
    assert!(!tls_link_connects(tls_port, Some(wrong_ca), "wrong-ca").await);
    // A certificate of the site's own CA, but expired: refused.
    let expired_dir = root.join("expired");
    let ca = keting_provisioning::site_ca::SiteCa::open(&site).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let expired = ca
        .issue_valid(
            "gym-door",
            &["gym-door".into()],
            keting_provisioning::site_ca::Usage::Client,
            now - time::Duration::days(30),
            now - time::Duration::days(1),
        )
        .unwrap();
    keting_provisioning::site_ca::write_issued(&expired_dir, "device", &expired).unwrap();
    assert!(!tls_link_connects(tls_port, Some(device_files(&expired_dir)), "expired").await);
    // Retired: its certificate goes on the CRL; after the broker reloads, refused.
    provision_words(&site, "device retire gym-door");
    write_broker_files(&site, root);
    broker.reload().await;
    assert!(!tls_link_connects(tls_port, Some(device_files(&device_dir)), "revoked").await);
    kiosk.stop().await;
    drop(broker);
}
