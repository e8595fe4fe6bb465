//! The residents' own pages (`keting-centre --resident-http`) spoken to as
//! a phone's browser does: a phone bound with a staff member's one-time
//! link and the number picked (a wrong number, a reused or made-up link
//! refused alike), the live pass read back from the page's QR and taken at
//! the kiosk, refused there two minutes later; a booking made and
//! cancelled, a full slot's waiting list joined and the freed place shown
//! with its check-in time; an activity's freed place offered and taken;
//! the points page equal to the ledger; another member's ids refused with
//! nothing written; forms without the phone's token or from another
//! origin refused; a new card signing the phone out. And in a real
//! browser at a phone's size, in large text and without JavaScript: every
//! page in both languages, looked at (`target/resident-screenshots`).

use std::net::SocketAddr;
use std::path::Path;

use keting_system_tests::binaries::{self, Process};
use keting_system_tests::http::{Reply, hidden, request};

use crate::site_bed::{add_member, kiosk_cli};

/// The residents' pages of a centre on `data`.
async fn centre(data: &Path) -> (Process, SocketAddr) {
    let (p, residents, _) = binaries::centre_with_residents(data).await;
    (p, residents)
}

/// Local time (UTC+8) `minutes` from now, as the command line takes it.
fn local_in(minutes: i64) -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8))
        + time::Duration::minutes(minutes);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// `kiosk phone link MEMBER`: (path, number).
