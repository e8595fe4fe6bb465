//! The staff dashboard in a browser's place: `keting-centre --http` on a
//! free port, spoken to in HTTP/1.1 as a browser does. Sign-in with card
//! and PIN (5 wrong PINs lock the card), a check-in at the kiosk reaching
//! the Today page's event stream within a second, an alarm acknowledged
//! by name (an observer sees no button and is refused), forms without the
//! session's token or from another origin refused with nothing written,
//! and the CSV export equal to the table on the screen.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use keting_desk::{self as desk, Actor};
use keting_system_tests::binaries::Process;
use keting_system_tests::http::{Reply, download, event_lines, hidden, request};

use crate::site_bed::{add_member, kiosk_cli};

const WAIT: Duration = Duration::from_secs(20);

fn staff(data: &Path, name: &str, role: &str, pin: &str) -> u32 {
    let (id, _) = add_member(data, name);
    keting_system_tests::binaries::staff_with_pin(data, id, role, pin);
    id
}

async fn centre(data: &Path) -> (Process, SocketAddr) {
    keting_system_tests::binaries::centre_with_dashboard(data).await
}

async fn sign_in(addr: SocketAddr, member: u32, pin: &str) -> Reply {
    request(
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={member}&pin={pin}"),
    )
    .await
}

/// Signs in; the session cookie and the page's CSRF token.
async fn session(addr: SocketAddr, member: u32, pin: &str) -> (String, String) {
    let r = sign_in(addr, member, pin).await;
    assert_eq!(r.status, 303, "{r:?}");
    let cookie = r.cookie("keting_session").expect("a session cookie");
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let today = request(addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(today.status, 200);
    (cookie.clone(), hidden(&today.body, "csrf").unwrap())
}

/// A new loopback address at each call: sign-in tries from many computers
/// (one computer waits after 3 wrong tries, before a card could lock).
fn another_computer() -> std::net::IpAddr {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        1,
        (n / 250) as u8,
        (n % 250 + 1) as u8,
    ))
}

