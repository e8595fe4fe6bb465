//! Alarms told off-site: the alert outbox (`keting_store::alerts`, filled
//! by the alarms' own triggers in the alarm's transaction) sent to each
//! channel, never blocking the centre.
//!
//! - A WeCom group robot gets `{"msgtype":"text",...}` at its webhook; a
//!   DingTalk robot the same, its address signed with its secret
//!   (`timestamp` and `sign`: HMAC-SHA256 of `"{timestamp}\n{secret}"`,
//!   Base64); a webhook gets the alarm as JSON, signed with HMAC-SHA256 of
//!   the body in `X-Keting-Signature: sha256=<hex>` when it has a secret.
//! - Delivered means the channel said so: HTTP 2xx, and for the robots
//!   `errcode` 0. Otherwise it is tried again after a backoff that doubles
//!   from 10 s to at most 10 minutes; what the channel said is kept.
//! - The words are Chinese first, then English: the centre, the alarm, the
//!   device, the time, who acknowledged.
//! - It wakes on every commit to the database and every few seconds anyway;
//!   the outbox is in the database, so a restart loses nothing.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use keting_core::time::Timestamp;
use keting_store::alarms::{self, Alarm, AlarmKind};
use keting_store::alerts::{self, Channel, ChannelKind, Pending, Told};
use keting_store::{Store, StoreError, site_record};
use keting_webkit::outbound::Client;
use sha2::Sha256;
use tokio::sync::watch;

use crate::clock::now;

/// How often the outbox is looked at with no commit to wake it.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// The first wait before a message is tried again; it doubles.
const FIRST_RETRY: Duration = Duration::from_secs(10);
/// The longest wait between tries.
const LONGEST_RETRY: Duration = Duration::from_secs(600);
/// The most messages sent in one round.
const ROUND: i64 = 20;
/// A channel hears of one device's alarms of one kind at most once in this
/// long: a flapping device gives one message with a count, not a hundred.
pub const FLAP_WINDOW: Duration = Duration::from_secs(300);

/// The words for an alarm's kind.
fn kind_words(kind: AlarmKind) -> (&'static str, &'static str) {
    match kind {
        AlarmKind::Forced => ("门被强行打开", "door forced"),
        AlarmKind::HeldOpen => ("门开着未关", "door held open"),
        AlarmKind::ReaderLockout => ("读卡器锁定（多次刷错）", "reader locked out"),
        AlarmKind::Offline => ("设备离线", "device offline"),
        AlarmKind::Fault => ("设备故障", "device fault"),
        AlarmKind::VendInDoubt => ("饮料出货存疑", "drink in doubt"),
        AlarmKind::ClockWrong => ("时钟错误", "clock wrong"),
        AlarmKind::Help => ("紧急求助：有人按了求助按钮", "HELP button pressed"),
        AlarmKind::Fire => (
            "消防报警：门已释放，火警解除后需工作人员复位",
            "fire alarm: door released until staff reset it",
        ),
        AlarmKind::Welfare => (
            "健身房有人独自在内太久，请电话联系或前往查看",
            "someone alone in the gym too long: call or go and look",
        ),
        AlarmKind::Tailgating => (
            "有人未刷码跟随进入（一次刷码进了两人）",
            "someone came in without a scan (two in on one scan)",
        ),
    }
}

fn local_time(t: Timestamp) -> String {
    let d = keting_core::calendar::SiteCalendar::china().local(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute()
    )
}

