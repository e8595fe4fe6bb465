//! Alarms told off-site (migration 26): the channels (a WeCom or DingTalk
//! group robot, a signed JSON webhook), which alarm kinds go to which
//! (none named for a kind: every channel), and the durable outbox the
//! alarms' own triggers fill (raised, acknowledged, cleared; one row per
//! channel), sent by the centre with retries and backoff.
//!
//! A channel's secret (DingTalk's signing secret, the webhook's HMAC key)
//! is a 0600 file whose path is kept here, never the secret itself.

use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::alarms::AlarmKind;

/// What a channel is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    /// A WeCom (企业微信) group robot's webhook.
    WeCom,
    /// A DingTalk (钉钉) group robot's webhook, signed with its secret.
    DingTalk,
    /// A JSON webhook, signed with HMAC-SHA256 when it has a secret.
    Webhook,
    /// E-mail over SMTP with STARTTLS (`smtp://[user@]host[:port]?from=..&to=..`,
    /// the login's password as its secret).
    Email,
}

impl ChannelKind {
    /// Every kind.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::WeCom,
        ChannelKind::DingTalk,
        ChannelKind::Webhook,
        ChannelKind::Email,
    ];

    /// Its name in the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::WeCom => "wecom",
            ChannelKind::DingTalk => "dingtalk",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Email => "email",
        }
    }

    /// The kind of a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Its name (unique).
    pub name: String,
    /// What it is.
    pub kind: ChannelKind,
    /// Where messages are posted.
    pub url: String,
    /// The 0600 file holding its secret, if it has one.
    pub secret_file: Option<String>,
}

/// What an outbox row tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Told {
    /// The alarm was raised.
    Raised,
    /// Someone acknowledged it.
    Acknowledged,
    /// Its cause is gone.
    Cleared,
    /// Nobody acknowledged it in time: the next channel is told.
    Escalated,
    /// A test message from staff.
    Test,
}

impl Told {
    fn parse(s: &str) -> Self {
        match s {
            "raised" => Told::Raised,
            "acknowledged" => Told::Acknowledged,
            "cleared" => Told::Cleared,
            "escalated" => Told::Escalated,
            _ => Told::Test,
        }
    }
}

/// One message waiting to go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its row.
    pub id: i64,
    /// The alarm it is about (none for a test).
    pub alarm_id: Option<i64>,
    /// What it tells.
    pub told: Told,
    /// The channel.
    pub channel: Channel,
    /// Tries so far.
    pub attempts: i64,
}

fn kind_of(s: &str) -> Result<ChannelKind, StoreError> {
    ChannelKind::parse(s).ok_or_else(|| StoreError::Corrupt(format!("alert channel kind {s:?}")))
}

/// Adds channel `c` (or replaces the one of that name).
pub fn put_channel(conn: &Connection, c: &Channel, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO alert_channels (name, kind, url, secret_file, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET kind = ?2, url = ?3, secret_file = ?4",
        params![
            c.name,
            c.kind.as_str(),
            c.url,
            c.secret_file,
            now.as_unix_millis()
        ],
    )?;
    Ok(())
}

/// Every channel, by name.
pub fn channels(conn: &Connection) -> Result<Vec<Channel>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT name, kind, url, secret_file FROM alert_channels ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    rows.map(|r| {
        let (name, kind, url, secret_file) = r?;
        Ok(Channel {
            name,
            kind: kind_of(&kind)?,
            url,
            secret_file,
        })
    })
    .collect()
}

/// The channel called `name`.
pub fn channel(conn: &Connection, name: &str) -> Result<Option<Channel>, StoreError> {
    Ok(channels(conn)?.into_iter().find(|c| c.name == name))
}

/// Removes channel `name` (its routes and unsent messages with it);
/// whether there was one.
pub fn remove_channel(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    conn.execute(
        "DELETE FROM alert_outbox WHERE channel = ?1 AND sent_ms IS NULL",
        [name],
    )?;
    Ok(conn.execute("DELETE FROM alert_channels WHERE name = ?1", [name])? > 0)
}

/// Alarms of `kind` go to `channels` only (empty: every channel again).
pub fn set_route(
    conn: &Connection,
    kind: AlarmKind,
    channels: &[String],
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM alert_routes WHERE alarm_kind = ?1",
        [kind.as_str()],
    )?;
    for c in channels {
        conn.execute(
            "INSERT INTO alert_routes (alarm_kind, channel) VALUES (?1, ?2)",
            params![kind.as_str(), c],
        )?;
    }
    Ok(())
}

