//! The bookings benchmark: a program that prints figures, not a timed test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench bookings`
//! prints:
//! - booking decisions on a busy week: ten resources (two robots, two
//!   childcare rooms of 6 places, six rooms of 12) and 1,500 members; the week
//!   is first filled to about 80% of its places, then each decision (the
//!   places taken and the member's week read, the core's rules, the booking
//!   written, or a refusal: full, over a limit) is one `BEGIN IMMEDIATE`
//!   transaction, WAL with `synchronous=FULL`, on a file; beside the floor
//!   (a bare one-row insert and commit) measured in the same run;
//! - scan to piano relay on: the walk-up written to the database (as the
//!   screen does) until the simulated relay board's coil is on, through the
//!   release `kiosk --headless`, the `device-agent` piano bank and
//!   Mosquitto; then the session ended the same way until the coil is off.
//!
//! `KETING_BENCH_DECISIONS` and `KETING_BENCH_SCANS` change the counts.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use keting_core::booking::{
    BookingPolicy, Limits, OpeningWindow, Price, Resource, ResourceId, ResourceKind,
};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::{DeviceId, MemberId};
use keting_core::time::Timestamp;
use keting_hardware::relay_board::sim::{SimRelayBoard, serve_tcp};
use keting_store::members::{self, NewMember, Role};
use keting_store::resources::{self, ResourceRecord};
use keting_store::walk_up::{self, WalkUp};
use keting_store::{Store, StoreError, bookings};
use keting_system_tests::binaries::{self, Process};
use keting_system_tests::latency::report;
use keting_system_tests::mosquitto::Mosquitto;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (no dependency for a benchmark).
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

const MEMBERS: usize = 1_500;

fn resource(
    id: &str,
    kind: ResourceKind,
    hours: &[&str],
    slot: Option<u16>,
    capacity: u16,
) -> ResourceRecord {
    ResourceRecord {
        resource: Resource {
            id: ResourceId::new(id).unwrap(),
            kind,
            name_zh: id.into(),
            name_en: id.into(),
            hours: hours
                .iter()
                .map(|h| OpeningWindow::parse(h).unwrap())
                .collect(),
            slot_minutes: slot,
            capacity,
            price: Price::Free,
            trial_price: None,
            limits: Limits {
                per_day: 3,
                per_week: 10,
            },
            checked_after_use: false,
        },
        device: None,
        channel: None,
        session: Duration::from_secs(2700),
    }
}

fn decisions(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let cal = SiteCalendar::china();
    let policy = BookingPolicy::default();
    // Sunday evening before the measured week.
    let monday = time::Date::from_calendar_date(2027, time::Month::March, 1).unwrap();
    let now = Timestamp::from_unix_millis(cal.start_of(monday).as_unix_millis() - 3_600_000);

    let mut floor_store = Store::open(&dir.path().join("floor.db")).unwrap();
    floor_store
        .conn()
        .execute_batch("CREATE TABLE floor (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        .unwrap();
    let mut floor = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        floor_store
            .write(|tx| tx.execute("INSERT INTO floor (v) VALUES (?1)", [i as i64]))
            .unwrap();
        floor.push(t.elapsed());
    }

    let mut store = Store::open(&dir.path().join("keting.db")).unwrap();
    let mut all = vec![
        resource(
            "robot-1",
            ResourceKind::Robot,
            &["08:00-20:00"],
            Some(30),
            1,
        ),
        resource(
            "robot-2",
            ResourceKind::Robot,
            &["08:00-20:00"],
            Some(30),
            1,
        ),
        resource(
            "childcare-1",
            ResourceKind::Childcare,
            &["08:30-11:30", "14:00-17:30"],
            None,
            6,
        ),
        resource(
            "childcare-2",
            ResourceKind::Childcare,
            &["08:30-11:30", "14:00-17:30"],
            None,
            6,
        ),
    ];
    for i in 1..=6 {
        all.push(resource(
            &format!("room-{i}"),
            ResourceKind::Room,
            &["08:00-21:00"],
            Some(60),
            12,
        ));
    }
    let members = store
        .write(|tx| {
            for r in &all {
                resources::put(tx, r)?;
            }
            (0..MEMBERS)
                .map(|i| {
                    members::add(
                        tx,
                        &NewMember::new(&format!("居民{i}"), None, &[Role::Resident])?,
                        now,
                    )
                })
                .collect::<Result<Vec<MemberId>, StoreError>>()
        })
        .unwrap();
    // Every slot of the week, with its resource.
    let mut slots = Vec::new();
    for r in &all {
        for d in 0..7 {
            for s in keting_core::booking::slots::slots_on(
                &r.resource,
                cal,
                monday + time::Duration::days(d),
            ) {
                slots.push((r.resource.id.to_string(), s.start, r.resource.capacity));
            }
        }
    }
    let places: usize = slots.iter().map(|(_, _, c)| usize::from(*c)).sum();
    let mut rng = Lcg(42);
    let book = |store: &mut Store, rng: &mut Lcg| {
        let (res, start, _) = &slots[rng.below(slots.len())];
        let m = members[rng.below(members.len())];
        store.write(|tx| bookings::book(tx, &policy, cal, res, *start, m, rng.below(4) == 0, now))
    };
    // Fill the week to about 80% of its places.
    let mut taken = 0;
    let mut tries = 0;
    while taken * 10 < places * 8 && tries < places * 20 {
        tries += 1;
        if let Ok(b) = book(&mut store, &mut rng)
            && b.waiting_position.is_none()
        {
            taken += 1;
        }
    }
    let mut latencies = Vec::with_capacity(n);
    let (mut written, mut refused_t) = (Vec::new(), Vec::new());
    let (mut booked, mut waiting, mut refused) = (0, 0, 0);
    for _ in 0..n {
        let t = Instant::now();
        let r = book(&mut store, &mut rng);
        let took = t.elapsed();
        latencies.push(took);
        match r {
            Ok(b) => {
                if b.waiting_position.is_some() {
                    waiting += 1;
                } else {
                    booked += 1;
                }
                written.push(took);
            }
            Err(_) => {
                refused += 1;
                refused_t.push(took);
            }
        }
    }
    let rows: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM bookings", [], |r| r.get(0))
        .unwrap();
    println!(
        "booking decisions (10 resources, {} slots, {places} places, {taken} taken before measuring, {rows} booking rows; {MEMBERS} members; WAL, synchronous=FULL)",
        slots.len()
    );
    report("  floor: bare one-row insert + commit", floor);
    report("  decision, any outcome", latencies);
    report("  decision that wrote a booking or a wait", written);
    report("  decision refused (rolled back)", refused_t);
    println!(
        "  outcomes: {booked} booked, {waiting} on a waiting list, {refused} refused (full, limits)"
    );
}

