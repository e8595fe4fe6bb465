//! The district's PostgreSQL: every centre's events, once, and the daily
//! rollups the dashboard reads.
//!
//! - An event's key is (centre, event id). It is inserted with
//!   `ON CONFLICT DO NOTHING`; only the rows that went in move the rollups,
//!   in the same transaction, so a redelivered batch, a replay of the whole
//!   stream or a centre re-sending after days changes nothing twice.
//! - A repeat is told from a different event under a used id by the body's
//!   SHA-256: the first one stays, the other is refused and logged.
//! - What the rollups say can be recounted from the events at any time
//!   ([`recount_mismatches`]): the tests and `keting-district check` do.
//! - Days are the district's own (China: UTC+8, no summer time).

use std::collections::{BTreeMap, HashMap, HashSet};

use keting_core::district::{DistrictEvent, DistrictEventKind};
/// The database client, for those who read what the ingest wrote.
pub use tokio_postgres::Client;

/// The schema, one step per version; never edit a step, add one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE centres (
    centre text PRIMARY KEY,
    first_ms bigint NOT NULL,
    last_ms bigint NOT NULL
);
CREATE TABLE events (
    centre text NOT NULL,
    event_id bigint NOT NULL,
    at_ms bigint NOT NULL,
    day date NOT NULL,
    kind text NOT NULL,
    body jsonb NOT NULL,
    digest bytea NOT NULL,
    stream_seq bigint NOT NULL,
    received_ms bigint NOT NULL,
    PRIMARY KEY (centre, event_id)
);
CREATE INDEX events_day ON events (day, centre);
CREATE TABLE daily (
    centre text NOT NULL,
    day date NOT NULL,
    events bigint NOT NULL DEFAULT 0,
    visits bigint NOT NULL DEFAULT 0,
    door_entries bigint NOT NULL DEFAULT 0,
    ratings bigint NOT NULL DEFAULT 0,
    stars bigint NOT NULL DEFAULT 0,
    satisfied bigint NOT NULL DEFAULT 0,
    points_awarded bigint NOT NULL DEFAULT 0,
    points_spent bigint NOT NULL DEFAULT 0,
    bookings_done bigint NOT NULL DEFAULT 0,
    alarms_raised bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (centre, day)
);
CREATE TABLE daily_visitors (
    centre text NOT NULL,
    day date NOT NULL,
    visitor text NOT NULL,
    PRIMARY KEY (centre, day, visitor)
);
CREATE TABLE daily_activities (
    centre text NOT NULL,
    day date NOT NULL,
    activity text NOT NULL,
    PRIMARY KEY (centre, day, activity)
);
CREATE TABLE alarm_state (
    centre text NOT NULL,
    device text NOT NULL,
    alarm text NOT NULL,
    raised boolean NOT NULL,
    at_ms bigint NOT NULL,
    event_id bigint NOT NULL,
    PRIMARY KEY (centre, device, alarm)
);
CREATE TABLE device_state (
    centre text NOT NULL,
    device text NOT NULL,
    online boolean NOT NULL,
    at_ms bigint NOT NULL,
    event_id bigint NOT NULL,
    PRIMARY KEY (centre, device)
);
CREATE TABLE refusals (
    id bigserial PRIMARY KEY,
    received_ms bigint NOT NULL,
    subject text NOT NULL,
    msg_id text NOT NULL,
    stream_seq bigint NOT NULL,
    reason text NOT NULL
);
"#,
    r#"
CREATE TABLE district_users (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    role text NOT NULL CHECK (role IN ('manager', 'observer')),
    password_hash text NOT NULL,
    failed integer NOT NULL DEFAULT 0,
    locked_until_ms bigint NOT NULL DEFAULT 0,
    created_ms bigint NOT NULL
);
CREATE TABLE district_audit (
    id bigserial PRIMARY KEY,
    at_ms bigint NOT NULL,
    who text NOT NULL,
    action text NOT NULL,
    detail text NOT NULL
);
"#,
    r#"
