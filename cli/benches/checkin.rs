//! Check-in benchmark: a program that prints figures, not a timed test.
//!
//! `cargo bench -p keting-cli --bench checkin` prints:
//! - pass verification, p50/p99;
//! - a scan to a durable decision through the real check-in desk, p50/p99
//!   over 10,000 scans, beside the floor measured in the same run: a bare
//!   one-row SQLite insert and commit with the same settings (WAL,
//!   synchronous=FULL) on the same file system;
//! - kiosk cold start to the first rendered frame (software renderer, the
//!   Chinese font loaded) and resident memory then, over 5 starts.
//!
//! The database lives under Cargo's target directory, not /tmp, which is
//! often a RAM disk where a sync costs nothing.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_core::ids::{Epoch, MemberId, SiteId};
use keting_core::pass::PassIssuer;
use keting_core::time::Timestamp;
use keting_desk::checkin::CheckInDesk;
use keting_store::Store;
use keting_store::checkins::ScanSource;
use keting_store::members::{self, NewMember};
use keting_system_tests::latency::report;

const SCANS: usize = 10_000;
const MEMBERS: u32 = 1_000;

fn main() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-checkin");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("bench dir");
    println!(
        "# Keting check-in benchmark; database under {}",
        base.display()
    );

    // 1. Pass verification.
    let issuer = PassIssuer::new(
        SiteId::new("k7f3xq2m4a").unwrap(),
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
    );
    let verifier = issuer.verifier();
    let passes: Vec<String> = (0..SCANS as u32)
        .map(|i| issuer.issue(MemberId(i), Epoch(0)))
        .collect();
    let samples = passes
        .iter()
        .map(|p| {
            let t = Instant::now();
            std::hint::black_box(
                verifier
                    .verify(std::hint::black_box(p), Timestamp::from_unix_millis(0))
                    .is_ok(),
            );
            t.elapsed()
        })
        .collect();
    report("pass verification (Ed25519)", samples);

    // 2. The floor: a bare one-row insert and commit, same settings.
    let floor_db = base.join("floor.db");
    let conn = rusqlite::Connection::open(&floor_db).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, v INTEGER NOT NULL);",
    )
    .unwrap();
    let samples = (0..SCANS as i64)
        .map(|i| {
            let t = Instant::now();
            conn.execute("INSERT INTO t (at_ms, v) VALUES (?1, ?2)", [i, i])
                .unwrap();
            t.elapsed()
        })
        .collect();
    let (floor50, floor99) = report("floor: bare insert + commit (WAL, FULL)", samples);
    drop(conn);

    // 3. Scan to durable decision, through the desk.
    let dir = DataDir::prepare(base.join("kiosk")).unwrap();
    let mut store = Store::open(&dir.database()).unwrap();
    let t0 = Timestamp::from_unix_millis(1_795_000_000_000);
    let site = site::open_or_create(&mut store, &dir, NewSite::Plain, t0).unwrap();
    let issuer = site::issuer(&site, &dir).unwrap();
    store
        .write(|tx| {
            for i in 0..MEMBERS {
                members::add(tx, &NewMember::new(&format!("居民{i}"), None, &[])?, t0)?;
            }
            Ok::<_, keting_store::StoreError>(())
        })
        .unwrap();
    let scans: Vec<String> = (1..=MEMBERS)
        .map(|i| issuer.issue(MemberId(i), Epoch(0)))
        .collect();
    let mut desk = CheckInDesk::new(store, site.clone(), site::verifier(&site).unwrap());
    let samples = (0..SCANS)
        .map(|i| {
            // One scan every 3 s of simulated time: each member comes back every 50 min.
            let now = Timestamp::from_unix_millis(t0.as_unix_millis() + i as i64 * 3_000);
            let t = Instant::now();
            desk.scan(&scans[i % scans.len()], now, ScanSource::Scanner)
                .unwrap();
            t.elapsed()
        })
        .collect();
    let (scan50, scan99) = report("scan -> durable decision (desk)", samples);
    println!(
        "{:<44} p50 x{:.2}  p99 x{:.2}",
        "ratio to the floor",
        scan50.as_secs_f64() / floor50.as_secs_f64(),
        scan99.as_secs_f64() / floor99.as_secs_f64()
    );

    // 4. Cold start to first frame, and memory.
    let bin = env!("CARGO_BIN_EXE_kiosk");
    let png = base.join("home.png");
    let mut frames = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..5 {
        let out = Command::new(bin)
            .args(["screenshot", "--page", "home", "--timing", "--out"])
            .arg(&png)
            .env("KETING_LOG", "error")
            .output()
            .expect("run kiosk");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let field = |k: &str| {
            text.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .map(str::to_owned)
        };
        frames.push(
            field("first_frame_ms=")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN),
        );
        rss.push(
            field("rss_kib=")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0),
        );
    }
    frames.sort_by(f64::total_cmp);
    rss.sort();
    println!(
        "{:<44} median={:.1} ms  (min {:.1}, max {:.1}; process start to a 1280x800 frame in memory)",
        "cold start to first frame", frames[2], frames[0], frames[4]
    );
    println!(
        "{:<44} median={:.1} MiB",
        "resident memory after the first frame",
        rss[2] as f64 / 1024.0
    );
}
