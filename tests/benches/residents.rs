//! The residents' pages' benchmark: a program that prints figures, not a
//! timed test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench residents`
//! writes a centre with 2,000 residents, each with a bound phone, a
//! booking on the robot and points in the ledger, runs the release
//! `keting-centre --resident-http` on it and prints request to last byte
//! p50/p99 for 200 phones each asking once a second (a busy moment), and
//! for 200 phones asking again as soon as answered (the most the centre
//! serves), through the operator's proxy (a kept-alive connection each)
//! and directly (a new connection for every request), of:
//! - the floor: the style sheet (no database, no signing), in the same run;
//! - the live pass page (the phone's cookie checked, a pass signed, its QR
//!   drawn);
//! - the bookings page (the member's bookings, their turns, the services);
//!
//! the bytes of each page, and the centre's resident memory before and
//! after. `KETING_BENCH_CLIENTS` (200) and `KETING_BENCH_ROUNDS` (10, per
//! client) change the counts.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_desk::records::InvitationKind;
use keting_desk::{self as desk, Actor};
use keting_store::Store;
use keting_store::members::{self, NewMember, Role};
use keting_system_tests::binaries::kiosk;
use keting_system_tests::http::request;
use keting_system_tests::latency::{report, resident_kib};

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const RESIDENTS: u32 = 2_000;
const HOUR_MS: i64 = 3_600_000;

/// 2,000 residents with a bound phone each (their cookies), a robot
/// booking each and points.
fn residents(db: &std::path::Path, now: Timestamp) -> Vec<String> {
    let mut store = Store::open(db).unwrap();
    let cal = SiteCalendar::china();
    let started = Instant::now();
    let ids: Vec<MemberId> = store
        .write(|tx| {
            let mut ids = Vec::new();
            for i in 0..RESIDENTS {
                let new = NewMember::new(
                    &format!("居民{i}"),
                    None,
                    &[Role::Resident, Role::Volunteer],
                )?;
                ids.push(members::add(tx, &new, now)?);
            }
            Ok::<_, keting_store::StoreError>(ids)
        })
        .unwrap();
    let tomorrow = cal
        .start_of(cal.date_of(now) + time::Duration::days(1))
        .as_unix_millis();
    let mut cookies = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        // Ten a slot over 200 hours of the robot's week: one booking each.
        let slot = Timestamp::from_unix_millis(tomorrow + (i as i64 / 10) * HOUR_MS);
        desk::bookings::book(
            &mut store,
            Actor::CommandLine,
            "robot",
            slot,
            *id,
            true,
            cal,
            now,
        )
        .unwrap();
        let inv = desk::phones::invite(
            &mut store,
            Actor::CommandLine,
            *id,
            InvitationKind::Link,
            now,
        )
        .unwrap();
        let bound = desk::phones::bind(
            &mut store,
            &inv.secret,
            inv.confirm,
            "Android · WeChat",
            now,
        )
        .unwrap();
        cookies.push(format!("kt_resident={}", bound.token));
    }
    store
        .write(|tx| {
            let a = keting_store::points::occasion(
                tx,
                "敬老探访",
                5,
                &cal.date_of(now).to_string(),
                "staff:1",
                now,
            )?;
            for id in &ids {
                keting_store::points::award(tx, *id, a, "staff:1", cal, now)?;
            }
            Ok::<_, keting_store::StoreError>(())
        })
        .unwrap();
    println!(
        "data: {RESIDENTS} residents, each with a bound phone, a robot booking and 5 points, written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    cookies
}

/// How the phones reach the site.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Through the operator's proxy: one kept-alive connection per phone.
    Proxy,
    /// Directly: a new connection for every request.
    Direct,
}

/// One request on a kept-alive connection: the status and body length.
async fn on(
    stream: &mut tokio::net::TcpStream,
    path: &str,
    cookie: &str,
    source: &str,
) -> (u16, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: fuwu.example.cn\r\nCookie: {cookie}\r\nX-Forwarded-For: {source}\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("a content length");
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "the connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            return (status, len);
        }
    }
}