CREATE TABLE notices_sent (
    msg_id text PRIMARY KEY,
    centre text NOT NULL,
    kind text NOT NULL,
    body jsonb NOT NULL,
    sent_ms bigint NOT NULL,
    sent_by text NOT NULL
);
CREATE INDEX notices_sent_newest ON notices_sent (sent_ms DESC);
"#,
    // Activities held, one row per centre and activity however often its
    // event arrives (a resend after a restore has a new event number), on
    // the day it started. What was counted as "activities" before (the
    // names points were awarded under on a day) is no longer read.
    r#"
CREATE TABLE held_activities (
    centre text NOT NULL,
    activity bigint NOT NULL,
    day date NOT NULL,
    kind text NOT NULL,
    participants integer NOT NULL,
    volunteer_minutes integer NOT NULL,
    event_id bigint NOT NULL,
    PRIMARY KEY (centre, activity)
);
CREATE INDEX held_activities_day ON held_activities (day, centre);
"#,
    // Each centre's own count of what it sent (its tallies), and how many
    // of each one's range the database held: `tallies` finds the gaps.
    r#"
CREATE TABLE centre_tallies (
    centre text NOT NULL,
    from_id bigint NOT NULL,
    through_id bigint NOT NULL,
    sent bigint NOT NULL,
    held bigint NOT NULL,
    at_ms bigint NOT NULL,
    received_ms bigint NOT NULL,
    PRIMARY KEY (centre, through_id)
);
CREATE INDEX centre_tallies_short ON centre_tallies (centre) WHERE held < sent;
CREATE INDEX centre_tallies_received ON centre_tallies (received_ms);
"#,
];

/// A database error, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("PostgreSQL, {doing}: {source}")]
pub struct DatabaseError {
    doing: &'static str,
    #[source]
    source: tokio_postgres::Error,
}

pub(crate) fn db(doing: &'static str) -> impl FnOnce(tokio_postgres::Error) -> DatabaseError {
    move |source| DatabaseError { doing, source }
}

/// Connects to `url` (a libpq connection string) and runs the connection
/// on the current runtime.
pub async fn connect(url: &str) -> Result<Client, DatabaseError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(db("connecting"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::error!("PostgreSQL connection: {e}");
        }
    });
    Ok(client)
}

/// Brings the schema to the newest version (under an advisory lock, so two
/// services starting at once do not both migrate).
pub async fn migrate(client: &mut Client) -> Result<u32, DatabaseError> {
    let tx = client.transaction().await.map_err(db("migrating"))?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7351); \
         CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL); \
         INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
    )
    .await
    .map_err(db("migrating"))?;
    let at: i32 = tx
        .query_one("SELECT version FROM schema_version", &[])
        .await
        .map_err(db("migrating"))?
        .get(0);
    let at = usize::try_from(at).unwrap_or(0);
    for step in MIGRATIONS.iter().skip(at) {
        tx.batch_execute(step).await.map_err(db("migrating"))?;
    }
    let version = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("UPDATE schema_version SET version = $1", &[&version])
        .await
        .map_err(db("migrating"))?;
    tx.commit().await.map_err(db("migrating"))?;
    Ok(u32::try_from(version).unwrap_or(0))
}

/// An event that decoded, with where it came from.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The event.
    pub event: DistrictEvent,
    /// Its body as received.
    pub body: Vec<u8>,
    /// Its place in the stream.
    pub stream_seq: u64,
}

/// A message refused, to be logged in the database.
#[derive(Clone, Debug)]
pub struct Refused {
    /// Its subject.
    pub subject: String,
    /// Its `Nats-Msg-Id`.
    pub msg_id: String,
    /// Its place in the stream.
    pub stream_seq: u64,
    /// Why.
    pub reason: String,
}

/// What a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events new to the database.
    pub new: usize,
    /// Events it had already (the same body).
    pub repeats: usize,
    /// Refused: bad messages, and different events under a used id.
    pub refused: usize,
    /// Centres' tallies new to the database.
    pub tallies: usize,
}

/// The daily counts one event adds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct DailyDelta {
    events: i64,
    visits: i64,
    door_entries: i64,
    ratings: i64,
    stars: i64,
    satisfied: i64,
    points_awarded: i64,
    points_spent: i64,
    bookings_done: i64,
    alarms_raised: i64,
}

