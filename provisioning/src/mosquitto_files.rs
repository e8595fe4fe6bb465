//! `broker config`: the files that make Mosquitto enforce one login per
//! device and a topic ACL per device: `mosquitto.conf`, `passwords` (in
//! Mosquitto 2's `$7$` format: PBKDF2-HMAC-SHA512, 101 rounds, 12-byte salt,
//! as `mosquitto_passwd` writes it) and `acl`.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Sha512;

use crate::device;
use crate::device_claim::{ClaimFile, ClaimState};
use crate::inventory;
use crate::secrets::{random_bytes, write_atomic};
use crate::site_dir::{SiteDir, SiteError};

/// PBKDF2 rounds, as `mosquitto_passwd` uses.
const ROUNDS: u32 = 101;

/// One password file line's hash for `password` with `salt`.
pub fn hash(password: &str, salt: &[u8]) -> String {
    let mut out = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), salt, ROUNDS, &mut out);
    format!(
        "$7${ROUNDS}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(out)
    )
}

/// Whether `password` matches a `$7$` line hash (as `hash` writes it).
pub fn verify(line_hash: &str, password: &str) -> bool {
    use base64::Engine;
    let parts: Vec<&str> = line_hash.split('$').collect();
    let ["", "7", rounds, salt, expected] = parts.as_slice() else {
        return false;
    };
    let (Ok(rounds), Ok(salt), Ok(expected)) = (
        rounds.parse::<u32>(),
        STANDARD.decode(salt),
        STANDARD.decode(expected),
    ) else {
        return false;
    };
    if rounds == 0 || rounds > 1_000_000 || expected.len() != 64 {
        return false;
    }
    let mut out = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), &salt, rounds, &mut out);
    // Compare every byte, whatever the first difference.
    out.iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Reads a Mosquitto password file (`user:hash` lines).
pub fn read_password_file(
    path: &Path,
) -> std::io::Result<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(u, h)| (u.trim().to_owned(), h.trim().to_owned()))
        .collect())
}

/// Where and how Mosquitto listens.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerOptions {
    /// The address the TLS listeners bind (`0.0.0.0` for the LAN).
    pub listen: String,
    /// The plain port, bound to 127.0.0.1 only: logins would cross a LAN in
    /// clear.
    pub port: u16,
    /// Mosquitto's persistence directory (must belong to the mosquitto user).
    pub persistence: String,
    /// The TLS listener's port (client certificates from the site CA,
    /// required); 0: none.
    #[serde(default)]
    pub tls_port: u16,
    /// The claim listener's port (TLS, no client certificate, password
    /// logins: claims); 0: none.
    #[serde(default)]
    pub claim_port: u16,
}

/// The `mosquitto` user's ids, from `/etc/passwd`, if there is one.
fn broker_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == "mosquitto").then_some(())?;
        let (_, uid, gid) = (f.next()?, f.next()?, f.next()?);
        Some((uid.parse().ok()?, gid.parse().ok()?))
    })
}

/// Makes `path` (0600) the broker's own: Mosquitto started as root reads
/// its files as the `mosquitto` user it drops to. Run by someone else than
/// root, the files stay theirs (a broker run as that user reads them).
fn give_to_broker(path: &Path) {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if let (true, Some((uid, gid))) = (root, broker_user())
        && let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid))
    {
        eprintln!(
            "keting-provision: cannot give {} to the mosquitto user: {e}",
            path.display()
        );
    }
}

/// `broker.toml` in the site: where `broker config` last wrote, so `device
/// label` can add the claim login there.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Remembered {
    dir: std::path::PathBuf,
    options: BrokerOptions,
}

/// Where `broker config` last wrote, and with which options.
pub fn remembered(site: &SiteDir) -> Option<(std::path::PathBuf, BrokerOptions)> {
    let text = std::fs::read_to_string(site.path.join("broker.toml")).ok()?;
    let r: Remembered = toml::from_str(&text).ok()?;
    Some((r.dir, r.options))
}

/// Writes the broker's files again where `broker config` last wrote them
/// (after a device is retired or replaced, or a label printed); `None`
/// when `broker config` was never run for this site.
pub fn rewrite_remembered(
    site: &SiteDir,
    now_ms: i64,
) -> Result<Option<std::path::PathBuf>, SiteError> {
    match remembered(site) {
        Some((dir, options)) => {
            write(site, &dir, &options, now_ms)?;
            Ok(Some(dir))
        }
        None => Ok(None),
    }
}

