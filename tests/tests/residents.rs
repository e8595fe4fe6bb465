//! The residents' own pages (`keting-centre --resident-http`) spoken to as
//! a phone's browser does: a phone bound with a staff member's one-time
//! link and the number picked (a wrong number, a reused or made-up link
//! refused alike), the live pass read back from the page's QR and taken at
//! the kiosk, refused there two minutes later; a booking made and
//! cancelled, a full slot's waiting list joined and the freed place shown
//! with its check-in time; an activity's freed place offered and taken;
//! the points page equal to the ledger; another member's ids refused with
//! nothing written; forms without the phone's token or from another
//! origin refused; a new card signing the phone out.

use std::net::SocketAddr;
use std::path::Path;

use keting_system_tests::binaries::{self, Process};
use keting_system_tests::http::{Reply, hidden, request};

use crate::site_bed::{add_member, kiosk_cli};

/// The residents' pages of a centre on `data`.
async fn centre(data: &Path) -> (Process, SocketAddr) {
    binaries::centre_with_residents(data).await
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
    assert_eq!(welcome.header("referrer-policy"), Some("no-referrer"));
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
    assert!(
        now.contains("\"accepted\"") || now.contains("accepted"),
        "{now}"
    );
    assert!(!now.contains("denied"), "{now}");
    let later = checkin(&data, &live, Some("+2m"));
    assert!(later.contains("expired"), "two minutes later: {later}");
    let forged = {
        let mut b = live.clone().into_bytes();
        let i = b.len() - 3;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    assert!(checkin(&data, &forged, None).contains("bad_signature"));
    assert!(
        !checkin(&data, &printed, Some("+2m")).contains("denied"),
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
