//! The district's benchmark: a program that prints figures, not a timed
//! test.
//!
//! `cargo build --release --workspace --bins && cargo bench -p keting-system-tests --bench district`
//! starts a three-node nats-server cluster and PostgreSQL (fsync on, as in
//! production), enrols 101 centres, runs the release `keting-district
//! ingest` and prints, in the same run:
//! - the bare PostgreSQL insert (the ingest's own batch write, 500 events a
//!   batch, straight into a second database), events per second;
//! - the bare JetStream publish (256 in flight, acknowledged by a majority
//!   of the cluster, into a stream of its own), events per second;
//! - a simulated Futian month (1.82 million visits and the rest of a
//!   month's events from 101 centres) published as the centres' senders
//!   do while the ingest is stopped, then the ingest alone taking it from
//!   the stream into PostgreSQL (each message acknowledged on its own after
//!   its batch's commit): events per second, the ingest's peak resident
//!   memory, and its ratio to the slower of the two bare figures;
//! - a centre's uplink delay, from the event's commit in the centre's
//!   database (the centre's real sender) to its row in the district's
//!   database, p50/p99.
//!
//! `KETING_BENCH_VISITS` (1,820,000) and `KETING_BENCH_DELAYS` (200) change the counts.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use keting_centre::service::district_config::DistrictConfig;
use keting_centre::service::uplink::Uplink;
use keting_core::checkin::CheckInDecision;
use keting_core::district::{
    DISTRICT_VERSION, DistrictEvent, DistrictEventKind, Pseudonym, events_subject,
};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_district::database;
use keting_link::district_link::DistrictLogin;
use keting_store::Store;
use keting_store::checkins::{self, ScanSource};
use keting_store::members::NewMember;
use keting_system_tests::binaries::{self, Process};
use keting_system_tests::latency::{report, resident_kib};
use keting_system_tests::nats::NatsCluster;
use keting_system_tests::postgres::Postgres;