/// Writes `mosquitto.conf`, `passwords` and `acl` into `out`, with a
/// `claim-<name>` login for each device whose claim window is open at
/// `now_ms`; remembers `out` in the site's `broker.toml`.
pub fn write(
    site: &SiteDir,
    out: &Path,
    options: &BrokerOptions,
    now_ms: i64,
) -> Result<usize, SiteError> {
    let file_err = |path: &Path, e: std::io::Error| SiteError::File {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let root = format!("keting/v1/{}", site.site.id);
    let mut passwords = String::new();
    let mut acl = String::from("# Written by keting-provision broker config.\n\n");
    let mut line = |user: &str, password: &str| -> Result<(), SiteError> {
        let salt = random_bytes(12).map_err(|e| SiteError::Invalid(e.to_string()))?;
        passwords += &format!("{user}:{}\n", hash(password, &salt));
        Ok(())
    };
    line("kiosk", &site.kiosk_password()?)?;
    // The centre also publishes Home Assistant's discovery configs.
    acl += &format!("user kiosk\ntopic readwrite {root}/#\ntopic write homeassistant/#\n\n");
    // Home Assistant reads them and the devices' state; it commands nothing
    // (its birth message on homeassistant/status is its own).
    line("homeassistant", &site.home_assistant_password()?)?;
    acl += &format!(
        "user homeassistant\ntopic read homeassistant/#\ntopic write homeassistant/status\n\
         topic read {root}/device/+/status\ntopic read {root}/device/+/online\n\
         topic read {root}/centre/#\ntopic read {root}/controller/online\n\n"
    );
    let mut n = 0;
    let mut claim_passwords = String::new();
    for d in inventory::load(&site.path)?.iter().filter(|d| !d.retired) {
        line(&d.name, &device::password(site, &d.name)?)?;
        acl += &format!(
            "user {name}\ntopic readwrite {root}/device/{name}/#\ntopic read {root}/controller/online\n\n",
            name = d.name
        );
        n += 1;
        let claim = ClaimFile::load(&site.path, &d.name)?;
        if let (ClaimState::Open(_), Some(c)) = (ClaimFile::state(claim.as_ref(), now_ms), &claim) {
            // The device claiming its identity: its own claim topics only.
            claim_passwords += &format!("claim-{}:{}\n", d.name, c.broker_hash);
            acl += &format!(
                "user claim-{name}\ntopic write {root}/claim/{name}/request\ntopic read {root}/claim/{name}/response\n\n",
                name = d.name
            );
        }
    }
    passwords += &claim_passwords;
    let conf = format!(
        "# Written by keting-provision broker config for site {id} ({name}).\n\
         per_listener_settings false\nallow_anonymous false\n\
         password_file {dir}/passwords\nacl_file {dir}/acl\n\
         # Plain MQTT on this machine only (the kiosk beside the broker).\n\
         listener {port} 127.0.0.1\n\
         # Acks and commands are small: send each at once (no Nagle delay).\nset_tcp_nodelay true\n\
         # Rosters list every resident: up to 1 MiB.\nmax_packet_size 2097152\n\
         # Sessions and retained rosters survive a restart; the directory must\n\
         # belong to the mosquitto user.\npersistence true\npersistence_location {persistence}\n",
        id = site.site.id,
        name = site.site.name,
        dir = out.display(),
        port = options.port,
        persistence = options.persistence,
    );
    let mut conf = conf;
    if options.tls_port != 0 && site.path.join(crate::site_ca::CA_CERT).exists() {
        // The broker's certificate, the CA and its revocation list beside
        // the other files; the key readable by the broker's user only.
        let read = |name: &str| {
            let from = site.path.join(name);
            std::fs::read(&from).map_err(|e| file_err(&from, e))
        };
        // The broker sends its certificate and the CA's: a claiming device
        // knows the CA only by the fingerprint on its label.
        let mut chain = read("broker.pem")?;
        chain.extend(read("ca.pem")?);
        for (name, bytes, mode) in [
            ("ca.pem", read("ca.pem")?, 0o644),
            ("broker-chain.pem", chain, 0o644),
            ("broker.key", read("broker.key")?, 0o600),
            ("ca.crl", read("ca.crl")?, 0o644),
        ] {
            let to = out.join(name);
            write_atomic(&to, &bytes, mode).map_err(|e| file_err(&to, e))?;
            give_to_broker(&to);
        }
        let tls = format!(
            "cafile {dir}/ca.pem\ncertfile {dir}/broker-chain.pem\nkeyfile {dir}/broker.key\ntls_version tlsv1.2\n",
            dir = out.display()
        );
        conf += &format!(
            "# TLS: only certificates of the site CA; the certificate's name is the\n\
             # user name the ACL knows; revoked certificates in ca.crl are refused.\n\
             listener {port} {listen}\n{tls}crlfile {dir}/ca.crl\nrequire_certificate true\nuse_identity_as_username true\n",
            port = options.tls_port,
            listen = options.listen,
            dir = out.display(),
        );
        if options.claim_port != 0 {
            conf += &format!(
                "# Claims: TLS with no client certificate (a claiming device has none\n\
                 # yet), a login with a label's one-time code; its ACL allows only its\n\
                 # own claim topics.\n\
                 listener {port} {listen}\n{tls}require_certificate false\n",
                port = options.claim_port,
                listen = options.listen,
            );
        }
    }
    let p = out.join("passwords");
    write_atomic(&p, passwords.as_bytes(), 0o600).map_err(|e| file_err(&p, e))?;
    give_to_broker(&p);
    let a = out.join("acl");
    write_atomic(&a, acl.as_bytes(), 0o600).map_err(|e| file_err(&a, e))?;
    give_to_broker(&a);
    let c = out.join("mosquitto.conf");
    write_atomic(&c, conf.as_bytes(), 0o644).map_err(|e| file_err(&c, e))?;
    let remembered = Remembered {
        dir: std::path::absolute(out).unwrap_or_else(|_| out.to_owned()),
        options: options.clone(),
    };
    let r = site.path.join("broker.toml");
    let text = toml::to_string(&remembered).map_err(|e| SiteError::Invalid(e.to_string()))?;
    write_atomic(&r, text.as_bytes(), 0o644).map_err(|e| file_err(&r, e))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hash_matches_pbkdf2_sha512_as_mosquitto_writes_it() {
        // Same inputs, same line; another salt, another line.
        let a = super::hash("secret", b"0123456789ab");
        assert!(a.starts_with("$7$101$MDEyMzQ1Njc4OWFi$"), "{a}");
        assert_eq!(a, super::hash("secret", b"0123456789ab"));
        assert_ne!(a, super::hash("secret", b"0123456789ac"));
        assert_eq!(a.rsplit('$').next().unwrap().len(), 88);
        assert!(super::verify(&a, "secret"));
        assert!(!super::verify(&a, "Secret"));
        assert!(!super::verify("$6$x$y", "secret"));
    }
}
