//! `keting-district` as its users meet it: its help, and bad input refused
//! with the reason and nothing written. (Being this package's integration
//! test also makes `cargo test` build the binary the system tests run.)

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn district(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keting-district"))
        .args(args)
        .output()
        .expect("keting-district runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_help_names_every_command() {
    let (ok, said, _) = district(&["--help"]);
    assert!(ok);
    for command in ["enrol", "ingest", "check", "notice", "user", "stream"] {
        assert!(said.contains(command), "{command} in:\n{said}");
    }
}

#[test]
fn a_bad_centre_name_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("enrolment");
    let (ok, _, err) = district(&[
        "enrol",
        "--district",
        "futian",
        "--out",
        out.to_str().unwrap(),
        "--servers",
        "tls://10.0.0.1:4222",
        "Futian 1",
    ]);
    assert!(!ok);
    assert!(err.contains("a-z, 0-9 and -"), "{err}");
    assert!(!out.join("Futian 1").exists());
    let (ok, _, err) = district(&[
        "enrol",
        "--district",
        "Futian",
        "--out",
        out.to_str().unwrap(),
        "--servers",
        "tls://10.0.0.1:4222",
    ]);
    assert!(!ok && err.contains("--district"), "{err}");
}

#[test]
fn an_enrolment_adds_centres_and_keeps_the_keys_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("enrolment");
    let o = out.to_str().unwrap();
    let base = [
        "enrol",
        "--district",
        "futian",
        "--out",
        o,
        "--servers",
        "tls://10.0.0.1:4222",
    ];
    let (ok, said, err) = district(&[&base[..], &["futian-001"]].concat());
    assert!(ok && said.contains("1 centres"), "{said}{err}");
    let seed = std::fs::read_to_string(out.join("futian-001/futian-001.nk")).unwrap();
    let (ok, said, _) = district(&[&base[..], &["futian-001", "futian-002"]].concat());
    assert!(
        ok && said.contains("enrolled before") && said.contains("2 centres"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("futian-001/futian-001.nk")).unwrap(),
        seed
    );
    let auth = std::fs::read_to_string(out.join("authorization.conf")).unwrap();
    assert!(!auth.contains(seed.trim()), "public keys only");
    assert_eq!(
        auth.matches("nkey:").count(),
        3,
        "two centres and the ingest"
    );
}