async fn sign_in_from(from: std::net::IpAddr, addr: SocketAddr, member: u32, pin: &str) -> Reply {
    keting_system_tests::http::request_from(
        from,
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={member}&pin={pin}"),
    )
    .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn visits_today(page: &str) -> u64 {
    let at = page
        .find("id=\"visits-today\">")
        .expect("the visits figure")
        + 18;
    page[at..].split('<').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_see_a_check_in_live_and_acknowledge_an_alarm_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let liu = staff(&data, "刘\"主任\" & Co", "staff", "246810");
    let watcher = staff(&data, "来访者", "observer", "135790");
    let (chen, pass) = add_member(&data, "陈晓梅");
    let (centre, addr) = centre(&data).await;

    // No session: the sign-in page, for every page and the event stream.
    let r = request(addr, "GET", "/", &[], "").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/sign-in")));
    assert_eq!(request(addr, "GET", "/events", &[], "").await.status, 401);
    let form = request(addr, "GET", "/sign-in", &[], "").await;
    assert!(form.body.contains("工作人员登录") && form.body.contains("name=\"pin\""));

    let (cookie, csrf) = session(addr, liu, "246810").await;
    let today = request(addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(visits_today(&today.body), 0);
    assert!(
        today
            .body
            .contains("刘&quot;主任&quot; &amp; Co（工作人员）"),
        "a name is text, not markup"
    );
    assert!(today.body.contains("没有报警"));

    // A check-in at the kiosk: the page's event stream says so within 1 s.
    let mut events = event_lines(addr, "/events", &cookie).await;
    let first = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let scanned = Instant::now();
    kiosk_cli(&data, &["checkin", &pass]);
    let took = tokio::time::timeout(WAIT, async {
        while let Some(line) = events.recv().await {
            if line == "event: change" {
                return scanned.elapsed();
            }
        }
        panic!("the stream ended")
    })
    .await
    .expect("an event within 20 s");
    println!("check-in at the kiosk -> the dashboard's event: {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    let live = request(addr, "GET", "/live/today", &[("Cookie", &cookie)], "").await;
    assert_eq!(visits_today(&live.body), 1);

    // An alarm raised by a door (as the controller writes it).
    let db = rusqlite::Connection::open(data.join("keting.db")).unwrap();
    db.execute(
        "INSERT INTO alarms (device_id, kind, detail, raised_ms) VALUES ('gym-door', 'forced', '', ?1)",
        [std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64],
    )
    .unwrap();
    let id: i64 = db
        .query_row("SELECT max(id) FROM alarms", [], |r| r.get(0))
        .unwrap();
    let page_with_alarm = tokio::time::timeout(WAIT, async {
        loop {
            let p = request(addr, "GET", "/live/today", &[("Cookie", &cookie)], "").await;
            if p.body.contains("门被强行打开") {
                return p.body;
            }
            events.recv().await;
        }
    })
    .await
    .expect("the alarm on the page");
    assert!(page_with_alarm.contains("class=\"ack\""));

    // The observer sees it with no button, and is refused if they try.
    let (o_cookie, o_csrf) = session(addr, watcher, "135790").await;
    let seen = request(addr, "GET", "/", &[("Cookie", &o_cookie)], "").await;
    assert!(seen.body.contains("门被强行打开") && !seen.body.contains("class=\"ack\""));
    let r = request(
        addr,
        "POST",
        "/alarms/ack",
        &[("Cookie", &o_cookie)],
        &format!("csrf={o_csrf}&id={id}"),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("观察员不能确认报警"), "{}", r.body);
    // Without the session's token, or from another origin: refused.
    let r = request(
        addr,
        "POST",
        "/alarms/ack",
        &[("Cookie", &cookie)],
        &format!("csrf=forged&id={id}"),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = request(
        addr,
        "POST",
        "/alarms/ack",
        &[("Cookie", &cookie), ("Origin", "http://evil.example")],
        &format!("csrf={csrf}&id={id}"),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(kiosk_cli(&data, &["alarm", "list"]).contains(&format!("{id}")));
    assert!(
        !kiosk_cli(&data, &["alarm", "list"]).contains("acknowledged by"),
        "nothing written"
    );

    // The staff member acknowledges it: by name, in the audit.
    let r = request(
        addr,
        "POST",
        "/alarms/ack",
        &[("Cookie", &cookie), ("Origin", &format!("http://{addr}"))],
        &format!("csrf={csrf}&id={id}"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = kiosk_cli(&data, &["alarm", "list"]);
    assert!(
        list.contains(&format!("acknowledged by staff:{liu}")),
        "{list}"
    );
    let audit: String = db
        .query_row(
            "SELECT actor FROM audit WHERE action = 'alarm.ack' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audit, format!("staff:{liu}"));
    let history = request(addr, "GET", "/alarms", &[("Cookie", &cookie)], "").await;
    assert!(
        history.body.contains(&format!("staff:{liu}")) && history.body.contains("门被强行打开")
    );
    // The observer has no member forms either.
    let members = request(addr, "GET", "/members", &[("Cookie", &o_cookie)], "").await;
    assert!(members.body.contains("陈晓梅") && !members.body.contains("/members/add"));

    // Points: an observer has no award form and is refused, nothing written.
    let seen = request(addr, "GET", "/points", &[("Cookie", &o_cookie)], "").await;
    assert!(seen.body.contains("账目平衡") && !seen.body.contains("/points/award"));
    let award = |csrf: &str, worth: &str| {
        format!("csrf={csrf}&activity=%E6%89%AB%E9%9B%AA&worth={worth}&members={chen}")
    };
    let r = request(
        addr,
        "POST",
        "/points/award",
        &[("Cookie", &o_cookie)],
        &award(&o_csrf, "5"),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("您的角色不能发放积分"));
    let r = request(
        addr,
        "POST",
        "/points/award",
        &[("Cookie", &cookie)],
        &award(&csrf, "-5"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("1 到 10000"), "{}", r.body);
    let history = |c: &str| {
        let c = c.to_owned();
        async move {
            request(
                addr,
                "GET",
                &format!("/points?member={chen}"),
                &[("Cookie", &c)],
                "",
            )
            .await
            .body
        }
    };
    assert!(
        !history(&cookie).await.contains("扫雪"),
        "nothing awarded yet"
    );
    let r = request(
        addr,
        "POST",
        "/points/award",
        &[("Cookie", &cookie)],
        &award(&csrf, "5"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("已发放给 1 人"), "{}", r.body);
    let h = history(&cookie).await;
    assert!(
        h.contains("扫雪") && h.contains("+5") && h.contains(&format!("staff:{liu}")),
        "{h}"
    );
    assert!(h.contains("账目平衡"), "the ledger still sums to zero");

    // Signed out, the cookie is worth nothing.
    let r = request(
        addr,
        "POST",
        "/sign-out",
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, 303);
    let r = request(addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(r.status, 303);
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_pins_lock_the_card_and_the_csv_equals_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let liu = staff(&data, "刘主任", "staff", "246810");
    let wang = staff(&data, "王技术员", "technician", "112233");
    let mut ids = Vec::new();
    for name in ["陈晓梅", "李建国", "张伟"] {
        let (id, pass) = add_member(&data, name);
        kiosk_cli(&data, &["checkin", &pass]);
        ids.push(id.to_string());
    }
    let (centre, addr) = centre(&data).await;

    // A wrong PIN is answered as a card with no staff role or no PIN would
    // be: the page names nobody and counts nothing down. Each try comes
    // from another computer here: one computer waits after 3 (below).
    const NOBODY: &str = "姓名、工作证号或密码不对";
    for _ in 0..4 {
        let r = sign_in_from(another_computer(), addr, wang, "000000").await;
        assert_eq!(r.status, 401);
        assert!(
            r.body.contains(NOBODY) && !r.body.contains("还可再试"),
            "{}",
            r.body
        );
    }
    let not_staff = sign_in_from(another_computer(), addr, 9_999, "000000").await;
    assert_eq!(not_staff.status, 401);
    assert!(not_staff.body.contains(NOBODY), "{}", not_staff.body);
    let r = sign_in_from(another_computer(), addr, wang, "000000").await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("已锁定至"), "{}", r.body);
    let r = sign_in_from(another_computer(), addr, wang, "112233").await;
    assert_eq!(r.status, 429, "the right PIN waits out the lock");
    assert!(r.cookie("keting_session").is_none());
    // Bad input is refused with the reason, in the form.
    let r = sign_in_from(another_computer(), addr, 0, "12").await;
    assert_eq!(r.status, 401);
    let r = keting_system_tests::http::request_from(
        another_computer(),
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={}&pin=1", "9".repeat(10_000)),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("工作证号是数字"));

    // By name and password, with the same tries as the PIN.
    let mut set = std::process::Command::new(keting_system_tests::binaries::path("kiosk"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "staff",
            "password",
            &wang.to_string(),
            "--stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(set.stdin.take().unwrap(), "correct horse battery").unwrap();
    }
    assert!(set.wait().unwrap().success(), "a password clears the lock");
    let by_name = |password: &str| {
        let body = format!(
            "name={}&password={}",
            urlencode("王技术员"),
            urlencode(password)
        );
        async move {
            keting_system_tests::http::request_from(
                another_computer(),
                addr,
                "POST",
                "/sign-in",
                &[],
                &body,
            )
            .await
        }
    };
    let r = by_name("wrong horse battery").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains(NOBODY), "{}", r.body);
    let r = by_name("correct horse battery").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.cookie("keting_session").is_some());
    let r = keting_system_tests::http::request_from(
        another_computer(),
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("name={}&password=x", urlencode("无此人")),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains(NOBODY),
        "an unknown name, answered as a wrong password"
    );
    // And locked on its fifth try, as a real name would be.
    let unknown = format!("name={}&password=x", urlencode("无此人"));
    let nobody = || {
        keting_system_tests::http::request_from(
            another_computer(),
            addr,
            "POST",
            "/sign-in",
            &[],
            &unknown,
        )
    };
    for _ in 0..3 {
        assert_eq!(nobody().await.status, 401);
    }
    let r = nobody().await;
    assert_eq!(r.status, 429, "an unknown name locks as a real one does");
    assert!(r.body.contains("已锁定至"), "{}", r.body);
    // 刘主任 is staff with no password: answered the same.
    let r = keting_system_tests::http::request_from(
        another_computer(),
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("name={}&password=whatever-it-is", urlencode("刘主任")),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains(NOBODY),
        "no password set, answered as a wrong one"
    );

    let (cookie, csrf) = session(addr, liu, "246810").await;
    let en = [("Cookie", cookie.as_str())];
    // Members: every bad value refused with the reason in the form, nothing written.
    let count = || kiosk_cli(&data, &["member", "list"]).lines().count();
    let before = count();
    for (name, tail, reason) in [
        ("王".repeat(10_000), "", "姓名最多 40 个字"),
        (
            "<script>alert(1)</script>".to_owned(),
            "",
            "不能有 &lt; 或 &gt;",
        ),
        ("   ".to_owned(), "", "请填写姓名"),
        ("赵敏".to_owned(), "12ab", "手机尾号是 4 位数字"),
    ] {
        let r = request(
            addr,
            "POST",
            "/members/add",
            &en,
            &format!("csrf={csrf}&name={}&phone_tail={tail}", urlencode(&name)),
        )
        .await;
        assert_eq!(r.status, 400, "{name:.20}");
        assert!(r.body.contains(reason), "{name:.20}: {}", r.body);
    }
    assert_eq!(count(), before, "nothing written");
    let r = request(
        addr,
        "POST",
        "/members/add",
        &en,
        &format!("csrf={csrf}&name={}&phone_tail=1234", urlencode("赵敏")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("data:image/png;base64,") && r.body.contains("赵敏"));
    assert_eq!(count(), before + 1);
    let found = request(
        addr,
        "GET",
        &format!("/members?q={}", urlencode("赵敏")),
        &en,
        "",
    )
    .await;
    assert!(found.body.contains("1234"), "{}", found.body);
    // 陈晓梅 asks for her personal data to be deleted: her name goes, her
    // visit still counts, her pass is refused.
    let chen = &ids[0];
    let r = request(
        addr,
        "POST",
        "/members/erase",
        &en,
        &format!("csrf={csrf}&id={chen}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("个人信息已删除"));
    let list = kiosk_cli(&data, &["member", "list"]);
    assert!(
        !list.contains("陈晓梅") && list.contains("（已删除）"),
        "{list}"
    );
    let today = request(addr, "GET", "/traffic?period=day", &en, "").await;
    assert!(
        today.body.contains("id=\"total\">3<"),
        "the visits stay whole"
    );
    // 刘主任 is front-desk staff: a manager's card or data is not hers to
    // replace or delete (the new pass would be shown to her).
    let sun = staff(&data, "孙主任", "manager", "135790");
    let staff_list = || kiosk_cli(&data, &["staff", "list"]);
    for path in ["/members/reissue", "/members/erase"] {
        let r = request(addr, "POST", path, &en, &format!("csrf={csrf}&id={sun}")).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert!(
            r.body
                .contains("工作人员的卡和个人信息只能由主任补办或删除")
                && !r.body.contains("KT1."),
            "{path}: {}",
            r.body
        );
    }
    assert!(staff_list().contains("孙主任"), "the manager is untouched");
    let page = request(addr, "GET", "/traffic?period=day", &en, "").await;
    assert_eq!(page.status, 200);
    // The table's rows, as the screen shows them.
    let table = page
        .body
        .split("<table class=\"traffic\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    let cells: Vec<String> = table
        .split("<td>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    let screen: Vec<(String, String)> = cells
        .chunks(2)
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect();
    assert_eq!(screen.len(), 24);
    let total: u64 = screen.iter().map(|(_, v)| v.parse::<u64>().unwrap()).sum();
    assert_eq!(total, 3);
    let csv = request(addr, "GET", "/traffic.csv?period=day", &en, "").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv
        .body
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark for Excel");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("时段,到访"));
    let exported: Vec<(String, String)> = lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_owned(), b.to_owned())
        })
        .collect();
    assert_eq!(exported, screen, "the export equals the screen");
    // The workbook, read by openpyxl, holds the same rows.
    let (status, book) = download(addr, "/traffic.xlsx?period=day", &en).await;
    assert_eq!(status, 200);
    let path = dir.path().join("traffic.xlsx");
    std::fs::write(&path, &book).unwrap();
    let read = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import openpyxl, sys\n\
             wb = openpyxl.load_workbook(sys.argv[1])\n\
             print('|'.join(wb.sheetnames))\n\
             for row in wb.worksheets[0].iter_rows(values_only=True):\n    print(','.join(str(v) for v in row))",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let printed = String::from_utf8(read.stdout).unwrap();
    let mut lines = printed.lines();
    let names = lines.next().unwrap();
    assert!(names.contains("按到访类型"), "{names}");
    assert_eq!(lines.next(), Some("时段,到访"));
    let in_book: Vec<(String, String)> = lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_owned(), b.to_owned())
        })
        .collect();
    assert_eq!(in_book, screen, "the workbook equals the screen");

    // Bookings: a room of 10 places, 3 one-hour slots a day, nothing booked:
    // 30 days offer 900 places; the CSV says the same as the table.
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "reading-room",
            "--kind",
            "room",
            "--zh",
            "阅览室",
            "--en",
            "Reading room",
            "--hours",
            "09:00-12:00",
            "--slot",
            "60",
            "--capacity",
            "10",
        ],
    );
    let page = request(addr, "GET", "/bookings?days=30", &en, "").await;
    assert_eq!(page.status, 200);
    let row = page
        .body
        .split("<td>阅览室</td>")
        .nth(1)
        .expect("the room's row");
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(1)
        .take(6)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(cells, ["活动室", "09:00-12:00", "10", "900", "0", "0.0%"]);
    let csv = request(addr, "GET", "/bookings.csv?days=30", &en, "").await;
    assert!(
        csv.body
            .contains("阅览室,活动室,09:00-12:00,10,900,0,0.0%,0.00"),
        "{}",
        csv.body
    );
    let bad = request(addr, "GET", "/bookings?days=0", &en, "").await;
    assert_eq!(bad.status, 400);

    // A date in the wrong format: the reason, in the form; the month view works.
    let bad = request(
        addr,
        "GET",
        "/traffic?period=day&date=02%2F12%2F2026",
        &en,
        "",
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("日期格式应为 2026-12-02"));
    let month = request(addr, "GET", "/traffic?period=month", &en, "").await;
    assert!(month.body.contains("id=\"total\">3<"), "{}", month.body);

    // The monthly report: the visits; points awarded to three under a
    // name (no activity held: nobody closed one); then a calligraphy class
    // today that two attended, closed by its organiser: one held, two
    // participants.
    {
        use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
        let mut store = keting_store::Store::open(&data.join("keting.db")).unwrap();
        let cal = keting_core::calendar::SiteCalendar::china();
        let day = cal.date_of(keting_link::clock::now());
        let at = |minutes: i64| {
            keting_core::time::Timestamp::from_unix_millis(
                cal.start_of(day).as_unix_millis() + minutes * 60_000,
            )
        };
        let plan = ActivityPlan {
            title_zh: "书法班".into(),
            title_en: "Calligraphy".into(),
            room: "活动室".into(),
            starts: at(1),
            ends: at(61),
            capacity: 20,
            kind: ActivityKind::Class,
            audience: Audience::Everyone,
            points_per_hour: 0,
            organiser_name: String::new(),
        };
        let organiser = keting_core::ids::MemberId(liu);
        let id =
            desk::activities::add(&mut store, Actor::Staff(organiser), &plan, None, cal, at(0))
                .unwrap()[0];
        for m in &ids[..2] {
            let m = keting_core::ids::MemberId(m.parse().unwrap());
            desk::activities::attend(&mut store, Actor::Staff(organiser), id, m, at(5)).unwrap();
        }
        desk::activities::close(&mut store, Actor::Staff(organiser), id, cal, at(61)).unwrap();
    }
    // The monthly report: the visits, one activity awarded to three, 15 points.
    let r = request(
        addr,
        "POST",
        "/points/award",
        &en,
        &format!(
            "csrf={csrf}&activity=%E8%AF%BB%E4%B9%A6%E4%BC%9A&worth=5&members={}",
            ids.join("+")
        ),
    )
    .await;
    assert!(r.body.contains("已发放给 3 人"), "{}", r.body);
    let today_page = request(addr, "GET", "/", &en, "").await;
    assert!(
        today_page
            .body
            .contains("id=\"activities-today\">共 1 场，已举办 1 场，参加 2 人次"),
        "{}",
        today_page.body
    );
    let report = request(addr, "GET", "/report", &en, "").await;
    assert_eq!(report.status, 200);
    for (id, want) in [
        ("month-visits", "3"),
        ("month-activities", "1"),
        ("month-participants", "2"),
        ("month-points", "15"),
    ] {
        assert!(
            report.body.contains(&format!("id=\"{id}\">{want}<")),
            "{id}: {}",
            report.body
        );
    }
    assert!(report.body.contains("月报") && report.body.contains("居民满意度"));
    let bad = request(addr, "GET", "/report?month=2026-13", &en, "").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("月份格式应为 2026-12"));
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_real_browser_a_check_in_shows_on_today_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let liu = staff(&data, "刘主任", "staff", "246810");
    let watcher = staff(&data, "来访者", "observer", "135790");
    let (_, pass) = add_member(&data, "陈晓梅");
    let (centre, addr) = centre(&data).await;
    // Screenshots of every page stay in target/ to be looked at.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/dashboard.py");
    let out = tokio::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(format!("http://{addr}"))
        .arg(keting_system_tests::binaries::path("kiosk"))
        .arg(&data)
        .args([liu.to_string(), "246810".into(), watcher.to_string(), "135790".into(), pass])
        .arg(&shots)
        .output()
        .await
        .expect("python3 with selenium (./run-tests installs python3-selenium, chromium, chromium-driver)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(out.status.success(), "{said}");
    for page in [
        "sign-in-zh",
        "today-zh",
        "traffic-zh",
        "today-en",
        "traffic-en",
        "today-observer-zh",
        "activities-zh",
        "activity-zh",
        "activities-en",
        "activity-en",
    ] {
        let png = std::fs::metadata(shots.join(format!("{page}.png"))).unwrap();
        assert!(png.len() > 5_000, "{page}.png is {} bytes", png.len());
    }
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_gives_a_gym_month_a_role_and_a_pin_from_the_members_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let boss = staff(&data, "刘主任", "manager", "246810");
    let desk = staff(&data, "前台小王", "staff", "135790");
    let (li, _) = add_member(&data, "李建国");
    let (centre, addr) = centre(&data).await;
    let page = format!("/members/{li}");

    // A front-desk staff member: the gym month, but no staff section,
    // and a role posted anyway is refused with nothing written.
    let (cookie, csrf) = session(addr, desk, "135790").await;
    let p = request(addr, "GET", &page, &[("Cookie", &cookie)], "").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("李建国") && p.body.contains("续一个月"));
    assert!(
        !p.body.contains("工作人员权限"),
        "no staff section for staff"
    );
    let r = request(
        addr,
        "POST",
        &format!("{page}/role"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&role=manager"),
    )
    .await;
    assert_eq!(r.status, 403);
    // A date in the wrong format: the reason, nothing written.
    let r = request(
        addr,
        "POST",
        &format!("{page}/gym"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&what=until&until=31%2F12%2F2026"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("日期格式应为 2026-12-31"), "{}", r.body);
    assert!(r.body.contains("<td id=\"gym-until\">未缴费</td>"));
    let r = request(
        addr,
        "POST",
        &format!("{page}/gym"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&what=until&until=2027-01-31"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<td id=\"gym-until\">2027-01-31</td>"));
    let r = request(
        addr,
        "POST",
        &format!("{page}/gym"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&what=extend"),
    )
    .await;
    assert!(
        r.body.contains("<td id=\"gym-until\">2027-02-28</td>"),
        "{}",
        r.body
    );

    // The manager makes him a technician with a PIN; he signs in with it.
    let (cookie, csrf) = session(addr, boss, "246810").await;
    let r = request(
        addr,
        "POST",
        &format!("{page}/role"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&role=technician"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("角色已改为技术员"), "{}", r.body);
    for (pin, again, want) in [
        ("1234", "1234", "PIN 是 6 位数字"),
        ("975310", "975311", "两次输入不一致"),
    ] {
        let r = request(
            addr,
            "POST",
            &format!("{page}/pin"),
            &[("Cookie", &cookie)],
            &format!("csrf={csrf}&secret={pin}&again={again}"),
        )
        .await;
        assert_eq!(r.status, 400);
        assert!(r.body.contains(want), "{}", r.body);
    }
    assert_eq!(
        sign_in(addr, li, "975310").await.status,
        401,
        "no PIN set yet"
    );
    let r = request(
        addr,
        "POST",
        &format!("{page}/pin"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&secret=975310&again=975310"),
    )
    .await;
    assert!(r.body.contains("新 PIN 已设置"), "{}", r.body);
    assert!(!r.body.contains("975310"), "a PIN is never shown back");
    let (tech_cookie, _) = session(addr, li, "975310").await;
    let today = request(addr, "GET", "/", &[("Cookie", &tech_cookie)], "").await;
    assert!(today.body.contains("李建国（技术员）"));
    // A manager may not take their own role away.
    let r = request(
        addr,
        "POST",
        &format!("/members/{boss}/role"),
        &[("Cookie", &cookie)],
        &format!("csrf={csrf}&role=staff"),
    )
    .await;
    assert_eq!(r.status, 400);
    let db = rusqlite::Connection::open(data.join("keting.db")).unwrap();
    let audited: Vec<(String, String)> = db
        .prepare("SELECT actor, action FROM audit WHERE action IN ('gym.grant', 'staff.role', 'staff.pin_set') AND actor LIKE 'staff:%' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let (b, s) = (format!("staff:{boss}"), format!("staff:{desk}"));
    assert_eq!(
        audited,
        vec![
            (s.clone(), "gym.grant".to_owned()),
            (s, "gym.grant".to_owned()),
            (b.clone(), "staff.role".to_owned()),
            (b, "staff.pin_set".to_owned()),
        ]
    );
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_settings_refuse_bad_values_and_a_capacity_below_the_bookings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let liu = staff(&data, "刘主任", "staff", "246810");
    let watcher = staff(&data, "来访者", "observer", "135790");
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "room",
            "--kind",
            "room",
            "--zh",
            "活动室",
            "--en",
            "Room",
            "--hours",
            "00:00-24:00",
            "--slot",
            "60",
            "--capacity",
            "3",
            "--price",
            "29.9 yuan",
        ],
    );
    let now =
        time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    let tomorrow = now + time::Duration::days(1);
    let at = format!("{} 10:00", tomorrow.date());
    for name in ["陈晓梅", "李建国"] {
        let (id, _) = add_member(&data, name);
        let out = kiosk_cli(
            &data,
            &["booking", "book", &id.to_string(), "room", "--at", &at],
        );
        assert!(out.contains("29.90 yuan"), "{out}");
    }
    let (centre, addr) = centre(&data).await;
    let (cookie, csrf) = session(addr, liu, "246810").await;
    let form = |over: &[(&str, &str)]| {
        let mut fields = vec![
            ("name_zh", "活动室"),
            ("name_en", "Room"),
            ("hours", "00:00-24:00"),
            ("slot_minutes", "60"),
            ("capacity", "3"),
            ("price", "29.9 yuan"),
            ("trial_price", ""),
            ("per_day", "2"),
            ("per_week", "7"),
        ];
        for (k, v) in over {
            fields.iter_mut().find(|(f, _)| f == k).unwrap().1 = v;
        }
        let mut body = format!("csrf={csrf}");
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", urlencode(v)));
        }
        body
    };
    let long = "长".repeat(5000);
    let bad: [(&[(&str, &str)], &str); 6] = [
        (&[("capacity", "0")], "每场名额是 1 到 500 的整数"),
        (&[("price", "-5 yuan")], "不能为负"),
        (&[("hours", "9 to 5")], "开放时间写作"),
        (&[("name_zh", &long)], "中文名要 1 到 40 个字"),
        (&[("name_en", "<b>Room</b>")], "不能有 &lt; &gt;"),
        (&[("capacity", "1")], "已有 2 人预约，名额不能少于 2"),
    ];
    for (over, reason) in bad {
        let r = request(
            addr,
            "POST",
            "/bookings/resource/room",
            &[("Cookie", &cookie)],
            &form(over),
        )
        .await;
        assert_eq!(r.status, 400, "{over:?}");
        assert!(r.body.contains(reason), "{over:?}: {}", r.body);
    }
    let db = rusqlite::Connection::open(data.join("keting.db")).unwrap();
    let capacity = |db: &rusqlite::Connection| -> (i64, String) {
        db.query_row(
            "SELECT capacity, name_zh FROM resources WHERE id = 'room'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(capacity(&db), (3, "活动室".to_owned()), "nothing written");
    let r = request(
        addr,
        "POST",
        "/bookings/resource/room",
        &[("Cookie", &cookie)],
        &form(&[("capacity", "2"), ("name_zh", "一楼活动室")]),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("已保存"));
    assert_eq!(capacity(&db), (2, "一楼活动室".to_owned()));

    // The week: tomorrow's 10:00 holds both, full.
    let week = request(
        addr,
        "GET",
        &format!("/bookings/week?resource=room&week={}", tomorrow.date()),
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(week.status, 200);
    assert!(week.body.contains("<b>2</b>/2"), "{}", week.body);
    assert!(week.body.contains("陈晓梅、李建国"));
    // The utilisation row, on the screen and in the CSV alike.
    let page = request(addr, "GET", "/bookings?days=30", &[("Cookie", &cookie)], "").await;
    assert!(page.body.contains("售出的课程包") && page.body.contains("待检查的场次"));
    let row_at = page
        .body
        .find("<td>一楼活动室</td>")
        .expect("the room's row");
    let row = &page.body[row_at..page.body[row_at..].find("</tr>").unwrap() + row_at];
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap())
        .collect();
    let csv = request(
        addr,
        "GET",
        "/bookings.csv?days=30",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert!(csv.body.contains("应收（元）"), "{}", csv.body);
    let line = csv
        .body
        .lines()
        .find(|l| l.starts_with("一楼活动室,"))
        .unwrap();
    let fields: Vec<&str> = line.split(',').collect();
    assert_eq!(fields.last(), cells.get(7), "owed: {line} vs {cells:?}");
    assert_eq!(fields[fields.len() - 2], cells[6], "utilisation");

    // An observer sees the settings, with no form, and is refused.
    let (ocookie, ocsrf) = session(addr, watcher, "135790").await;
    let view = request(
        addr,
        "GET",
        "/bookings/resource/room",
        &[("Cookie", &ocookie)],
        "",
    )
    .await;
    assert!(view.body.contains("一楼活动室") && !view.body.contains("name=\"capacity\""));
    let r = request(
        addr,
        "POST",
        "/bookings/resource/room",
        &[("Cookie", &ocookie)],
        &form(&[("capacity", "9")]).replace(&csrf, &ocsrf),
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(capacity(&db).0, 2);
    let by: String = db
        .query_row(
            "SELECT actor FROM audit WHERE action = 'resource.add' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by, format!("staff:{liu}"));
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_secure_and_plain_http_gets_no_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let liu = staff(&data, "刘主任", "staff", "246810");
    let tls = keting_system_tests::site_tls::SiteTls::new();
    let files = tls.dir.path();

    // --https with no certificate and no imported site: said so, no start.
    let (ok, _, stderr) = keting_system_tests::binaries::run_status(
        "keting-centre",
        &[
            "--data",
            data.to_str().unwrap(),
            "--no-demo-devices",
            "--https",
            "127.0.0.1:0",
        ],
    );
    assert!(
        !ok && stderr.contains("--https needs a certificate"),
        "{stderr}"
    );

    let centre = Process::start(
        "keting-centre",
        &[
            "--data",
            data.to_str().unwrap(),
            "--no-demo-devices",
            "--mqtt-listen",
            "127.0.0.1:0",
            "--https",
            "127.0.0.1:0",
            "--https-cert",
            files.join("broker-chain.pem").to_str().unwrap(),
            "--https-key",
            files.join("broker.key").to_str().unwrap(),
        ],
        &[],
        "centre ready",
    )
    .await;
    let line = centre
        .wait_for_line("staff dashboard at https://", WAIT)
        .await;
    let addr: SocketAddr = line
        .rsplit("https://")
        .next()
        .unwrap()
        .trim_end_matches('/')
        .trim()
        .parse()
        .unwrap();
    let ca = files.join("ca.pem");
    let r = keting_system_tests::http::request_tls(
        addr,
        &ca,
        "POST",
        "/sign-in",
        &[],
        &format!("member={liu}&pin=246810"),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = r.cookie("keting_session").unwrap();
    let today =
        keting_system_tests::http::request_tls(addr, &ca, "GET", "/", &[("Cookie", &cookie)], "")
            .await;
    assert_eq!(today.status, 200);
    assert!(today.body.contains("刘主任（工作人员）"));
    // Plain HTTP to the TLS port: no page, no cookie.
    let plain = request(addr, "GET", "/sign-in", &[], "").await;
    assert_ne!(plain.status, 200);
    assert!(!plain.body.contains("工作人员登录"));
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_plan_sign_up_close_and_export_activities_and_a_lower_role_cannot() {
    use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let liu = staff(&data, "刘主任", "staff", "246810");
    let wang = staff(&data, "王技术员", "technician", "112233");
    let (chen, _) = add_member(&data, "陈晓梅");
    let volunteer = {
        let out = kiosk_cli(
            &data,
            &[
                "member",
                "add",
                "--name",
                "志愿者甲",
                "--role",
                "volunteer",
                "--json",
            ],
        );
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["id"].as_u64().unwrap() as u32
    };
    let (centre, addr) = centre(&data).await;
    let (cookie, csrf) = session(addr, liu, "246810").await;
    let h = [("Cookie", cookie.as_str())];
    let cal = keting_core::calendar::SiteCalendar::china();
    let today = cal.date_of(keting_link::clock::now());
    let tomorrow = today.next_day().unwrap();

    // Bad values: the reason in the page's words, nothing written.
    let form = |date: &str, start: &str, end: &str, cap: &str| {
        format!(
            "csrf={csrf}&title_zh=%E4%B9%A6%E6%B3%95%E7%8F%AD&title_en=Calligraphy&room=Room+2&date={date}&start={start}&end={end}&capacity={cap}&kind=class&points_per_hour=0&organiser=&repeat="
        )
    };
    for (body, want) in [
        (
            form(&tomorrow.to_string(), "10:00", "09:00", "20"),
            "结束时间要晚于开始时间",
        ),
        (
            form(&tomorrow.to_string(), "09:00", "10:00", "0"),
            "名额要在 1 到 500 之间",
        ),
        (
            form("31/12/2026", "09:00", "10:00", "20"),
            "日期格式应为 2026-12-31",
        ),
        (
            form(&tomorrow.to_string(), "9am", "10:00", "20"),
            "时间格式应为 09:00",
        ),
    ] {
        let r = request(addr, "POST", "/activities/add", &h, &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(r.body.contains(want), "{want}: {}", r.body);
    }
    let week = request(addr, "GET", &format!("/activities?week={tomorrow}"), &h, "").await;
    assert!(week.body.contains("本周共 0 场活动"), "{}", week.body);

    // Planned, then a resident signed up at the desk.
    let r = request(
        addr,
        "POST",
        "/activities/add",
        &h,
        &form(&tomorrow.to_string(), "09:00", "10:30", "20"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("已新增 1 场活动"), "{}", r.body);
    let id: i64 = r
        .body
        .split("href=\"/activities/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("a link to the new activity");
    let page = format!("/activities/{id}");
    let r = request(
        addr,
        "POST",
        &format!("{page}/signup"),
        &h,
        &format!("csrf={csrf}&member={chen}"),
    )
    .await;
    assert!(r.body.contains("id=\"note\">已报名<"), "{}", r.body);
    assert!(r.body.contains("id=\"places-left\">19<"), "{}", r.body);
    let r = request(
        addr,
        "POST",
        &format!("{page}/signup"),
        &h,
        &format!("csrf={csrf}&member={chen}"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("已经报过名了"), "{}", r.body);

    // A public holiday marked closed is listed; a bad date is refused.
    let r = request(
        addr,
        "POST",
        "/activities/closed-day",
        &h,
        &format!("csrf={csrf}&day=2027-02-17&reason=Spring+Festival"),
    )
    .await;
    assert!(r.body.contains("2027-02-17 已标为闭馆"), "{}", r.body);
    assert!(
        r.body.contains("<li>2027-02-17 Spring Festival</li>"),
        "{}",
        r.body
    );
    let r = request(
        addr,
        "POST",
        "/activities/closed-day",
        &h,
        &format!("csrf={csrf}&day=17/02&reason=x"),
    )
    .await;
    assert_eq!(r.status, 400);
    // Changed at the desk: the places may not go below those taken.
    let edit = |cap: &str| {
        format!(
            "csrf={csrf}&title_zh=%E4%B9%A6%E6%B3%95%E7%8F%AD&title_en=Calligraphy&room=Room+2&date={tomorrow}&start=09:00&end=10:30&capacity={cap}"
        )
    };
    let r = request(addr, "POST", &format!("{page}/edit"), &h, &edit("0")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("名额要在 1 到 500 之间"), "{}", r.body);
    let r = request(addr, "POST", &format!("{page}/edit"), &h, &edit("25")).await;
    assert!(
        r.body.contains("id=\"note\">已保存<") && r.body.contains("id=\"places-left\">24<"),
        "{}",
        r.body
    );
    let r = request(addr, "POST", &format!("{page}/edit"), &h, &edit("20")).await;
    assert!(r.body.contains("id=\"note\">已保存<"), "{}", r.body);
    // The CSV equals the page: one row, 1 of 20 taken.
    let csv = request(
        addr,
        "GET",
        &format!("/activities.csv?week={tomorrow}"),
        &h,
        "",
    )
    .await;
    assert_eq!(csv.status, 200);
    let rows: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(rows.len(), 2, "{}", csv.body);
    assert!(
        rows[1].contains(",书法班,Calligraphy,课程,20,1,0,0,报名中"),
        "{}",
        rows[1]
    );
    let xlsx = request(
        addr,
        "GET",
        &format!("/activities.xlsx?week={tomorrow}"),
        &h,
        "",
    )
    .await;
    assert_eq!(xlsx.status, 200);

    // A technician may look but not plan, sign up or close.
    let (tcookie, tcsrf) = session(addr, wang, "112233").await;
    let th = [("Cookie", tcookie.as_str())];
    let seen = request(addr, "GET", &page, &th, "").await;
    assert_eq!(seen.status, 200);
    assert!(
        !seen.body.contains("/signup\""),
        "no sign-up form for a technician"
    );
    let r = request(
        addr,
        "POST",
        &format!("{page}/signup"),
        &th,
        &format!("csrf={tcsrf}&member={chen}"),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("您的角色不能管理活动"), "{}", r.body);

    // Yesterday's volunteer shift: a check-in, no check-out. Closing asks
    // for the time; confirmed, it pays once.
    let id = {
        let mut store = keting_store::Store::open(&data.join("keting.db")).unwrap();
        let yesterday = today.previous_day().unwrap();
        let at = |minutes: i64| {
            keting_core::time::Timestamp::from_unix_millis(
                cal.start_of(yesterday).as_unix_millis() + minutes * 60_000,
            )
        };
        let plan = ActivityPlan {
            title_zh: "图书整理".into(),
            title_en: "Library shelving".into(),
            room: "图书室".into(),
            starts: at(14 * 60),
            ends: at(17 * 60),
            capacity: 4,
            kind: ActivityKind::Volunteer,
            audience: Audience::Volunteers,
            points_per_hour: 10,
            organiser_name: String::new(),
        };
        let organiser = keting_core::ids::MemberId(liu);
        let id =
            desk::activities::add(&mut store, Actor::Staff(organiser), &plan, None, cal, at(0))
                .unwrap()[0];
        let v = keting_core::ids::MemberId(volunteer);
        desk::activities::attend(&mut store, Actor::Staff(organiser), id, v, at(14 * 60 + 5))
            .unwrap();
        id
    };
    let page = format!("/activities/{id}");
    let r = request(
        addr,
        "POST",
        &format!("{page}/close"),
        &h,
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("有 1 位志愿者没有签退"), "{}", r.body);
    let r = request(
        addr,
        "POST",
        &format!("{page}/hours"),
        &h,
        &format!("csrf={csrf}&member={volunteer}&minutes=181"),
    )
    .await;
    assert!(
        r.body.contains("服务时长不能超过本班次的 180 分钟"),
        "{}",
        r.body
    );
    let r = request(
        addr,
        "POST",
        &format!("{page}/hours"),
        &h,
        &format!("csrf={csrf}&member={volunteer}&minutes=150"),
    )
    .await;
    assert!(r.body.contains("时长 150 分钟已确认"), "{}", r.body);
    let r = request(
        addr,
        "POST",
        &format!("{page}/close"),
        &h,
        &format!("csrf={csrf}"),
    )
    .await;
    assert!(
        r.body.contains("已结束：1 人到场，1 位志愿者共 25 积分"),
        "{}",
        r.body
    );
    let r = request(
        addr,
        "POST",
        &format!("{page}/close"),
        &h,
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, 400, "closing twice pays nothing more");
    let balance = kiosk_cli(&data, &["points", "balance", &volunteer.to_string()]);
    assert!(balance.contains("25"), "{balance}");
    // And the month's report counts it (started yesterday: this month
    // unless today is the 1st).
    if today.day() != 1 {
        let report = request(addr, "GET", "/report", &h, "").await;
        assert!(
            report.body.contains("id=\"month-volunteer-hours\">2.5<"),
            "{}",
            report.body
        );
    }
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_computer_cannot_lock_a_card_nor_hold_the_dashboard_with_idle_connections() {
    use keting_system_tests::http::request_from;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let manager = staff(&data, "刘主任", "manager", "246810");
    let (_, pass) = add_member(&data, "陈晓梅");
    let (centre, addr) = centre(&data).await;
    let office: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let other: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    // Three wrong PINs from another computer: it waits, before the card locks.
    for _ in 0..3 {
        let r = request_from(
            other,
            addr,
            "POST",
            "/sign-in",
            &[],
            &format!("member={manager}&pin=000000"),
        )
        .await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let r = request_from(
        other,
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={manager}&pin=246810"),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("这台电脑输错太多次"), "{}", r.body);
    // The manager, at the office computer, is not locked out.
    let r = request_from(
        office,
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={manager}&pin=246810"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.cookie("keting_session").unwrap();

    // A thousand idle connections from the other computer: the office is
    // still served at once, a check-in still lands, and the log stays small.
    let raised =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    nix::sys::resource::setrlimit(
        nix::sys::resource::Resource::RLIMIT_NOFILE,
        raised.1,
        raised.1,
    )
    .unwrap();
    let mut idle = Vec::new();
    for _ in 0..1000 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(std::net::SocketAddr::new(other, 0)).unwrap();
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), socket.connect(addr)).await
        {
            idle.push(s);
        }
    }
    let t = Instant::now();
    let today = request_from(office, addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(today.status, 200);
    let r = request_from(
        office,
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={manager}&pin=246810"),
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "served in {:?}",
        t.elapsed()
    );
    let scan = kiosk_cli(&data, &["checkin", &pass]);
    assert!(scan.contains("accepted"), "{scan}");
    // A new MQTT client (a device reconnecting) still gets in.
    let line = centre
        .wait_for_line("embedded MQTT broker started", WAIT)
        .await;
    let port: u16 = line
        .split("127.0.0.1:")
        .nth(1)
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("a broker address in {line:?}"));
    let mut o = rumqttc::MqttOptions::new("a-device-back", "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    let (_client, mut events) = rumqttc::AsyncClient::new(o, 4);
    let connected = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await;
    assert_eq!(connected, Ok(true), "the broker answers a new client");
    drop(idle);
    let warned = centre.log().matches("connections from one address").count();
    assert!(warned <= 5, "{warned} lines about the idle connections");
    centre.stop().await;
}
