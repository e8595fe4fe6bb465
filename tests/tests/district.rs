//! The district (issue 15) across real processes on loopback: a three-node
//! nats-server JetStream cluster, PostgreSQL, `keting-district ingest`,
//! real `keting-centre` processes and, for the rest of a hundred centres,
//! uplink simulators: each a centre's own database (the real schema and
//! its outbox triggers) and the centre's real sender, in this process.
//!
//! Every event is in PostgreSQL exactly once (its rows equal the distinct
//! event ids, and the rollups a recount) through the stream leader killed
//! with SIGKILL, two of three servers stopped for a minute, the whole
//! cluster restarted, and the whole stream replayed twice.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keting_centre::service::district_config::DistrictConfig;
use keting_centre::service::uplink::{Uplink, UplinkStatus};
use keting_core::calendar::SiteCalendar;
use keting_core::checkin::CheckInDecision;
use keting_core::ids::{DeviceId, MemberId};
use keting_core::time::Timestamp;
use keting_desk::{self as desk, Actor};
use keting_district::database;
use keting_link::district_link::DistrictLogin;
use keting_store::checkins::{self, ScanSource};
use keting_store::members::NewMember;
use keting_store::{Store, StoreError, alarms};
use keting_system_tests::binaries::{self, Process};
use keting_system_tests::nats::NatsCluster;
use keting_system_tests::postgres::Postgres;
use tokio::sync::watch;

const DISTRICT: &str = "futian";

/// How many centres in all; the first [`REAL_CENTRES`] are real processes.
const CENTRES: usize = 100;
const REAL_CENTRES: usize = 2;

fn centre_name(i: usize) -> String {
    format!("futian-{:03}", i + 1)
}

/// The enrolment, the cluster, PostgreSQL and the ingest.
struct District {
    dir: tempfile::TempDir,
    cluster: NatsCluster,
    pg: Postgres,
    ingest: Option<Process>,
    /// The district's CA, when its links are TLS.
    ca: Option<PathBuf>,
}

impl District {
    fn out(&self) -> PathBuf {
        self.dir.path().join("enrolment")
    }

    /// Starts it all with `centres` enrolled (and `extra_users` appended to
    /// the authorization, for the bad-input test's rogue publisher).
    async fn start(centres: &[String], extra: impl Fn(&str) -> String) -> Self {
        Self::start_with(centres, extra, &[]).await
    }

    /// As [`Self::start`], the ingest given `ingest_args` too.
    async fn start_with(
        centres: &[String],
        extra: impl Fn(&str) -> String,
        ingest_args: &[&str],
    ) -> Self {
        Self::start_full(centres, extra, ingest_args, None).await
    }

    /// As [`Self::start_with`], every client link over TLS with `tls`'s CA
    /// when given.
    async fn start_full(
        centres: &[String],
        extra: impl Fn(&str) -> String,
        ingest_args: &[&str],
        tls: Option<&keting_system_tests::site_tls::SiteTls>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cluster = NatsCluster::plan(3);
        let ca = tls.map(|t| t.dir.path().join("ca.pem"));
        if let Some(t) = tls {
            cluster = cluster.with_tls(
                t.dir.path().join("ca.pem"),
                t.dir.path().join("broker-chain.pem"),
                t.dir.path().join("broker.key"),
            );
        }
        let out = dir.path().join("enrolment");
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
        let ca_text = ca.as_ref().map(|c| c.to_str().unwrap().to_owned());
        if let Some(c) = &ca_text {
            args.extend(["--ca", c.as_str()]);
        }
        args.extend(centres.iter().map(String::as_str));
        let said = binaries::run(
            "keting-district",
            &args.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
        );
        assert!(
            said.contains(&format!("{} centres", centres.len())),
            "{said}"
        );
        let auth = std::fs::read_to_string(out.join("authorization.conf")).unwrap();
        cluster.start(&extra(&auth)).await;
        let pg = Postgres::start(false).await;
        let mut d = Self {
            dir,
            cluster,
            pg,
            ingest: None,
            ca,
        };
        let mut ingest_args = ingest_args.to_vec();
        if let Some(c) = &ca_text {
            ingest_args.extend(["--ca", c.as_str()]);
        }
        d.start_ingest(&ingest_args).await;
        d
    }

    async fn start_ingest(&mut self, more: &[&str]) {
        let urls = self.cluster.urls().join(",");
        let seed = self.out().join("ingest.nk");
        let url = self.pg.url("postgres");
        let mut args = vec![
            "ingest",
            "--nats",
            &urls,
            "--district",
            DISTRICT,
            "--nkey",
            seed.to_str().unwrap(),
            "--postgres",
            &url,
        ];
        args.extend_from_slice(more);
        self.ingest = Some(
            Process::start(
                "keting-district",
                &args,
                &[("KETING_LOG", "info")],
                "ingesting stream KETING_FUTIAN (3 replicas)",
            )
            .await,
        );
    }

    /// Where the ingest's dashboard listens (it logs the address).
    async fn dashboard_at(&self) -> std::net::SocketAddr {
        let line = self
            .ingest
            .as_ref()
            .unwrap()
            .wait_for_line("district dashboard at http://", Duration::from_secs(10))
            .await;
        line.rsplit("http://")
            .next()
            .unwrap()
            .trim()
            .trim_end_matches('/')
            .parse()
            .unwrap()
    }

    async fn db(&self) -> database::Client {
        database::connect(&self.pg.url("postgres")).await.unwrap()
    }

    /// A JetStream context logged in as the ingest (which may ask the API).
    async fn jetstream(&self) -> async_nats::jetstream::Context {
        let client = keting_link::district_link::connect(&DistrictLogin {
            servers: self.cluster.urls(),
            nkey_seed: Some(self.out().join("ingest.nk")),
            ca: self.ca.clone(),
            name: "test".into(),
            ..DistrictLogin::default()
        })
        .await
        .unwrap();
        async_nats::jetstream::new(client)
    }