async fn scans(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let site_info = binaries::kiosk(&data, &["site"]);
    let field = |name: &str| {
        site_info
            .lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap()
    };
    let (site, public_key) = (field("site"), field("public_key"));
    let board = SimRelayBoard::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let board_port = listener.local_addr().unwrap().port();
    tokio::spawn(serve_tcp(listener, board.clone(), std::future::pending()));
    let cal = SiteCalendar::china();
    let mut store = Store::open(&data.join("keting.db")).unwrap();
    let member = store
        .write(|tx| {
            for c in 1..=8u8 {
                let mut r = resource(
                    &format!("piano-{c}"),
                    ResourceKind::Piano,
                    &["00:00-24:00"],
                    None,
                    1,
                );
                r.resource.limits = Limits {
                    per_day: u16::MAX,
                    per_week: u16::MAX,
                };
                r.device = Some(DeviceId::new("pianos").unwrap());
                r.channel = Some(c);
                resources::put(tx, &r)?;
            }
            members::add(
                tx,
                &NewMember::new("王秀英", None, &[Role::Resident])?,
                keting_link::clock::now(),
            )
        })
        .unwrap();
    let broker = Mosquitto::start().await;
    let config = dir.path().join("pianos.toml");
    let pianos: Vec<String> = (1..=8)
        .map(|c| {
            format!("{{ channel = {c}, name = \"{c}号钢琴\", panel = {{ kind = \"none\" }} }}")
        })
        .collect();
    std::fs::write(
        &config,
        format!(
            "site = \"{site}\"\ndevice = \"pianos\"\nsite_public_key = \"{public_key}\"\nstate_dir = \"{}\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n[piano_bank]\nbus = \"tcp:127.0.0.1:{board_port}\"\npianos = [{}]\n",
            dir.path().join("agent").display(),
            broker.port,
            pianos.join(", ")
        ),
    )
    .unwrap();
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let kiosk = binaries::start_kiosk(
        &data,
        &["--mqtt-url", &url],
        "controller connected to the broker",
    )
    .await;
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[],
        "piano bank agent running",
    )
    .await;
    // The bank is up once its first status reached the kiosk; give the
    // first command a moment by waiting for the agent's connection line.
    agent
        .wait_for_line("connected to the broker", Duration::from_secs(10))
        .await;
    let policy = BookingPolicy::default();
    let mut changes = board.changes();
    let (mut on, mut off) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut rng = Lcg(7);
    for _ in 0..n {
        // Scans come at any moment, not in step with the kiosk's poll.
        tokio::time::sleep(Duration::from_micros(rng.below(20_000) as u64)).await;
        let t = Instant::now();
        let got = store
            .write(|tx| {
                walk_up::scan(
                    tx,
                    &policy,
                    cal,
                    ResourceKind::Piano,
                    member,
                    &[],
                    keting_link::clock::now(),
                )
            })
            .unwrap();
        let WalkUp::Started(b) = got else {
            panic!("{got:?}")
        };
        let ch = usize::from(b.device.as_ref().unwrap().1 - 1);
        tokio::time::timeout(Duration::from_secs(10), changes.wait_for(|c| c[ch]))
            .await
            .unwrap()
            .unwrap();
        on.push(t.elapsed());
        tokio::time::sleep(Duration::from_micros(rng.below(20_000) as u64)).await;
        let t = Instant::now();
        store
            .write(|tx| {
                bookings::finish(
                    tx,
                    cal,
                    b.id,
                    "ended_early",
                    false,
                    keting_link::clock::now(),
                )
            })
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), changes.wait_for(|c| !c[ch]))
            .await
            .unwrap()
            .unwrap();
        off.push(t.elapsed());
    }
    println!(
        "pianos ({n} scans, release kiosk and piano-bank agent, Mosquitto, simulated relay board on Modbus TCP)"
    );
    report("  scan -> piano relay on", on);
    report("  end at the kiosk -> piano relay off", off);
    if let (Some(k), Some(a)) = (
        keting_system_tests::latency::resident_kib(kiosk.pid()),
        keting_system_tests::latency::resident_kib(agent.pid()),
    ) {
        println!(
            "  resident memory: kiosk {:.1} MiB, piano-bank agent {:.1} MiB",
            k as f64 / 1024.0,
            a as f64 / 1024.0
        );
    }
    kiosk.stop().await;
    agent.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    decisions(count("KETING_BENCH_DECISIONS", 2_000));
    scans(count("KETING_BENCH_SCANS", 200)).await;
}
