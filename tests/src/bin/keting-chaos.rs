//! `keting-chaos redemption --runs N --seed S`: redemptions through real
//! processes (Mosquitto, `kiosk --headless`, the vending `device-agent`) and
//! the simulated machine, while the kiosk, the agent and the broker are
//! killed (SIGKILL; the broker stopped and started) at random moments and
//! slots jam. Bounded in count and time, loopback only; it stops by itself.
//!
//! At the end, with everything back up, it waits for every redemption to be
//! settled and checks, printing each:
//! - every redemption is committed or refunded;
//! - drinks that really dropped (counted by the simulator) = committed
//!   redemptions: no drink given twice, none given for refunded points;
//! - the ledger sums to zero;
//! - each member's balance = points earned - committed spends.
//!
//! With `--tls` every link is as in production: Mosquitto's TLS listener,
//! the kiosk and the agent each with a certificate of the site's CA (and
//! the commands and answers signed, as always).
//!
//! Exit code 0 if every check holds, 1 if one fails, 2 if it could not run.
//! Build the workspace's programs first (`cargo build --workspace --bins`).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use keting_system_tests::binaries::Process;
use keting_system_tests::mosquitto::{Mosquitto, TlsListener};
use keting_system_tests::site_tls::SiteTls;
use keting_system_tests::vending_site::VendingSite;

/// Chaos runs against the redemption protocol.
#[derive(Parser)]
#[command(
    version,
    about = "Redemptions under kill -9 of the kiosk, the agent and the broker, with jams; checks that nothing is lost or given twice."
)]
struct Cli {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    /// Redeem points for drinks while processes die.
    Redemption {
        /// How many redemptions to start.
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        runs: u32,
        /// The seed of the random choices (same seed, same choices).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Give up (exit 2) after this many seconds.
        #[arg(long, default_value_t = 600)]
        limit_s: u64,
        /// Every link over TLS with client certificates, as in production.
        #[arg(long)]
        tls: bool,
    },
}

/// xorshift64*: small, seeded, good enough to pick moments and victims.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const PRICE: i64 = 10;
const SLOTS: u8 = 6;
const MEMBERS: usize = 20;

#[derive(Default)]
struct Tally {
    started: u32,
    busy: u32,
    kiosk_kills: u32,
    agent_kills: u32,
    broker_restarts: u32,
    jams: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let What::Redemption {
        runs,
        seed,
        limit_s,
        tls,
    } = cli.what;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keting-chaos: {e}");
            return ExitCode::from(2);
        }
    };
    let limit = Duration::from_secs(limit_s);
    match runtime.block_on(async { tokio::time::timeout(limit, redemption(runs, seed, tls)).await })
    {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::from(1),
        Ok(Err(e)) => {
            eprintln!("keting-chaos: {e:#}");
            ExitCode::from(2)
        }
        Err(_) => {
            eprintln!("keting-chaos: gave up after {limit_s} s");
            ExitCode::from(2)
        }
    }
}

/// How the processes reach the broker: plain TCP on loopback, or TLS with
/// the site's certificates (the listener's port kept across restarts).
struct Links {
    tls: Option<(SiteTls, TlsListener)>,
}

impl Links {
    fn new(tls: bool) -> Self {
        Self {
            tls: tls.then(|| {
                let site = SiteTls::new();
                let listener = site.listener();
                (site, listener)
            }),
        }
    }

    async fn broker(&self) -> Mosquitto {
        match &self.tls {
            Some((_, listener)) => Mosquitto::start_tls(listener.clone()).await,
            None => VendingSite::broker().await,
        }
    }

    async fn broker_again(&self, dir: tempfile::TempDir, port: u16) -> Mosquitto {
        Mosquitto::start_again_tls(dir, port, self.tls.as_ref().map(|(_, l)| l.clone())).await
    }

    async fn kiosk(&self, site: &VendingSite, broker: &Mosquitto) -> Process {
        match &self.tls {
            Some((tls, _)) => site.start_kiosk_tls(broker, tls).await,
            None => site.start_kiosk(broker.port).await,
        }
    }