/// The routes: each alarm kind named, and its channels.
pub fn routes(conn: &Connection) -> Result<Vec<(AlarmKind, Vec<String>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT alarm_kind, group_concat(channel, ',') FROM alert_routes GROUP BY alarm_kind ORDER BY alarm_kind",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for r in rows {
        let (kind, list) = r?;
        if let Some(kind) = AlarmKind::parse(&kind) {
            out.push((kind, list.split(',').map(str::to_owned).collect()));
        }
    }
    Ok(out)
}

/// A kind's policy: its quiet hours (local minutes of the day, from and to,
/// across midnight if `to` < `from`), and its escalation (after so many
/// seconds unacknowledged, to a channel).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Quiet from, to (minutes after local midnight).
    pub quiet: Option<(u16, u16)>,
    /// Escalation: after seconds, to the channel.
    pub escalate: Option<(u32, String)>,
}

impl Policy {
    /// Whether `minute` (after local midnight) is in the quiet hours, and
    /// if so how many minutes remain of them.
    pub fn quiet_for(&self, minute: u16) -> Option<u16> {
        let (from, to) = self.quiet?;
        let inside = if from <= to {
            (from..to).contains(&minute)
        } else {
            minute >= from || minute < to
        };
        inside.then(|| (to + 1440 - minute) % 1440)
    }
}

/// The policy of alarm kind `kind` (the default: none).
pub fn policy(conn: &Connection, kind: AlarmKind) -> Result<Policy, StoreError> {
    let row = conn
        .query_row(
            "SELECT quiet_from_min, quiet_to_min, escalate_after_s, escalate_to FROM alert_policy WHERE alarm_kind = ?1",
            [kind.as_str()],
            |r| {
                Ok((
                    r.get::<_, Option<u16>>(0)?,
                    r.get::<_, Option<u16>>(1)?,
                    r.get::<_, Option<u32>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        None => Policy::default(),
        Some((from, to, after, channel)) => Policy {
            quiet: from.zip(to),
            escalate: after.zip(channel),
        },
    })
}

/// Sets the policy of `kind`.
pub fn set_policy(conn: &Connection, kind: AlarmKind, p: &Policy) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO alert_policy (alarm_kind, quiet_from_min, quiet_to_min, escalate_after_s, escalate_to)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (alarm_kind) DO UPDATE SET quiet_from_min = ?2, quiet_to_min = ?3,
             escalate_after_s = ?4, escalate_to = ?5",
        params![
            kind.as_str(),
            p.quiet.map(|q| q.0),
            p.quiet.map(|q| q.1),
            p.escalate.as_ref().map(|e| e.0),
            p.escalate.as_ref().map(|e| e.1.clone()),
        ],
    )?;
    Ok(())
}

/// Message `id` waits until `until` (quiet hours), its tries unchanged.
pub fn hold(conn: &Connection, id: i64, until: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE alert_outbox SET next_ms = ?2 WHERE id = ?1",
        params![id, until.as_unix_millis()],
    )?;
    Ok(())
}

/// Queues a test message to `channel`, due at `due` (the command line
/// sends it at once itself, and leaves the centre a minute before it
/// tries); its row.
pub fn queue_test(
    conn: &Connection,
    channel: &str,
    now: Timestamp,
    due: Timestamp,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO alert_outbox (alarm_id, what, channel, next_ms, created_ms) VALUES (NULL, 'test', ?1, ?3, ?2)",
        params![channel, now.as_unix_millis(), due.as_unix_millis()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Whether message `id` is still to be sent (not sent, settled or folded
/// into another).
pub fn unsent(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM alert_outbox WHERE id = ?1 AND sent_ms IS NULL")?;
    Ok(stmt
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
        .is_some())
}

/// Message `id`, whether due or not.
pub fn pending(conn: &Connection, id: i64) -> Result<Option<Pending>, StoreError> {
    let far = Timestamp::from_unix_millis(i64::MAX);
    let mut stmt = conn
        .prepare_cached("SELECT o.id FROM alert_outbox o WHERE o.id = ?1 AND o.sent_ms IS NULL")?;
    if stmt
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
        .is_none()
    {
        return Ok(None);
    }
    Ok(due(conn, far, i64::MAX)?.into_iter().find(|p| p.id == id))
}

/// Up to `limit` messages due at `now`, oldest first.
pub fn due(conn: &Connection, now: Timestamp, limit: i64) -> Result<Vec<Pending>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.alarm_id, o.what, o.attempts, c.name, c.kind, c.url, c.secret_file
         FROM alert_outbox o JOIN alert_channels c ON c.name = o.channel
         WHERE o.sent_ms IS NULL AND o.next_ms <= ?1 ORDER BY o.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now.as_unix_millis(), limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    rows.map(|r| {
        let (id, alarm_id, what, attempts, name, kind, url, secret_file) = r?;
        Ok(Pending {
            id,
            alarm_id,
            told: Told::parse(&what),
            attempts,
            channel: Channel {
                name,
                kind: kind_of(&kind)?,
                url,
                secret_file,
            },
        })
    })
    .collect()
}

/// The earliest time a message is due, if any waits.
pub fn next_due(conn: &Connection) -> Result<Option<Timestamp>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT min(next_ms) FROM alert_outbox WHERE sent_ms IS NULL",
            [],
            |r| r.get::<_, Option<i64>>(0),
        )?
        .map(Timestamp::from_unix_millis))
}

