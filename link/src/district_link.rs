//! The link from a centre (or the district's own service) to the district's
//! NATS cluster: who it logs in as, what it trusts, and how it reconnects.
//!
//! - Every link names all the cluster's servers, so losing one (or two)
//!   moves it to another; the client keeps a connection pool and retries
//!   the first connection too (a centre that starts while the district is
//!   down keeps working and sends later).
//! - Reconnects wait [`Backoff`]'s full jitter: when the district's
//!   cluster restarts, a hundred centres come back spread over seconds,
//!   not in one burst of logins, and all within [`RECONNECT_CAP`] of it.
//! - A centre logs in with its NKey (a seed file, 0600, the district
//!   issued), over TLS that trusts only the district's CA when one is
//!   named; its inbox is its own (`_INBOX_<centre>`), so the server's
//!   permissions can give each centre its own replies and nobody else's.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use thiserror::Error;

use crate::backoff::Backoff;

/// How a link finds and logs in to the district.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DistrictLogin {
    /// The cluster's servers, `nats://HOST:PORT` or `tls://HOST:PORT`.
    pub servers: Vec<String>,
    /// The NKey seed file (`SU...`), if the district uses NKeys.
    pub nkey_seed: Option<PathBuf>,
    /// The district's CA: with it, TLS is required and only it is trusted.
    pub ca: Option<PathBuf>,
    /// A client certificate and its key (PEM), if the district asks for one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// The connection's name, as the server's monitoring lists it.
    pub name: String,
    /// The inbox prefix replies come back under.
    pub inbox_prefix: Option<String>,
}

/// Why there is no link.
#[derive(Debug, Error)]
pub enum DistrictLinkError {
    /// The NKey seed file.
    #[error("cannot read the district NKey seed {path}: {source}")]
    Seed {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A seed file anyone may read.
    #[error("the district NKey seed {0} may be read by others (chmod 600 it)")]
    SeedReadable(PathBuf),
    /// No server named.
    #[error("no district server named")]
    NoServer,
    /// The client could not be set up.
    #[error("district link: {0}")]
    Connect(String),
}

/// The longest wait between reconnect attempts. A hundred centres spread
/// over 8 s is a dozen logins a second, which a NATS server takes without
/// notice; a longer cap would keep centres away long after the cluster
/// is back (seen: 27 s with a 30 s cap after a whole-cluster restart).
pub const RECONNECT_CAP: Duration = Duration::from_secs(8);

/// The wait before reconnect attempt `attempt`: full jitter up to
/// [`RECONNECT_CAP`].
pub fn reconnect_wait(attempt: usize) -> Duration {
    // async-nats counts attempts; one Backoff per link would need state
    // shared with its callback, so the ceiling is computed from the count.
    let mut backoff = Backoff::new(Duration::from_millis(250), RECONNECT_CAP);
    for _ in 1..attempt.min(16) {
        let _ = backoff.next_wait_with(1.0);
    }
    if attempt == 0 {
        return Duration::ZERO;
    }
    backoff.next_wait()
}

fn read_seed(path: &Path) -> Result<String, DistrictLinkError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| DistrictLinkError::Seed {
        path: path.to_owned(),
        source,
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(DistrictLinkError::SeedReadable(path.to_owned()));
    }
    let text = std::fs::read_to_string(path).map_err(|source| DistrictLinkError::Seed {
        path: path.to_owned(),
        source,
    })?;
    Ok(text.trim().to_owned())
}

/// The client options for `login`. The connection itself is made by
/// [`connect`].
pub fn options(login: &DistrictLogin) -> Result<async_nats::ConnectOptions, DistrictLinkError> {
    let mut options = async_nats::ConnectOptions::new()
        .name(&login.name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(10)))
        .reconnect_delay_callback(reconnect_wait);
    if let Some(seed) = &login.nkey_seed {
        options = options.nkey(read_seed(seed)?);
    }
    if let Some(ca) = &login.ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let Some((cert, key)) = &login.client_cert {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    if let Some(prefix) = &login.inbox_prefix {
        options = options.custom_inbox_prefix(prefix);
    }
    Ok(options)
}

/// Starts the link: returns at once, connected or not (it keeps trying in
/// the background, jittered); what is published meanwhile waits in the
/// client or fails with a timeout the caller retries.
pub async fn connect(login: &DistrictLogin) -> Result<async_nats::Client, DistrictLinkError> {
    if login.servers.is_empty() {
        return Err(DistrictLinkError::NoServer);
    }
    let state = std::sync::Arc::new(Mutex::new(false));
    let name = login.name.clone();
    let options = options(login)?.event_callback(move |event| {
        let state = state.clone();
        let name = name.clone();
        async move {
            match event {
                async_nats::Event::Connected => {
                    tracing::info!("{name}: connected to the district");
                    if let Ok(mut s) = state.lock() {
                        *s = true;
                    }
                }
                async_nats::Event::Disconnected => {
                    let was = state.lock().map(|mut s| std::mem::replace(&mut *s, false));
                    if was.unwrap_or(true) {
                        tracing::warn!("{name}: lost the district; reconnecting, jittered");
                    }
                }
                other => tracing::debug!("{name}: district link: {other}"),
            }
        }
    });
    options
        .connect(login.servers.clone())
        .await
        .map_err(|e| DistrictLinkError::Connect(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_are_spread_and_capped() {
        assert_eq!(reconnect_wait(0), Duration::ZERO);
        let waits: Vec<Duration> = (0..200).map(|_| reconnect_wait(20)).collect();
        assert!(waits.iter().all(|w| *w <= RECONNECT_CAP));
        let min = waits.iter().min().unwrap();
        let max = waits.iter().max().unwrap();
        assert!(
            *max - *min > Duration::from_secs(4),
            "jittered: {min:?}..{max:?}"
        );
        assert!(reconnect_wait(1) <= Duration::from_millis(250));
    }

    #[test]
    fn a_seed_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("centre.nk");
        std::fs::write(&seed, "SUAAAA\n").unwrap();
        std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_seed(&seed),
            Err(DistrictLinkError::SeedReadable(_))
        ));
        std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_seed(&seed).unwrap(), "SUAAAA");
    }
}
