//! The activities benchmark: a program that prints figures, not a timed test.
//!
//! `cargo bench -p keting-system-tests --bench activities` prints sign-up
//! at the busiest moment: a 20-place class opens and 200 residents sign up
//! within one second (arrivals spread evenly over it), from 8 threads each
//! with its own connection to the centre's database file, as the kiosk,
//! staff at the dashboard and residents' phones would be; each sign-up is
//! the desk's call (the list settled, the core's rules, the place or the
//! turn written with its audit row, one `BEGIN IMMEDIATE` transaction, WAL
//! with `synchronous=FULL`). Printed: p50/p99 from each arrival to its
//! answer, beside the floor (a bare one-row insert and commit on the same
//! disk, measured in the same run); how many got places (exactly 20) and
//! how many wait (180, in arrival order); then the service's offers sweep
//! (run every second) over a month's 6,600 activities planned ahead with
//! that one waiting list; the process's peak resident memory.
//!
//! `KETING_BENCH_RESIDENTS` and `KETING_BENCH_PLACES` change the counts.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use keting_core::activity::rules::SignedUp;
use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_desk::Actor;
use keting_desk::activities;
use keting_store::Store;
use keting_store::members::{self, NewMember};
use keting_system_tests::latency::report;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const THREADS: usize = 8;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let residents = count("KETING_BENCH_RESIDENTS", 200);
    let places = u32::try_from(count("KETING_BENCH_PLACES", 20)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keting.db");
    let cal = SiteCalendar::china();
    let now = Timestamp::from_unix_millis(1_800_000_000_000);

    // The floor: a bare one-row insert and commit, as many as the sign-ups.
    let mut floor_store = Store::open(&dir.path().join("floor.db")).unwrap();
    floor_store
        .conn()
        .execute_batch("CREATE TABLE floor (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .unwrap();
    let mut floor = Vec::with_capacity(residents);
    for i in 0..residents {
        let t = Instant::now();
        floor_store
            .write(|tx| tx.execute("INSERT INTO floor (v) VALUES (?1)", [i as i64]))
            .unwrap();
        floor.push(t.elapsed());
    }

    let mut store = Store::open(&path).unwrap();
    let people: Vec<MemberId> = store
        .write(|tx| {
            (0..residents)
                .map(|i| members::add(tx, &NewMember::new(&format!("居民{i}"), None, &[])?, now))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    let plan = ActivityPlan {
        title_zh: "书法班".into(),
        title_en: "Calligraphy".into(),
        room: "活动室 2".into(),
        starts: now.saturating_add(Duration::from_secs(86_400)),
        ends: now.saturating_add(Duration::from_secs(86_400 + 5_400)),
        capacity: places,
        kind: ActivityKind::Class,
        audience: Audience::Everyone,
        points_per_hour: 0,
        organiser_name: String::new(),
    };
    let id = activities::add(&mut store, Actor::CommandLine, &plan, None, cal, now).unwrap()[0];
    drop(store);

    // Arrivals spread evenly over one second; each thread takes every
    // THREADS-th resident and waits for their moment.
    let gap = Duration::from_secs(1) / u32::try_from(residents.max(1)).unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let started = Instant::now() + Duration::from_millis(200);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let people = people.clone();
            let path = path.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                barrier.wait();
                let mut out = Vec::new();
                for (i, who) in people.iter().enumerate().skip(t).step_by(THREADS) {
                    let due = started + gap * u32::try_from(i).unwrap();
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let answer =
                        activities::sign_up(&mut store, Actor::Member(*who), id, *who, now)
                            .unwrap();
                    out.push((i, answer, due.elapsed()));
                }
                out
            })
        })
        .collect();
    let mut answers: Vec<(usize, SignedUp, Duration)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let took = started.elapsed();
    answers.sort_by_key(|a| a.0);
    let got = answers.iter().filter(|a| a.1 == SignedUp::Place).count();
    let mut turns: Vec<u32> = answers
        .iter()
        .filter_map(|a| match a.1 {
            SignedUp::Waiting(n) => Some(n),
            SignedUp::Place => None,
        })
        .collect();
    turns.sort_unstable();
    let turns_whole = turns.iter().enumerate().all(|(i, n)| *n as usize == i + 1);

    println!(
        "activities: {residents} residents sign up for one {places}-place class within 1 s ({THREADS} connections, WAL, synchronous=FULL)"
    );
    report("floor: bare insert + commit", floor);
    report(
        "sign-up: arrival to answer",
        answers.iter().map(|a| a.2).collect(),
    );
    let view = activities::get(&Store::open(&path).unwrap(), id).unwrap();
    println!(
        "places given: {got} (want exactly {places}); waiting: {} (turns 1..{} each once: {turns_whole}); the list says {} held, {} waiting; all answered {:.0} ms after the first arrival",
        turns.len(),
        turns.len(),
        view.places_held,
        view.waiting,
        took.as_secs_f64() * 1e3
    );
    // The service's sweep, every second: a month of a busy district's
    // programme (6,600 activities, Futian's month) planned ahead, the one
    // class with its waiting list of 180 the only list that can move.
    let mut store = Store::open(&path).unwrap();
    store
        .write(|tx| {
            for i in 0..6_600u64 {
                let starts = now.saturating_add(Duration::from_secs(
                    3_600 + (i % 30) * 86_400 + (i % 12) * 3_600,
                ));
                let p = ActivityPlan {
                    starts,
                    ends: starts.saturating_add(Duration::from_secs(3_600)),
                    ..plan.clone()
                };
                keting_store::activities::insert(
                    tx,
                    &p,
                    keting_store::activities::Origin::default(),
                    "bench",
                    now,
                )?;
            }
            Ok::<_, keting_store::StoreError>(())
        })
        .unwrap();
    let mut sweeps = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let moved = activities::settle_offers(&mut store, now).unwrap();
        sweeps.push(t.elapsed());
        assert!(moved.is_empty(), "nothing moves at a fixed time");
    }
    report("offers sweep (6,601 activities, 1 queue)", sweeps);
    println!(
        "peak resident memory: {:.1} MiB",
        peak_kib() as f64 / 1024.0
    );
    assert_eq!(got, places as usize, "exactly the class's places are given");
    assert_eq!(view.places_held, places);
    assert!(turns_whole, "each turn on the waiting list given once");
}
