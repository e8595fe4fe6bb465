//! The backup benchmark: a program that prints figures, not a timed test.
//!
//! `cargo bench -p keting-system-tests --bench backup` builds a year-old
//! centre (600 members, 1,000 visits a day for 365 days, each one's row in
//! the district's outbox, a drink every tenth visit's worth of points
//! awarded) and prints, three times each, beside the floor measured in the
//! same run on the same disk:
//! - `backup::create` (the database by `VACUUM INTO`, the keys, the
//!   manifest with every file's SHA-256): its time and the backup's size;
//! - `backup::verify` (every hash, the database's integrity check);
//! - `backup::restore` onto an empty data directory (a new Pi);
//! - the floor: copying the live database file as it is (`fs::copy`).
//!
//! `KETING_BENCH_DAYS` (365) and `KETING_BENCH_VISITS_A_DAY` (1,000) change
//! the size.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use keting_centre::backup;
use keting_centre::data_dir::DataDir;
use keting_centre::site::{self, NewSite};
use keting_core::checkin::CheckInDecision;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_store::Store;
use keting_store::checkins::{self, ScanSource};
use keting_store::members::{self, NewMember};

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                size_of(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn main() {
    let days = count("KETING_BENCH_DAYS", 365);
    let per_day = count("KETING_BENCH_VISITS_A_DAY", 1_000);
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::prepare(tmp.path().join("data")).unwrap();
    let day_ms = 86_400_000_i64;
    let start = Timestamp::from_unix_millis(1_765_000_000_000);
    let mut store = Store::open(&dir.database()).unwrap();
    site::open_or_create(&mut store, &dir, NewSite::Plain, start).unwrap();
    let built = Instant::now();
    let members: Vec<MemberId> = store
        .write(|tx| {
            (0..600)
                .map(|i| {
                    members::add(
                        tx,
                        &NewMember::new(&format!("居民{i}"), Some("5067"), &[]).unwrap(),
                        start,
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    for day in 0..days {
        store
            .write(|tx| {
                for v in 0..per_day {
                    let m = members[(day * per_day + v) % members.len()];
                    let at = Timestamp::from_unix_millis(
                        start.as_unix_millis()
                            + day as i64 * day_ms
                            + 8 * 3_600_000
                            + v as i64 * 40_000,
                    );
                    checkins::insert(
                        tx,
                        at,
                        Some(m),
                        &CheckInDecision::Accepted {
                            member: m,
                            counted: true,
                        },
                        ScanSource::Scanner,
                    )?;
                }
                Ok::<_, keting_store::StoreError>(())
            })
            .unwrap();
    }
    drop(store);
    let db_bytes = std::fs::metadata(dir.database()).unwrap().len();
    println!(
        "a year-old centre: {days} days x {per_day} visits = {} check-ins (and their district outbox rows), 600 members; database {:.1} MiB, built in {:.1} s",
        days * per_day,
        mib(db_bytes),
        built.elapsed().as_secs_f64()
    );

    let (mut floor, mut create, mut verify, mut restore) = (vec![], vec![], vec![], vec![]);
    let mut backup_bytes = 0;
    for round in 0..3 {
        let t = Instant::now();
        std::fs::copy(dir.database(), tmp.path().join(format!("copy-{round}.db"))).unwrap();
        floor.push(t.elapsed());

        let to = tmp.path().join(format!("backups-{round}"));
        let t = Instant::now();
        let made = backup::create(
            &dir,
            &to,
            Timestamp::from_unix_millis(start.as_unix_millis() + round),
        )
        .unwrap();
        create.push(t.elapsed());
        backup_bytes = size_of(&made);

        let t = Instant::now();
        backup::verify(&made).unwrap();
        verify.push(t.elapsed());

        let fresh = DataDir::prepare(tmp.path().join(format!("new-pi-{round}"))).unwrap();
        let t = Instant::now();
        backup::restore(&fresh, &made).unwrap();
        restore.push(t.elapsed());
    }
    let show = |what: &str, d: &[Duration]| {
        let ms: Vec<String> = d
            .iter()
            .map(|d| format!("{:.0}", d.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{what:<44} median {:>7.0} ms  (runs: {} ms)",
            median(d.to_vec()).as_secs_f64() * 1000.0,
            ms.join(", ")
        );
    };
    show("floor: copying the database file as it is", &floor);
    show("backup create (VACUUM INTO, keys, manifest)", &create);
    show("backup verify (every hash, integrity check)", &verify);
    show("backup restore onto an empty data directory", &restore);
    println!(
        "backup size {:.1} MiB ({:.2}x the live database); create is {:.1}x the floor",
        mib(backup_bytes),
        backup_bytes as f64 / db_bytes as f64,
        median(create).as_secs_f64() / median(floor).as_secs_f64()
    );
}
