//! The command line, as staff and scripts use it.

use std::io::Write;

use crate::util::{TestKiosk, kiosk_bin};

fn stats_csv(k: &TestKiosk, day: &str) -> Vec<(String, u64)> {
    k.ok(&["stats", "--day", day, "--csv"])
        .lines()
        .skip(1)
        .map(|l| {
            let (h, n) = l.split_once(',').expect("csv row");
            (h.to_owned(), n.parse().expect("count"))
        })
        .collect()
}

#[test]
fn add_check_in_and_see_the_visit_in_stats() {
    let k = TestKiosk::new();
    let (id, pass) = k.add_member("王秀英");
    assert!(pass.starts_with("KT1.") && pass.len() <= 160, "{pass}");

    let first = k.checkin(&pass);
    assert_eq!(first["accepted"], true);
    assert_eq!(first["counted"], true);
    assert_eq!(first["member"]["id"], id);
    assert_eq!(first["member"]["name"], "王秀英");

    // A second scan a moment later is welcomed but counted once.
    let again = k.checkin(&pass);
    assert_eq!(
        (again["accepted"].as_bool(), again["counted"].as_bool()),
        (Some(true), Some(false))
    );

    let at = first["at"].as_str().expect("at"); // 2026-11-22T11:31:05.123+08:00
    let (day, hour) = (&at[..10], &at[11..13]);
    let rows = stats_csv(&k, day);
    assert_eq!(rows.len(), 24);
    assert_eq!(rows.iter().map(|(_, n)| n).sum::<u64>(), 1);
    assert_eq!(
        rows.iter()
            .find(|(h, _)| h.starts_with(hour))
            .map(|(_, n)| *n),
        Some(1),
        "{rows:?}"
    );

    // The month view counts the same visit on that day.
    let month = k.ok(&["stats", "--month", &day[..7], "--csv"]);
    assert!(
        month.lines().any(|l| l == format!("{day},1,0,0,0.0")),
        "{month}"
    );
    // The table for people shows the total.
    assert!(k.ok(&["stats", "--day", day]).contains(": 1 in all"));
}

