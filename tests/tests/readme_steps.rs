//! The README's "Provisioning a site" steps, run in order as a technician
//! types them, up to the running kiosk: only the LAN address (loopback
//! here), free ports and the test's own directories change. With nothing
//! more than those steps, a paid member's scan opens the gym door: the
//! import registered the door, which got its roster over TLS.

use std::path::Path;
use std::time::Duration;

use keting_system_tests::binaries::{self, start_kiosk};
use keting_system_tests::free_port;
use keting_system_tests::mosquitto::Mosquitto;

use crate::provisioned::{SIM_PANEL, installed_agent_config, serial_scanner};
use crate::site_bed::{SiteBed, door_agent, kiosk_cli, night_lines, paid_member};

/// The commands of the README's provisioning block, up to and with the
/// line that starts the kiosk, comments taken off.
fn readme_steps() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = readme
        .split("## Provisioning a site")
        .nth(1)
        .expect("the README has its provisioning section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the section starts with a shell block");
    let mut steps = Vec::new();
    for line in block.lines() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        steps.push(line.to_owned());
        if line.starts_with("kiosk --headless") {
            break;
        }
    }
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_provisioning_steps_give_a_door_that_lets_a_paid_member_in() {
    let bed = SiteBed::new().await;
    let root = bed.dir.path();
    let (port, tls_port, claim_port) = (free_port(), free_port(), free_port());
    let data = root.join("kiosk-data");
    let conf = root.join("mosquitto-conf");
    let persistence = root.join("persist");
    std::fs::create_dir_all(&persistence).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&persistence, std::fs::Permissions::from_mode(0o777)).unwrap();

    let steps = readme_steps();
    assert!(steps.len() >= 8, "{steps:?}");
    let mut broker = None;
    let mut kiosk = None;
    for step in &steps {
        // The LAN address and the ports of this test; its directories.
        let mut line = step
            .replace("192.168.1.10:8883", &format!("127.0.0.1:{tls_port}"))
            .replace("192.168.1.10", "127.0.0.1")
            .replace("/etc/mosquitto/conf.d/keting", conf.to_str().unwrap());
        if line.starts_with("keting-provision site init") {
            line +=
                &format!(" --broker-port {port} --tls-port {tls_port} --claim-port {claim_port}");
        }
        if line.starts_with("keting-provision broker config") {
            line += &format!(
                " --listen 127.0.0.1 --persistence {}/",
                persistence.display()
            );
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (program, args) = words.split_first().unwrap();
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        if *program == "kiosk" {
            args.splice(0..0, ["--data".to_owned(), data.display().to_string()]);
        }
        if line.starts_with("kiosk --headless") {
            // start_kiosk gives --data and --headless itself.
            assert_eq!(args[2], "--headless");
            let args: Vec<&str> = args.iter().skip(3).map(String::as_str).collect();
            kiosk = Some(start_kiosk(&data, &args, "controller connected to the broker").await);
            break;
        }
        let out = std::process::Command::new(binaries::path(program))
            .args(&args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README step {step:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if line.starts_with("kiosk site import") {
            let said = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(said.contains("registered door gym-door"), "{said}");
            assert!(
                said.contains("registered resource pianos-8 on pianos"),
                "{said}"
            );
            assert!(
                said.contains("registered resource robot on robot"),
                "{said}"
            );
        }
        if line.starts_with("keting-provision broker config") {
            // "include it from /etc/mosquitto/mosquitto.conf and reload Mosquitto"
            broker = Some(Mosquitto::start_with_config(&conf.join("mosquitto.conf"), port).await);
        }
    }
    let kiosk = kiosk.expect("the README starts the kiosk");
    let _broker = broker.expect("the README writes the broker's files");

    // A paid member (the README's member commands), and the gym door's
    // agent as the directory copied to /etc/keting configures it.
    let (id, pass) = paid_member(&data, "陈晓梅");
    let device_dir = root.join("keting-site/devices/gym-door");
    let config = root.join("gym-door.toml");
    std::fs::write(
        &config,
        installed_agent_config(
            &device_dir,
            root,
            &serial_scanner(bed.scanner_path()),
            SIM_PANEL,
            &format!("gpio = \"sim\"\n{}", night_lines()),
        ),
    )
    .unwrap();
    let agent = door_agent(&config, "new roster in force").await;
    bed.scan(&pass);
    kiosk
        .wait_for_line("device event stored", Duration::from_secs(30))
        .await;
    let events = kiosk_cli(&data, &["door", "events"]);
    assert!(
        events.contains("gym-door") && events.contains(&format!("member {id}")),
        "{events}"
    );
    agent.stop().await;
    kiosk.stop().await;
}

#[test]
fn the_readme_agent_example_passes_the_agents_own_check() {
    // The README's agent configuration, on a machine `keting-provision
    // device add` set up: only the site, its key and the directories are
    // this test's. (It used to name a plain broker beyond loopback, which
    // the agent refuses.)
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let example = readme
        .split("An agent's configuration")
        .nth(1)
        .and_then(|s| s.split("```toml\n").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("the README has its agent example");
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let site_arg = site.to_str().unwrap();
    binaries::run(
        "keting-provision",
        &["--site", site_arg, "site", "init", "--name", "福田"].map(std::ffi::OsStr::new),
    );
    binaries::run(
        "keting-provision",
        &[
            "--site",
            site_arg,
            "device",
            "add",
            "--kind",
            "lock",
            "--name",
            "gym-door",
            "--bus",
            "rtu:/dev/ttyUSB0@9600",
            "--channel",
            "1",
        ]
        .map(std::ffi::OsStr::new),
    );
    let etc = site.join("devices/gym-door");
    let written = std::fs::read_to_string(etc.join("agent.toml")).unwrap();
    let line = |key: &str| {
        written
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap()
            .to_owned()
    };
    let config: String = example
        .lines()
        .map(|l| {
            if l.starts_with("site = ") {
                line("site")
            } else if l.starts_with("site_public_key = ") {
                line("site_public_key")
            } else if l.starts_with("state_dir = ") {
                format!("state_dir = {:?}", tmp.path().join("state"))
            } else {
                l.replace("/etc/keting/", &format!("{}/", etc.display()))
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = tmp.path().join("agent.toml");
    std::fs::write(&path, config).unwrap();
    let (ok, stdout, stderr) = binaries::run_status(
        "device-agent",
        &["--config", path.to_str().unwrap(), "--check"],
    );
    assert!(ok, "the README's agent example is refused: {stderr}");
    assert!(
        stdout.contains("configuration OK") || stderr.contains("configuration OK"),
        "{stdout}{stderr}"
    );
}
