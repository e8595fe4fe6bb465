//! Each command from the command line: what it writes, and one clear line
//! with a non-zero exit for each mistake, nothing half-written.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

pub fn provision(site: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keting-provision"))
        .arg("--site")
        .arg(site)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn ok(site: &Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = provision(site, args);
    assert!(ok, "{args:?}: {stderr}");
    stdout
}

fn refused(site: &Path, args: &[&str], says: &str) {
    let (ok, _, stderr) = provision(site, args);
    assert!(!ok, "{args:?} was accepted");
    // One line says what is wrong (clap adds the possible values and a hint).
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("keting-provision: ") || first.starts_with("error: "),
        "{stderr}"
    );
    assert!(stderr.contains(says), "{args:?}: {stderr}");
}

#[test]
fn site_init_writes_a_private_key_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let out = ok(&site, &["site", "init", "--name", "福田示范中心"]);
    assert!(out.contains("created"), "{out}");
    let mode = std::fs::metadata(site.join("site.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let key_before = std::fs::read(site.join("site.key")).unwrap();
    refused(&site, &["site", "init", "--name", "again"], "--force");
    assert_eq!(
        std::fs::read(site.join("site.key")).unwrap(),
        key_before,
        "nothing overwritten"
    );
    ok(&site, &["site", "init", "--name", "again", "--force"]);
    assert_ne!(std::fs::read(site.join("site.key")).unwrap(), key_before);
}

#[test]
fn device_add_writes_a_configuration_the_agent_accepts_and_its_own_secret() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    ok(&site, &["site", "init", "--name", "中心"]);
    ok(
        &site,
        &[
            "device",
            "add",
            "--kind",
            "lock",
            "--name",
            "gym-door",
            "--gpio",
            "strike=GPIO17,contact=GPIO27,exit=GPIO22",
        ],
    );
    ok(
        &site,
        &[
            "device",
            "add",
            "--kind",
            "lock",
            "--name",
            "side-door",
            "--bus",
            "rtu:/dev/ttyUSB0@9600",
            "--unit",
            "2",
            "--channel",
            "3",
        ],
    );
    ok(
        &site,
        &[
            "device",
            "add",
            "--kind",
            "piano-bank",
            "--name",
            "pianos",
            "--bus",
            "tcp:192.168.1.30:502",
        ],
    );
    // The piano bank's agent gets a channel per piano, the agent's parser agrees.
    let pianos = std::fs::read_to_string(site.join("devices/pianos/agent.toml")).unwrap();
    keting_device_agents_parse(&pianos);
    assert!(
        pianos.contains("[piano_bank]") && pianos.contains("channel = 8, name = \"8号钢琴\""),
        "{pianos}"
    );
    let agent = site.join("devices/gym-door/agent.toml");
    let check = Command::new(env!("CARGO_BIN_EXE_keting-provision"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(check.status.success());
    let text = std::fs::read_to_string(&agent).unwrap();
    keting_device_agents_parse(&text);
    // The device logs in over TLS with its certificate (its name is the
    // login), beside the site CA's, in the directory copied to it.
    assert!(
        text.contains("port = 8883\n")
            && text.contains("tls = { ca = \"/etc/keting/ca.pem\", cert = \"/etc/keting/device.pem\", key = \"/etc/keting/device.key\" }")
            && !text.contains("password")
            && !text.contains(
                &std::fs::read_to_string(site.join("devices/gym-door/broker.secret")).unwrap()
            ),
        "{text}"
    );
    assert_eq!(
        std::fs::read(site.join("devices/gym-door/ca.pem")).unwrap(),
        std::fs::read(site.join("ca.pem")).unwrap()
    );
    let mode = std::fs::metadata(site.join("devices/gym-door/broker.secret"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let a = std::fs::read(site.join("devices/gym-door/broker.secret")).unwrap();
    let b = std::fs::read(site.join("devices/side-door/broker.secret")).unwrap();
    assert_ne!(a, b, "one secret per device");
    let side = std::fs::read_to_string(site.join("devices/side-door/agent.toml")).unwrap();
    assert!(
        side.contains("bus = \"rtu:/dev/ttyUSB0@9600\", unit = 2, channel = 3"),
        "{side}"
    );
    ok(
        &site,
        &[
            "device",
            "add",
            "--kind",
            "vending",
            "--name",
            "vending",
            "--bus",
            "tcp:10.0.0.9:502",
            "--unit",
            "3",
        ],
    );
    let vending = std::fs::read_to_string(site.join("devices/vending/agent.toml")).unwrap();
    assert!(
        vending.contains("[vending]\nbus = \"tcp:10.0.0.9:502\"\nunit = 3"),
        "{vending}"
    );
    keting_device_agents_parse(&vending);
    let list = ok(&site, &["device", "list"]);
    assert!(
        list.contains("gym-door") && list.contains("piano-bank"),
        "{list}"
    );
}

fn keting_device_agents_parse(text: &str) {
    keting_device_agents::config::AgentConfig::parse(text).unwrap();
}

#[test]
fn mistakes_are_one_clear_line_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    refused(&site, &["device", "list"], "site init");
    ok(&site, &["site", "init", "--name", "中心"]);
    // Each mistake: the command line, and what the one line must name.
    let mistakes = [
        ("device add --kind door --name x", "door"),
        (
            "device add --kind lock --name x --bus tcp:nowhere",
            "tcp:HOST:PORT",
        ),
        ("device add --kind lock --name x", "strike"),
        (
            "device add --kind lock --name x --gpio strik=GPIO17",
            "roles",
        ),
        ("device add --kind vending --name x", "--bus"),
        (
            "device add --kind lock --name bad/name --gpio strike=GPIO17",
            "--name",
        ),
        (
            "device add --kind lock --name x --bus tcp:h:502 --channel 9",
            "channel",
        ),
    ];
    for (line, says) in mistakes {
        let args: Vec<&str> = line.split_whitespace().collect();
        refused(&site, &args, says);
    }
    assert!(
        !site.join("devices").exists(),
        "nothing written for refused devices"
    );
    let add_door_1: Vec<&str> = "device add --kind lock --name door-1 --gpio strike=GPIO17"
        .split_whitespace()
        .collect();
    ok(&site, &add_door_1);
    refused(
        &site,
        &[
            "device",
            "add",
            "--kind",
            "lock",
            "--name",
            "door-1",
            "--gpio",
            "strike=GPIO5",
        ],
        "exists",
    );
    refused(&site, &["device", "retire", "door-9"], "device list");
}