const DISTRICT: &str = "futian";
const CENTRES: usize = 101;

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn centre(i: usize) -> String {
    format!("futian-{:03}", i + 1)
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// The events of centre `c`'s share of a month: its visits, and per 100
/// visits 4 ratings, 3 awards, 2 spends, 3 sessions done, 1 door entry.
fn month_events(c: usize, visits: usize) -> Vec<DistrictEvent> {
    let name = centre(c);
    let key = [c as u8; 32];
    let start = 1_796_140_800_000 - 30 * 86_400_000;
    let mut out = Vec::with_capacity(visits * 113 / 100);
    for n in 0..visits {
        let at_ms = start + (n as i64 * 30 * 86_400_000) / visits.max(1) as i64;
        let who = Pseudonym::of(&key, MemberId((n % 3_000) as u32));
        let mut push = |event| {
            out.push(DistrictEvent {
                v: DISTRICT_VERSION,
                centre: name.clone(),
                id: out.len() as u64 + 1,
                at_ms,
                event,
            })
        };
        push(DistrictEventKind::CheckIn {
            visitor: who.clone(),
        });
        match n % 100 {
            0..=3 => push(DistrictEventKind::Rating {
                service: "piano".into(),
                stars: 3 + (n % 3) as u8,
            }),
            4..=6 => push(DistrictEventKind::PointsAwarded {
                awarded_for: format!("志愿服务{}", n % 7),
                volunteer: who,
                points: 10,
            }),
            7..=8 => push(DistrictEventKind::PointsSpent {
                member: who,
                points: 30,
            }),
            9..=11 => push(DistrictEventKind::BookingDone {
                service: "robot".into(),
            }),
            12 => push(DistrictEventKind::DoorEntry {
                door: "gym-door".into(),
                visitor: who,
            }),
            _ => {}
        }
    }
    out
}

/// Publishes `events` on `subject`, 256 in flight, each acknowledged.
async fn publish_all(js: &async_nats::jetstream::Context, subject: &str, events: &[DistrictEvent]) {
    for chunk in events.chunks(256) {
        let mut acks = Vec::with_capacity(chunk.len());
        for e in chunk {
            let m = async_nats::jetstream::message::PublishMessage::build()
                .payload(e.encode().into())
                .message_id(e.message_id());
            acks.push(js.send_publish(subject.to_owned(), m).await.unwrap());
        }
        for a in acks {
            a.await.unwrap();
        }
    }
}

async fn login(
    cluster: &NatsCluster,
    seed: std::path::PathBuf,
    inbox: Option<String>,
) -> async_nats::jetstream::Context {
    let client = keting_link::district_link::connect(&DistrictLogin {
        servers: cluster.urls(),
        nkey_seed: Some(seed),
        name: "bench".into(),
        inbox_prefix: inbox,
        ..DistrictLogin::default()
    })
    .await
    .unwrap();
    let mut js = async_nats::jetstream::new(client);
    js.set_timeout(Duration::from_secs(10));
    js
}

/// How many of `centre`'s events past `first` the district holds.
async fn arrived(db: &database::Client, centre: &str, first: i64) -> i64 {
    db.query_one(
        "SELECT count(*) FROM events WHERE centre = $1 AND event_id > $2",
        &[&centre, &first],
    )
    .await
    .unwrap()
    .get(0)
}

/// `keting-district ingest` (release) against the cluster and PostgreSQL.
async fn start_ingest(urls: &str, seed: &std::path::Path, url: &str) -> Process {
    Process::start(
        "keting-district",
        &[
            "ingest",
            "--nats",
            urls,
            "--district",
            DISTRICT,
            "--nkey",
            seed.to_str().unwrap(),
            "--postgres",
            url,
        ],
        &[("KETING_LOG", "warn,keting_district=info")],
        "ingesting stream",
    )
    .await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let visits = count("KETING_BENCH_VISITS", 1_820_000);
    let delays = count("KETING_BENCH_DELAYS", 200);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("enrolment");
    let mut cluster = NatsCluster::plan(3);
    let names: Vec<String> = (0..CENTRES).map(centre).collect();
    let servers = cluster.urls().join(",");
    let mut args = vec![
        "enrol",
        "--district",
        DISTRICT,
        "--out",
        out.to_str().unwrap(),
        "--servers",
        &servers,
    ];
    args.extend(names.iter().map(String::as_str));
    binaries::run(
        "keting-district",
        &args.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
    );
    let bench_key = keting_district::enrolment::new_user_key().unwrap();
    let bench_seed = dir.path().join("bench.nk");
    keting_link::atomic_file::write(&bench_seed, bench_key.seed.as_bytes(), 0o600).unwrap();
    let auth = std::fs::read_to_string(out.join("authorization.conf"))
        .unwrap()
        .replacen(
            "  users: [\n",
            &format!("  users: [\n    {{ nkey: {} }},\n", bench_key.public),
            1,
        );
    cluster.start(&auth).await;
    let pg = Postgres::start(true).await;
    println!("nats-server 2.9 three-node cluster, PostgreSQL fsync on, {CENTRES} centres enrolled");

    // 1. The bare PostgreSQL insert, into a database of its own.
    let psql = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            "keting",
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE bare",
        ])
        .output()
        .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    let mut bare = database::connect(&pg.url("bare")).await.unwrap();
    database::migrate(&mut bare).await.unwrap();
    let sample = month_events(0, 100_000);
    let started = Instant::now();
    for (n, chunk) in sample.chunks(500).enumerate() {
        let batch: Vec<database::Incoming> = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| database::Incoming {
                body: e.encode(),
                event: e.clone(),
                stream_seq: (n * 500 + i) as u64,
            })
            .collect();
        database::ingest(&mut bare, &batch, &[], 480, now_ms())
            .await
            .unwrap();
    }
    let took = started.elapsed();
    let bare_insert = sample.len() as f64 / took.as_secs_f64();
    println!(
        "bare PostgreSQL insert (batches of 500, rollups)        {:>9.0} events/s ({} events in {:.1} s)",
        sample.len() as f64 / took.as_secs_f64(),
        sample.len(),
        took.as_secs_f64()
    );

    // 2. The bare JetStream publish, into a stream of its own.
    let js = login(&cluster, bench_seed.clone(), None).await;
    js.get_or_create_stream(async_nats::jetstream::stream::Config {
        name: "BENCH_BARE".into(),
        subjects: vec!["bench.bare".into()],
        num_replicas: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    let started = Instant::now();
    publish_all(&js, "bench.bare", &sample).await;
    let took = started.elapsed();
    let bare_publish = sample.len() as f64 / took.as_secs_f64();
    println!(
        "bare JetStream publish (R3, 256 in flight)              {:>9.0} events/s ({} events in {:.1} s)",
        sample.len() as f64 / took.as_secs_f64(),
        sample.len(),
        took.as_secs_f64()
    );

    // 3. A simulated Futian month: published by the centres with the
    // ingest stopped (the stream holds it all), then the ingest started and
    // timed until PostgreSQL holds every event: the ingest alone, each
    // message acknowledged on its own after its batch's commit.
    let urls = cluster.urls().join(",");
    let seed = out.join("ingest.nk");
    let url = pg.url("postgres");
    // The stream and the schema made, then stopped.
    start_ingest(&urls, &seed, &url).await.stop().await;
    let per_centre = visits / CENTRES;
    let months: Vec<Vec<DistrictEvent>> =
        (0..CENTRES).map(|c| month_events(c, per_centre)).collect();
    let total: usize = months.iter().map(Vec::len).sum();
    let db = database::connect(&url).await.unwrap();
    let started = Instant::now();
    let mut publishers = Vec::new();
    for (c, events) in months.into_iter().enumerate() {
        let js = login(
            &cluster,
            out.join(centre(c)).join(format!("{}.nk", centre(c))),
            Some(format!("_INBOX_{}", centre(c))),
        )
        .await;
        publishers.push(tokio::spawn(async move {
            publish_all(&js, &events_subject(DISTRICT, &centre(c)), &events).await;
        }));
    }
    for p in publishers {
        p.await.unwrap();
    }
    let published = started.elapsed();
    let ingest = start_ingest(&urls, &seed, &url).await;
    let started = Instant::now();
    let mut peak_kib = 0;
    let landed = loop {
        peak_kib = peak_kib.max(resident_kib(ingest.pid()).unwrap_or(0));
        let (rows, _) = database::event_counts(&db).await.unwrap();
        if rows as usize >= total {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(database::recount_mismatches(&db).await.unwrap().is_empty());
    println!(
        "a Futian month ({visits} visits, {total} events, {CENTRES} centres): published by the centres in {:.1} s ({:.0} events/s)",
        published.as_secs_f64(),
        total as f64 / published.as_secs_f64()
    );
    let ingested = total as f64 / landed.as_secs_f64();
    println!(
        "district ingest, stream to PostgreSQL (each acknowledged) {:>8.0} events/s ({:.1} s); ingest peak resident memory {:.1} MiB",
        ingested,
        landed.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
    let floor = bare_insert.min(bare_publish);
    println!(
        "the ingest is {:.2}x the slower of the bare insert and the bare publish ({floor:.0} events/s; the aim is at least 0.5x)",
        ingested / floor
    );

    // 4. A centre's uplink delay: commit to row.
    let data = dir.path().join("centre");
    std::fs::create_dir_all(&data).unwrap();
    let db_path = data.join("keting.db");
    let mut store = Store::open(&db_path).unwrap();
    let t0 = Timestamp::from_unix_millis(now_ms());
    let members = store
        .write(|tx| {
            (0..delays)
                .map(|i| {
                    keting_store::members::add(
                        tx,
                        &NewMember::new(&format!("居民{i}"), None, &[]).unwrap(),
                        t0,
                    )
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    let name = centre(CENTRES - 1);
    let config = DistrictConfig::load(&out.join(&name).join("district.toml")).unwrap();
    // The month used this centre's event ids from 1: its outbox starts past
    // them (a row already sent), as a real centre's would.
    const FIRST_ID: i64 = 10_000_000;
    store
        .write(|tx| {
            tx.execute(
                "INSERT INTO uplink_outbox (id, source, ref_id, at_ms, sent_ms) VALUES (?1, 'checkin', 0, 0, 0)",
                [FIRST_ID],
            )
        })
        .unwrap();
    let uplink = Uplink::new(config, [9; 32], db_path.clone());
    let (wake, woken) = tokio::sync::watch::channel(0);
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(uplink.run(woken, stopped));
    let mut samples = Vec::with_capacity(delays);
    let mut rows = arrived(&db, &name, FIRST_ID).await;
    for m in members {
        let committed = Instant::now();
        store
            .write(|tx| {
                checkins::insert(
                    tx,
                    Timestamp::from_unix_millis(now_ms()),
                    Some(m),
                    &CheckInDecision::Accepted {
                        member: m,
                        counted: true,
                    },
                    ScanSource::Scanner,
                )
            })
            .unwrap();
        wake.send_modify(|v| *v += 1);
        loop {
            let now_rows = arrived(&db, &name, FIRST_ID).await;
            if now_rows > rows {
                rows = now_rows;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(committed.elapsed());
    }
    report(
        "uplink delay, commit at the centre to the district's row",
        samples,
    );
    drop(ingest);
}