impl DailyDelta {
    fn add(&mut self, event: &DistrictEventKind) {
        self.events += 1;
        match event {
            DistrictEventKind::CheckIn { .. } => self.visits += 1,
            DistrictEventKind::DoorEntry { .. } => self.door_entries += 1,
            DistrictEventKind::Rating { stars, .. } => {
                self.ratings += 1;
                self.stars += i64::from(*stars);
                self.satisfied += i64::from(*stars >= 4);
            }
            DistrictEventKind::PointsAwarded { points, .. } => {
                self.points_awarded += i64::from(*points)
            }
            DistrictEventKind::PointsSpent { points, .. } => {
                self.points_spent += i64::from(*points)
            }
            DistrictEventKind::BookingDone { .. } => self.bookings_done += 1,
            DistrictEventKind::Alarm { raised, .. } => self.alarms_raised += i64::from(*raised),
            DistrictEventKind::DeviceStatus { .. }
            | DistrictEventKind::ActivityHeld { .. }
            | DistrictEventKind::Tally { .. } => {}
        }
    }
}

/// The district's day of an instant, `YYYY-MM-DD`, at `offset_minutes`
/// east of UTC.
pub fn day_of(at_ms: i64, offset_minutes: i32) -> String {
    let offset = time::UtcOffset::from_whole_seconds(offset_minutes.saturating_mul(60))
        .unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .map(|t| t.to_offset(offset).date().to_string())
        .unwrap_or_else(|_| "1970-01-01".into())
}

