//! The `device-agent` program's command line: a configuration mistake is one
//! clear line naming the key, with a non-zero exit.

use std::process::Command;

const KEY: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn check(toml: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_device-agent"))
        .arg("--config")
        .arg(&path)
        .arg("--check")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn config(door: &str) -> String {
    format!(
        "site = \"demo\"\ndevice = \"gym-door\"\nsite_public_key = \"{KEY}\"\nstate_dir = \"/tmp/x\"\n\
         [broker]\nhost = \"127.0.0.1\"\n[door]\n\
         strike = {{ kind = \"gpio\", line = \"GPIO17\" }}\nscanner = {{ kind = \"serial\", path = \"/dev/ttyACM0\" }}\n\
         panel = {{ kind = \"ssd1306\" }}\n{door}"
    )
}

#[test]
fn a_good_configuration_checks_out() {
    let (ok, stdout, stderr) = check(&config(""));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
}

#[test]
fn a_misspelt_key_is_one_error_naming_it_and_its_line() {
    let (ok, _, stderr) = check(&config("pulse_msec = 3000\n"));
    assert!(!ok);
    assert!(
        stderr.contains("pulse_msec") && stderr.contains("line 11"),
        "{stderr}"
    );
    assert!(stderr.contains("agent.toml"), "the file is named: {stderr}");
}

#[test]
fn a_missing_file_says_which() {
    let out = Command::new(env!("CARGO_BIN_EXE_device-agent"))
        .args(["--config", "/nonexistent/agent.toml", "--check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/agent.toml"), "{stderr}");
}