/// Message `id` went; `answer` is what the channel said.
pub fn sent(conn: &Connection, id: i64, answer: &str, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE alert_outbox SET sent_ms = ?2, answer = ?3, attempts = attempts + 1, delivered = 1 WHERE id = ?1",
        params![id, now.as_unix_millis(), answer],
    )?;
    Ok(())
}

/// Message `id` needs no sending (`why`: folded into another, not
/// escalated after all).
pub fn settled(conn: &Connection, id: i64, why: &str, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE alert_outbox SET sent_ms = ?2, answer = ?3 WHERE id = ?1",
        params![id, now.as_unix_millis(), why],
    )?;
    Ok(())
}

/// When `channel` last took the raising of one of `device`'s alarms of
/// `kind`.
pub fn last_raise_delivered(
    conn: &Connection,
    channel: &str,
    device: &keting_core::ids::DeviceId,
    kind: AlarmKind,
) -> Result<Option<Timestamp>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT max(o.sent_ms) FROM alert_outbox o JOIN alarms a ON a.id = o.alarm_id
             WHERE o.channel = ?1 AND a.device_id = ?2 AND a.kind = ?3 AND o.delivered = 1
               AND o.what = 'raised'",
            params![channel, device.as_str(), kind.as_str()],
            |r| r.get::<_, Option<i64>>(0),
        )?
        .map(Timestamp::from_unix_millis))
}

/// Whether `channel` took the raising of alarm `alarm`.
pub fn raise_delivered(conn: &Connection, channel: &str, alarm: i64) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM alert_outbox
             WHERE alarm_id = ?1 AND channel = ?2 AND what = 'raised' AND delivered = 1)",
        params![alarm, channel],
        |r| r.get(0),
    )?)
}

/// The other unsent messages to `channel` about those of `device`'s alarms
/// of `kind` whose raising it was not told (escalations apart): (row,
/// alarm).
pub fn others_waiting(
    conn: &Connection,
    channel: &str,
    device: &keting_core::ids::DeviceId,
    kind: AlarmKind,
    except: i64,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.alarm_id FROM alert_outbox o JOIN alarms a ON a.id = o.alarm_id
         WHERE o.channel = ?1 AND a.device_id = ?2 AND a.kind = ?3 AND o.sent_ms IS NULL
           AND o.what <> 'escalated' AND o.id <> ?4
           AND NOT EXISTS (SELECT 1 FROM alert_outbox d WHERE d.alarm_id = o.alarm_id
               AND d.channel = o.channel AND d.what = 'raised' AND d.delivered = 1)
         ORDER BY o.id",
    )?;
    let rows = stmt.query_map(
        params![channel, device.as_str(), kind.as_str(), except],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes what was sent (or settled) before `before`; how many.
pub fn prune(conn: &Connection, before: Timestamp) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM alert_outbox WHERE sent_ms IS NOT NULL AND sent_ms < ?1",
        [before.as_unix_millis()],
    )?)
}

/// Message `id` did not go: tried again at `retry_at`.
pub fn failed(
    conn: &Connection,
    id: i64,
    answer: &str,
    retry_at: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE alert_outbox SET attempts = attempts + 1, answer = ?2, next_ms = ?3 WHERE id = ?1",
        params![id, answer, retry_at.as_unix_millis()],
    )?;
    Ok(())
}

/// What became of message `id`: (sent, attempts, the channel's last answer).
pub fn outcome(
    conn: &Connection,
    id: i64,
) -> Result<Option<(bool, i64, Option<String>)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT sent_ms IS NOT NULL, attempts, answer FROM alert_outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// The newest message to a channel: (channel, its time, delivered, what
/// the channel last said).
pub type LastOutcome = (String, Timestamp, bool, Option<String>);

/// The newest message to each channel.
pub fn last_outcomes(conn: &Connection) -> Result<Vec<LastOutcome>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.channel, o.created_ms, o.delivered, o.answer FROM alert_outbox o
         WHERE o.id = (SELECT max(id) FROM alert_outbox i WHERE i.channel = o.channel)
         ORDER BY o.channel",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            Timestamp::from_unix_millis(r.get(1)?),
            r.get(2)?,
            r.get(3)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many messages wait.
pub fn waiting(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM alert_outbox WHERE sent_ms IS NULL",
        [],
        |r| r.get(0),
    )?)
}
