//! The points benchmark: a program that prints figures, not a timed test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench points`
//! prints:
//! - durable ledger spends per second and their latency: a spend is the
//!   reservation (the member's standing read, expiry applied, the
//!   double-entry legs written and checked) and its commit, in one
//!   `BEGIN IMMEDIATE` transaction, WAL with `synchronous=FULL`, on a file;
//! - the floor measured in the same run, on the same disk with the same
//!   settings: a bare one-row insert and commit; and the ratio;
//! - redemption from confirm (the redemption committed to the database) to
//!   "take your drink" (settled as committed after the drink dropped),
//!   through the release `kiosk --headless`, `device-agent`, Mosquitto and
//!   the simulated machine with no mechanical delay, p50/p99: the vend
//!   command signed by the centre, its outcome by the machine, both links
//!   TLS 1.3 with client certificates (and the same over plain TCP, for
//!   comparison).
//!
//! `KETING_BENCH_SPENDS` and `KETING_BENCH_REDEMPTIONS` change the counts.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use keting_core::calendar::SiteCalendar;
use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use keting_store::members::{self, NewMember, Role};
use keting_store::{Store, StoreError, points, redemptions};
use keting_system_tests::latency::report;
use keting_system_tests::mosquitto::Mosquitto;
use keting_system_tests::site_tls::SiteTls;
use keting_system_tests::vending_site::{MACHINE, VendingSite};

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Members spending in the ledger benchmark.
const MEMBERS: usize = 200;

fn ledger(spends: usize) {
    let dir = tempfile::tempdir().unwrap();
    let cal = SiteCalendar::china();
    let t0 = Timestamp::from_unix_millis(1_800_000_000_000);

    // The floor: one row, one durable commit, same settings.
    let mut floor_store = Store::open(&dir.path().join("floor.db")).unwrap();
    floor_store
        .conn()
        .execute_batch("CREATE TABLE floor (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .unwrap();
    let mut floor = Vec::with_capacity(spends);
    let started = Instant::now();
    for i in 0..spends {
        let t = Instant::now();
        floor_store
            .write(|tx| tx.execute("INSERT INTO floor (v) VALUES (?1)", [i as i64]))
            .unwrap();
        floor.push(t.elapsed());
    }
    let floor_rate = spends as f64 / started.elapsed().as_secs_f64();

    // Spends: MEMBERS members with points, round robin, each spend
    // reserved and committed in one transaction.
    let mut store = Store::open(&dir.path().join("ledger.db")).unwrap();
    let members = store
        .write(|tx| {
            points::set_policy(
                tx,
                &keting_core::ledger::rules::PointsPolicy {
                    max_award: 1_000_000,
                    daily_earn_cap: 1_000_000_000,
                    daily_spend_cap: 1_000_000_000,
                    ..keting_core::ledger::rules::PointsPolicy::default()
                },
            )?;
            let day = cal.date_of(t0).to_string();
            let a = points::occasion(tx, "服务", 1_000_000, &day, "bench", t0)?;
            (0..MEMBERS)
                .map(|i| {
                    let new = NewMember::new(&format!("义工{i}"), None, &[Role::Volunteer])?;
                    let m = members::add(tx, &new, t0)?;
                    points::award(tx, m, a, "bench", cal, t0)?;
                    Ok(m)
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .unwrap();
    let mut spend = Vec::with_capacity(spends);
    let started = Instant::now();
    for i in 0..spends {
        let t = Instant::now();
        let id = format!("r-bench-{i}");
        let member = members[i % MEMBERS];
        store
            .write(|tx| {
                points::reserve(tx, member, 10, &id, cal, t0)?;
                points::settle(tx, member, 10, &id, true, cal, t0)
            })
            .unwrap();
        spend.push(t.elapsed());
    }
    let spend_rate = spends as f64 / started.elapsed().as_secs_f64();
    let all = points::balances(store.conn()).unwrap();
    assert_eq!(all.iter().map(|(_, b)| b).sum::<i64>(), 0);

    println!(
        "ledger ({spends} spends by {MEMBERS} members, WAL, synchronous=FULL, on {})",
        dir.path().display()
    );
    report("  floor: bare one-row insert + commit", floor);
    report("  spend: reserve + commit (double entry, checks)", spend);
    println!(
        "  throughput: floor {floor_rate:.0}/s, spends {spend_rate:.0}/s (ratio x{:.2} the floor's time)",
        floor_rate / spend_rate
    );
}

async fn redemption(n: usize, tls: bool) {
    let site = VendingSite::new(2, u16::try_from(n + 10).unwrap_or(u16::MAX), 10).await;
    site.sim.set_vend_time(Duration::ZERO);
    let site_tls = SiteTls::new();
    let (broker, kiosk, agent) = if tls {
        let broker = Mosquitto::start_tls(site_tls.listener()).await;
        let kiosk = site.start_kiosk_tls(&broker, &site_tls).await;
        let agent = site.start_agent_tls(&broker, &site_tls).await;
        (broker, kiosk, agent)
    } else {
        let broker = VendingSite::broker().await;
        let kiosk = site.start_kiosk(broker.port).await;
        let agent = site.start_agent(broker.port).await;
        (broker, kiosk, agent)
    };
    let member = keting_core::ids::MemberId(site.volunteer("义工", i64::try_from(n).unwrap() * 10));
    let mut store = Store::open(&site.data().join("keting.db")).unwrap();
    let device = DeviceId::new(MACHINE).unwrap();
    let cal = SiteCalendar::china();
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = store
            .write(|tx| redemptions::begin(tx, member, &device, 1, cal, keting_link::clock::now()))
            .unwrap();
        loop {
            let state = redemptions::get(store.conn(), &r.id)
                .unwrap()
                .unwrap()
                .state;
            if state == redemptions::State::Committed {
                break;
            }
            assert_ne!(state, redemptions::State::Refunded);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(t.elapsed());
    }
    println!(
        "redemption ({n}, release kiosk and agent, Mosquitto {}, signed both ways, simulated machine with no mechanical delay)",
        if tls {
            "over TLS 1.3 with client certificates"
        } else {
            "over plain TCP"
        }
    );
    report("  confirm -> take your drink", latencies);
    if std::env::var_os("KETING_BENCH_LOG").is_some() {
        println!("{}\n{}", kiosk.log(), agent.log());
    }
    assert_eq!(site.sim.dispensed(), n as u64);
    kiosk.stop().await;
    agent.stop().await;
    drop(broker);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    ledger(count("KETING_BENCH_SPENDS", 2_000));
    let n = count("KETING_BENCH_REDEMPTIONS", 200);
    redemption(n, true).await;
    redemption(n, false).await;
}