fn kind_name(event: &DistrictEventKind) -> &'static str {
    match event {
        DistrictEventKind::CheckIn { .. } => "check_in",
        DistrictEventKind::DoorEntry { .. } => "door_entry",
        DistrictEventKind::Alarm { .. } => "alarm",
        DistrictEventKind::DeviceStatus { .. } => "device_status",
        DistrictEventKind::Rating { .. } => "rating",
        DistrictEventKind::PointsAwarded { .. } => "points_awarded",
        DistrictEventKind::PointsSpent { .. } => "points_spent",
        DistrictEventKind::BookingDone { .. } => "booking_done",
        DistrictEventKind::ActivityHeld { .. } => "activity_held",
        DistrictEventKind::Tally { .. } => "tally",
    }
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Writes one batch in one transaction: the new events, the rollups they
/// move, and the refusals (`refused`, and any different event under a used
/// id). Nothing is written if it fails; the caller acknowledges the batch
/// only once this returned.
pub async fn ingest(
    client: &mut Client,
    incoming: &[Incoming],
    refused: &[Refused],
    offset_minutes: i32,
    now_ms: i64,
) -> Result<BatchOutcome, DatabaseError> {
    let mut outcome = BatchOutcome::default();
    let mut refusals: Vec<Refused> = refused.to_vec();
    // A centre's tally is no event of its day: kept apart, after the events.
    let (tallies, incoming): (Vec<&Incoming>, Vec<&Incoming>) = incoming
        .iter()
        .partition(|i| matches!(i.event.event, DistrictEventKind::Tally { .. }));
    // One per key within the batch: the first stays.
    let mut first: HashMap<(&str, u64), &Incoming> = HashMap::new();
    let mut later: Vec<&Incoming> = Vec::new();
    for i in incoming {
        match first.entry((i.event.centre.as_str(), i.event.id)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(_) => later.push(i),
        }
    }
    let mut batch: Vec<&Incoming> = first.values().copied().collect();
    batch.sort_by_key(|i| i.stream_seq);

    let tx = client.transaction().await.map_err(db("starting a batch"))?;
    let centres: Vec<String> = batch.iter().map(|i| i.event.centre.clone()).collect();
    let ids: Vec<i64> = batch.iter().map(|i| as_i64(i.event.id)).collect();
    let at: Vec<i64> = batch.iter().map(|i| i.event.at_ms).collect();
    let days: Vec<String> = batch
        .iter()
        .map(|i| day_of(i.event.at_ms, offset_minutes))
        .collect();
    let kinds: Vec<String> = batch
        .iter()
        .map(|i| kind_name(&i.event.event).to_owned())
        .collect();
    let bodies: Vec<String> = batch
        .iter()
        .map(|i| String::from_utf8_lossy(&i.body).into_owned())
        .collect();
    let digests: Vec<Vec<u8>> = batch
        .iter()
        .map(|i| DistrictEvent::digest(&i.body).to_vec())
        .collect();
    let seqs: Vec<i64> = batch.iter().map(|i| as_i64(i.stream_seq)).collect();
    let inserted = tx
        .query(
            "INSERT INTO events (centre, event_id, at_ms, day, kind, body, digest, stream_seq, received_ms)
             SELECT c, i, a, d::date, k, b::jsonb, g, s, $9
             FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[],
                         $7::bytea[], $8::int8[]) AS t(c, i, a, d, k, b, g, s)
             ON CONFLICT (centre, event_id) DO NOTHING
             RETURNING centre, event_id",
            &[
                &centres, &ids, &at, &days, &kinds, &bodies, &digests, &seqs, &now_ms,
            ],
        )
        .await
        .map_err(db("inserting events"))?;
    let new_keys: HashSet<(String, i64)> = inserted
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect();
    outcome.new = new_keys.len();

    // The rest were here already: the same body is a repeat, another is refused.
    let mut seen: Vec<&Incoming> = batch
        .iter()
        .copied()
        .filter(|i| !new_keys.contains(&(i.event.centre.clone(), as_i64(i.event.id))))
        .collect();
    seen.extend(later.iter().copied());
    if !seen.is_empty() {
        let c: Vec<String> = seen.iter().map(|i| i.event.centre.clone()).collect();
        let id: Vec<i64> = seen.iter().map(|i| as_i64(i.event.id)).collect();
        let rows = tx
            .query(
                "SELECT e.centre, e.event_id, e.digest FROM events e
                 JOIN unnest($1::text[], $2::int8[]) AS t(c, i) ON e.centre = t.c AND e.event_id = t.i",
                &[&c, &id],
            )
            .await
            .map_err(db("reading used ids"))?;
        let stored: HashMap<(String, i64), Vec<u8>> = rows
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get::<_, Vec<u8>>(2)))
            .collect();
        for i in seen {
            let key = (i.event.centre.clone(), as_i64(i.event.id));
            let digest = DistrictEvent::digest(&i.body).to_vec();
            if stored.get(&key) == Some(&digest) {
                outcome.repeats += 1;
            } else {
                tracing::warn!(
                    "refused: a different event under {}'s id {} (stream {})",
                    i.event.centre,
                    i.event.id,
                    i.stream_seq
                );
                refusals.push(Refused {
                    subject: keting_core::district::events_subject("?", &i.event.centre),
                    msg_id: i.event.message_id(),
                    stream_seq: i.stream_seq,
                    reason: "a different event under an id already used".into(),
                });
            }
        }
    }

    let new: Vec<&Incoming> = batch
        .iter()
        .copied()
        .filter(|i| new_keys.contains(&(i.event.centre.clone(), as_i64(i.event.id))))
        .collect();
    roll_up(&tx, &new, offset_minutes).await?;

    if !refusals.is_empty() {
        let subjects: Vec<String> = refusals.iter().map(|r| r.subject.clone()).collect();
        let msg_ids: Vec<String> = refusals.iter().map(|r| r.msg_id.clone()).collect();
        let seqs: Vec<i64> = refusals.iter().map(|r| as_i64(r.stream_seq)).collect();
        let reasons: Vec<String> = refusals.iter().map(|r| r.reason.clone()).collect();
        tx.execute(
            "INSERT INTO refusals (received_ms, subject, msg_id, stream_seq, reason)
             SELECT $5, s, m, q, r FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[]) AS t(s, m, q, r)",
            &[&subjects, &msg_ids, &seqs, &reasons, &now_ms],
        )
        .await
        .map_err(db("logging refusals"))?;
    }
    outcome.refused = refusals.len();
    outcome.tallies = crate::tallies::keep(&tx, &tallies, now_ms).await?;
    tx.commit().await.map_err(db("committing a batch"))?;
    Ok(outcome)
}

