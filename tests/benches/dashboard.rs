//! The staff dashboard's benchmark: a program that prints figures, not a
//! timed test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench dashboard`
//! builds a centre with a year of data (1,000 visits a day for 365 days,
//! 2,000 members, 50,000 ledger postings), runs the release `keting-centre
//! --http` on it and prints:
//! - Today's page and a month's report, request to last byte over loopback
//!   (each on a new connection, as an office browser does), p50/p99,
//!   beside the bare SQLite queries those pages make, in the same run;
//! - the centre's resident memory with the dashboard and 5 open browsers
//!   (event streams) after the pages were served;
//! - a check-in committed to the database to the Today page updated (its
//!   event received and the live part fetched), p50/p99.
//!
//! `KETING_BENCH_PAGES` (200) and `KETING_BENCH_CHECKINS` (100) change the counts.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_desk as desk;
use keting_store::Store;
use keting_store::members::{self, NewMember, Role};
use keting_store::points;
use keting_system_tests::binaries::kiosk;
use keting_system_tests::http::{event_lines, request};
use keting_system_tests::latency::{report, resident_kib};

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const MEMBERS: u32 = 2_000;
const VISITS_PER_DAY: i64 = 1_000;
const DAYS: i64 = 365;
const POSTINGS: usize = 50_000;
const DAY_MS: i64 = 86_400_000;

/// A year of a busy centre, written straight into the database.
fn year_of_data(db: &std::path::Path, now: Timestamp) {
    let mut store = Store::open(db).unwrap();
    let cal = SiteCalendar::china();
    let started = Instant::now();
    store
        .write(|tx| {
            for i in 0..MEMBERS {
                let new = NewMember::new(&format!("居民{i}"), None, &[Role::Resident, Role::Volunteer])?;
                members::add(tx, &new, now)?;
            }
            let mut stmt = tx.prepare(
                "INSERT INTO checkins (at_ms, member_id, accepted, counted, reason, source) VALUES (?1, ?2, 1, 1, NULL, 'kiosk')",
            )?;
            let first = now.as_unix_millis() - DAYS * DAY_MS;
            let mut seed: u64 = 7;
            for n in 0..DAYS * VISITS_PER_DAY {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let day = n / VISITS_PER_DAY;
                // Opening hours: 08:00 to 21:00 local (00:00 to 13:00 UTC).
                let at = first + day * DAY_MS + (seed >> 33) as i64 % (13 * 3_600_000);
                let member = 1 + (seed >> 20) as i64 % i64::from(MEMBERS);
                stmt.execute(rusqlite::params![at, member])?;
            }
            drop(stmt);
            // 50,000 awards: 137 volunteers a day at one activity.
            let per_day = POSTINGS.div_ceil(DAYS as usize);
            let mut made = 0;
            for day in 0..DAYS {
                let at = Timestamp::from_unix_millis(first + day * DAY_MS + 6 * 3_600_000);
                let date = cal.date_of(at).to_string();
                let a = points::occasion(tx, &format!("活动{day}"), 5, &date, "staff:1", at)?;
                for k in 0..per_day {
                    if made == POSTINGS {
                        break;
                    }
                    let member = MemberId(1 + ((day as u32 * 37 + k as u32) % MEMBERS));
                    points::award(tx, member, a, "staff:1", cal, at)?;
                    made += 1;
                }
            }
            Ok::<_, keting_store::StoreError>(())
        })
        .unwrap();
    println!(
        "data: {MEMBERS} members, {} visits over {DAYS} days, {POSTINGS} ledger postings, written in {:.1} s",
        DAYS * VISITS_PER_DAY,
        started.elapsed().as_secs_f64()
    );
}

fn floor(db: &std::path::Path, now: Timestamp, n: usize) {
    let store = Store::open(db).unwrap();
    let cal = SiteCalendar::china();
    let mut today = Vec::with_capacity(n);
    let mut month = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        desk::reports::visits_today(&store, cal, now).unwrap();
        desk::reports::visits_per_hour(&store, cal, cal.date_of(now)).unwrap();
        today.push(t.elapsed());
        let t = Instant::now();
        let mut m = cal.month_of(now);
        for _ in 0..6 {
            desk::reports::month_figures(&store, cal, m).unwrap();
            m = m.previous();
        }
        month.push(t.elapsed());
    }
    report("floor: Today's queries (SQLite, in process)", today);
    report("floor: a month report's queries (6 months)", month);
}

async fn pages(addr: SocketAddr, cookie: &str, path: &str, n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = request(addr, "GET", path, &[("Cookie", cookie)], "").await;
        out.push(t.elapsed());
        assert_eq!(r.status, 200, "{path}");
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n_pages = count("KETING_BENCH_PAGES", 200);
    let n_checkins = count("KETING_BENCH_CHECKINS", 100);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let out = kiosk(&data, &["member", "add", "--name", "刘主任", "--json"]);
    let staff: u32 = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_u64()
        .unwrap() as u32;
    keting_system_tests::binaries::staff_with_pin(&data, staff, "manager", "246810");
    let db = data.join("keting.db");
    let now = keting_centre::clock::now();
    year_of_data(&db, now);
    floor(&db, now, n_pages);

    let (centre, addr) = keting_system_tests::binaries::centre_with_dashboard(&data).await;
    let r = request(
        addr,
        "POST",
        "/sign-in",
        &[],
        &format!("member={staff}&pin=246810"),
    )
    .await;
    let cookie = r.cookie("keting_session").expect("signed in");
    let rss_idle = resident_kib(centre.pid()).unwrap_or(0);
    report(
        "dashboard: Today page (request to last byte)",
        pages(addr, &cookie, "/", n_pages).await,
    );
    report(
        "dashboard: monthly report page",
        pages(addr, &cookie, "/report", n_pages.div_ceil(4)).await,
    );
    report(
        "dashboard: foot traffic, a year by month",
        pages(addr, &cookie, "/traffic?period=year", n_pages.div_ceil(4)).await,
    );
    // 5 open browsers: each holds an event stream.
    let mut browsers = Vec::new();
    for _ in 0..5 {
        let mut lines = event_lines(addr, "/events", &cookie).await;
        assert!(lines.recv().await.unwrap().starts_with("HTTP/1.1 200"));
        browsers.push(lines);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = resident_kib(centre.pid()).unwrap_or(0);
    println!(
        "centre resident memory: {:.1} MiB before the pages, {:.1} MiB with the dashboard and 5 open browsers",
        rss_idle as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    // A check-in committed -> the Today page updated (event, then its live part).
    let writer = rusqlite::Connection::open(&db).unwrap();
    let mut stream = browsers.pop().unwrap();
    let mut samples = Vec::with_capacity(n_checkins);
    for i in 0..n_checkins {
        let t = Instant::now();
        writer
            .execute(
                "INSERT INTO checkins (at_ms, member_id, accepted, counted, reason, source) VALUES (?1, ?2, 1, 1, NULL, 'kiosk')",
                rusqlite::params![keting_centre::clock::now().as_unix_millis(), 1 + (i as i64 % 2000)],
            )
            .unwrap();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), stream.recv())
                .await
                .expect("an event within 10 s")
                .unwrap();
            if line == "event: change" {
                break;
            }
        }
        let live = request(addr, "GET", "/live/today", &[("Cookie", &cookie)], "").await;
        assert_eq!(live.status, 200);
        samples.push(t.elapsed());
        // Other browsers' events drain meanwhile.
        for b in &mut browsers {
            while b.try_recv().is_ok() {}
        }
    }
    report(
        "check-in committed -> Today updated (event + live part)",
        samples,
    );
    centre.stop().await;
}