    /// Waits (up to `within`) until PostgreSQL holds `n` events.
    async fn wait_for_events(&self, n: i64, within: Duration) -> Duration {
        let db = self.db().await;
        let started = Instant::now();
        loop {
            let (rows, _) = database::event_counts(&db).await.unwrap();
            if rows >= n {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "PostgreSQL holds {rows} of {n} events after {within:?}; the ingest said:\n{}",
                self.ingest.as_ref().map(Process::log).unwrap_or_default()
            );
            // PostgreSQL has no signal for a row count: a bounded look every 100 ms.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to 30 s) until the count `sql` reads is `want`.
    async fn wait_for_count(&self, sql: &str, want: i64, what: &str) {
        let db = self.db().await;
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let n: i64 = db.query_one(sql, &[]).await.unwrap().get(0);
                if n == want {
                    return;
                }
                // PostgreSQL has no signal for a row: a bounded look every 100 ms.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{what} within 30 s"));
    }

    /// Every rollup equals its recount, and no row is there twice.
    async fn assert_exactly_once(&self, expected: i64) {
        let db = self.db().await;
        let (rows, distinct) = database::event_counts(&db).await.unwrap();
        assert_eq!(
            (rows, distinct),
            (expected, expected),
            "every event once: rows, distinct ids"
        );
        let wrong = database::recount_mismatches(&db).await.unwrap();
        assert!(wrong.is_empty(), "rollups differ from a recount: {wrong:?}");
        let daily: i64 = db
            .query_one("SELECT coalesce(sum(events), 0)::int8 FROM daily", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(daily, expected);
    }
}

/// One simulated centre: its own database and the centre's real sender.
struct SimCentre {
    name: String,
    store: Store,
    members: Vec<MemberId>,
    wake: watch::Sender<i64>,
    status: watch::Receiver<UplinkStatus>,
    stop: watch::Sender<bool>,
    /// The longest time its sends failed in a row, and when each failure
    /// run ended.
    failures: std::sync::Arc<std::sync::Mutex<Vec<Duration>>>,
}

impl SimCentre {
    fn start(dir: &Path, out: &Path, name: &str) -> Self {
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let db = data.join("keting.db");
        let mut store = Store::open(&db).unwrap();
        let now = Timestamp::from_unix_millis(1_796_140_800_000);
        let members = store
            .write(|tx| {
                (0..40)
                    .map(|i| {
                        keting_store::members::add(
                            tx,
                            &NewMember::new(&format!("居民{i}"), Some("5067"), &[]).unwrap(),
                            now,
                        )
                    })
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .unwrap();
        let config = DistrictConfig::load(&out.join(name).join("district.toml")).unwrap();
        let key = keting_centre::service::district_config::uplink_key(&data).unwrap();
        let uplink = Uplink::new(config, key, db);
        let status = uplink.status();
        let (wake, woken) = watch::channel(0);
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            uplink.run(woken, stopped).await.unwrap();
        });
        let failures = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut watch_status, keep) = (status.clone(), failures.clone());
        tokio::spawn(async move {
            let mut since: Option<Instant> = None;
            while watch_status.changed().await.is_ok() {
                let failing = watch_status.borrow().failing.is_some();
                match (failing, since) {
                    (true, None) => since = Some(Instant::now()),
                    (false, Some(t)) => {
                        keep.lock().unwrap().push(t.elapsed());
                        since = None;
                    }
                    _ => {}
                }
            }
        });
        Self {
            name: name.to_owned(),
            store,
            members,
            wake,
            status,
            stop,
            failures,
        }
    }

    /// A part of a day: `visits` check-ins, an award every third round,
    /// a forced door raised and cleared every fourth.
    fn round(&mut self, round: usize, visits: usize) {
        let at = Timestamp::from_unix_millis(1_796_140_800_000 + round as i64 * 600_000);
        let members = self.members.clone();
        self.store
            .write(|tx| {
                for k in 0..visits {
                    let m = members[(round * visits + k) % members.len()];
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
                if round % 4 == 3 {
                    let door = DeviceId::new("gym-door").unwrap();
                    alarms::raise(tx, &door, alarms::AlarmKind::Forced, "", at)?;
                    alarms::clear(tx, &door, alarms::AlarmKind::Forced, at)?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        if round.is_multiple_of(3) {
            let m = members[round % members.len()];
            desk::points::award(
                &mut self.store,
                Actor::CommandLine,
                m,
                &format!("志愿服务第{round}场"),
                10,
                SiteCalendar::china(),
                at,
            )
            .unwrap();
        }
        self.wake.send_modify(|v| *v += 1);
    }

    fn queued(&self) -> u64 {
        outbox_total(&self.store)
    }

    /// Waits until everything queued was acknowledged.
    async fn drained(&mut self, within: Duration) {
        let want = self.queued();
        let name = self.name.clone();
        tokio::time::timeout(within, self.status.wait_for(|s| s.sent >= want))
            .await
            .unwrap_or_else(|_| panic!("{name} sent its {want} events within {within:?}"))
            .unwrap();
    }
}

/// Every day's rollups, as text to compare.
async fn rollups(db: &database::Client) -> Vec<String> {
    db.query(
        "SELECT centre, day::text, events, visits, points_awarded, alarms_raised FROM daily ORDER BY 1, 2",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| {
        format!(
            "{} {} {} {} {} {}",
            r.get::<_, String>(0),
            r.get::<_, String>(1),
            r.get::<_, i64>(2),
            r.get::<_, i64>(3),
            r.get::<_, i64>(4),
            r.get::<_, i64>(5)
        )
    })
    .collect()
}

fn outbox_total(store: &Store) -> u64 {
    store
        .conn()
        .query_row("SELECT count(*) FROM uplink_outbox", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap() as u64
}

/// A real `keting-centre` with its district file.
struct RealCentre {
    data: PathBuf,
    // Runs as long as this lives (killed on drop).
    process: Process,
}

impl RealCentre {
    async fn start(dir: &Path, out: &Path, name: &str) -> Self {
        let data = dir.join(name);
        let file = out.join(name).join("district.toml");
        let process = Process::start(
            "keting-centre",
            &[
                "--data",
                data.to_str().unwrap(),
                "--no-demo-devices",
                "--mqtt-listen",
                "127.0.0.1:0",
                "--district",
                file.to_str().unwrap(),
            ],
            &[],
            "centre ready",
        )
        .await;
        process
            .wait_for_line("district uplink: centre", Duration::from_secs(10))
            .await;
        Self { data, process }
    }

    /// Residents check in at the kiosk, by the kiosk's own command.
    fn visits(&self, names: &[&str]) {
        for name in names {
            let (_, pass) = crate::site_bed::add_member(&self.data, name);
            binaries::kiosk(&self.data, &["checkin", &pass]);
        }
    }

    fn queued(&self) -> u64 {
        outbox_total(&Store::open(&self.data.join("keting.db")).unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_centres_land_once_through_a_leader_killed_an_outage_and_a_restart() {
    let names: Vec<String> = (0..CENTRES).map(centre_name).collect();
    let mut district = District::start(&names, |auth| auth.to_owned()).await;
    let work = tempfile::tempdir().unwrap();
    let out = district.out();
    let mut real = Vec::new();
    for name in &names[..REAL_CENTRES] {
        real.push(RealCentre::start(work.path(), &out, name).await);
    }
    let mut sims: Vec<SimCentre> = names[REAL_CENTRES..]
        .iter()
        .map(|n| SimCentre::start(work.path(), &out, n))
        .collect();
    let js = district.jetstream().await;
    let expected = |sims: &[SimCentre], real: &[RealCentre]| -> i64 {
        (sims.iter().map(SimCentre::queued).sum::<u64>()
            + real.iter().map(RealCentre::queued).sum::<u64>()) as i64
    };

    // 1. The stream leader killed with SIGKILL while the centres publish.
    real[0].visits(&["陈晓梅", "王秀英"]);
    let mut round = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    for _ in 0..3 {
        tick.tick().await;
        sims.iter_mut().for_each(|s| s.round(round, 8));
        round += 1;
    }
    let leader = keting_district::stream::leader(&js, DISTRICT)
        .await
        .unwrap()
        .expect("the stream has a leader");
    let killed = district.cluster.index_of(&leader);
    let elected = "new stream leader for '$G > KETING_FUTIAN'";
    let elections = district.cluster.count_all(elected);
    district.cluster.kill(killed).await;
    let killed_at = Instant::now();
    let waiter = async {
        district.cluster.wait_for_any(elected, elections).await;
        killed_at.elapsed()
    };
    let publish = async {
        for _ in 0..5 {
            tick.tick().await;
            sims.iter_mut().for_each(|s| s.round(round, 8));
            round += 1;
        }
    };
    let (election, ()) = tokio::join!(waiter, publish);
    real[1].visits(&["李建国"]);
    for s in &mut sims {
        s.drained(Duration::from_secs(60)).await;
    }
    let drained_after_kill = killed_at.elapsed();
    let want = expected(&sims, &real);
    district
        .wait_for_events(want, Duration::from_secs(60))
        .await;
    district.assert_exactly_once(want).await;
    let longest = sims
        .iter()
        .flat_map(|s| s.failures.lock().unwrap().clone())
        .max()
        .unwrap_or_default();
    println!(
        "leader {leader} killed: new leader elected after {election:?}; {want} events once in PostgreSQL; \
         the centres' longest failing run {longest:?}; all drained {drained_after_kill:?} after the kill"
    );
    // An acknowledgement lost with the leader times out (5 s), and a retry
    // waits at most 5 s: beyond the election, no more than those two.
    assert!(
        longest < election + Duration::from_secs(11),
        "a centre failed for {longest:?}, the election took {election:?}"
    );
    district.cluster.start_node(killed).await;

    // 2. Two of three servers stopped for a minute: the centres queue.
    let outage = Duration::from_secs(60);
    let (a, b) = ((killed + 1) % 3, (killed + 2) % 3);
    district.cluster.stop(a).await;
    district.cluster.stop(b).await;
    let stopped_at = Instant::now();
    let before = want;
    while stopped_at.elapsed() < outage {
        tick.tick().await;
        if round % 20 == 0 || stopped_at.elapsed() < Duration::from_secs(2) {
            sims.iter_mut().for_each(|s| s.round(round, 4));
        }
        round += 1;
    }
    for s in &sims {
        let waiting = s.queued() - s.status.borrow().sent;
        assert!(waiting > 0, "{} queued its events in the outage", s.name);
    }
    let (rows, _) = database::event_counts(&district.db().await).await.unwrap();
    assert_eq!(rows, before, "nothing is acknowledged without a majority");
    district.cluster.start_node(a).await;
    district.cluster.start_node(b).await;
    let back = Instant::now();
    for s in &mut sims {
        s.drained(Duration::from_secs(60)).await;
    }
    let want = expected(&sims, &real);
    district
        .wait_for_events(want, Duration::from_secs(60))
        .await;
    district.assert_exactly_once(want).await;
    println!(
        "two of three servers stopped {outage:?}: {} events queued, drained {:?} after they were back",
        want - before,
        back.elapsed()
    );

    // 3. The whole cluster restarted: every centre back within 30 s of the
    // first server stopping.
    let up = Instant::now();
    district.cluster.restart_all().await;
    let cluster_back = up.elapsed();
    let sent_before: Vec<u64> = sims.iter().map(|s| s.status.borrow().sent).collect();
    sims.iter_mut().for_each(|s| s.round(round, 1));
    let mut back_after = Vec::new();
    for (s, before) in sims.iter_mut().zip(sent_before) {
        let name = s.name.clone();
        tokio::time::timeout(
            Duration::from_secs(30),
            s.status.wait_for(|st| st.sent > before),
        )
        .await
        .unwrap_or_else(|_| panic!("{name} sends again within 30 s of the cluster's restart"))
        .unwrap();
        back_after.push(up.elapsed());
    }
    back_after.sort();
    println!(
        "whole cluster restarted (stopped and up again in {cluster_back:?}): centres sending again after {:?} (first) .. {:?} (last)",
        back_after[0],
        back_after[back_after.len() - 1]
    );
    let want = expected(&sims, &real);
    district
        .wait_for_events(want, Duration::from_secs(60))
        .await;
    district.assert_exactly_once(want).await;
    let api_timeouts = district.cluster.log().matches("JetStream API").count();
    assert_eq!(
        api_timeouts,
        0,
        "no JetStream API storm:\n{}",
        district.cluster.log()
    );

    // 4. The whole stream replayed into PostgreSQL twice: nothing moves.
    let db = district.db().await;
    let before_replay = rollups(&db).await;
    for replay in ["replay-1", "replay-2"] {
        let said = binaries::run(
            "keting-district",
            &[
                "ingest",
                "--nats",
                &district.cluster.urls().join(","),
                "--district",
                DISTRICT,
                "--nkey",
                out.join("ingest.nk").to_str().unwrap(),
                "--postgres",
                &district.pg.url("postgres"),
                "--consumer",
                replay,
                "--until-drained",
            ]
            .map(std::ffi::OsStr::new),
        );
        assert!(
            said.contains(&format!(
                "0 events written, {want} repeats ignored, 0 refused"
            )),
            "{replay}: {said}"
        );
    }
    assert_eq!(
        rollups(&db).await,
        before_replay,
        "replays leave the rollups as they were"
    );
    district.assert_exactly_once(want).await;

    // What left the real centres: pseudonyms, no name.
    let bodies: Vec<String> = db
        .query(
            "SELECT body::text FROM events WHERE centre = $1",
            &[&names[0]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(bodies.len() >= 2, "{bodies:?}");
    assert!(
        bodies
            .iter()
            .all(|b| !b.contains("陈晓梅") && !b.contains("5067"))
    );
    for s in &sims {
        let _ = s.stop.send(true);
    }
    drop(real);
}

/// A district event of `centre`, as a centre's sender would build it.
fn event(centre: &str, id: u64, kind: keting_core::district::DistrictEventKind) -> Vec<u8> {
    keting_core::district::DistrictEvent {
        v: keting_core::district::DISTRICT_VERSION,
        centre: centre.into(),
        id,
        at_ms: 1_796_140_800_000,
        event: kind,
    }
    .encode()
}

fn check_in(centre: &str, id: u64) -> Vec<u8> {
    event(
        centre,
        id,
        keting_core::district::DistrictEventKind::CheckIn {
            visitor: keting_core::district::Pseudonym::of(&[1; 32], MemberId(7)),
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_a_centres_own_event_is_refused_and_the_stream_keeps_flowing() {
    let names = vec![centre_name(0), centre_name(1)];
    let rogue_key = keting_district::enrolment::new_user_key().unwrap();
    // A user allowed every centre's subject, as a misconfigured or stolen
    // district login would be: the district must refuse what it sends anyway.
    let rogue_public = rogue_key.public.clone();
    let district = District::start(&names, move |auth| {
        auth.replacen(
            "  users: [\n",
            &format!(
                "  users: [\n    {{ nkey: {rogue_public}, permissions: {{ publish: {{ allow: [\"keting.futian.>\"] }}, subscribe: {{ allow: [\"_INBOX.>\"] }} }} }},\n"
            ),
            1,
        )
    })
    .await;
    let seed = district.dir.path().join("rogue.nk");
    keting_link::atomic_file::write(&seed, rogue_key.seed.as_bytes(), 0o600).unwrap();
    let login = |seed: PathBuf, inbox: Option<String>| DistrictLogin {
        servers: district.cluster.urls(),
        nkey_seed: Some(seed),
        name: "test".into(),
        inbox_prefix: inbox,
        ..DistrictLogin::default()
    };
    let mut rogue = async_nats::jetstream::new(
        keting_link::district_link::connect(&login(seed, None))
            .await
            .unwrap(),
    );
    rogue.set_timeout(Duration::from_secs(3));
    let publish = |subject: &str, id: &str, body: Vec<u8>| {
        let rogue = rogue.clone();
        let (subject, id) = (subject.to_owned(), id.to_owned());
        async move {
            rogue
                .send_publish(
                    subject,
                    async_nats::jetstream::message::PublishMessage::build()
                        .payload(body.into())
                        .message_id(id),
                )
                .await
                .unwrap()
                .await
                .unwrap()
        }
    };
    let own = keting_core::district::events_subject(DISTRICT, &names[0]);
    let first = publish(&own, "futian-001:1", check_in("futian-001", 1)).await;
    assert!(!first.duplicate);
    // Another centre's event under this centre's subject.
    publish(&own, "futian-002:7", check_in("futian-002", 7)).await;
    // A body that does not decode.
    publish(&own, "futian-001:8", b"{not json".to_vec()).await;
    // A message id that is not the body's.
    publish(&own, "futian-001:99", check_in("futian-001", 9)).await;
    // A different event under a used id: the stream drops it as a repeat.
    let again = publish(
        &own,
        "futian-001:1",
        event(
            "futian-001",
            1,
            keting_core::district::DistrictEventKind::BookingDone {
                service: "robot".into(),
            },
        ),
    )
    .await;
    assert!(
        again.duplicate,
        "JetStream drops a used id within its window"
    );
    // And a good one after all that: the stream still flows.
    publish(&own, "futian-001:2", check_in("futian-001", 2)).await;

    // A centre's own login cannot publish under another centre's subject:
    // the server refuses it (no acknowledgement comes).
    let centre_seed = district.out().join("futian-001/futian-001.nk");
    let mut centre = async_nats::jetstream::new(
        keting_link::district_link::connect(&login(centre_seed, Some("_INBOX_futian-001".into())))
            .await
            .unwrap(),
    );
    centre.set_timeout(Duration::from_secs(2));
    let other = keting_core::district::events_subject(DISTRICT, &names[1]);
    let posed = async {
        centre
            .send_publish(
                other,
                async_nats::jetstream::message::PublishMessage::build()
                    .payload(check_in("futian-002", 3).into())
                    .message_id("futian-002:3"),
            )
            .await?
            .await
            .map_err(async_nats::Error::from)
    };
    assert!(
        posed.await.is_err(),
        "a centre posing as another is refused"
    );

    district.wait_for_events(2, Duration::from_secs(30)).await;
    let db = district.db().await;
    let refused: Vec<String> = db
        .query("SELECT reason FROM refusals ORDER BY stream_seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(refused[0].contains("published under"), "{refused:?}");
    assert!(refused[1].contains("not a district event"), "{refused:?}");
    assert!(refused[2].contains("message id"), "{refused:?}");
    district.assert_exactly_once(2).await;
    let kinds: Vec<String> = db
        .query("SELECT kind FROM events ORDER BY event_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        kinds,
        ["check_in", "check_in"],
        "the first event under id 1 stays"
    );

    // Past JetStream's window (a centre re-sending after days), a different
    // event under a used id reaches the database: refused there, nothing
    // written twice, the rollups as they were.
    let mut db = db;
    let body = event(
        "futian-001",
        1,
        keting_core::district::DistrictEventKind::BookingDone {
            service: "robot".into(),
        },
    );
    let incoming = database::Incoming {
        event: serde_json::from_slice(&body).unwrap(),
        body: body.clone(),
        stream_seq: 1_000,
    };
    let repeat = database::Incoming {
        body: check_in("futian-001", 2),
        event: serde_json::from_slice(&check_in("futian-001", 2)).unwrap(),
        stream_seq: 1_001,
    };
    let outcome = database::ingest(&mut db, &[incoming, repeat], &[], 480, 0)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        database::BatchOutcome {
            new: 0,
            repeats: 1,
            refused: 1,
            tallies: 0,
        }
    );
    district.assert_exactly_once(2).await;

    // An activity held counts once at the district, on the day it started,
    // whether its event repeats under its number or comes again under a
    // new one (a centre restored from a backup sends it again).
    let held = |id: u64| {
        let body = event(
            "futian-001",
            id,
            keting_core::district::DistrictEventKind::ActivityHeld {
                activity: 7,
                activity_kind: "class".into(),
                starts_ms: 1_796_140_800_000,
                participants: 12,
                volunteer_minutes: 0,
            },
        );
        database::Incoming {
            event: serde_json::from_slice(&body).unwrap(),
            body,
            stream_seq: 2_000 + id,
        }
    };
    let first = database::ingest(&mut db, &[held(50)], &[], 480, 0)
        .await
        .unwrap();
    assert_eq!(first.new, 1);
    let again = database::ingest(&mut db, &[held(50), held(4_294_967_346)], &[], 480, 0)
        .await
        .unwrap();
    assert_eq!((again.new, again.repeats), (1, 1));
    let month =
        keting_district::reports::Month::parse(&database::day_of(1_796_140_800_000, 480)[..7])
            .unwrap();
    let figures = keting_district::reports::month_by_centre(&db, month)
        .await
        .unwrap();
    let own = figures.iter().find(|f| f.centre == "futian-001").unwrap();
    assert_eq!((own.activities, own.participants), (1, 12), "{own:?}");
    assert_eq!(figures.iter().map(|f| f.activities).sum::<i64>(), 1);
}

/// Adds a district dashboard user by the command line, the password on
/// standard input.
fn district_user(pg: &Postgres, name: &str, role: &str, password: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new(binaries::path("keting-district"))
        .args([
            "user",
            "add",
            name,
            "--role",
            role,
            "--postgres",
            &pg.url("postgres"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_dashboard_ranks_every_centre_and_exports_what_it_shows() {
    use keting_core::district::DistrictEventKind as K;
    use keting_system_tests::http::{download, hidden, request};
    let names: Vec<String> = (0..3).map(centre_name).collect();
    let district = District::start_with(&names, |a| a.to_owned(), &["--http", "127.0.0.1:0"]).await;
    let addr = district.dashboard_at().await;
    district_user(&district.pg, "wang", "manager", "福田区级主管的密码2026");
    district_user(&district.pg, "li", "observer", "只看不改的观察员密码2");

    // This month's events, as the ingest writes them: futian-002 the most
    // visited, futian-001 the best rated, an alarm open at futian-003.
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut id = 0;
    let mut batch = Vec::new();
    let mut add = |centre: &str, kind: K| {
        id += 1;
        let body = keting_core::district::DistrictEvent {
            v: keting_core::district::DISTRICT_VERSION,
            centre: centre.into(),
            id,
            at_ms: now_ms,
            event: kind,
        }
        .encode();
        batch.push(database::Incoming {
            event: serde_json::from_slice(&body).unwrap(),
            body,
            stream_seq: id,
        });
    };
    let visitor = |n: u32| keting_core::district::Pseudonym::of(&[2; 32], MemberId(n));
    for n in 0..5 {
        add(
            "futian-002",
            K::CheckIn {
                visitor: visitor(n),
            },
        );
    }
    for n in 0..3 {
        add(
            "futian-001",
            K::CheckIn {
                visitor: visitor(n),
            },
        );
    }
    for stars in [5, 4] {
        add(
            "futian-001",
            K::Rating {
                service: "piano".into(),
                stars,
            },
        );
    }
    add(
        "futian-002",
        K::Rating {
            service: "robot".into(),
            stars: 2,
        },
    );
    add(
        "futian-003",
        K::CheckIn {
            visitor: visitor(9),
        },
    );
    add(
        "futian-003",
        K::Alarm {
            device: "gym-door".into(),
            alarm: "forced".into(),
            raised: true,
        },
    );
    let mut db = district.db().await;
    database::ingest(&mut db, &batch, &[], 480, now_ms)
        .await
        .unwrap();

    // Signed out: to the sign-in page. A wrong password: refused.
    let r = request(addr, "GET", "/", &[], "").await;
    assert_eq!((r.status, r.header("location")), (303, Some("/sign-in")));
    let wrong = request(
        addr,
        "POST",
        "/sign-in",
        &[],
        "name=wang&password=nope-nope-nope",
    )
    .await;
    assert_eq!(
        wrong.status,
        401,
        "{}",
        district.ingest.as_ref().unwrap().log()
    );
    assert!(wrong.body.contains("用户名或密码错误"));
    // Another computer guessing: it waits after 3 wrong tries, before the
    // name locks, and the manager still signs in from the office.
    let other: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    for _ in 0..3 {
        let r = keting_system_tests::http::request_from(
            other,
            addr,
            "POST",
            "/sign-in",
            &[],
            "name=wang&password=guess-guess-1",
        )
        .await;
        assert_eq!(r.status, 401);
    }
    let r = keting_system_tests::http::request_from(
        other,
        addr,
        "POST",
        "/sign-in",
        &[],
        "name=wang&password=guess-guess-2",
    )
    .await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("这台电脑输错太多次"), "{}", r.body);
    let sign_in = |name: &'static str, password: &'static str| async move {
        let body = format!(
            "name={name}&password={}",
            password
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        );
        let r = request(addr, "POST", "/sign-in", &[], &body).await;
        assert_eq!(r.status, 303, "{r:?}");
        let set = r.header("set-cookie").unwrap().to_owned();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        r.cookie("keting_district").unwrap()
    };
    let manager = sign_in("wang", "福田区级主管的密码2026").await;
    let observer = sign_in("li", "只看不改的观察员密码2").await;

    // The ranking: by visits, then by satisfaction.
    let page = request(addr, "GET", "/", &[("Cookie", &manager)], "").await;
    assert_eq!(
        page.status,
        200,
        "{}",
        district.ingest.as_ref().unwrap().log()
    );
    let at = |c: &str| {
        page.body
            .find(&format!(">{c}</a>"))
            .unwrap_or_else(|| panic!("{c} listed"))
    };
    assert!(at("futian-002") < at("futian-001") && at("futian-001") < at("futian-003"));
    assert!(page.body.contains("区级主管"), "the user's role is shown");
    let by_sat = request(
        addr,
        "GET",
        "/?by=satisfaction",
        &[("Cookie", &observer)],
        "",
    )
    .await;
    let at = |c: &str| by_sat.body.find(&format!(">{c}</a>")).unwrap();
    assert!(
        at("futian-001") < at("futian-002"),
        "100% satisfied before 0%"
    );
    assert!(by_sat.body.contains("100.0%"));
    let bad = request(addr, "GET", "/?month=2026-13", &[("Cookie", &observer)], "").await;
    assert_eq!(bad.status, 400);

    // The exports are the table.
    let (status, csv) = download(addr, "/ranking.csv", &[("Cookie", &observer)]).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].starts_with("1,futian-002,5,5,"), "{csv}");
    let (status, xlsx) = download(addr, "/ranking.xlsx", &[("Cookie", &observer)]).await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"), "a workbook");

    // Health, a centre's days, the monthly report.
    let health = request(addr, "GET", "/health", &[("Cookie", &observer)], "").await;
    assert!(
        health.body.contains("futian-003") && health.body.contains("门被强行打开"),
        "{}",
        health.body
    );
    let centre = request(
        addr,
        "GET",
        "/centre/futian-001",
        &[("Cookie", &observer)],
        "",
    )
    .await;
    assert_eq!(centre.status, 200);
    assert!(centre.body.contains("<td>3</td>"), "three visits that day");
    let unknown = request(
        addr,
        "GET",
        "/centre/futian-999",
        &[("Cookie", &observer)],
        "",
    )
    .await;
    assert_eq!(unknown.status, 404);
    let report = request(addr, "GET", "/report", &[("Cookie", &observer)], "").await;
    assert!(
        report.body.contains("区级月报") && report.body.contains("<td>9</td>"),
        "9 visits in all"
    );

    // Users: managers only; a form with no token changes nothing.
    let users = request(addr, "GET", "/users", &[("Cookie", &observer)], "").await;
    assert_eq!(users.status, 403);
    let users = request(addr, "GET", "/users", &[("Cookie", &manager)], "").await;
    assert_eq!(users.status, 200);
    let csrf = hidden(&users.body, "csrf").unwrap();
    let forged = request(
        addr,
        "POST",
        "/users/add",
        &[("Cookie", &manager)],
        "csrf=forged&name=zhao&role=manager&password=0123456789&again=0123456789",
    )
    .await;
    assert_eq!(forged.status, 403);
    let added = request(
        addr,
        "POST",
        "/users/add",
        &[("Cookie", &manager)],
        &format!("csrf={csrf}&name=zhao&role=observer&password=0123456789ab&again=0123456789ab"),
    )
    .await;
    assert!(added.body.contains("已添加 zhao"), "{}", added.body);
    let last = request(
        addr,
        "POST",
        "/users/remove",
        &[("Cookie", &manager)],
        &format!("csrf={csrf}&name=wang"),
    )
    .await;
    assert!(
        last.body.contains("last manager"),
        "the last manager stays: {}",
        last.body
    );
    let audit: i64 = db
        .query_one(
            "SELECT count(*) FROM district_audit WHERE who = 'wang'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(audit, 1, "the addition is audited by name");

    // A second manager, signed in, then removed (on the page, and one from
    // the command line): the open session loses its rights at once.
    district_user(&district.pg, "zhou", "manager", "第二位区级主管的密码");
    let zhou = sign_in("zhou", "第二位区级主管的密码").await;
    assert_eq!(
        request(addr, "GET", "/users", &[("Cookie", &zhou)], "")
            .await
            .status,
        200
    );
    let removed = request(
        addr,
        "POST",
        "/users/remove",
        &[("Cookie", &manager)],
        &format!("csrf={csrf}&name=zhou"),
    )
    .await;
    assert!(removed.body.contains("zhou"), "{}", removed.body);
    let after = request(addr, "GET", "/users", &[("Cookie", &zhou)], "").await;
    assert_eq!(
        after.status, 303,
        "a removed manager's session is over: {after:?}"
    );
    let again = request(addr, "GET", "/", &[("Cookie", &zhou)], "").await;
    assert_eq!(again.status, 303, "and stays over");
    district_user(&district.pg, "sun", "manager", "第三位区级主管的密码");
    let sun = sign_in("sun", "第三位区级主管的密码").await;
    assert_eq!(
        request(addr, "GET", "/", &[("Cookie", &sun)], "")
            .await
            .status,
        200
    );
    let said = binaries::run(
        "keting-district",
        &[
            "user",
            "remove",
            "sun",
            "--postgres",
            &district.pg.url("postgres"),
        ]
        .map(std::ffi::OsStr::new),
    );
    assert!(said.contains("removed sun"), "{said}");
    let after = request(addr, "GET", "/users", &[("Cookie", &sun)], "").await;
    assert_eq!(
        after.status, 303,
        "removed from the command line: {after:?}"
    );
    let _ = &mut db;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_district_announces_reaches_every_centre_once_even_one_that_was_off() {
    let names: Vec<String> = (0..2).map(centre_name).collect();
    let district = District::start(&names, |a| a.to_owned()).await;
    let work = tempfile::tempdir().unwrap();
    let out = district.out();
    let mut one = RealCentre::start(work.path(), &out, &names[0]).await;
    let two = RealCentre::start(work.path(), &out, &names[1]).await;
    // Each is heard from once: the district knows it.
    one.visits(&["陈晓梅"]);
    two.visits(&["王秀英"]);
    district
        .wait_for_count("SELECT count(*) FROM centres", 2, "both centres heard from")
        .await;

    let notice = |args: &[&str]| {
        let urls = district.cluster.urls().join(",");
        let seed = out.join("ingest.nk");
        let url = district.pg.url("postgres");
        let mut all = vec![
            "notice",
            "--nats",
            &urls,
            "--district",
            DISTRICT,
            "--nkey",
            seed.to_str().unwrap(),
            "--postgres",
            &url,
        ];
        all.extend_from_slice(args);
        binaries::run_status("keting-district", &all)
    };
    let (ok, said, err) = notice(&[
        "announce",
        "--zh",
        "本周六全区义诊",
        "--en",
        "Free clinic on Saturday",
    ]);
    assert!(ok && said.contains("sent to 2 centre(s)"), "{said}{err}");
    for c in [&one, &two] {
        c.process
            .wait_for_line("district notice applied", Duration::from_secs(60))
            .await;
    }
    let store = Store::open(&one.data.join("keting.db")).unwrap();
    assert_eq!(
        keting_store::district_notices::current_announcement(
            store.conn(),
            keting_core::time::Timestamp::from_unix_millis(
                time::OffsetDateTime::now_utc().unix_timestamp() * 1000
            )
        )
        .unwrap(),
        Some(("本周六全区义诊".into(), "Free clinic on Saturday".into()))
    );

    // A centre the district never heard from: refused, nothing sent.
    let (ok, _, err) = notice(&["--centre", "futian-999", "announce", "--zh", "x"]);
    assert!(!ok && err.contains("futian-999"), "{err}");
    // Text too long for the home page: refused before anything leaves.
    let long = "长".repeat(201);
    let (ok, _, err) = notice(&["announce", "--zh", &long]);
    assert!(!ok && err.contains("200"), "{err}");

    // A centre that is off gets what was sent meanwhile when it is back,
    // applied once: a card lost at the other centre.
    let data = one.data.clone();
    drop(one);
    let (ok, said, err) = notice(&[
        "--centre", &names[0], "revoke", "--issuer", &names[1], "--member", "1",
    ]);
    assert!(ok && said.contains("sent to 1 centre(s)"), "{said}{err}");
    one = RealCentre::start(work.path(), &out, &names[0]).await;
    assert_eq!(one.data, data);
    one.process
        .wait_for_line("district notice applied", Duration::from_secs(60))
        .await;
    let store = Store::open(&one.data.join("keting.db")).unwrap();
    assert!(keting_store::district_notices::is_revoked(store.conn(), &names[1], 1).unwrap());
    let applied: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM district_notices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(applied, 2, "the announcement once, the lost card once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_centre_reports_over_tls_trusting_only_the_districts_ca() {
    let tls = keting_system_tests::site_tls::SiteTls::new();
    let names = vec![centre_name(0)];
    let district = District::start_full(&names, |a| a.to_owned(), &[], Some(&tls)).await;
    let out = district.out();
    let file = std::fs::read_to_string(out.join(&names[0]).join("district.toml")).unwrap();
    assert!(
        file.contains("tls://127.0.0.1:") && file.contains("ca = \"district-ca.pem\""),
        "{file}"
    );
    let work = tempfile::tempdir().unwrap();
    let centre = RealCentre::start(work.path(), &out, &names[0]).await;
    centre.visits(&["陈晓梅"]);
    // The visit, and whatever else the centre had to say (its doors
    // offline: the demo site's, with no demo devices running).
    let db = district.db().await;
    district
        .wait_for_count(
            "SELECT count(*) FROM events WHERE kind = 'check_in'",
            1,
            "the visit reaches the district over TLS",
        )
        .await;
    let (rows, distinct) = database::event_counts(&db).await.unwrap();
    assert_eq!(rows, distinct, "each event once");
    assert!(database::recount_mismatches(&db).await.unwrap().is_empty());

    // A client that does not trust the district's CA gets no connection:
    // the servers speak TLS only, with certificates of that CA.
    let url = district.cluster.urls()[0].clone();
    let stranger = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(3))
        .connect(url.replace("tls://", "nats://"))
        .await;
    assert!(stranger.is_err(), "a connection without the district's CA");
    drop(centre);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_when_postgresql_restarts_or_the_ingest_hangs_and_is_killed() {
    // Issue 24: a running ingest whose PostgreSQL went away never wrote
    // again, and a restarted one acknowledged (all-up-to) events it had
    // never written. Each fault here happens while a centre keeps sending.
    let names = vec![centre_name(0)];
    let mut district = District::start(&names, |a| a.to_owned()).await;
    let toml = district.out().join(&names[0]).join("district.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("tally_every_s = 1\n");
    std::fs::write(&toml, text).unwrap();
    let mut centre = SimCentre::start(district.dir.path(), &district.out(), &names[0]);
    let mut round = 0;
    let mut visits = |centre: &mut SimCentre| {
        centre.round(round, 20);
        round += 1;
    };

    visits(&mut centre);
    centre.drained(Duration::from_secs(30)).await;
    district
        .wait_for_events(centre.queued() as i64, Duration::from_secs(30))
        .await;

    // PostgreSQL dies (immediate shutdown, crash recovery at the next
    // start) while the centre goes on: the events wait in the stream.
    district.pg.stop_immediately().await;
    let ingest = district.ingest.as_ref().unwrap();
    let failures_before = ingest.log().matches("retrying").count();
    visits(&mut centre);
    centre.drained(Duration::from_secs(30)).await;
    ingest
        .wait_for_count("retrying", failures_before + 1, Duration::from_secs(30))
        .await;
    district.pg.restart().await;
    visits(&mut centre);
    centre.drained(Duration::from_secs(30)).await;
    // The same ingest process reconnects and writes what arrived meanwhile.
    district
        .wait_for_events(centre.queued() as i64, Duration::from_secs(60))
        .await;
    district.assert_exactly_once(centre.queued() as i64).await;

    // The ingest hangs holding delivered, unwritten events, and is killed;
    // its successor first sees newer ones. Acknowledging those must not
    // acknowledge the older ones.
    let hung = district.ingest.take().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(hung.pid() as i32),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .unwrap();
    visits(&mut centre);
    centre.drained(Duration::from_secs(30)).await;
    hung.kill9().await;
    district.start_ingest(&[]).await;
    visits(&mut centre);
    centre.drained(Duration::from_secs(30)).await;
    // The hung one's events come back when their acknowledgement wait (30 s)
    // runs out.
    district
        .wait_for_events(centre.queued() as i64, Duration::from_secs(90))
        .await;
    district.assert_exactly_once(centre.queued() as i64).await;
    // And the centre's own count says the same: nothing missing.
    district
        .wait_for_count(
            "SELECT coalesce(sum(sent), 0)::int8 FROM centre_tallies",
            centre.queued() as i64,
            "the centre's tallies",
        )
        .await;
    let url = district.pg.url("postgres");
    let (ok, said, _) = binaries::run_status("keting-district", &["check", "--postgres", &url]);
    assert!(ok && said.contains("no events missing"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_what_a_restored_database_lost_and_repair_brings_it_back() {
    // Issue 24: `check` compared PostgreSQL with itself, so events lost
    // from it went unnoticed. Each centre now reports its own count (a
    // tally); here PostgreSQL is restored from an older backup, losing a
    // round of events and the tallies of them, while the stream keeps them.
    let names = vec![centre_name(0)];
    let mut district = District::start(&names, |a| a.to_owned()).await;
    let toml = district.out().join(&names[0]).join("district.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("tally_every_s = 1\n");
    std::fs::write(&toml, text).unwrap();
    let mut centre = SimCentre::start(district.dir.path(), &district.out(), &names[0]);
    let tallied = "SELECT coalesce(sum(sent), 0)::int8 FROM centre_tallies";
    let url = district.pg.url("postgres");
    let check = || binaries::run_status("keting-district", &["check", "--postgres", &url]);

    centre.round(0, 20);
    centre.drained(Duration::from_secs(30)).await;
    let q0 = centre.queued() as i64;
    district.wait_for_events(q0, Duration::from_secs(30)).await;
    district
        .wait_for_count(tallied, q0, "the first round tallied")
        .await;
    let (ok, said, _) = check();
    assert!(ok && said.contains("no events missing"), "{said}");
    let backup = district.dir.path().join("district.dump");
    district.pg.dump("postgres", &backup).await;

    centre.round(1, 20);
    centre.drained(Duration::from_secs(30)).await;
    let q1 = centre.queued() as i64;
    district.wait_for_events(q1, Duration::from_secs(30)).await;
    district
        .wait_for_count(tallied, q1, "the second round tallied")
        .await;

    // The administrator restores last night's backup; the centre goes on.
    district.ingest.take().unwrap().stop().await;
    district.pg.restore("postgres", &backup).await;
    district.start_ingest(&["--http", "127.0.0.1:0"]).await;
    let addr = district.dashboard_at().await;
    district_user(&district.pg, "wang", "manager", "福田区级主管的密码2026");
    let body = format!(
        "name=wang&password={}",
        "福田区级主管的密码2026"
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    );
    let signed = keting_system_tests::http::request(addr, "POST", "/sign-in", &[], &body).await;
    let cookie = signed.cookie("keting_district").unwrap();
    let health = || async {
        keting_system_tests::http::request(addr, "GET", "/health", &[("Cookie", &cookie)], "")
            .await
            .body
    };
    centre.round(2, 20);
    centre.drained(Duration::from_secs(30)).await;
    let q2 = centre.queued() as i64;
    let held = q2 - (q1 - q0);
    district
        .wait_for_events(held, Duration::from_secs(30))
        .await;
    district
        .wait_for_count(tallied, held, "the third round tallied")
        .await;

    let (ok, said, _) = check();
    assert!(!ok, "check passed with a round lost:\n{said}");
    let range = format!("events missing: {} {}..{}", names[0], q0 + 1, q1);
    assert!(said.contains(&range), "want {range:?} in:\n{said}");
    // The health page says so too, with the range.
    let page = health().await;
    assert!(
        page.contains("缺失的事件") && page.contains(&format!("{}–{}", q0 + 1, q1)),
        "{page}"
    );
    // Kept to be looked at, its style inlined.
    let css = keting_system_tests::http::request(addr, "GET", "/assets/dashboard.css", &[], "")
        .await
        .body;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/district-pages");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(
        shots.join("health-events-missing.html"),
        page.replace(
            "<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">",
            &format!("<style>{css}</style>"),
        ),
    )
    .unwrap();

    let urls = district.cluster.urls().join(",");
    let seed = district.out().join("ingest.nk");
    let (ok, said, err) = binaries::run_status(
        "keting-district",
        &[
            "repair",
            "--nats",
            &urls,
            "--district",
            DISTRICT,
            "--nkey",
            seed.to_str().unwrap(),
            "--postgres",
            &url,
            "--centre",
            &names[0],
        ],
    );
    assert!(ok, "repair failed:\n{said}\n{err}");
    assert!(
        said.contains(&format!("{} events written", q1 - q0))
            && said.contains(&format!("no events of {} missing", names[0])),
        "{said}"
    );
    let (ok, said, _) = check();
    assert!(ok && said.contains("no events missing"), "{said}");
    assert!(
        health().await.contains("一周内各中心发出的事件都已收到"),
        "the health page still says events are missing"
    );
    district.assert_exactly_once(q2).await;
}