/// Moves the rollups by the `new` events.
async fn roll_up(
    tx: &tokio_postgres::Transaction<'_>,
    new: &[&Incoming],
    offset_minutes: i32,
) -> Result<(), DatabaseError> {
    if new.is_empty() {
        return Ok(());
    }
    let mut daily: BTreeMap<(String, String), DailyDelta> = BTreeMap::new();
    let mut visitors: HashSet<(String, String, String)> = HashSet::new();
    let mut held: Vec<(String, i64, String, String, i32, i32, i64)> = Vec::new();
    let mut alarms: HashMap<(String, String, String), (bool, i64, i64)> = HashMap::new();
    let mut devices: HashMap<(String, String), (bool, i64, i64)> = HashMap::new();
    let mut centres: HashMap<String, (i64, i64)> = HashMap::new();
    for i in new {
        let e = &i.event;
        let day = day_of(e.at_ms, offset_minutes);
        daily
            .entry((e.centre.clone(), day.clone()))
            .or_default()
            .add(&e.event);
        let span = centres
            .entry(e.centre.clone())
            .or_insert((e.at_ms, e.at_ms));
        span.0 = span.0.min(e.at_ms);
        span.1 = span.1.max(e.at_ms);
        let id = as_i64(e.id);
        let latest = |old: Option<&(bool, i64, i64)>| old.is_none_or(|o| o.2 < id);
        match &e.event {
            DistrictEventKind::CheckIn { visitor }
            | DistrictEventKind::DoorEntry { visitor, .. } => {
                visitors.insert((e.centre.clone(), day, visitor.as_str().to_owned()));
            }
            DistrictEventKind::ActivityHeld {
                activity,
                activity_kind,
                starts_ms,
                participants,
                volunteer_minutes,
            } => held.push((
                e.centre.clone(),
                as_i64(*activity),
                day_of(*starts_ms, offset_minutes),
                activity_kind.clone(),
                i32::try_from(*participants).unwrap_or(i32::MAX),
                i32::try_from(*volunteer_minutes).unwrap_or(i32::MAX),
                id,
            )),
            DistrictEventKind::Alarm {
                device,
                alarm,
                raised,
            } => {
                let key = (e.centre.clone(), device.clone(), alarm.clone());
                if latest(alarms.get(&key)) {
                    alarms.insert(key, (*raised, e.at_ms, id));
                }
            }
            DistrictEventKind::DeviceStatus { device, online } => {
                let key = (e.centre.clone(), device.clone());
                if latest(devices.get(&key)) {
                    devices.insert(key, (*online, e.at_ms, id));
                }
            }
            _ => {}
        }
    }
    let col = |f: fn(&DailyDelta) -> i64| daily.values().map(f).collect::<Vec<i64>>();
    let (c, d): (Vec<String>, Vec<String>) = daily.keys().cloned().unzip();
    tx.execute(
        "INSERT INTO daily (centre, day, events, visits, door_entries, ratings, stars, satisfied,
                            points_awarded, points_spent, bookings_done, alarms_raised)
         SELECT c, d::date, e, v, de, r, s, sa, pa, ps, bd, ar
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[],
                     $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[])
              AS t(c, d, e, v, de, r, s, sa, pa, ps, bd, ar)
         ON CONFLICT (centre, day) DO UPDATE SET
            events = daily.events + EXCLUDED.events,
            visits = daily.visits + EXCLUDED.visits,
            door_entries = daily.door_entries + EXCLUDED.door_entries,
            ratings = daily.ratings + EXCLUDED.ratings,
            stars = daily.stars + EXCLUDED.stars,
            satisfied = daily.satisfied + EXCLUDED.satisfied,
            points_awarded = daily.points_awarded + EXCLUDED.points_awarded,
            points_spent = daily.points_spent + EXCLUDED.points_spent,
            bookings_done = daily.bookings_done + EXCLUDED.bookings_done,
            alarms_raised = daily.alarms_raised + EXCLUDED.alarms_raised",
        &[
            &c,
            &d,
            &col(|x| x.events),
            &col(|x| x.visits),
            &col(|x| x.door_entries),
            &col(|x| x.ratings),
            &col(|x| x.stars),
            &col(|x| x.satisfied),
            &col(|x| x.points_awarded),
            &col(|x| x.points_spent),
            &col(|x| x.bookings_done),
            &col(|x| x.alarms_raised),
        ],
    )
    .await
    .map_err(db("rolling up days"))?;
    if !held.is_empty() {
        let mut centre = Vec::new();
        let mut activity = Vec::new();
        let mut day = Vec::new();
        let mut kind = Vec::new();
        let mut participants = Vec::new();
        let mut minutes = Vec::new();
        let mut event = Vec::new();
        for (c, a, d, k, p, m, i) in held {
            centre.push(c);
            activity.push(a);
            day.push(d);
            kind.push(k);
            participants.push(p);
            minutes.push(m);
            event.push(i);
        }
        tx.execute(
            "INSERT INTO held_activities (centre, activity, day, kind, participants, volunteer_minutes, event_id)
             SELECT c, a, d::date, k, p, m, i
             FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::int4[], $6::int4[], $7::int8[])
                  AS t(c, a, d, k, p, m, i)
             ON CONFLICT (centre, activity) DO NOTHING",
            &[&centre, &activity, &day, &kind, &participants, &minutes, &event],
        )
        .await
        .map_err(db("counting activities held"))?;
    }
    for (table, set) in [("daily_visitors", &visitors)] {
        if set.is_empty() {
            continue;
        }
        let (mut a, mut b, mut v) = (Vec::new(), Vec::new(), Vec::new());
        for (x, y, z) in set {
            a.push(x.clone());
            b.push(y.clone());
            v.push(z.clone());
        }
        let column = if table == "daily_visitors" {
            "visitor"
        } else {
            "activity"
        };
        tx.execute(
            &format!(
                "INSERT INTO {table} (centre, day, {column})
                 SELECT c, d::date, v FROM unnest($1::text[], $2::text[], $3::text[]) AS t(c, d, v)
                 ON CONFLICT DO NOTHING"
            ),
            &[&a, &b, &v],
        )
        .await
        .map_err(db("counting visitors and activities"))?;
    }
    if !alarms.is_empty() {
        let (mut c, mut dev, mut al, mut r, mut at, mut id) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for ((cc, dd, aa), (rr, tt, ii)) in &alarms {
            c.push(cc.clone());
            dev.push(dd.clone());
            al.push(aa.clone());
            r.push(*rr);
            at.push(*tt);
            id.push(*ii);
        }
        tx.execute(
            "INSERT INTO alarm_state (centre, device, alarm, raised, at_ms, event_id)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int8[], $6::int8[])
             ON CONFLICT (centre, device, alarm) DO UPDATE SET
                raised = EXCLUDED.raised, at_ms = EXCLUDED.at_ms, event_id = EXCLUDED.event_id
             WHERE alarm_state.event_id < EXCLUDED.event_id",
            &[&c, &dev, &al, &r, &at, &id],
        )
        .await
        .map_err(db("keeping alarms"))?;
    }
    if !devices.is_empty() {
        let (mut c, mut dev, mut on, mut at, mut id) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((cc, dd), (oo, tt, ii)) in &devices {
            c.push(cc.clone());
            dev.push(dd.clone());
            on.push(*oo);
            at.push(*tt);
            id.push(*ii);
        }
        tx.execute(
            "INSERT INTO device_state (centre, device, online, at_ms, event_id)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::int8[], $5::int8[])
             ON CONFLICT (centre, device) DO UPDATE SET
                online = EXCLUDED.online, at_ms = EXCLUDED.at_ms, event_id = EXCLUDED.event_id
             WHERE device_state.event_id < EXCLUDED.event_id",
            &[&c, &dev, &on, &at, &id],
        )
        .await
        .map_err(db("keeping device states"))?;
    }
    let (mut c, mut first, mut last) = (Vec::new(), Vec::new(), Vec::new());
    for (cc, (f, l)) in &centres {
        c.push(cc.clone());
        first.push(*f);
        last.push(*l);
    }
    tx.execute(
        "INSERT INTO centres (centre, first_ms, last_ms)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[])
         ON CONFLICT (centre) DO UPDATE SET
            first_ms = least(centres.first_ms, EXCLUDED.first_ms),
            last_ms = greatest(centres.last_ms, EXCLUDED.last_ms)",
        &[&c, &first, &last],
    )
    .await
    .map_err(db("keeping centres"))?;
    Ok(())
}