#[test]
fn a_clock_that_reads_1970_or_behind_the_last_visit_records_no_visit_and_says_why() {
    let k = TestKiosk::new();
    let (_, pass) = k.add_member("陈晓梅");
    let first = k.checkin(&pass);
    assert_eq!(first["counted"], true);
    let day = &first["at"].as_str().unwrap()[..10];
    // `kiosk checkin` with the wall clock at (or shifted by) `faketime`.
    let scan_at = |faketime: &str| -> serde_json::Value {
        let out = k
            .command(&["checkin", &pass])
            .env("LD_PRELOAD", keting_system_tests::binaries::libfaketime())
            .env("FAKETIME", faketime)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // A Pi with no real-time clock that woke in 1970.
    let v = scan_at("@1970-01-02 10:00:00");
    assert_eq!(
        (&v["accepted"], &v["reason"]),
        (&false.into(), &"clock_wrong".into()),
        "{v}"
    );
    // One that woke at the time it last saved, a day behind the visit.
    let v = scan_at("-1d");
    assert_eq!(
        (&v["accepted"], &v["reason"]),
        (&false.into(), &"clock_wrong".into()),
        "{v}"
    );
    // A clock NTP stepped back by 30 s is right: a repeat scan, welcomed.
    let v = scan_at("-30s");
    assert_eq!(
        (&v["accepted"], &v["counted"]),
        (&true.into(), &false.into()),
        "{v}"
    );
    // One visit in all, on its day; none in 1970.
    assert_eq!(stats_csv(&k, day).iter().map(|(_, n)| n).sum::<u64>(), 1);
    for other in ["1970-01-02", "1970-01-01"] {
        assert_eq!(stats_csv(&k, other).iter().map(|(_, n)| n).sum::<u64>(), 0);
    }
}

#[test]
fn a_revoked_pass_is_refused_and_the_new_one_works() {
    let k = TestKiosk::new();
    let (id, old) = k.add_member("李建国");
    let out = k.ok(&["member", "revoke", &id.to_string()]);
    let new = out
        .lines()
        .find_map(|l| l.strip_prefix("pass"))
        .expect("new pass")
        .trim()
        .to_owned();
    assert_ne!(new, old);

    let refused = k.checkin(&old);
    assert_eq!(refused["accepted"], false);
    assert_eq!(refused["reason"], "revoked");
    assert_eq!(k.checkin(&new)["accepted"], true);
    assert_eq!(k.ok(&["member", "pass", &id.to_string()]).trim(), new);
}

#[test]
fn garbage_is_refused_as_not_a_pass_and_nothing_crashes() {
    let k = TestKiosk::new();
    k.add_member("张玥");
    // 4 KiB of pseudo-random bytes (fixed seed), a URL, an empty line, invalid UTF-8.
    let mut x: u32 = 0x9e37_79b9;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as u8) | 1 // odd: never NUL, never a newline, so it stays one line
        })
        .collect();
    let mut input = Vec::new();
    input.extend_from_slice(&random);
    input.extend_from_slice(b"\nhttps://example.com/pay?id=42\n\n\xff\xfe\xfd\nKT1.AAAA.BBBB\n");

    let mut child = k.spawn_checkin_from_stdin();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for l in &lines {
        assert_eq!(
            (l["accepted"].as_bool(), l["reason"].as_str()),
            (Some(false), Some("not_a_pass")),
            "{l}"
        );
    }
    // An argument that is not UTF-8 is a decision too.
    use std::os::unix::ffi::OsStrExt;
    let out = k
        .command(&["checkin"])
        .arg(std::ffi::OsStr::from_bytes(b"\xff\xfe"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("not_a_pass"));
}

#[test]
fn a_pass_of_another_site_says_so() {
    let ours = TestKiosk::new();
    let theirs = TestKiosk::new();
    ours.add_member("王秀英");
    let (_, foreign) = theirs.add_member("王秀英");
    let r = ours.checkin(&foreign);
    assert_eq!(
        (r["accepted"].as_bool(), r["reason"].as_str()),
        (Some(false), Some("wrong_site"))
    );
}

#[test]
fn a_pass_never_reaches_a_log_line() {
    let k = TestKiosk::new();
    let (id, old) = k.add_member("陈晓梅");
    k.ok(&["member", "revoke", &id.to_string()]);
    let out = k
        .command(&["checkin", &old])
        .env("KETING_LOG", "trace")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("revoked"),
        "the refusal is logged: {stderr}"
    );
    let signature = old.rsplit('.').next().unwrap();
    assert!(!stderr.contains(signature), "a pass was logged: {stderr}");
}

#[test]
fn bad_input_is_one_clear_error() {
    let k = TestKiosk::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["member", "add", "--name", "王", "--phone-tail", "12a4"],
            "last 4 digits",
        ),
        (&["member", "add", "--name", "   "], "cannot be empty"),
        (
            &["member", "add", "--name", "王", "--role", "mayor"],
            "unknown role",
        ),
        (&["member", "revoke", "999"], "member 999 not found"),
        (&["stats", "--day", "2026-02-30"], "YYYY-MM-DD"),
        (&["stats", "--month", "2026-13"], "YYYY-MM"),
        (
            &["screenshot", "--page", "nope", "--out", "/tmp/x.png"],
            "no page",
        ),
    ];
    for (args, want) in cases {
        let out = k.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unusable_data_directory_is_named_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let data = file.join("data");
    let out = std::process::Command::new(kiosk_bin())
        .arg("--data")
        .arg(&data)
        .args(["stats"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&data.display().to_string()), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
}

#[test]
fn a_qr_image_is_written_on_request() {
    let k = TestKiosk::new();
    let qr = k.dir.path().join("pass.png");
    k.ok(&[
        "member",
        "add",
        "--name",
        "王秀英",
        "--qr",
        qr.to_str().unwrap(),
    ]);
    let (w, h, pixels, _) = crate::util::read_png(&qr);
    assert_eq!(w, h);
    assert!(pixels.contains(&0) && pixels.contains(&255));
}

#[test]
fn help_names_every_command() {
    let out = std::process::Command::new(kiosk_bin())
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["member", "checkin", "stats", "screenshot", "--data"] {
        assert!(help.contains(cmd), "{cmd} missing from --help:\n{help}");
    }
}

#[test]
fn the_window_without_a_display_says_what_to_do() {
    let k = TestKiosk::new();
    let out = k
        .command(&[])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no display") && stderr.contains("linuxkms"),
        "{stderr}"
    );
}

