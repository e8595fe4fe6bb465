//! `DATA/alerts.toml`: where alarms are told, written by the site's owner
//! beside the dashboard's settings, applied when the centre starts (the
//! channels it names are put, with their routes and policies; channels set
//! on the dashboard and not named here stay). A file that cannot be used
//! stops the start with one clear line, so a typo is seen at once, not at
//! 02:00 when the gym door is forced.
//!
//! ```toml
//! [[channel]]
//! name = "duty-wecom"
//! kind = "wecom"                  # wecom, dingtalk, webhook or email
//! url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."
//!
//! [[channel]]
//! name = "manager-ding"
//! kind = "dingtalk"
//! url = "https://oapi.dingtalk.com/robot/send?access_token=..."
//! secret_file = "alert-secrets/manager-ding"   # 0600, relative to DATA
//!
//! [route.forced]                  # an alarm kind: forced, held_open, ...
//! to = ["duty-wecom"]
//! escalate_after_min = 10         # nobody acknowledged it: tell `then` too
//! then = "manager-ding"
//!
//! [quiet.vend_in_doubt]           # held from 22:00 until 07:00
//! from = "22:00"
//! until = "07:00"
//! ```

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use keting_core::time::Timestamp;
use keting_desk::Actor;
use keting_desk::alerts::ChannelKind;
use keting_desk::records::{AlarmKind, Store};
use serde::Deserialize;