    async fn agent(&self, site: &VendingSite, broker: &Mosquitto) -> Process {
        match &self.tls {
            Some((tls, _)) => site.start_agent_tls(broker, tls).await,
            None => site.start_agent(broker.port).await,
        }
    }
}

async fn redemption(runs: u32, seed: u64, tls: bool) -> Result<bool> {
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let stock = u16::try_from(runs).unwrap_or(u16::MAX).saturating_add(10);
    let site = VendingSite::new(SLOTS, stock, PRICE).await;
    let links = Links::new(tls);
    let mut broker = Some(links.broker().await);
    let first = broker.as_ref().context("no broker")?;
    let mut kiosk = Some(links.kiosk(&site, first).await);
    let mut agent = Some(links.agent(&site, first).await);
    // Each member can afford every run, so a refusal is never "too few points".
    let budget = i64::from(runs) * PRICE;
    let members: Vec<u32> = (0..MEMBERS)
        .map(|i| site.volunteer(&format!("义工{i}"), budget))
        .collect();
    let earned: BTreeMap<u32, i64> = members.iter().map(|m| (*m, budget)).collect();
    println!(
        "keting-chaos redemption: {runs} runs, seed {seed}, {MEMBERS} members with {budget} points each, {SLOTS} slots at {PRICE} points, {}",
        if tls {
            "every link TLS with client certificates"
        } else {
            "plain links on loopback"
        }
    );
    let mut t = Tally::default();
    let db = rusqlite::Connection::open_with_flags(
        site.data().join("keting.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut jammed: Option<u8> = None;
    let mut broker_dir = None;
    for run in 0..runs {
        // Chaos first, at a random moment of this run.
        tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
        if rng.chance(12)
            && let Some(k) = kiosk.take()
        {
            k.kill9().await;
            t.kiosk_kills += 1;
        }
        if rng.chance(12)
            && let Some(a) = agent.take()
        {
            a.kill9().await;
            t.agent_kills += 1;
        }
        if rng.chance(6)
            && let Some(b) = broker.take()
        {
            broker_dir = Some(b.stop().await);
            t.broker_restarts += 1;
        }
        if rng.chance(10) {
            let slot = u8::try_from(1 + rng.below(u64::from(SLOTS))).unwrap_or(1);
            if let Some(old) = jammed.take() {
                site.sim.set_jammed(old, false);
            }
            site.sim.set_jammed(slot, true);
            jammed = Some(slot);
            t.jams += 1;
        } else if jammed.is_some()
            && rng.chance(30)
            && let Some(old) = jammed.take()
        {
            site.sim.set_jammed(old, false);
        }
        // The redemption: a member with none in progress (waiting, bounded,
        // for one to be free: a redemption in doubt settles after its deadline).
        let free_by = Instant::now() + Duration::from_secs(120);
        let member = loop {
            let busy: Vec<u32> = {
                let mut stmt = db.prepare(
                    "SELECT DISTINCT member_id FROM redemptions WHERE state IN ('reserved', 'sent', 'unknown')",
                )?;
                stmt.query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?
            };
            let free: Vec<u32> = members
                .iter()
                .copied()
                .filter(|m| !busy.contains(m))
                .collect();
            if !free.is_empty() {
                break free[usize::try_from(rng.below(free.len() as u64)).unwrap_or(0)];
            }
            if Instant::now() > free_by {
                bail!("run {run}: every member has had a redemption in progress for 120 s");
            }
            t.busy += 1;
            // Someone must be up to settle them.
            if broker.is_none()
                && let Some((dir, p)) = broker_dir.take()
            {
                broker = Some(links.broker_again(dir, p).await);
            }
            if let Some(b) = &broker
                && kiosk.is_none()
            {
                kiosk = Some(links.kiosk(&site, b).await);
            }
            if let Some(b) = &broker
                && agent.is_none()
            {
                agent = Some(links.agent(&site, b).await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let slot = 1 + rng.below(u64::from(SLOTS));
        let (ok, out, err) = site.kiosk_status(&[
            "vending",
            "redeem",
            &member.to_string(),
            &slot.to_string(),
            "--no-wait",
        ]);
        if ok {
            t.started += 1;
        } else {
            bail!("run {run}: redemption refused unexpectedly: {out}{err}");
        }
        // Bring the dead back, sometimes at once, sometimes a run later.
        if broker.is_none()
            && rng.chance(60)
            && let Some((dir, p)) = broker_dir.take()
        {
            broker = Some(links.broker_again(dir, p).await);
        }
        if let Some(b) = &broker {
            if kiosk.is_none() && rng.chance(70) {
                kiosk = Some(links.kiosk(&site, b).await);
            }
            if agent.is_none() && rng.chance(70) {
                agent = Some(links.agent(&site, b).await);
            }
        }
    }
    // Everything back, no faults: every redemption must settle.
    if let Some(old) = jammed.take() {
        site.sim.set_jammed(old, false);
    }
    if let Some((dir, p)) = broker_dir.take() {
        broker = Some(links.broker_again(dir, p).await);
    }
    let up = broker.as_ref().context("no broker")?;
    let kiosk = match kiosk {
        Some(k) => k,
        None => links.kiosk(&site, up).await,
    };
    let agent: Process = match agent {
        Some(a) => a,
        None => links.agent(&site, up).await,
    };
    let settle_started = Instant::now();
    loop {
        let open: i64 = db.query_row(
            "SELECT COUNT(*) FROM redemptions WHERE state IN ('reserved', 'sent', 'unknown')",
            [],
            |r| r.get(0),
        )?;
        if open == 0 {
            break;
        }
        if settle_started.elapsed() > Duration::from_secs(180) {
            println!("FAIL  {open} redemption(s) still open 180 s after the chaos stopped");
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settle_s = settle_started.elapsed().as_secs_f64();
    // The checks.
    let (committed, refunded): (i64, i64) = db.query_row(
        "SELECT COUNT(*) FILTER (WHERE state = 'committed'), COUNT(*) FILTER (WHERE state = 'refunded') FROM redemptions",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let dropped = site.sim.dispensed();
    let ledger_sum: i64 = db.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM ledger_legs",
        [],
        |r| r.get(0),
    )?;
    let mut ok = true;
    let mut check = |passed: bool, what: String| {
        println!("{}  {what}", if passed { "ok  " } else { "FAIL" });
        ok &= passed;
    };
    println!(
        "started {} redemptions (waited {} times for a member to be free); kills: kiosk {}, agent {}, broker restarts {}; jams {}",
        t.started, t.busy, t.kiosk_kills, t.agent_kills, t.broker_restarts, t.jams
    );
    check(
        i64::from(t.started) == committed + refunded,
        format!(
            "every redemption settled: {committed} committed + {refunded} refunded = {} started (last settled {settle_s:.1} s after the chaos)",
            t.started
        ),
    );
    check(
        u64::try_from(committed).unwrap_or(0) == dropped,
        format!("drinks that dropped ({dropped}) = committed redemptions ({committed})"),
    );
    check(ledger_sum == 0, format!("the ledger sums to {ledger_sum}"));
    for m in &members {
        let balance: i64 = db.query_row(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_legs WHERE account = ?1",
            [format!("member:{m}")],
            |r| r.get(0),
        )?;
        let spent: i64 = db.query_row(
            "SELECT COALESCE(SUM(points), 0) FROM redemptions WHERE member_id = ?1 AND state = 'committed'",
            [m],
            |r| r.get(0),
        )?;
        let e = earned[m];
        check(
            balance == e - spent,
            format!("member {m}: balance {balance} = earned {e} - spent {spent}"),
        );
    }
    println!("{:.1} s in all", started.elapsed().as_secs_f64());
    kiosk.stop().await;
    agent.stop().await;
    drop(broker);
    Ok(ok)
}
