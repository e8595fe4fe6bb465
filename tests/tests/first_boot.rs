//! A new Pi's first boot, its privileged half: `keting-first-boot-apply`
//! (the script the package installs), run on the answers the question
//! window writes, with the real `kiosk` and `device-agent` and a real
//! centre answering the claim. Its paths point into a scratch directory;
//! `systemctl`, `runuser` and `chown` are stand-ins on `PATH` that record
//! what they were asked (the VM test, `packaging/pi/vm-test`, runs the
//! real ones on an emulated Pi).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keting_system_tests::binaries::{self, start_kiosk};
use keting_system_tests::free_port;

use crate::provisioned::{
    SIM_PANEL, installed_agent_config, mosquitto_for, provision_words, provisioned_site,
    serial_scanner,
};
use crate::site_bed::{SiteBed, door_agent, kiosk_cli, night_lines};
use crate::wire_capture::label_text;

/// A scratch Pi: the helper's directories, the stand-ins, the marker.
struct ScratchPi {
    root: tempfile::TempDir,
}

impl ScratchPi {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let pi = Self { root };
        for dir in ["etc", "boot", "data", "run", "agent-state", "stand-ins"] {
            std::fs::create_dir_all(pi.path(dir)).unwrap();
        }
        std::fs::write(pi.path("etc/first-boot"), "").unwrap();
        std::fs::write(
            pi.path("etc/kiosk.env"),
            "SLINT_BACKEND=linuxkms-software\n",
        )
        .unwrap();
        // Each stand-in records its arguments; runuser drops `-u USER --`.
        let log = pi.path("calls.log");
        let stand_in = |name: &str, then: &str| {
            let file = pi.path("stand-ins").join(name);
            std::fs::write(
                &file,
                format!(
                    "#!/bin/sh\necho \"{name} $*\" >> '{}'\n{then}\n",
                    log.display()
                ),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        stand_in("systemctl", "exit 0");
        stand_in("chown", "exit 0");
        stand_in("runuser", "shift 3; exec \"$@\"");
        pi
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// The helper, as its units start it, with `arg` (list or apply).
    fn helper(&self, arg: &str) -> Command {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../packaging/debian/keting-first-boot-apply");
        let bins = binaries::path("kiosk").parent().unwrap().to_owned();
        let path = format!(
            "{}:{}:{}",
            self.path("stand-ins").display(),
            bins.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new(script);
        c.arg(arg)
            .env("PATH", path)
            .env("KETING_FIRST_BOOT_ETC", self.path("etc"))
            .env("KETING_FIRST_BOOT_BOOT", self.path("boot"))
            .env("KETING_FIRST_BOOT_DATA", self.path("data"))
            .env("KETING_FIRST_BOOT_AGENT_STATE", self.path("agent-state"))
            .env("KETING_FIRST_BOOT_RUN", self.path("run"));
        c
    }

    /// Writes `line` as the window's answer and runs the helper to its
    /// end: whether it succeeded, and what it said.
    fn answer(&self, line: &str) -> (bool, String) {
        self.give(line);
        let out = self.helper("apply").output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    }

    fn give(&self, line: &str) {
        std::fs::create_dir_all(self.path("data/first-boot")).unwrap();
        std::fs::write(self.path("data/first-boot/answer"), format!("{line}\n")).unwrap();
    }

    fn status(&self) -> String {
        std::fs::read_to_string(self.path("run/status")).unwrap_or_default()
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.path("calls.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.path("data")
    }
}

#[test]
fn a_new_site_is_made_plain_and_the_centre_started_once_the_marker_is_gone() {
    let pi = ScratchPi::new();
    // Garbage in the answer file does nothing but say so.
    let (_, said) = pi.answer("7 format-the-card");
    assert!(said.contains("an answer of no kind known"), "{said}");
    let (ok, said) = pi.answer("no-attempt centre-new");
    assert!(!ok && said.contains("an answer with no attempt"), "{said}");
    assert!(pi.status().is_empty(), "{}", pi.status());
    assert!(!pi.data().join("keting.db").exists() && pi.path("etc/first-boot").exists());

    pi.answer("8 centre-new");
    assert_eq!(pi.status(), "8 working site\n8 done centre\n");
    assert!(
        !pi.path("etc/first-boot").exists(),
        "the question is not asked again"
    );
    assert!(
        !pi.path("data/first-boot/answer").exists(),
        "the answer is taken away"
    );
    let site = kiosk_cli(&pi.data(), &["site"]);
    assert!(site.contains("site "), "{site}");
    let members = kiosk_cli(&pi.data(), &["member", "list"]);
    assert!(
        !members.contains("王秀英"),
        "a plain site, not the demo: {members}"
    );
    let calls = pi.calls();
    assert!(
        calls.contains("systemctl stop keting-first-boot.service")
            && calls
                .contains("systemctl --no-block start keting-centre.service keting-kiosk.service"),
        "{calls}"
    );
    assert!(
        !calls.contains("keting-agent"),
        "no agent configured here: {calls}"
    );

    // A second answer after the Pi is set up is ignored.
    let (_, said) = pi.answer("9 centre-new");
    assert!(said.contains("set up already"), "{said}");
    assert!(!pi.status().contains("9 "), "{}", pi.status());
}

#[test]
fn a_backup_on_the_boot_partition_is_restored_and_nothing_outside_it_is_taken() {
    let pi = ScratchPi::new();
    // The old centre: a resident, backed up onto the card from a computer.
    let old = pi.path("old-centre");
    let added = kiosk_cli(&old, &["member", "add", "--name", "陈晓梅"]);
    assert!(added.contains("陈晓梅"), "{added}");
    kiosk_cli(
        &old,
        &[
            "backup",
            "create",
            "--to",
            pi.path("boot").to_str().unwrap(),
        ],
    );
    // Not a backup: listed never, restored never.
    std::fs::create_dir_all(pi.path("boot/keting-notes")).unwrap();
    let listed = pi.helper("list").output().unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let names = std::fs::read_to_string(pi.path("run/backups")).unwrap();
    let name = names.trim().to_owned();
    assert!(
        name.starts_with("keting-") && names.lines().count() == 1,
        "only the backup is listed: {names:?}"
    );

    pi.answer("20 centre-restore ../old-centre");
    pi.answer("21 centre-restore keting-notes");
    let status = pi.status();
    assert!(
        status.contains("20 failed restore not a backup's name: ../old-centre")
            && status.contains("21 failed restore no backup keting-notes on the boot partition"),
        "{status}"
    );
    assert!(pi.path("etc/first-boot").exists());

    pi.answer(&format!("22 centre-restore {name}"));
    let status = pi.status();
    assert!(
        status.ends_with("22 working restore\n22 done centre\n"),
        "{status}"
    );
    let members = kiosk_cli(&pi.data(), &["member", "list"]);
    assert!(
        members.contains("陈晓梅"),
        "the resident came back: {members}"
    );
    assert!(
        !pi.path("data/first-boot/restore").exists(),
        "the readable copy of the backup is removed"
    );

    // A backup restored onto a centre that has a site already fails, and
    // says why in the tool's words.
    let pi2 = ScratchPi::new();
    kiosk_cli(&pi2.data(), &["site"]);
    kiosk_cli(
        &old,
        &[
            "backup",
            "create",
            "--to",
            pi2.path("boot").to_str().unwrap(),
        ],
    );
    let name2 = std::fs::read_dir(pi2.path("boot"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("keting-"))
        .unwrap();
    pi2.answer(&format!("30 centre-restore {name2}"));
    let status = pi2.status();
    let failed = status.lines().last().unwrap();
    assert!(failed.starts_with("30 failed restore kiosk: "), "{status}");
    assert!(pi2.path("etc/first-boot").exists(), "still asking");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_enrolled_with_its_label_its_pin_shown_then_its_agent_started() {
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let port = free_port();
    let site = provisioned_site(
        &bed,
        port,
        &["--kind lock --name gym-door --bus tcp:127.0.0.1:{board}"],
    );
    let pi = ScratchPi::new();
    // The configuration the claim hands out keeps the device's key in the
    // scratch Pi's state directory.
    let site_config = site.join("devices/gym-door/agent.toml");
    let handed_out = std::fs::read_to_string(&site_config).unwrap().replace(
        "/var/lib/keting-agent",
        pi.path("agent-state").to_str().unwrap(),
    );
    std::fs::write(&site_config, handed_out).unwrap();
    let broker = mosquitto_for(&site, root, port).await;
    let data = root.join("centre");
    kiosk_cli(&data, &["site", "import", site.to_str().unwrap()]);
    let url = format!("mqtt://127.0.0.1:{port}");
    let centre = start_kiosk(
        &data,
        &["--mqtt-url", &url],
        "controller connected to the broker",
    )
    .await;
    let printed = provision_words(
        &site,
        &format!(
            "device label gym-door --out {}",
            root.join("gym-door.png").display()
        ),
    );
    let label = label_text(&printed);
    broker.reload().await;

    // The window's answer; the helper runs the claim and reports its PIN.
    pi.give(&format!("40 device {label}"));
    let helper = pi
        .helper("apply")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let pin = loop {
        if let Some(line) = pi.status().lines().find(|l| l.starts_with("40 pin ")) {
            break line.trim_start_matches("40 pin ").replace(' ', "");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no PIN on the screen: {}",
            pi.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(pin.len(), 6, "{}", pi.status());
    assert!(
        pi.status().starts_with("40 working claim\n"),
        "{}",
        pi.status()
    );
    centre
        .wait_for_line("claim waiting", Duration::from_secs(10))
        .await;
    // The technician compares it on the centre, and confirms.
    let listed = kiosk_cli(&data, &["claim", "list"]);
    assert!(
        listed.contains(&format!("PIN {} {}", &pin[..3], &pin[3..])),
        "{listed}"
    );
    kiosk_cli(&data, &["claim", "confirm", "gym-door", &pin]);
    let out = tokio::task::spawn_blocking(move || helper.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(pi.status().ends_with("40 done device\n"), "{}", pi.status());

    // The device's files where the agent reads them, the key for its user.
    let etc = pi.path("etc");
    for f in ["agent.toml", "ca.pem", "device.pem", "device.key"] {
        assert!(etc.join(f).exists(), "{f} written");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(etc.join("device.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the agent refuses a key others can read");
    assert!(!etc.join("first-boot").exists() && !etc.join("kiosk.env").exists());
    let calls = pi.calls();
    let key_owner = format!(
        "chown keting-agent:keting-agent {}",
        etc.join("device.key").display()
    );
    for call in [
        key_owner.as_str(),
        "systemctl disable keting-centre.service keting-kiosk.service",
        "systemctl stop keting-first-boot.service",
        "systemctl --no-block start keting-agent.service",
    ] {
        assert!(calls.contains(call), "{call}: {calls}");
    }
    assert!(!calls.contains("start keting-centre"), "{calls}");
    // The agent it starts runs with what the claim wrote.
    let (ok, out, err) = binaries::run_status(
        "device-agent",
        &[
            "--config",
            etc.join("agent.toml").to_str().unwrap(),
            "--check",
        ],
    );
    assert!(ok, "{out}{err}");
    // And runs with them, its wires adapted to this machine: over TLS with
    // the key as the helper left it, it gets the centre's roster.
    let run_config = root.join("enrolled-agent.toml");
    std::fs::write(
        &run_config,
        installed_agent_config(
            &etc,
            root,
            &serial_scanner(bed.scanner_path()),
            SIM_PANEL,
            &night_lines(),
        ),
    )
    .unwrap();
    let enrolled = door_agent(&run_config, "new roster in force").await;
    enrolled.stop().await;
    drop(broker);
}