/// The message's text: Chinese first, then English. `times`: how often the
/// device raised this kind since its last message (a flapping device), 1
/// otherwise.
pub fn text(centre: &str, told: Told, alarm: Option<&Alarm>, at: Timestamp, times: i64) -> String {
    let Some(a) = alarm else {
        return format!(
            "【{centre}】测试消息：报警会发到这里。{}\n[{centre}] Test message: alarms will be sent here.",
            local_time(at)
        );
    };
    let (zh, en) = kind_words(a.kind);
    let detail = if a.detail.is_empty() {
        String::new()
    } else {
        format!("（{}）", a.detail)
    };
    let waited = at.since(a.raised).map_or(0, |d| d.as_secs() / 60).max(1);
    let (zh_what, en_what, when) = match told {
        Told::Raised | Told::Test => ("报警".to_owned(), "Alarm".to_owned(), a.raised),
        Told::Escalated => (
            format!("已 {waited} 分钟无人处理"),
            format!("Not acknowledged for {waited} min"),
            a.raised,
        ),
        Told::Acknowledged => (
            "已有人处理".to_owned(),
            "Acknowledged".to_owned(),
            a.acked.as_ref().map_or(at, |(_, t)| *t),
        ),
        Told::Cleared => (
            "已解除".to_owned(),
            "Cleared".to_owned(),
            a.cleared.unwrap_or(at),
        ),
    };
    let by = match (told, &a.acked) {
        (Told::Acknowledged, Some((who, _))) => format!("，{who}"),
        _ => String::new(),
    };
    let by_en = match (told, &a.acked) {
        (Told::Acknowledged, Some((who, _))) => format!(" by {who}"),
        _ => String::new(),
    };
    let (zh_times, en_times) = if times > 1 {
        (
            format!(" · 5 分钟内反复 {times} 次"),
            format!(" · {times} times within 5 min"),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        "【{centre}】{zh_what}：{zh}{detail} · 设备 {device} · {time}{by}{zh_times}（第 {id} 号报警）\n\
         [{centre}] {en_what}{by_en}: {en} · device {device} · {time}{en_times} (alarm {id})",
        device = a.device,
        time = local_time(when),
        id = a.id,
    )
}

fn told_str(t: Told) -> &'static str {
    match t {
        Told::Raised => "raised",
        Told::Acknowledged => "acknowledged",
        Told::Cleared => "cleared",
        Told::Escalated => "escalated",
        Told::Test => "test",
    }
}

/// The request a channel gets: (address, headers, body).
pub fn request(
    channel: &Channel,
    secret: Option<&str>,
    text: &str,
    told: Told,
    alarm: Option<&Alarm>,
    at: Timestamp,
) -> (String, Vec<(String, String)>, String) {
    let robot = serde_json::json!({ "msgtype": "text", "text": { "content": text } }).to_string();
    match channel.kind {
        ChannelKind::WeCom => (channel.url.clone(), Vec::new(), robot),
        ChannelKind::DingTalk => {
            let ts = at.as_unix_millis();
            let url = match secret {
                Some(s) => {
                    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(s.as_bytes())
                        .expect("HMAC takes any key length");
                    mac.update(format!("{ts}\n{s}").as_bytes());
                    let sign = base64::engine::general_purpose::STANDARD
                        .encode(mac.finalize().into_bytes());
                    let sep = if channel.url.contains('?') { '&' } else { '?' };
                    format!("{}{sep}timestamp={ts}&sign={}", channel.url, percent(&sign))
                }
                None => channel.url.clone(),
            };
            (url, Vec::new(), robot)
        }
        ChannelKind::Webhook | ChannelKind::Email => {
            let body = serde_json::json!({
                "v": 1,
                "told": told_str(told),
                "text": text,
                "at_ms": at.as_unix_millis(),
                "alarm": alarm.map(|a| serde_json::json!({
                    "id": a.id,
                    "kind": a.kind.as_str(),
                    "device": a.device.as_str(),
                    "detail": a.detail,
                    "raised_ms": a.raised.as_unix_millis(),
                    "acknowledged_by": a.acked.as_ref().map(|(w, _)| w.clone()),
                    "cleared_ms": a.cleared.map(Timestamp::as_unix_millis),
                })),
            })
            .to_string();
            let headers = match secret {
                Some(s) => {
                    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(s.as_bytes())
                        .expect("HMAC takes any key length");
                    mac.update(body.as_bytes());
                    let hex: String = mac
                        .finalize()
                        .into_bytes()
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    vec![("X-Keting-Signature".to_owned(), format!("sha256={hex}"))]
                }
                None => Vec::new(),
            };
            (channel.url.clone(), headers, body)
        }
    }
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Mails `words` through the channel's server (STARTTLS); what the server
/// said, or why not.
async fn mail(
    channel: &Channel,
    password: Option<&str>,
    words: &str,
    client: &Client,
) -> Result<String, String> {
    let target = keting_desk::alerts::MailTarget::parse(&channel.url)
        .ok_or_else(|| "not a mail address (smtp://HOST?from=..&to=..)".to_owned())?;
    let tls = match &target.ca {
        Some(ca) => Client::new(std::path::Path::new(ca))
            .map_err(|e| e.to_string())?
            .tls(),
        None => client.tls(),
    };
    let login = target.user.as_deref().zip(password);
    let mail = keting_webkit::smtp::Mail {
        from: target.from.clone(),
        to: target.to.clone(),
        subject: words
            .lines()
            .next()
            .unwrap_or("Keting")
            .chars()
            .take(120)
            .collect(),
        body: words.to_owned(),
    };
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    keting_webkit::smtp::send(&target.host, target.port, tls, login, &mail, &date)
        .await
        .map_err(|e| e.to_string())
}

/// Whether the channel's answer means delivered.
fn delivered(kind: ChannelKind, status: u16, body: &str) -> bool {
    if !(200..300).contains(&status) {
        return false;
    }
    match kind {
        ChannelKind::WeCom | ChannelKind::DingTalk => {
            serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get("errcode").and_then(serde_json::Value::as_i64))
                == Some(0)
        }
        ChannelKind::Webhook | ChannelKind::Email => true,
    }
}

