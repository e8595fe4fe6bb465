//! The Debian packages: `packaging/debian/build-debs` builds them from the
//! binaries this test run built, each holds what it should (Depends:
//! computed from its programs, its units enabled by deb-systemd-helper),
//! lintian finds no error, and all four install into a scratch root with
//! dpkg (its users and directories made there, not on the test machine).

use std::path::Path;
use std::process::Command;

use keting_system_tests::binaries;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_packages_hold_their_programs_and_units_and_install_into_a_scratch_root() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin_dir = binaries::path("kiosk").parent().unwrap().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("debs");
    let built = run(Command::new(repo.join("packaging/debian/build-debs"))
        .args(["--bin-dir", bin_dir.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        // gzip: quicker than xz, and lintian refuses no compression.
        .args(["--compress", "gzip"]));
    let debs: Vec<&str> = built.lines().collect();
    assert_eq!(debs.len(), 4, "{built}");
    let deb = |name: &str| {
        debs.iter()
            .find(|d| {
                Path::new(d)
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("{name}_"))
            })
            .unwrap()
            .to_string()
    };
    let contents = |name: &str| run(Command::new("dpkg-deb").args(["-c", &deb(name)]));
    let centre = contents("keting-centre");
    for file in [
        "./usr/bin/keting-centre",
        "./usr/bin/kiosk",
        "./lib/systemd/system/keting-centre.service",
        "./lib/systemd/system/keting-kiosk.service",
        "./lib/systemd/system/keting-backup.service",
        "./lib/systemd/system/keting-backup.timer",
        "./lib/systemd/system/keting-backup-push.service",
        "./lib/systemd/system/keting-first-boot.service",
        "./lib/systemd/system/keting-first-boot-apply.path",
        "./lib/systemd/system/keting-first-boot-apply.service",
        "./usr/lib/keting/first-boot-apply",
        "./usr/share/doc/keting-centre/README.md",
    ] {
        assert!(
            centre.contains(file),
            "keting-centre lacks {file}:\n{centre}"
        );
    }
    let agent = contents("keting-agent");
    assert!(
        agent.contains("./usr/bin/device-agent")
            && agent.contains("./lib/systemd/system/keting-agent.service"),
        "{agent}"
    );
    assert!(
        !agent.contains("kiosk"),
        "the agent's package carries no kiosk"
    );
    assert!(contents("keting-provision").contains("./usr/bin/keting-provision"));
    assert!(contents("keting-provision").contains("./usr/bin/keting-sim"));
    let district = contents("keting-district");
    for file in [
        "./usr/bin/keting-district",
        "./lib/systemd/system/keting-district.service",
        "./usr/share/doc/keting-district/nats-server.conf",
    ] {
        assert!(
            district.contains(file),
            "keting-district lacks {file}:\n{district}"
        );
    }
    let field = |name: &str, f: &str| run(Command::new("dpkg-deb").args(["-f", &deb(name), f]));
    assert_eq!(field("keting-agent", "Package").trim(), "keting-agent");
    // Depends: computed from the programs (dpkg-shlibdeps, with versions),
    // then what the scripts need.
    let depends = field("keting-centre", "Depends");
    assert!(
        depends.contains("libc6 (>= 2.") && depends.contains("adduser"),
        "{depends}"
    );
    assert!(
        field("keting-centre", "Description").lines().count() > 2,
        "an extended description"
    );
    // lintian: no error (warnings, such as a program without a manual page,
    // are allowed).
    let lint = Command::new("lintian")
        .args(["--fail-on", "error", "--tag-display-limit", "0"])
        .args(&debs)
        .output()
        .expect("lintian (./run-tests installs it)");
    let said = String::from_utf8_lossy(&lint.stdout);
    assert!(lint.status.success(), "lintian found errors:\n{said}");
    // Installed by the Debian way: the centre and its backup timer enabled.
    let scripts = run(Command::new("dpkg-deb").args(["--ctrl-tarfile", &deb("keting-centre")]));
    assert!(
        scripts.contains("deb-systemd-helper enable")
            && scripts.contains("keting-backup.timer")
            && scripts.contains("keting-kiosk.service"),
        "the centre's postinst enables its units with deb-systemd-helper"
    );
    let arch = run(Command::new("dpkg").arg("--print-architecture"));
    assert_eq!(
        field("keting-provision", "Architecture").trim(),
        arch.trim()
    );

    // A scratch root: dpkg's database and /etc only.
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg/updates")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    let host_passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    run(Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .args([
            "--force-script-chrootless",
            "--force-depends",
            "--force-not-root",
            "--log=/dev/null",
            "-i",
        ])
        .args(&debs));
    let listed = run(Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .arg("-l"));
    for name in [
        "keting-centre",
        "keting-agent",
        "keting-provision",
        "keting-district",
    ] {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with("ii") && l.split_whitespace().nth(1) == Some(name)),
            "{name} not installed:\n{listed}"
        );
    }
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(
        passwd.contains("keting:")
            && passwd.contains("keting-agent:")
            && passwd.contains("keting-district:"),
        "{passwd}"
    );
    use std::os::unix::fs::PermissionsExt;
    for (dir, mode) in [
        ("var/lib/keting", 0o700),
        ("var/backups/keting", 0o700),
        ("var/lib/keting-agent", 0o700),
        ("etc/keting", 0o755),
        ("etc/keting/district", 0o750),
    ] {
        let m = std::fs::metadata(root.join(dir))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(m, mode, "{dir}");
    }
    // systemd in the scratch root reads the agent's hardware-watchdog drop-in.
    let manager = run(Command::new("systemd-analyze")
        .arg(format!("--root={}", root.display()))
        .args(["cat-config", "systemd/system.conf"]));
    assert!(
        manager.contains("keting-watchdog.conf") && manager.contains("RuntimeWatchdogSec=15s"),
        "{manager}"
    );
    let version = run(Command::new(root.join("usr/bin/keting-provision")).arg("--version"));
    assert!(version.starts_with("keting-provision "), "{version}");
    assert_eq!(
        std::fs::read_to_string("/etc/passwd").unwrap(),
        host_passwd,
        "nothing installed on the test machine"
    );
}