fn link(data: &Path, member: u32) -> (String, u8) {
    let out = kiosk_cli(data, &["phone", "link", &member.to_string()]);
    let path = out
        .lines()
        .find_map(|l| l.strip_prefix("link"))
        .unwrap()
        .trim()
        .to_owned();
    let number = out
        .lines()
        .find_map(|l| l.strip_prefix("number"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (path, number)
}

/// Binds a phone with a fresh link; its cookie.
async fn bind(addr: SocketAddr, data: &Path, member: u32) -> String {
    let (path, number) = link(data, member);
    let r = request(addr, "POST", &path, &[], &format!("picked={number}")).await;
    assert_eq!(r.status, 303, "{r:?}");
    assert_eq!(r.header("location"), Some("/"));
    r.cookie("kt_resident").expect("the phone's cookie")
}

/// The pass in the page's QR: the SVG's runs of dark modules drawn into an
/// image and decoded as a scanner would.
fn pass_in(page: &str) -> String {
    let svg = &page[page.find("<svg class=\"qr\"").expect("a QR on the page")..];
    let side: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    const PX: usize = 6;
    let w = side * PX;
    let mut img = vec![255u8; w * w];
    for run in d.split('M').filter(|s| !s.is_empty()) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let len: usize = rest.split('v').next().unwrap().parse().unwrap();
        for py in y * PX..(y + 1) * PX {
            img[py * w + x * PX..py * w + (x + len) * PX].fill(0);
        }
    }
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, w, |x, y| img[y * w + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("the QR decodes").1
}

fn csrf(page: &Reply) -> String {
    hidden(&page.body, "csrf").expect("a form with the phone's token")
}

/// `kiosk checkin PASS`, under libfaketime `shift` if given: the decision.
fn checkin(data: &Path, pass: &str, shift: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(binaries::path("kiosk"));
    cmd.args(["--data", data.to_str().unwrap(), "checkin", pass]);
    if let Some(shift) = shift {
        cmd.env("LD_PRELOAD", binaries::libfaketime())
            .env("FAKETIME", shift);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_bound_by_link_shows_a_live_pass_the_kiosk_takes_and_refuses_two_minutes_later() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let (li, printed) = add_member(&data, "李建国");
    let (centre, addr) = centre(&data).await;

    // Not bound: the welcome page, which names nobody; the headers of a public page.
    let r = request(addr, "GET", "/", &[], "").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/welcome")));
    let welcome = request(addr, "GET", "/welcome", &[], "").await;
    assert_eq!(welcome.status, 200);
    let csp = welcome.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(welcome.header("referrer-policy"), Some("same-origin"));
    assert!(welcome.body.contains("绑定手机") && !welcome.body.contains("李"));

    // A made-up, a wrongly answered and a reused link are refused alike.
    let made_up = request(addr, "GET", &format!("/bind/{}", "A".repeat(43)), &[], "").await;
    assert_eq!(made_up.status, 409);
    let (path, number) = link(&data, li);
    let offer = request(addr, "GET", &path, &[], "").await;
    assert_eq!(offer.status, 200);
    assert!(
        offer.body.contains("李**") && !offer.body.contains("李建国"),
        "the name masked"
    );
    assert!(offer.body.contains(&format!("value=\"{number}\"")));
    let wrong = if number == 99 { 98 } else { number + 1 };
    let r = request(addr, "POST", &path, &[], &format!("picked={wrong}")).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("数字不对"), "{}", r.body);
    let spent = request(addr, "POST", &path, &[], &format!("picked={number}")).await;
    assert_eq!(spent.status, 409);
    assert!(r.cookie("kt_resident").is_none() && spent.cookie("kt_resident").is_none());
    let unusable = |b: &str| b[b.find("<main>").unwrap()..].to_owned();
    assert_eq!(
        unusable(&spent.body),
        unusable(&made_up.body),
        "used and made-up links answer alike"
    );
    // From another site's page: refused before anything is read.
    let (path2, number2) = link(&data, li);
    let r = request(
        addr,
        "POST",
        &path2,
        &[("Origin", "http://evil.example")],
        &format!("picked={number2}"),
    )
    .await;
    assert_eq!(r.status, 403);

    // Bound: the cookie a WeChat menu link brings along (Lax), never script-readable.
    let r = request(addr, "POST", &path2, &[], &format!("picked={number2}")).await;
    assert_eq!(r.status, 303, "{r:?}");
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = r.cookie("kt_resident").unwrap();
    let me = [("Cookie", cookie.as_str())];

    // The live pass: a QR the kiosk takes, refused two minutes on.
    let page = request(addr, "GET", "/", &me, "").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("李建国") && page.body.contains("http-equiv=\"refresh\" content=\"30\"")
    );
    assert!(
        page.body.len() < 30_000,
        "the pass page is {} bytes",
        page.body.len()
    );
    let live = pass_in(&page.body);
    assert!(live.starts_with("KT2.") && live.len() <= 160, "{live}");
    assert!(!page.body.contains(&live), "the pass is in the QR only");
    let now = checkin(&data, &live, None);
    assert!(now.contains("\"accepted\":true"), "{now}");
    let later = checkin(&data, &live, Some("+2m"));
    assert!(later.contains("expired"), "two minutes later: {later}");
    let forged = {
        let mut b = live.clone().into_bytes();
        let i = b.len() - 3;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    assert!(checkin(&data, &forged, None).contains("bad_signature"));
    // The fallback code under the QR, typed by staff: taken now, not three
    // minutes on; five wrong codes close the kiosk to codes for a while.
    let code = page
        .body
        .split("id=\"fallback-code\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 6, "{code}");
    assert!(
        checkin(&data, &code.to_lowercase(), None).contains("\"accepted\":true"),
        "the code, typed in lower case"
    );
    assert!(
        checkin(&data, &code, Some("+3m")).contains("not_a_pass"),
        "three minutes on"
    );
    let guesses = {
        use std::io::Write;
        let mut child = std::process::Command::new(binaries::path("kiosk"))
            .args(["--data", data.to_str().unwrap(), "checkin", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        for guess in ["ZZZZZ2", "ZZZZZ3", "ZZZZZ4", "ZZZZZ5", "ZZZZZ6"] {
            writeln!(input, "{guess}").unwrap();
        }
        writeln!(input, "{code}").unwrap();
        drop(input);
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let last = guesses.lines().last().unwrap();
    assert!(
        last.contains("not_a_pass"),
        "the right code after five wrong ones: {last}"
    );
    assert!(
        checkin(&data, &printed, Some("+2m")).contains("\"accepted\":true"),
        "the printed pass still works"
    );

    // A lost card's new pass signs the phone out.
    kiosk_cli(&data, &["member", "revoke", &li.to_string()]);
    let r = request(addr, "GET", "/", &me, "").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/welcome")));
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_activities_and_points_from_the_phone_only_ever_the_residents_own() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let (li, _) = add_member(&data, "李建国");
    let (wang, _) = add_member(&data, "王秀英");
    for (id, kind, zh, en, capacity) in [
        ("robot", "robot", "艾灸机器人", "Moxibustion robot", "1"),
        ("care", "childcare", "临时托管", "Childcare", "1"),
    ] {
        kiosk_cli(
            &data,
            &[
                "resource",
                "add",
                id,
                "--kind",
                kind,
                "--zh",
                zh,
                "--en",
                en,
                "--hours",
                "00:00-24:00",
                "--slot",
                "60",
                "--capacity",
                capacity,
            ],
        );
    }
    kiosk_cli(
        &data,
        &[
            "points",
            "award",
            &li.to_string(),
            "--activity",
            "敬老探访",
            "--points",
            "50",
        ],
    );
    let class = kiosk_cli(
        &data,
        &[
            "activity",
            "add",
            "--zh",
            "剪纸班",
            "--en",
            "Paper cutting",
            "--room",
            "活动室",
            "--start",
            &local_in(24 * 60),
            "--end",
            &local_in(25 * 60),
            "--capacity",
            "1",
        ],
    )
    .trim()
    .to_owned();
    let (centre, addr) = centre(&data).await;
    let li_cookie = bind(addr, &data, li).await;
    let wang_cookie = bind(addr, &data, wang).await;
    let li_h = [("Cookie", li_cookie.as_str())];
    let wang_h = [("Cookie", wang_cookie.as_str())];

    // Book the robot the day after tomorrow from the day's page; the booking shows with a cancel button.
    let day = request(addr, "GET", "/bookings/robot?day=2", &li_h, "").await;
    assert_eq!(day.status, 200, "{}", day.body);
    // A service that is not here answers as not found, in the page's words.
    let none = request(addr, "GET", "/bookings/no-such-room?day=2", &li_h, "").await;
    assert_eq!(none.status, 404, "{}", none.body);
    assert!(none.body.contains("没有这项服务"), "{}", none.body);
    let token = csrf(&day);
    let start = hidden(&day.body, "start").expect("a slot to book");
    let r = request(
        addr,
        "POST",
        "/bookings/book",
        &li_h,
        &format!("csrf={token}&resource=robot&start={start}&wait=0"),
    )
    .await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/bookings?done=booked")),
        "{}",
        r.body
    );
    let mine = request(addr, "GET", "/bookings?done=booked", &li_h, "").await;
    assert!(
        mine.body.contains("预约成功") && mine.body.contains("艾灸机器人"),
        "{}",
        mine.body
    );
    let booking = hidden(&mine.body, "booking").expect("a cancel form");

    // Another member's booking id: refused as not found, nothing written.
    let wang_token = csrf(&request(addr, "GET", "/bookings/robot?day=3", &wang_h, "").await);
    let r = request(
        addr,
        "POST",
        "/bookings/cancel",
        &wang_h,
        &format!("csrf={wang_token}&booking={booking}"),
    )
    .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("没有找到"), "{}", r.body);
    assert!(
        kiosk_cli(&data, &["booking", "list", "--member", &li.to_string()]).contains("booked"),
        "still booked"
    );
    // Without the token, or with another phone's token, or from another origin: refused.
    for (headers, body) in [
        (
            vec![("Cookie", li_cookie.as_str())],
            format!("booking={booking}"),
        ),
        (
            vec![("Cookie", li_cookie.as_str())],
            format!("csrf={wang_token}&booking={booking}"),
        ),
        (
            vec![
                ("Cookie", li_cookie.as_str()),
                ("Origin", "http://evil.example"),
            ],
            format!("csrf={token}&booking={booking}"),
        ),
    ] {
        let r = request(addr, "POST", "/bookings/cancel", &headers, &body).await;
        assert_eq!(r.status, 403, "{body}");
    }
    assert!(kiosk_cli(&data, &["booking", "list", "--member", &li.to_string()]).contains("booked"));
    // The calendar feed: the booking in it, fetched with no cookie, as a calendar app does.
    let made = request(
        addr,
        "POST",
        "/calendar/new",
        &li_h,
        &format!("csrf={token}"),
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let feed = made
        .body
        .split("id=\"calendar-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let feed_path = feed
        .strip_prefix(&format!("http://{addr}"))
        .unwrap_or_else(|| panic!("{feed}"))
        .to_owned();
    let ics = request(addr, "GET", &feed_path, &[], "").await;
    assert_eq!(
        ics.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(
        ics.body.starts_with("BEGIN:VCALENDAR\r\n")
            && ics.body.contains(&format!("UID:booking-{booking}@")),
        "{}",
        ics.body
    );
    assert!(ics.body.contains("艾灸机器人"));
    let r = request(
        addr,
        "POST",
        "/bookings/cancel",
        &li_h,
        &format!("csrf={token}&booking={booking}"),
    )
    .await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/bookings?done=cancelled"))
    );
    let ics = request(addr, "GET", &feed_path, &[], "").await;
    assert!(
        !ics.body.contains(&format!("UID:booking-{booking}@")),
        "the cancelled booking leaves the calendar"
    );
    assert_eq!(
        request(
            addr,
            "GET",
            "/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
            &[],
            ""
        )
        .await
        .status,
        404
    );

    // A full childcare slot: the waiting list joined on the phone, the place freed and shown.
    let at = local_in(26 * 60);
    let at = format!("{}:00", &at[..at.len() - 3]);
    let taken = kiosk_cli(
        &data,
        &["booking", "book", &wang.to_string(), "care", "--at", &at],
    );
    let wang_booking: i64 = taken
        .split("booking ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let days_ahead = {
        let local = |m: i64| {
            (time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8))
                + time::Duration::minutes(m))
            .date()
        };
        (local(26 * 60) - local(0)).whole_days()
    };
    let care = request(
        addr,
        "GET",
        &format!("/bookings/care?day={days_ahead}"),
        &li_h,
        "",
    )
    .await;
    let full = care
        .body
        .split("<form")
        .find(|f| f.contains("已满"))
        .and_then(|f| hidden(f, "start"))
        .unwrap_or_else(|| panic!("the full slot offers the waiting list: {}", care.body));
    let r = request(
        addr,
        "POST",
        "/bookings/book",
        &li_h,
        &format!("csrf={token}&resource=care&start={full}&wait=1"),
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("/bookings?done=waiting"),
        "{}",
        r.body
    );
    let mine = request(addr, "GET", "/bookings", &li_h, "").await;
    assert!(mine.body.contains("排队中，第1位"), "{}", mine.body);
    assert!(
        mine.body.contains("http-equiv=\"refresh\" content=\"60\""),
        "waiting, the page looks again by itself"
    );
    kiosk_cli(
        &data,
        &["booking", "cancel", &wang_booking.to_string(), "--staff"],
    );
    let mine = request(addr, "GET", "/bookings", &li_h, "").await;
    assert!(
        mine.body.contains("已预约，请在") && !mine.body.contains("排队中"),
        "the freed place, with its check-in time: {}",
        mine.body
    );

    // An activity's freed place offered on the phone and taken.
    kiosk_cli(&data, &["activity", "signup", &class, &wang.to_string()]);
    let page = request(addr, "GET", "/activities", &li_h, "").await;
    assert!(
        page.body.contains("剪纸班") && page.body.contains("排队等候"),
        "{}",
        page.body
    );
    let r = request(
        addr,
        "POST",
        "/activities/sign-up",
        &li_h,
        &format!("csrf={token}&activity={class}"),
    )
    .await;
    assert_eq!(
        r.header("location"),
        Some("/activities?done=waiting"),
        "{}",
        r.body
    );
    assert!(
        request(addr, "GET", "/activities", &li_h, "")
            .await
            .body
            .contains("排队中，第1位")
    );
    kiosk_cli(&data, &["activity", "cancel", &class, &wang.to_string()]);
    let page = request(addr, "GET", "/activities", &li_h, "").await;
    assert!(page.body.contains("有空位给您"), "{}", page.body);
    let r = request(
        addr,
        "POST",
        "/activities/sign-up",
        &li_h,
        &format!("csrf={token}&activity={class}"),
    )
    .await;
    assert_eq!(r.header("location"), Some("/activities?done=signed"));
    assert!(kiosk_cli(&data, &["activity", "show", &class]).contains("李建国"));
    // Another member cannot take them off it.
    let r = request(
        addr,
        "POST",
        "/activities/off",
        &wang_h,
        &format!("csrf={wang_token}&activity={class}"),
    )
    .await;
    assert_eq!(r.status, 409);
    assert!(kiosk_cli(&data, &["activity", "show", &class]).contains("place"));

    // Points: the balance and every line of the ledger's history.
    let points = request(addr, "GET", "/points", &li_h, "").await;
    assert!(
        points.body.contains("<p class=\"big\">50</p>"),
        "{}",
        points.body
    );
    assert!(kiosk_cli(&data, &["points", "balance", &li.to_string()]).contains("50 points"));
    assert!(points.body.contains("敬老探访") && points.body.contains("+50"));
    let ledger = kiosk_cli(
        &data,
        &["points", "history", &li.to_string(), "--limit", "100"],
    );
    assert_eq!(
        points.body.matches("<li>").count(),
        ledger.lines().filter(|l| !l.trim().is_empty()).count(),
        "every posting of the ledger, no more: {ledger}"
    );

    // A session had, rated on the phone; another member cannot rate it.
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "piano1",
            "--kind",
            "piano",
            "--zh",
            "钢琴一",
            "--en",
            "Piano 1",
            "--hours",
            "00:00-24:00",
            "--device",
            "bank-1",
            "--channel",
            "1",
        ],
    );
    let played = kiosk_cli(&data, &["piano", "play", &li.to_string()]);
    let session = played
        .split("booking ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    kiosk_cli(&data, &["booking", "end", &session]);
    let fb = request(addr, "GET", "/feedback", &li_h, "").await;
    assert!(
        fb.body.contains("钢琴一")
            && fb
                .body
                .contains(&format!("name=\"id\" value=\"{session}\"")),
        "{}",
        fb.body
    );
    let rate = |t: &str| format!("csrf={t}&kind=session&id={session}&stars=5");
    let r = request(addr, "POST", "/feedback/rate", &wang_h, &rate(&wang_token)).await;
    assert_eq!(r.status, 409, "another member's session");
    assert!(r.body.contains("没有找到"));
    let r = request(addr, "POST", "/feedback/rate", &li_h, &rate(&token)).await;
    assert_eq!(
        r.header("location"),
        Some("/feedback?done=rated"),
        "{}",
        r.body
    );
    let fb = request(addr, "GET", "/feedback", &li_h, "").await;
    assert!(
        !fb.body
            .contains(&format!("name=\"id\" value=\"{session}\"")),
        "rated once"
    );
    assert_eq!(
        request(addr, "POST", "/feedback/rate", &li_h, &rate(&token))
            .await
            .status,
        409
    );

    // Phones: another member's phone cannot be ended; one's own can.
    let phones = request(addr, "GET", "/phones", &wang_h, "").await;
    let wang_phone = hidden(&phones.body, "phone").unwrap();
    let li_phones = request(addr, "GET", "/phones", &li_h, "").await;
    let li_phone = hidden(&li_phones.body, "phone").unwrap();
    let r = request(
        addr,
        "POST",
        "/phones/end",
        &wang_h,
        &format!("csrf={wang_token}&phone={li_phone}"),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        request(addr, "GET", "/", &li_h, "").await.status,
        200,
        "still signed in"
    );
    let r = request(
        addr,
        "POST",
        "/phones/end",
        &wang_h,
        &format!("csrf={wang_token}&phone={wang_phone}"),
    )
    .await;
    assert_eq!(r.header("location"), Some("/welcome"));
    assert_eq!(request(addr, "GET", "/", &wang_h, "").await.status, 303);
    assert!(kiosk_cli(&data, &["phone", "list", &wang.to_string()]).contains("no bound phone"));
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_every_page_fits_in_both_languages_and_large_text_and_weighs_under_30_kb() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let (li, _) = add_member(&data, "李建国");
    kiosk_cli(
        &data,
        &[
            "resource",
            "add",
            "robot",
            "--kind",
            "robot",
            "--zh",
            "艾灸机器人",
            "--en",
            "Moxibustion robot",
            "--hours",
            "08:00-18:00",
            "--slot",
            "60",
        ],
    );
    kiosk_cli(
        &data,
        &[
            "points",
            "award",
            &li.to_string(),
            "--activity",
            "敬老探访",
            "--points",
            "50",
        ],
    );
    kiosk_cli(
        &data,
        &[
            "activity",
            "add",
            "--zh",
            "太极拳",
            "--en",
            "Tai chi",
            "--room",
            "活动室",
            "--start",
            &local_in(24 * 60),
            "--end",
            &local_in(25 * 60),
            "--capacity",
            "20",
        ],
    );
    let (centre, addr) = centre(&data).await;

    // Each page with its style sheet and script: under 30 KB, nothing from elsewhere.
    let cookie = bind(addr, &data, li).await;
    let me = [("Cookie", cookie.as_str())];
    let css = request(addr, "GET", "/r.css", &[], "").await.body.len();
    let js = request(addr, "GET", "/wake.js", &[], "").await.body.len();
    for path in [
        "/",
        "/bookings",
        "/bookings/robot?day=1",
        "/activities",
        "/points",
        "/phones",
        "/welcome",
    ] {
        let page = request(addr, "GET", path, &me, "").await;
        assert_eq!(page.status, 200, "{path}");
        let total = page.body.len() + css + js;
        println!(
            "{path}: {} bytes, {total} with the style sheet and script",
            page.body.len()
        );
        assert!(total < 30_000, "{path} weighs {total} bytes");
        assert!(
            ![
                "src=\"http",
                "href=\"http",
                "url(http",
                "src=\"//",
                "href=\"//"
            ]
            .iter()
            .any(|x| page.body.contains(x)),
            "{path} loads nothing from elsewhere"
        );
    }

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/resident-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/residents.py");
    let out = tokio::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(format!("http://{addr}"))
        .arg(binaries::path("kiosk"))
        .arg(&data)
        .arg(li.to_string())
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
    for size in ["phone", "large"] {
        for page in [
            "welcome-zh",
            "bind-zh",
            "pass-zh",
            "bookings-zh",
            "book-robot-zh",
            "activities-zh",
            "points-zh",
            "feedback-zh",
            "feedback-en",
            "phones-zh",
            "pass-en",
            "bookings-en",
            "activities-en",
            "points-en",
        ] {
            let png = std::fs::metadata(shots.join(format!("{page}-{size}.png"))).unwrap();
            assert!(
                png.len() > 5_000,
                "{page}-{size}.png is {} bytes",
                png.len()
            );
        }
    }
    centre.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_give_a_one_time_link_on_the_dashboard_see_the_phone_and_end_it_and_an_observer_cannot()
 {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let (li, _) = add_member(&data, "李建国");
    let (desk_staff, _) = add_member(&data, "刘主任");
    binaries::staff_with_pin(&data, desk_staff, "staff", "246810");
    let (watcher, _) = add_member(&data, "来访者");
    binaries::staff_with_pin(&data, watcher, "observer", "135790");
    let (centre, residents, dashboard) = binaries::centre_with_residents(&data).await;
    let session = |member: u32, pin: &'static str| async move {
        let r = request(
            dashboard,
            "POST",
            "/sign-in",
            &[],
            &format!("member={member}&pin={pin}"),
        )
        .await;
        let cookie = r.cookie("keting_session").expect("signed in");
        let page = request(
            dashboard,
            "GET",
            &format!("/members/{li}"),
            &[("Cookie", &cookie)],
            "",
        )
        .await;
        (cookie, page)
    };
    // An observer sees no link button and is refused one.
    let (cookie, page) = session(watcher, "135790").await;
    assert!(
        !page.body.contains("phone-link"),
        "no button for an observer"
    );
    let token = hidden(&page.body, "csrf").unwrap();
    let r = request(
        dashboard,
        "POST",
        &format!("/members/{li}/phone-link"),
        &[("Cookie", &cookie)],
        &format!("csrf={token}"),
    )
    .await;
    assert_eq!(r.status, 403);
    // Staff: the link and the number, once.
    let (cookie, page) = session(desk_staff, "246810").await;
    assert!(page.body.contains("还没有绑定手机"), "{}", page.body);
    let token = hidden(&page.body, "csrf").unwrap();
    let r = request(
        dashboard,
        "POST",
        &format!("/members/{li}/phone-link"),
        &[("Cookie", &cookie)],
        &format!("csrf={token}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<svg class=\"qr\""));
    let staff_link = r
        .body
        .split("id=\"phone-link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let number = r
        .body
        .split("id=\"phone-number\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let path = staff_link
        .strip_prefix(&format!("http://{residents}"))
        .unwrap_or_else(|| panic!("{staff_link}"));
    let bound = request(residents, "POST", path, &[], &format!("picked={number}")).await;
    assert_eq!(bound.status, 303);
    let phone_cookie = bound.cookie("kt_resident").unwrap();
    // The member page lists it; ending it there signs the phone out.
    let page = request(
        dashboard,
        "GET",
        &format!("/members/{li}"),
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    let phone = page
        .body
        .split("name=\"phone\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = request(
        dashboard,
        "POST",
        &format!("/members/{li}/phone-end"),
        &[("Cookie", &cookie)],
        &format!("csrf={token}&phone={phone}"),
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        request(residents, "GET", "/", &[("Cookie", &phone_cookie)], "")
            .await
            .status,
        303,
        "signed out"
    );

    // The suggestion box: written on the phone, answered on the dashboard, read on the phone.
    let phone_cookie = {
        let (path, number) = link(&data, li);
        request(residents, "POST", &path, &[], &format!("picked={number}"))
            .await
            .cookie("kt_resident")
            .unwrap()
    };
    let me = [("Cookie", phone_cookie.as_str())];
    let fb = request(residents, "GET", "/feedback", &me, "").await;
    let phone_token = csrf(&fb);
    let r = request(residents, "POST", "/feedback/suggest", &me, &format!("csrf={phone_token}&text=%E9%98%85%E8%A7%88%E5%AE%A4%E7%9A%84%E7%81%AF%E5%A4%AA%E6%9A%97")).await;
    assert_eq!(
        r.header("location"),
        Some("/feedback?done=suggested"),
        "{}",
        r.body
    );
    let r = request(
        residents,
        "POST",
        "/feedback/suggest",
        &me,
        &format!("csrf={phone_token}&text=%3Cscript%3E"),
    )
    .await;
    assert_eq!(r.status, 409, "markup refused");
    let box_page = request(dashboard, "GET", "/suggestions", &[("Cookie", &cookie)], "").await;
    assert!(
        box_page.body.contains("阅览室的灯太暗") && box_page.body.contains("1 条待回复"),
        "{}",
        box_page.body
    );
    let id = box_page
        .body
        .split("action=\"/suggestions/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (obs_cookie, obs_page) = session(watcher, "135790").await;
    let obs_token = hidden(&obs_page.body, "csrf").unwrap();
    let r = request(
        dashboard,
        "POST",
        &format!("/suggestions/{id}"),
        &[("Cookie", &obs_cookie)],
        &format!("csrf={obs_token}&answer=ok"),
    )
    .await;
    assert_eq!(r.status, 403, "an observer may not answer");
    let r = request(
        dashboard,
        "POST",
        &format!("/suggestions/{id}"),
        &[("Cookie", &cookie)],
        &format!("csrf={token}&answer=%E5%B7%B2%E6%8D%A2%E6%96%B0%E7%81%AF%E7%AE%A1"),
    )
    .await;
    assert_eq!(r.status, 303);
    let fb = request(residents, "GET", "/feedback", &me, "").await;
    assert!(
        fb.body.contains("工作人员回复") && fb.body.contains("已换新灯管"),
        "{}",
        fb.body
    );
    centre.stop().await;
}

/// A local stand-in of WeChat's two OAuth endpoints: the authorize page
/// (which, for `snsapi_base`, sends the browser straight back with a code)
/// and the token endpoint (a code for an openid). `code-a` and `code-b`
/// are the same WeChat account; any other code is refused as WeChat does.
/// Every query the token endpoint got is kept.
async fn wechat_stand_in() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = asked.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    let got = s.read(&mut buf[n..]).await.unwrap_or(0);
                    if got == 0 {
                        return;
                    }
                    n += got;
                }
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                let param = |k: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                        .unwrap_or("")
                        .to_owned()
                };
                let reply = match path {
                    "/connect/oauth2/authorize" => {
                        let back = param("redirect_uri")
                            .replace("%3A", ":")
                            .replace("%2F", "/");
                        let code = if param("appid") == "wxstandin" {
                            "code-a"
                        } else {
                            "bad"
                        };
                        format!(
                            "HTTP/1.1 302 Found\r\nLocation: {back}?code={code}&state={}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                            param("state")
                        )
                    }
                    "/sns/oauth2/access_token" => {
                        kept.lock().unwrap().push(query.to_owned());
                        let ok =
                            param("appid") == "wxstandin" && param("secret") == "standinsecret123";
                        let body = match param("code").as_str() {
                            "code-a" | "code-b" if ok => {
                                r#"{"access_token":"t","expires_in":7200,"refresh_token":"r","openid":"oStandIn_123","scope":"snsapi_base"}"#
                            }
                            _ => r#"{"errcode":40029,"errmsg":"invalid code"}"#,
                        };
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned(),
                };
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    (addr, asked)
}

/// Follows a WeChat sign-in from `path` as WeChat's browser does (the
/// stand-in's authorize page, then the site): the last reply and the
/// cookies set on the way.
async fn through_wechat(residents: SocketAddr, path: &str, cookie: &str) -> (Reply, Vec<String>) {
    const WECHAT: &str = "Mozilla/5.0 (Linux; Android 13) Mobile MicroMessenger/8.0.47";
    let mut cookies: Vec<String> = cookie
        .split("; ")
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let mut at = format!("http://{residents}{path}");
    for _ in 0..6 {
        let rest = at.strip_prefix("http://").unwrap();
        let (host, p) = rest.split_at(rest.find('/').unwrap());
        let addr: SocketAddr = host.parse().unwrap();
        let p = p.split('#').next().unwrap();
        let jar = cookies.join("; ");
        let r = request(
            addr,
            "GET",
            p,
            &[("User-Agent", WECHAT), ("Cookie", &jar)],
            "",
        )
        .await;
        for (k, v) in &r.headers {
            if k == "set-cookie" {
                let kv = v.split(';').next().unwrap().to_owned();
                let name = kv.split('=').next().unwrap().to_owned();
                cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                if !kv.ends_with('=') {
                    cookies.push(kv);
                }
            }
        }
        match r.header("location") {
            Some(l) if (r.status == 302 || r.status == 303) && l.starts_with("http://") => {
                at = l.to_owned()
            }
            Some(l) if r.status == 302 || r.status == 303 => at = format!("http://{residents}{l}"),
            _ => return (r, cookies),
        }
    }
    panic!("too many redirects from {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_the_first_binding_binds_the_account_and_wechat_alone_signs_it_in_after() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let (li, _) = add_member(&data, "李建国");
    let (standin, asked) = wechat_stand_in().await;
    std::fs::write(data.join("wechat.secret"), "standinsecret123\n").unwrap();
    std::fs::set_permissions(
        data.join("wechat.secret"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(
        data.join("wechat.toml"),
        format!(
            "app_id = \"wxstandin\"\nsecret_file = \"wechat.secret\"\nauthorize_url = \"http://{standin}/connect/oauth2/authorize\"\ntoken_url = \"http://{standin}/sns/oauth2/access_token\"\n"
        ),
    )
    .unwrap();
    let (centre, residents) = centre(&data).await;

    // Not known to the site yet: WeChat is asked, the account kept for a binding.
    let (r, cookies) = through_wechat(residents, "/", "").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("绑定手机"), "the welcome page: {}", r.body);
    assert!(
        cookies.iter().any(|c| c.starts_with("kt_wx="))
            && !cookies.iter().any(|c| c.starts_with("kt_resident="))
    );
    // The staff member's link, opened in WeChat: binds the phone and the account.
    let (path, number) = link(&data, li);
    let (offer, cookies) = through_wechat(residents, &path, &cookies.join("; ")).await;
    assert_eq!(offer.status, 200, "{}", offer.body);
    let jar = cookies.join("; ");
    let r = request(
        residents,
        "POST",
        &path,
        &[("Cookie", &jar), ("User-Agent", "MicroMessenger")],
        &format!("picked={number}"),
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");

    // Another phone, the same WeChat account: signed in by WeChat alone.
    let (pass, cookies) = through_wechat(residents, "/", "").await;
    assert_eq!(pass.status, 200);
    assert!(
        pass.body.contains("李建国") && pass.body.contains("<svg class=\"qr\""),
        "{}",
        pass.body
    );
    assert!(cookies.iter().any(|c| c.starts_with("kt_resident=")));
    assert_eq!(
        kiosk_cli(&data, &["phone", "list", &li.to_string()])
            .lines()
            .count(),
        2,
        "two phones bound"
    );

    // A state this browser did not begin, and a code WeChat refuses: no sign-in.
    let (start, _) = {
        let r = request(residents, "GET", "/wechat/start?back=%2F", &[], "").await;
        (
            r.header("location").unwrap().to_owned(),
            r.cookie("kt_wx_state").unwrap(),
        )
    };
    let state = start
        .split("state=")
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap();
    let r = request(
        residents,
        "GET",
        &format!("/wechat/back?code=code-b&state={state}"),
        &[("Cookie", "kt_wx_state=other")],
        "",
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.cookie("kt_resident").is_none());
    let r = request(
        residents,
        "GET",
        &format!("/wechat/back?code=stolen&state={state}"),
        &[("Cookie", &format!("kt_wx_state={state}"))],
        "",
    )
    .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.cookie("kt_resident").is_none());
    // The app secret went to WeChat's endpoint only, and never to the log.
    assert!(
        asked
            .lock()
            .unwrap()
            .iter()
            .all(|q| q.contains("secret=standinsecret123"))
    );
    assert!(
        !centre.log().contains("standinsecret123"),
        "the secret is never logged"
    );

    // A lost card's new pass ends the account's binding too.
    kiosk_cli(&data, &["member", "revoke", &li.to_string()]);
    let (r, _) = through_wechat(residents, "/", "").await;
    assert!(
        r.body.contains("绑定手机"),
        "back to the welcome page: {}",
        r.body
    );
    centre.stop().await;
}
