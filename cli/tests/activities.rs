//! `kiosk activity ...` as staff and scripts use it: a class planned,
//! filled, its waiting list offered a freed place; a session on now that
//! counts attendance and will not close before its end; a week listed; bad
//! input refused with the reason and nothing written.

use crate::util::TestKiosk;

/// The site's local time (China, UTC+8) `minutes` from now, as the
/// command line takes it.
fn local_in(minutes: i64) -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8))
        + time::Duration::minutes(minutes);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

fn add(k: &TestKiosk, room: &str, start: &str, end: &str, capacity: &str) -> String {
    k.ok(&[
        "activity",
        "add",
        "--zh",
        "书法班",
        "--en",
        "Calligraphy",
        "--room",
        room,
        "--start",
        start,
        "--end",
        end,
        "--capacity",
        capacity,
    ])
    .trim()
    .to_owned()
}

fn fails(k: &TestKiosk, args: &[&str], want: &str) {
    let out = k.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(stderr.contains(want), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn a_class_fills_its_waiting_list_is_offered_a_freed_place_and_a_session_on_now_counts_attendance()
{
    let k = TestKiosk::new();
    let tomorrow = local_in(24 * 60);
    let day = &tomorrow[..10];
    let id = add(
        &k,
        "活动室 2",
        &format!("{day} 09:00"),
        &format!("{day} 10:30"),
        "2",
    );
    assert!(id.parse::<i64>().is_ok(), "prints the new number: {id}");
    let members: Vec<String> = ["甲", "乙", "丙"]
        .iter()
        .map(|n| k.add_member(n).0.to_string())
        .collect();
    let said: Vec<String> = members
        .iter()
        .map(|m| k.ok(&["activity", "signup", &id, m]).trim().to_owned())
        .collect();
    assert_eq!(said, ["place", "place", "waiting 1"]);
    fails(
        &k,
        &["activity", "signup", &id, &members[0]],
        "already signed up",
    );

    k.ok(&["activity", "cancel", &id, &members[0]]);
    let show = k.ok(&["activity", "show", &id]);
    assert!(
        show.lines()
            .any(|l| l.contains("丙") && l.contains("offered until")),
        "{show}"
    );
    assert_eq!(
        k.ok(&["activity", "signup", &id, &members[2]]).trim(),
        "place"
    );
    // Tomorrow's class is not on now.
    fails(
        &k,
        &["activity", "attend", &id, &members[1]],
        "not on in this room now",
    );
    let week = k.ok(&["activity", "list", "--week", day]);
    assert!(
        week.lines()
            .any(|l| l.contains("书法班") && l.contains("0/2")),
        "{week}"
    );

    // A session on now: attendance counts; it cannot close before its end.
    let now_id = add(&k, "图书室", &local_in(-30), &local_in(60), "10");
    let greeted = k.ok(&["activity", "attend", &now_id, &members[0]]);
    assert!(
        greeted.contains("甲") && greeted.contains("Arrived"),
        "{greeted}"
    );
    let sheet = k.ok(&["activity", "hours", &now_id]);
    assert!(sheet.contains("attended: 1"), "{sheet}");
    let (staff, _) = k.add_member("值班员");
    fails(
        &k,
        &["activity", "close", &now_id, "--staff", &staff.to_string()],
        "may not",
    );
    k.ok(&["staff", "role", &staff.to_string(), "--role", "staff"]);
    fails(
        &k,
        &["activity", "close", &now_id, "--staff", &staff.to_string()],
        "not ended",
    );
}

#[test]
fn bad_activity_input_is_refused_with_its_reason_and_nothing_written() {
    let k = TestKiosk::new();
    let day = &local_in(24 * 60)[..10];
    let base = |start: &str, end: &str, cap: &str| -> Vec<String> {
        [
            "activity",
            "add",
            "--zh",
            "讲座",
            "--en",
            "Talk",
            "--room",
            "大厅",
            "--start",
            start,
            "--end",
            end,
            "--capacity",
            cap,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            base(&format!("{day} 10:00"), &format!("{day} 09:00"), "20"),
            "ends before it starts",
        ),
        (
            base(&format!("{day} 09:00"), &format!("{day} 10:00"), "0"),
            "capacity",
        ),
        (
            base(&format!("{day} 9am"), &format!("{day} 10:00"), "20"),
            "HH:MM",
        ),
        (
            [
                base(&format!("{day} 09:00"), &format!("{day} 10:00"), "20"),
                vec!["--kind".into(), "party".into()],
            ]
            .concat(),
            "class, lecture, event or volunteer",
        ),
        (
            [
                base(&format!("{day} 09:00"), &format!("{day} 10:00"), "20"),
                vec!["--repeat".into(), "every day".into()],
            ]
            .concat(),
            "daily until",
        ),
        (
            [
                base(&format!("{day} 09:00"), &format!("{day} 10:00"), "20"),
                vec!["--points-per-hour".into(), "5".into()],
            ]
            .concat(),
            "only a volunteer shift",
        ),
    ];
    for (args, want) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&k, &args, want);
    }
    let week = k.ok(&["activity", "list", "--week", day]);
    assert!(week.contains("(0 activities)"), "nothing written: {week}");
    let (m, _) = k.add_member("王");
    fails(
        &k,
        &["activity", "signup", "99", &m.to_string()],
        "activity 99 not found",
    );
    fails(&k, &["activity", "cancel", "99"], "--reason");
    fails(
        &k,
        &["activity", "policy", "--offer-minutes", "1"],
        "5 to 2880 minutes",
    );
    let repeat = k.ok(&[
        "activity",
        "add",
        "--zh",
        "太极",
        "--en",
        "Taiji",
        "--room",
        "广场",
        "--start",
        &format!("{day} 07:00"),
        "--end",
        &format!("{day} 08:00"),
        "--capacity",
        "30",
        "--repeat",
        &format!("daily until {day}"),
    ]);
    assert_eq!(repeat.lines().count(), 1, "{repeat}");
}