/// The (centre, day) rows whose rollups differ from a recount of the
/// events: empty when every rollup is right.
pub async fn recount_mismatches(client: &Client) -> Result<Vec<(String, String)>, DatabaseError> {
    let rows = client
        .query(
            "WITH recount AS (
                SELECT centre, day, count(*) AS events,
                    count(*) FILTER (WHERE kind = 'check_in') AS visits,
                    count(*) FILTER (WHERE kind = 'door_entry') AS door_entries,
                    count(*) FILTER (WHERE kind = 'rating') AS ratings,
                    coalesce(sum((body->'event'->>'stars')::int8) FILTER (WHERE kind = 'rating'), 0) AS stars,
                    count(*) FILTER (WHERE kind = 'rating' AND (body->'event'->>'stars')::int >= 4) AS satisfied,
                    coalesce(sum((body->'event'->>'points')::int8) FILTER (WHERE kind = 'points_awarded'), 0) AS points_awarded,
                    coalesce(sum((body->'event'->>'points')::int8) FILTER (WHERE kind = 'points_spent'), 0) AS points_spent,
                    count(*) FILTER (WHERE kind = 'booking_done') AS bookings_done,
                    count(*) FILTER (WHERE kind = 'alarm' AND (body->'event'->>'raised')::boolean) AS alarms_raised
                FROM events GROUP BY centre, day)
             SELECT coalesce(r.centre, d.centre), coalesce(r.day, d.day)::text
             FROM recount r FULL JOIN daily d ON d.centre = r.centre AND d.day = r.day
             WHERE (r.events, r.visits, r.door_entries, r.ratings, r.stars, r.satisfied, r.points_awarded,
                    r.points_spent, r.bookings_done, r.alarms_raised)
                   IS DISTINCT FROM
                   (d.events, d.visits, d.door_entries, d.ratings, d.stars, d.satisfied, d.points_awarded,
                    d.points_spent, d.bookings_done, d.alarms_raised)
             UNION ALL
             SELECT v.centre, v.day::text FROM (
                SELECT centre, day, count(DISTINCT body->'event'->>'visitor') AS n FROM events
                WHERE kind IN ('check_in', 'door_entry') GROUP BY centre, day) v
             LEFT JOIN (SELECT centre, day, count(*) AS n FROM daily_visitors GROUP BY centre, day) w
                ON w.centre = v.centre AND w.day = v.day
             WHERE v.n IS DISTINCT FROM w.n
             ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(db("recounting"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// How many events the database holds, and how many distinct keys.
pub async fn event_counts(client: &Client) -> Result<(i64, i64), DatabaseError> {
    let row = client
        .query_one(
            "SELECT count(*), count(DISTINCT (centre, event_id)) FROM events",
            &[],
        )
        .await
        .map_err(db("counting events"))?;
    Ok((row.get(0), row.get(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_the_districts_own() {
        // 2026-12-01 16:30 UTC is 2026-12-02 00:30 in Shenzhen.
        let t = 1_796_142_600_000;
        assert_eq!(day_of(t, 0), "2026-12-01");
        assert_eq!(day_of(t, 8 * 60), "2026-12-02");
    }

    #[test]
    fn a_rating_of_four_or_five_stars_is_satisfied() {
        let mut d = DailyDelta::default();
        for stars in [5, 4, 3] {
            d.add(&DistrictEventKind::Rating {
                service: "piano".into(),
                stars,
            });
        }
        assert_eq!((d.ratings, d.stars, d.satisfied, d.events), (3, 12, 2, 3));
    }
}