/// The file's name in the data directory.
pub const ALERTS_FILE: &str = "alerts.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    channel: Vec<ChannelEntry>,
    #[serde(default)]
    route: BTreeMap<String, RouteEntry>,
    #[serde(default)]
    quiet: BTreeMap<String, QuietEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelEntry {
    name: String,
    kind: String,
    url: String,
    secret_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    #[serde(default)]
    to: Vec<String>,
    escalate_after_min: Option<u32>,
    then: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuietEntry {
    from: String,
    until: String,
}

fn kind_of(name: &str) -> Result<AlarmKind, String> {
    AlarmKind::parse(name).ok_or_else(|| {
        format!(
            "no alarm kind {name:?}: forced, held_open, reader_lockout, offline, fault, vend_in_doubt, clock_wrong"
        )
    })
}

/// Applies `DATA/alerts.toml` if there is one; how many channels it named.
/// The error is one line naming the file and what is wrong.
pub fn apply(store: &mut Store, data_dir: &Path, now: Timestamp) -> Result<usize, String> {
    let path = data_dir.join(ALERTS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let at = |why: String| format!("{}: {why}", path.display());
    let file: File = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
    let actor = Actor::CommandLine;
    for c in &file.channel {
        let kind = ChannelKind::parse(&c.kind).ok_or_else(|| {
            at(format!(
                "channel {}: kind {:?} is not wecom, dingtalk, webhook or email",
                c.name, c.kind
            ))
        })?;
        let secret = match &c.secret_file {
            Some(f) => {
                let p = data_dir.join(f);
                let meta = std::fs::metadata(&p)
                    .map_err(|e| at(format!("channel {}: {}: {e}", c.name, p.display())))?;
                if meta.permissions().mode() & 0o077 != 0 {
                    return Err(at(format!(
                        "channel {}: {} may be read by others: chmod 600 it",
                        c.name,
                        p.display()
                    )));
                }
                Some(
                    std::fs::read_to_string(&p)
                        .map_err(|e| at(format!("channel {}: {}: {e}", c.name, p.display())))?,
                )
            }
            None => None,
        };
        keting_desk::alerts::add_channel(
            store,
            actor,
            data_dir,
            &c.name,
            kind,
            &c.url,
            secret.as_deref(),
            now,
        )
        .map_err(|e| at(format!("channel {}: {e}", c.name)))?;
    }
    for (name, r) in &file.route {
        let kind = kind_of(name).map_err(at)?;
        keting_desk::alerts::route(store, actor, kind, &r.to, now)
            .map_err(|e| at(format!("route.{name}: {e}")))?;
        let escalate = match (r.escalate_after_min, &r.then) {
            (Some(m @ 1..=1440), Some(then)) => Some(Some((m * 60, then.clone()))),
            (None, None) => Some(None),
            _ => {
                return Err(at(format!(
                    "route.{name}: escalate_after_min (1 to 1440) and then go together"
                )));
            }
        };
        keting_desk::alerts::set_policy(store, actor, kind, None, escalate, now)
            .map_err(|e| at(format!("route.{name}: {e}")))?;
    }
    for (name, q) in &file.quiet {
        let kind = kind_of(name).map_err(at)?;
        let (from, until) = keting_desk::alerts::minute_of(&q.from)
            .zip(keting_desk::alerts::minute_of(&q.until))
            .ok_or_else(|| at(format!("quiet.{name}: from and until are HH:MM")))?;
        keting_desk::alerts::set_policy(store, actor, kind, Some(Some((from, until))), None, now)
            .map_err(|e| at(format!("quiet.{name}: {e}")))?;
    }
    Ok(file.channel.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("keting.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn the_file_puts_its_channels_routes_and_quiet_hours() {
        let (dir, mut store) = centre();
        std::fs::write(dir.path().join("ding.secret"), "SECx").unwrap();
        std::fs::set_permissions(
            dir.path().join("ding.secret"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(ALERTS_FILE),
            "[[channel]]\nname = \"duty\"\nkind = \"wecom\"\nurl = \"https://qyapi.weixin.qq.com/x?key=1\"\n\
             [[channel]]\nname = \"boss\"\nkind = \"dingtalk\"\nurl = \"https://oapi.dingtalk.com/robot/send?access_token=t\"\nsecret_file = \"ding.secret\"\n\
             [route.forced]\nto = [\"duty\"]\nescalate_after_min = 10\nthen = \"boss\"\n\
             [quiet.vend_in_doubt]\nfrom = \"22:00\"\nuntil = \"07:00\"\n",
        )
        .unwrap();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        assert_eq!(apply(&mut store, dir.path(), now), Ok(2));
        let (channels, routes) = keting_desk::alerts::list(&store).unwrap();
        assert_eq!(channels.len(), 2);
        assert_eq!(routes, vec![(AlarmKind::Forced, vec!["duty".to_owned()])]);
        let p = keting_desk::alerts::policy(&store, AlarmKind::Forced).unwrap();
        assert_eq!(p.escalate, Some((600, "boss".to_owned())));
        let q = keting_desk::alerts::policy(&store, AlarmKind::VendInDoubt).unwrap();
        assert_eq!(q.quiet, Some((22 * 60, 7 * 60)));
    }

    #[test]
    fn a_file_that_cannot_be_used_says_where_in_one_line() {
        let (dir, mut store) = centre();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        for (text, says) in [
            (
                "[[channel]]\nname = \"x\"\nkind = \"fax\"\nurl = \"https://a.cn\"\n",
                "kind \"fax\"",
            ),
            (
                "[[channel]]\nname = \"x\"\nkind = \"wecom\"\nurl = \"http://10.0.0.1/x\"\n",
                "channel x",
            ),
            ("[route.forcd]\nto = []\n", "no alarm kind \"forcd\""),
            (
                "[quiet.forced]\nfrom = \"25:00\"\nuntil = \"07:00\"\n",
                "HH:MM",
            ),
            (
                "[route.forced]\nto = []\nescalate_after_min = 5\n",
                "go together",
            ),
            ("colour = \"red\"\n", "unknown field"),
        ] {
            std::fs::write(dir.path().join(ALERTS_FILE), text).unwrap();
            let e = apply(&mut store, dir.path(), now).unwrap_err();
            assert!(e.contains("alerts.toml") && e.contains(says), "{e}");
        }
        // A secret others may read is refused.
        std::fs::write(dir.path().join("open.secret"), "SEC").unwrap();
        std::fs::set_permissions(
            dir.path().join("open.secret"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(ALERTS_FILE),
            "[[channel]]\nname = \"d\"\nkind = \"dingtalk\"\nurl = \"https://oapi.dingtalk.com/x\"\nsecret_file = \"open.secret\"\n",
        )
        .unwrap();
        let e = apply(&mut store, dir.path(), now).unwrap_err();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