/// `clients` phones at once, each asking for `path` `rounds` times in a
/// row with a cookie and a source address of its own: every request's
/// time to last byte, and the answer's bytes.
async fn phones(
    addr: SocketAddr,
    path: &'static str,
    cookies: Arc<Vec<String>>,
    clients: usize,
    rounds: usize,
    reach: Reach,
    pace: Option<Duration>,
) -> (Vec<Duration>, usize) {
    let mut tasks = Vec::new();
    for c in 0..clients {
        let cookies = cookies.clone();
        tasks.push(tokio::spawn(async move {
            let source = format!("10.{}.{}.{}", c / 65536, (c / 256) % 256, c % 256);
            let mut out = Vec::with_capacity(rounds);
            let mut bytes = 0;
            let mut stream = match reach {
                Reach::Proxy => Some(tokio::net::TcpStream::connect(addr).await.unwrap()),
                Reach::Direct => None,
            };
            // Paced: each phone asks once per `pace`, the phones spread over it.
            let first =
                pace.map(|p| tokio::time::Instant::now() + p.mul_f64(c as f64 / clients as f64));
            for r in 0..rounds {
                if let (Some(p), Some(first)) = (pace, first) {
                    tokio::time::sleep_until(first + p * r as u32).await;
                }
                let cookie = &cookies[(c * rounds + r) % cookies.len()];
                let t = Instant::now();
                let (status, len) = match stream.as_mut() {
                    Some(s) => on(s, path, cookie, &source).await,
                    None => {
                        let reply = request(
                            addr,
                            "GET",
                            path,
                            &[("Cookie", cookie), ("X-Forwarded-For", &source)],
                            "",
                        )
                        .await;
                        (reply.status, reply.body.len())
                    }
                };
                out.push(t.elapsed());
                assert_eq!(status, 200, "{path}");
                bytes = len;
            }
            (out, bytes)
        }));
    }
    let mut all = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        let (out, b) = t.await.unwrap();
        all.extend(out);
        bytes = b;
    }
    (all, bytes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clients = count("KETING_BENCH_CLIENTS", 200);
    let rounds = count("KETING_BENCH_ROUNDS", 10);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    kiosk(&data, &["member", "add", "--name", "刘主任"]);
    kiosk(
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
            "00:00-24:00",
            "--slot",
            "60",
            "--capacity",
            "10",
        ],
    );
    let db = data.join("keting.db");
    let now = keting_centre::clock::now();
    let cookies = Arc::new(residents(&db, now));

    // In process, what one pass page costs: a live pass signed, its QR drawn
    // as SVG, the fallback code.
    {
        let store = Store::open(&db).unwrap();
        let site = keting_store::site_record::get(store.conn())
            .unwrap()
            .unwrap();
        let dir = keting_centre::data_dir::DataDir::prepare(data.clone()).unwrap();
        let issuer = keting_centre::site::issuer(&site, &dir).unwrap();
        let codes = issuer.fallback_codes();
        let mut signing = Vec::new();
        let mut drawing = Vec::new();
        for i in 0..2000u32 {
            let t = Instant::now();
            let live = issuer.issue_live(MemberId(1 + i), keting_core::ids::Epoch(0), now);
            let _ = codes.code(MemberId(1 + i), keting_core::ids::Epoch(0), now);
            signing.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(desk::qr_image::svg(&live, "我的码").unwrap());
            drawing.push(t.elapsed());
        }
        report(
            "in process: a live pass signed and its fallback code",
            signing,
        );
        report("in process: its QR drawn as SVG", drawing);
    }

    let (centre, addr, _) = keting_system_tests::binaries::centre_with_residents(&data).await;
    let rss_before = resident_kib(centre.pid()).unwrap_or(0);
    // Warm up: every phone once.
    let _ = phones(addr, "/", cookies.clone(), clients, 1, Reach::Proxy, None).await;
    println!("{clients} phones, each asking once a second, through the proxy:");
    let second = Some(Duration::from_secs(1));
    let (pass, _) = phones(
        addr,
        "/",
        cookies.clone(),
        clients,
        rounds,
        Reach::Proxy,
        second,
    )
    .await;
    report("  the live pass page", pass);
    let (bookings, _) = phones(
        addr,
        "/bookings",
        cookies.clone(),
        clients,
        rounds,
        Reach::Proxy,
        second,
    )
    .await;
    report("  the bookings page", bookings);
    let mut bytes = (0, 0, 0);
    for (reach, how) in [
        (
            Reach::Proxy,
            "through the proxy (a kept-alive connection each)",
        ),
        (
            Reach::Direct,
            "directly (a new connection for each request)",
        ),
    ] {
        println!(
            "{clients} phones at once, each asking again as soon as answered, {rounds} requests each, {how}:"
        );
        let (floor, css) = phones(
            addr,
            "/r.css",
            cookies.clone(),
            clients,
            rounds,
            reach,
            None,
        )
        .await;
        report("  floor: the style sheet (no database, no signing)", floor);
        let (pass, pass_bytes) =
            phones(addr, "/", cookies.clone(), clients, rounds, reach, None).await;
        report("  the live pass page", pass);
        let (bookings, bookings_bytes) = phones(
            addr,
            "/bookings",
            cookies.clone(),
            clients,
            rounds,
            reach,
            None,
        )
        .await;
        report("  the bookings page", bookings);
        bytes = (pass_bytes, bookings_bytes, css);
    }
    println!(
        "bytes: the pass page {}, the bookings page {}, the style sheet {}",
        bytes.0, bytes.1, bytes.2
    );
    let rss = resident_kib(centre.pid()).unwrap_or(0);
    println!(
        "centre resident memory: {:.1} MiB with the residents' pages started, {:.1} MiB after the load",
        rss_before as f64 / 1024.0,
        rss as f64 / 1024.0
    );
    centre.stop().await;
}
