//! Where alarms are told off-site, as a manager sets it: channels (a WeCom
//! or DingTalk group robot, a signed JSON webhook), which alarm kinds go to
//! which (no route for a kind: every channel), and a test message. The
//! messages themselves are queued by the alarms' own triggers and sent by
//! the centre (`keting_store::alerts`).
//!
//! A channel's address must be `https://` (plain `http://` only to this
//! machine: a stand-in, a local relay). A secret is written to a 0600 file
//! under the data directory's `alert-secrets/` and never shown back.

use std::path::Path;

use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use thiserror::Error;

use super::Actor;
use keting_store::alarms::AlarmKind;
pub use keting_store::alerts::{Channel, ChannelKind};
use keting_store::{Store, StoreError, alerts, audit};

/// The directory under the data directory that holds channels' secrets.
pub const SECRETS_DIR: &str = "alert-secrets";

/// Why the alerts desk did nothing.
#[derive(Debug, Error)]
pub enum AlertError {
    /// A name that is not 1 to 32 of `a-z`, `0-9`, `-`.
    #[error("a channel's name is 1 to 32 of a-z, 0-9 and -, not {0:?}")]
    BadName(String),
    /// An address that is not https (or http to this machine).
    #[error(
        "{0:?}: a channel's address is https://..., or http:// to this machine (127.0.0.1, localhost) only; for e-mail smtp://[USER@]HOST[:PORT]?from=ADDRESS&to=ADDRESS[,ADDRESS]"
    )]
    BadUrl(String),
    /// A DingTalk robot without its signing secret.
    #[error("a DingTalk robot signs its messages: give its secret (--secret-stdin)")]
    NeedsSecret,
    /// No such channel.
    #[error("no alert channel {0:?} (see `kiosk alert channel list`)")]
    UnknownChannel(String),
    /// No channel at all.
    #[error("no alert channel yet (kiosk alert channel add ...)")]
    NoChannels,
    /// A kind of channel that is none of the four.
    #[error("{0:?} is not wecom, dingtalk, webhook or email")]
    UnknownKind(String),
    /// The secret's file.
    #[error("cannot keep the secret in {path}: {why}")]
    Secret {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// The database, or the actor may not.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A mail channel's address: `smtp://[user@]host[:port]?from=A&to=B[,C][&ca=FILE]`
/// (STARTTLS always; `ca`: a private authority to trust instead of the
/// system's). Its parts, if it is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailTarget {
    /// The login's user, if any (its password is the channel's secret).
    pub user: Option<String>,
    /// The server.
    pub host: String,
    /// Its port (587 by default).
    pub port: u16,
    /// The sender's address.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// A private authority to trust.
    pub ca: Option<String>,
}

impl MailTarget {
    /// Reads `url`.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("smtp://")?;
        if url.len() > 500 || url.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (authority, query) = rest.split_once('?')?;
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (hostport, 587),
        };
        let mail = |a: &str| a.contains('@') && !a.contains(['<', '>', '"', ',']) && a.len() <= 254;
        let (mut from, mut to, mut ca) = (None, Vec::new(), None);
        for kv in query.split('&') {
            match kv.split_once('=')? {
                ("from", v) if mail(v) => from = Some(v.to_owned()),
                ("to", v) => {
                    for t in v.split(',') {
                        if !mail(t) {
                            return None;
                        }
                        to.push(t.to_owned());
                    }
                }
                ("ca", v) if v.starts_with('/') => ca = Some(v.to_owned()),
                _ => return None,
            }
        }
        (!host.is_empty() && !to.is_empty()).then_some(Self {
            user,
            host: host.to_owned(),
            port,
            from: from?,
            to,
            ca,
        })
    }
}

/// A local time of day `HH:MM` as minutes after midnight.
pub fn minute_of(hh_mm: &str) -> Option<u16> {
    let (h, m) = hh_mm.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Minutes after midnight as `HH:MM`.
pub fn hh_mm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// Whether `url` may carry alerts: https anywhere, http to this machine.
pub fn valid_url(url: &str) -> bool {
    if url.len() > 500 || url.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => h,
        _ => authority,
    };
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Adds (or replaces) a channel; a `secret` goes to a 0600 file under
/// `data_dir`.
#[allow(clippy::too_many_arguments)]
pub fn add_channel(
    store: &mut Store,
    actor: Actor,
    data_dir: &Path,
    name: &str,
    kind: ChannelKind,
    url: &str,
    secret: Option<&str>,
    now: Timestamp,
) -> Result<Channel, AlertError> {
    if !valid_name(name) {
        return Err(AlertError::BadName(name.to_owned()));
    }
    let address_ok = match kind {
        ChannelKind::Email => MailTarget::parse(url).is_some(),
        _ => valid_url(url),
    };
    if !address_ok {
        return Err(AlertError::BadUrl(url.to_owned()));
    }
    let secret = secret.map(str::trim).filter(|s| !s.is_empty());
    if kind == ChannelKind::DingTalk && secret.is_none() {
        return Err(AlertError::NeedsSecret);
    }
    // The permission first: nobody else writes a secret file.
    store.write(|tx| super::staff::require(tx, actor, StaffAction::AlertChannels))?;
    let secret_file = match secret {
        Some(s) => {
            let path = data_dir.join(SECRETS_DIR).join(name);
            let fail = |why: String| AlertError::Secret {
                path: path.display().to_string(),
                why,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| fail(e.to_string()))?;
            }
            keting_link::atomic_file::write(&path, s.as_bytes(), 0o600)
                .map_err(|e| fail(e.to_string()))?;
            // Relative to the data directory: a restored backup finds it.
            Some(format!("{SECRETS_DIR}/{name}"))
        }
        None => None,
    };
    let channel = Channel {
        name: name.to_owned(),
        kind,
        url: url.to_owned(),
        secret_file,
    };
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::AlertChannels)?;
        alerts::put_channel(tx, &channel, now)?;
        // The address is recorded, the secret never.
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "alert.channel",
            &format!("{name} {} {url}", kind.as_str()),
        )
    })?;
    Ok(channel)
}