#[test]
fn a_screen_with_no_centre_yet_makes_no_site_and_says_to_start_the_centre() {
    let k = TestKiosk::new();
    let out = k.command(&["--screen"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no centre in") && stderr.contains("keting-centre"),
        "{stderr}"
    );
    assert!(
        !k.data().join("keting.db").exists(),
        "a screen never makes a site of its own"
    );
}

#[test]
fn the_sites_booking_rules_are_shown_changed_and_kept_and_a_bad_one_is_refused() {
    let k = TestKiosk::new();
    let shown = k.ok(&["booking", "policy"]);
    assert!(
        shown.contains("until 120 min before")
            && shown.contains("waits 10 min")
            && shown.contains("opens 15 min"),
        "{shown}"
    );
    k.ok(&["booking", "policy", "--cancel-before", "60"]);
    let kept = k.ok(&["booking", "policy"]);
    assert!(
        kept.contains("until 60 min before") && kept.contains("waits 10 min"),
        "{kept}"
    );
    let refused = k.run(&["booking", "policy", "--start-grace", "0"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("at least 1 minute"), "{stderr}");
    assert!(
        k.ok(&["booking", "policy"]).contains("waits 10 min"),
        "nothing changed"
    );
}

#[test]
fn staff_get_a_role_and_a_pin_from_standard_input_and_a_bad_pin_changes_nothing() {
    use std::io::Write;
    let k = TestKiosk::new();
    let (id, _) = k.add_member("刘主任");
    let id = id.to_string();
    let out = k.ok(&["staff", "role", &id, "--role", "technician"]);
    assert!(
        out.contains("technician") && out.contains("kiosk staff pin"),
        "{out}"
    );
    let set_pin = |pin: &str| {
        let mut child = k
            .command(&["staff", "pin", &id, "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
        child.wait_with_output().unwrap()
    };
    let bad = set_pin("12345");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("6 digits"));
    assert!(k.ok(&["staff", "list"]).contains("none"), "no PIN was set");
    let good = set_pin("802413");
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let list = k.ok(&["staff", "list"]);
    assert!(
        list.contains("technician") && list.contains("set"),
        "{list}"
    );
    // The database holds the hash, the audit who set it; neither the PIN.
    let db = std::fs::read(k.data().join("keting.db")).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&db).contains("802413"));
    let refused = k.run(&["staff", "role", "999", "--role", "staff"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not found"));
    assert!(k.ok(&["staff", "remove", &id]).contains("no longer staff"));
}

#[test]
fn a_backup_restores_the_members_into_a_new_machine_and_not_into_another_site() {
    let k = TestKiosk::new();
    let add = k.ok(&["member", "add", "--name", "王秀英", "--json"]);
    let backups = k.dir.path().join("backups");
    let made = k.ok(&["backup", "create", "--to", backups.to_str().unwrap()]);
    let made = made.trim();
    assert!(made.contains("keting-"), "{made}");
    let verified = k.ok(&["backup", "verify", made]);
    assert!(verified.contains("integrity check pass"), "{verified}");
    // A new machine: an empty data directory takes the backup.
    let fresh = TestKiosk::new();
    let restored = fresh.ok(&["backup", "restore", made]);
    assert!(restored.contains("restored site"), "{restored}");
    let list = fresh.ok(&["member", "list"]);
    assert!(list.contains("王秀英"), "{list}\n{add}");
    // Another site's kiosk refuses it, saying why.
    let other = TestKiosk::new();
    other.ok(&["member", "list"]);
    let out = other.run(&["backup", "restore", made]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("restore it into its own site's data directory"),
        "{err}"
    );
    assert!(!other.ok(&["member", "list"]).contains("王秀英"));
}

#[test]
fn the_command_line_refuses_the_resource_settings_the_dashboard_refuses() {
    // The same rule (the core's, through the bookings desk) as the
    // dashboard's settings form: a 10 KB name, markup, capacity 0 or 501,
    // 0 bookings a day. Nothing is written.
    let k = TestKiosk::new();
    let long = "长".repeat(5000);
    let refused: [(&[&str], &str); 5] = [
        (
            &["--zh", &long],
            "the Chinese name must be 1 to 40 characters",
        ),
        (
            &["--en", "<b>Room</b>"],
            "the English name must be 1 to 40 characters",
        ),
        (&["--capacity", "0"], "the capacity must be 1 to 500"),
        (&["--capacity", "501"], "the capacity must be 1 to 500"),
        (&["--per-day", "0"], "1 to 50 sessions a day"),
    ];
    for (over, why) in refused {
        let mut args = vec!["resource", "add", "room", "--kind", "room"];
        let mut fields = vec![("--zh", "活动室"), ("--en", "Room")];
        for pair in over.chunks(2) {
            match fields.iter_mut().find(|(k, _)| *k == pair[0]) {
                Some(f) => f.1 = pair[1],
                None => fields.push((pair[0], pair[1])),
            }
        }
        for (k, v) in &fields {
            args.extend([*k, *v]);
        }
        let out = k.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{over:?} was accepted");
        assert!(stderr.contains(why), "{over:?}: {stderr}");
    }
    assert!(
        !k.ok(&["resource", "list"]).contains("room"),
        "nothing written"
    );
    k.ok(&[
        "resource",
        "add",
        "room",
        "--kind",
        "room",
        "--zh",
        "活动室",
        "--en",
        "Room",
    ]);
    assert!(k.ok(&["resource", "list"]).contains("活动室"));
}

/// A tmpfs of `size` mounted on a temporary directory, unmounted on drop
/// (root: ./run-tests runs the tests so, as CI does).
struct SmallCard {
    dir: tempfile::TempDir,
}

impl SmallCard {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(
            ok.success(),
            "mounting a tmpfs needs root, as ./run-tests runs"
        );
        Self { dir }
    }
}

impl Drop for SmallCard {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_card_at_start_is_said_and_nothing_is_lost() {
    let card = SmallCard::mount("4M");
    let data = card.dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let added = std::process::Command::new(kiosk_bin())
        .args(["--data", data_s, "member", "add", "--name", "王秀英"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    // The card fills up (a log, a camera's pictures, anything).
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", card.dir.path().join("fill").display()))
        .output();
    // The screen at start, with no display here: the journal says what is
    // wrong with the card before anything else.
    let screen = std::process::Command::new(kiosk_bin())
        .args(["--data", data_s])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("KETING_LOG", "info")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&screen.stderr);
    assert!(!screen.status.success());
    assert!(
        said.contains("No space left on device")
            && said.contains("check-in is paused, the screen says so"),
        "{said}"
    );
    // Room again: the resident is still there.
    std::fs::remove_file(card.dir.path().join("fill")).unwrap();
    let members = std::process::Command::new(kiosk_bin())
        .args(["--data", data_s, "member", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&members.stdout).contains("王秀英"));
}