/// An HTTP client trusting the system's authorities (none if they cannot
/// be read: then only plain http to this machine works, and each https
/// channel's message says why it failed).
pub fn client() -> Client {
    Client::new(std::path::Path::new(keting_webkit::outbound::SYSTEM_CAS)).unwrap_or_else(|e| {
        tracing::error!("alerts: {e}; https channels will fail until the authorities are there");
        Client::without_authorities()
    })
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The channel took it (what it said), or it was not needed (an
    /// escalation of an alarm acknowledged in time).
    Delivered(String),
    /// It did not go (why); it is tried again later.
    NotDelivered(String),
    /// Its kind's quiet hours: held until they end.
    Held(String),
}

/// Sends message `p` now and records the outcome. A secret's file is
/// under `data_dir`.
pub async fn send(
    store: &mut Store,
    data_dir: &std::path::Path,
    client: &Client,
    p: &Pending,
) -> Result<Outcome, StoreError> {
    match prepare(store, data_dir, p)? {
        Step::Done(outcome) => Ok(outcome),
        Step::Deliver(d) => {
            let answer = deliver(&d, client).await;
            record(store, &d, answer)
        }
    }
}

/// A message ready to go: its words and where, decided from the database.
#[derive(Debug)]
pub struct Delivery {
    id: i64,
    attempts: i64,
    channel: Channel,
    words: String,
    secret: Option<String>,
    told: Told,
    alarm: Option<Alarm>,
    at: Timestamp,
}

/// What a message needs next.
#[derive(Debug)]
pub enum Step {
    /// Nothing more (held, settled, folded, failed before sending).
    Done(Outcome),
    /// Sending.
    Deliver(Delivery),
}

/// Decides what message `p` says, or that it goes nowhere now (quiet
/// hours, a flapping device, an escalation no longer needed), reading and
/// writing only the database: no network here.
pub fn prepare(
    store: &mut Store,
    data_dir: &std::path::Path,
    p: &Pending,
) -> Result<Step, StoreError> {
    // Folded into another message of the same round, or settled since.
    if !alerts::unsent(store.conn(), p.id)? {
        return Ok(Step::Done(Outcome::Delivered(
            "folded into another message".into(),
        )));
    }
    let centre = site_record::get(store.conn())?
        .map(|s| s.name)
        .unwrap_or_else(|| "客厅".into());
    let alarm = match p.alarm_id {
        Some(id) => alarms::get(store.conn(), id)?,
        None => None,
    };
    let at = now();
    if let Some(a) = &alarm {
        // Escalated only if still nobody's: acknowledged or cleared in time,
        // it is done without a word.
        if p.told == Told::Escalated && (a.acked.is_some() || a.cleared.is_some()) {
            let why = "acknowledged or cleared in time: not escalated";
            alerts::settled(store.conn(), p.id, why, at)?;
            return Ok(Step::Done(Outcome::Delivered(why.to_owned())));
        }
        // Quiet hours for its kind: held until they end (never a call for
        // help, a door released for a fire, or someone alone too long).
        let minute = {
            let d = keting_core::calendar::SiteCalendar::china().local(at);
            u16::from(d.hour()) * 60 + u16::from(d.minute())
        };
        if let Some(left) = alerts::policy(store.conn(), a.kind)?
            .quiet_for(minute)
            .filter(|_| {
                !matches!(
                    a.kind,
                    AlarmKind::Help | AlarmKind::Fire | AlarmKind::Welfare
                )
            })
        {
            let until = at.saturating_add(Duration::from_secs(u64::from(left) * 60));
            alerts::hold(store.conn(), p.id, until)?;
            return Ok(Step::Done(Outcome::Held(format!(
                "quiet hours: held {left} min"
            ))));
        }
    }
    // A flapping device: the channel hears of one device's raised alarms
    // of one kind once in FLAP_WINDOW, the newest state and how often it
    // was raised; an alarm whose raising it was told is followed at once
    // (acknowledged, cleared).
    let (mut told, mut alarm, mut times) = (p.told, alarm, 1);
    if let Some(a) = alarm.clone()
        && p.told != Told::Escalated
        && a.kind != AlarmKind::Help
        && !(p.told != Told::Raised
            && alerts::raise_delivered(store.conn(), &p.channel.name, a.id)?)
    {
        let last = alerts::last_raise_delivered(store.conn(), &p.channel.name, &a.device, a.kind)?;
        if let Some(until) = last.map(|l| l.saturating_add(FLAP_WINDOW))
            && until.as_unix_millis() > at.as_unix_millis()
        {
            alerts::hold(store.conn(), p.id, until)?;
            return Ok(Step::Done(Outcome::Held(
                "a flapping device: one message per 5 min".into(),
            )));
        }
        let others =
            alerts::others_waiting(store.conn(), &p.channel.name, &a.device, a.kind, p.id)?;
        if !others.is_empty() {
            let newest = others
                .iter()
                .map(|(_, a)| *a)
                .max()
                .unwrap_or(a.id)
                .max(a.id);
            if let Some(n) = alarms::get(store.conn(), newest)? {
                told = if n.cleared.is_some() {
                    Told::Cleared
                } else if n.acked.is_some() {
                    Told::Acknowledged
                } else {
                    Told::Raised
                };
                // Every alarm the channel was not told of, this one too.
                let mut folded: Vec<i64> = others.iter().map(|(_, a)| *a).collect();
                folded.push(a.id);
                folded.sort_unstable();
                folded.dedup();
                times = i64::try_from(folded.len()).unwrap_or(i64::MAX);
                alarm = Some(n);
            }
            for (id, _) in others {
                alerts::settled(
                    store.conn(),
                    id,
                    &format!("folded into message {}", p.id),
                    at,
                )?;
            }
        }
    }
    let words = text(&centre, told, alarm.as_ref(), at, times);
    let secret = match &p.channel.secret_file {
        Some(f) => match std::fs::read_to_string(data_dir.join(f)) {
            Ok(s) => Some(s.trim().to_owned()),
            Err(e) => {
                let why = format!("cannot read its secret: {e}");
                alerts::failed(store.conn(), p.id, &why, retry_at(at, p.attempts))?;
                return Ok(Step::Done(Outcome::NotDelivered(why)));
            }
        },
        None => None,
    };
    Ok(Step::Deliver(Delivery {
        id: p.id,
        attempts: p.attempts,
        channel: p.channel.clone(),
        words,
        secret,
        told,
        alarm,
        at,
    }))
}

/// Sends a prepared message: whether the channel took it, and its answer
/// (or why not). Only the network: many go at once.
pub async fn deliver(d: &Delivery, client: &Client) -> (bool, String) {
    if d.channel.kind == ChannelKind::Email {
        return match mail(&d.channel, d.secret.as_deref(), &d.words, client).await {
            Ok(answer) => (true, answer),
            Err(why) => (false, why),
        };
    }
    let (url, headers, body) = request(
        &d.channel,
        d.secret.as_deref(),
        &d.words,
        d.told,
        d.alarm.as_ref(),
        d.at,
    );
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    match client.post_json(&url, &headers, &body).await {
        Ok((status, body)) => {
            let short: String = body.chars().take(300).collect();
            (
                delivered(d.channel.kind, status, &body),
                format!("HTTP {status} {short}"),
            )
        }
        Err(e) => (false, e.to_string()),
    }
}

/// Records what became of a delivery: sent, or tried again later.
pub fn record(
    store: &mut Store,
    d: &Delivery,
    (ok, answer): (bool, String),
) -> Result<Outcome, StoreError> {
    if ok {
        alerts::sent(store.conn(), d.id, &answer, now())?;
        Ok(Outcome::Delivered(answer))
    } else {
        alerts::failed(store.conn(), d.id, &answer, retry_at(now(), d.attempts))?;
        Ok(Outcome::NotDelivered(answer))
    }
}

fn retry_at(at: Timestamp, attempts: i64) -> Timestamp {
    let factor = 1u32 << attempts.clamp(0, 10);
    let wait = FIRST_RETRY.saturating_mul(factor).min(LONGEST_RETRY);
    at.saturating_add(wait)
}

/// Sends until `stop` says true; wakes when `commits` moves.
pub async fn run(
    database: PathBuf,
    mut commits: watch::Receiver<i64>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let mut store = Store::open(&database)?;
    let data_dir = database
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    let client = client();
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let due = alerts::due(store.conn(), now(), ROUND)?;
        // Decided one by one from the database, sent all at once: a slow
        // or dead channel delays no other (a call for help goes to every
        // channel together).
        let mut outcomes = Vec::new();
        let mut deliveries = Vec::new();
        for p in &due {
            match prepare(&mut store, &data_dir, p) {
                Ok(Step::Done(o)) => outcomes.push((p, Ok(o))),
                Ok(Step::Deliver(d)) => deliveries.push((p, d)),
                Err(e) => outcomes.push((p, Err(e))),
            }
        }
        let answers =
            futures_util::future::join_all(deliveries.iter().map(|(_, d)| deliver(d, &client)))
                .await;
        for ((p, d), answer) in deliveries.iter().zip(answers) {
            outcomes.push((p, record(&mut store, d, answer)));
        }
        for (p, outcome) in outcomes {
            match outcome {
                Ok(Outcome::Delivered(_)) => {
                    tracing::info!(channel = %p.channel.name, alarm = ?p.alarm_id, "alert sent");
                }
                Ok(Outcome::NotDelivered(why)) => {
                    tracing::warn!(channel = %p.channel.name, alarm = ?p.alarm_id, "alert not delivered, retrying: {why}");
                }
                Ok(Outcome::Held(why)) => {
                    tracing::info!(channel = %p.channel.name, alarm = ?p.alarm_id, "alert {why}");
                }
                Err(e) => tracing::error!("alerts: {e}"),
            }
        }
        if due.len() as i64 == ROUND {
            continue;
        }
        let wait = alerts::next_due(store.conn())?
            .and_then(|t| t.since(now()))
            .unwrap_or(IDLE_POLL)
            .min(IDLE_POLL);
        tokio::select! {
            _ = stop.changed() => {}
            _ = commits.changed() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dingtalk_address_is_signed_as_dingtalk_checks_it() {
        let c = Channel {
            name: "duty".into(),
            kind: ChannelKind::DingTalk,
            url: "https://oapi.dingtalk.com/robot/send?access_token=abc".into(),
            secret_file: None,
        };
        let at = Timestamp::from_unix_millis(1_796_000_000_000);
        let (url, _, body) = request(&c, Some("SECxyz"), "hi", Told::Test, None, at);
        assert!(url.starts_with(
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1796000000000&sign="
        ));
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"SECxyz").unwrap();
        mac.update(b"1796000000000\nSECxyz");
        let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert!(url.ends_with(&percent(&want)));
        assert_eq!(body, r#"{"msgtype":"text","text":{"content":"hi"}}"#);
    }

    #[test]
    fn retries_wait_longer_up_to_ten_minutes() {
        let at = Timestamp::from_unix_millis(0);
        assert_eq!(retry_at(at, 0).as_unix_millis(), 10_000);
        assert_eq!(retry_at(at, 2).as_unix_millis(), 40_000);
        assert_eq!(retry_at(at, 9).as_unix_millis(), 600_000);
    }
}