/// Each alarm kind routed, and its channels.
pub type Routes = Vec<(AlarmKind, Vec<String>)>;

/// Every channel, and the routes.
pub fn list(store: &Store) -> Result<(Vec<Channel>, Routes), AlertError> {
    Ok((
        alerts::channels(store.conn())?,
        alerts::routes(store.conn())?,
    ))
}

/// Removes channel `name` and its secret's file (under `data_dir`).
pub fn remove_channel(
    store: &mut Store,
    actor: Actor,
    data_dir: &Path,
    name: &str,
    now: Timestamp,
) -> Result<(), AlertError> {
    let gone = store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::AlertChannels)?;
        let c = alerts::channel(tx, name)?;
        if alerts::remove_channel(tx, name)? {
            audit::record(tx, now, &actor.audit_name(), "alert.channel.remove", name)?;
        }
        Ok::<_, StoreError>(c)
    })?;
    let c = gone.ok_or_else(|| AlertError::UnknownChannel(name.to_owned()))?;
    if let Some(f) = c.secret_file {
        let _ = std::fs::remove_file(data_dir.join(f));
    }
    Ok(())
}

/// Alarms of `kind` go to `channels` only (empty: every channel again).
pub fn route(
    store: &mut Store,
    actor: Actor,
    kind: AlarmKind,
    channels: &[String],
    now: Timestamp,
) -> Result<(), AlertError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::AlertChannels)?;
        for c in channels {
            if alerts::channel(tx, c)?.is_none() {
                return Ok(Err(AlertError::UnknownChannel(c.clone())));
            }
        }
        alerts::set_route(tx, kind, channels)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "alert.route",
            &format!("{} -> {}", kind.as_str(), channels.join(",")),
        )?;
        Ok::<_, StoreError>(Ok(()))
    })?
}

pub use keting_store::alerts::Policy;

/// The policy of alarm kind `kind`.
pub fn policy(store: &Store, kind: AlarmKind) -> Result<Policy, AlertError> {
    Ok(alerts::policy(store.conn(), kind)?)
}

/// Sets `kind`'s quiet hours (`None`: none) and escalation (`None`: none),
/// each left as it was when `keep_*` says so.
pub fn set_policy(
    store: &mut Store,
    actor: Actor,
    kind: AlarmKind,
    quiet: Option<Option<(u16, u16)>>,
    escalate: Option<Option<(u32, String)>>,
    now: Timestamp,
) -> Result<Policy, AlertError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::AlertChannels)?;
        let mut p = alerts::policy(tx, kind)?;
        if let Some(q) = quiet {
            p.quiet = q.filter(|(from, to)| from != to);
        }
        if let Some(e) = escalate {
            if let Some((_, channel)) = &e
                && alerts::channel(tx, channel)?.is_none()
            {
                return Ok(Err(AlertError::UnknownChannel(channel.clone())));
            }
            p.escalate = e;
        }
        alerts::set_policy(tx, kind, &p)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "alert.policy",
            &format!("{} {p:?}", kind.as_str()),
        )?;
        Ok::<_, StoreError>(Ok(p))
    })?
}

/// The data directory of `store` (where channels' secrets are kept).
pub fn data_dir(store: &Store) -> std::path::PathBuf {
    store
        .conn()
        .path()
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

pub use keting_store::alerts::LastOutcome;

/// The newest message to each channel.
pub fn last_outcomes(store: &Store) -> Result<Vec<LastOutcome>, AlertError> {
    Ok(alerts::last_outcomes(store.conn())?)
}

/// Queues a test message to `channel` (every channel if none), due at
/// `due` (the centre sends it then); the rows.
pub fn queue_test(
    store: &mut Store,
    actor: Actor,
    channel: Option<&str>,
    now: Timestamp,
    due: Timestamp,
) -> Result<Vec<(String, i64)>, AlertError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::AlertChannels)?;
        let names: Vec<String> = match channel {
            Some(c) => match alerts::channel(tx, c)? {
                Some(c) => vec![c.name],
                None => return Ok(Err(AlertError::UnknownChannel(c.to_owned()))),
            },
            None => alerts::channels(tx)?.into_iter().map(|c| c.name).collect(),
        };
        if names.is_empty() {
            return Ok(Err(AlertError::NoChannels));
        }
        let mut rows = Vec::new();
        for n in names {
            let id = alerts::queue_test(tx, &n, now, due)?;
            rows.push((n, id));
        }
        Ok::<_, StoreError>(Ok(rows))
    })?
}

/// Message `id` of the outbox, to send now.
pub fn pending(store: &Store, id: i64) -> Result<alerts::Pending, AlertError> {
    alerts::pending(store.conn(), id)?
        .ok_or_else(|| AlertError::Store(StoreError::NotFound(format!("alert message {id}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_https_or_this_machine() {
        for ok in [
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]:9/x",
        ] {
            assert!(valid_url(ok), "{ok}");
        }
        for bad in [
            "http://10.0.0.5/hook",
            "http://example.com/hook",
            "ftp://127.0.0.1/",
            "https://",
            "https://a b",
            "http://127.0.0.1.evil.com/",
        ] {
            assert!(!valid_url(bad), "{bad}");
        }
    }
}
