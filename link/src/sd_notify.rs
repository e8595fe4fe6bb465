//! systemd's service notifications (`sd_notify(3)`), without libsystemd: a
//! datagram to `$NOTIFY_SOCKET` saying `READY=1` once the service can do
//! its work, `WATCHDOG=1` while its loop is alive, `STOPPING=1` on the way
//! out. Outside systemd (no `$NOTIFY_SOCKET`) every call does nothing.
//!
//! The watchdog is fed from the loop that does the work (the centre's
//! controller, an agent's run loop), never from a timer of its own, so a
//! loop that hangs stops the pings and systemd restarts the service.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// Sends `state` (e.g. `READY=1`) to systemd, if it is listening; whether
/// it was sent.
pub fn notify(state: &str) -> std::io::Result<bool> {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(path) => notify_to(&path, state).map(|()| true),
        None => Ok(false),
    }
}

/// Sends `state` to the notification socket at `path` (`@name`: an
/// abstract socket).
pub fn notify_to(path: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket (systemd's usual choice).
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.send_to_addr(state.as_bytes(), &addr)?;
    } else {
        socket.send_to(state.as_bytes(), path)?;
    }
    Ok(())
}

/// [`notify`], with a failure logged rather than returned: a service must
/// not stop because its manager could not be told.
pub fn tell(state: &str) {
    if let Err(e) = notify(state) {
        tracing::warn!("cannot notify systemd ({state}): {e}");
    }
}

/// How often systemd wants a `WATCHDOG=1` (`$WATCHDOG_USEC`, for this
/// process when `$WATCHDOG_PID` names one): half its timeout, so one late
/// ping is not a restart.
pub fn watchdog_every() -> Option<Duration> {
    watchdog_every_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

/// [`watchdog_every`] from the variables' values and this process's id.
pub fn watchdog_every_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.parse().ok()?;
    if let Some(pid) = pid
        && pid.parse::<u32>().ok() != Some(me)
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Feeds systemd's watchdog from a loop: [`Watchdog::feed`] on every turn
/// sends `WATCHDOG=1` when one is due; [`Watchdog::next`] says when the loop
/// must turn at the latest.
#[derive(Debug)]
pub struct Watchdog {
    every: Option<Duration>,
    next: Instant,
}

impl Watchdog {
    /// The watchdog systemd asked for, if any.
    pub fn from_env() -> Self {
        Self::every(watchdog_every())
    }

    /// A watchdog fed every `every` (`None`: never).
    pub fn every(every: Option<Duration>) -> Self {
        Self {
            every,
            next: Instant::now(),
        }
    }

    /// Call on every turn of the loop: pings when a ping is due.
    pub fn feed(&mut self) {
        let Some(every) = self.every else { return };
        let now = Instant::now();
        if now >= self.next {
            tell("WATCHDOG=1");
            self.next = now + every;
        }
    }

    /// When the loop must turn next at the latest, if a watchdog is on.
    pub fn next(&self) -> Option<Instant> {
        self.every.map(|_| self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reaches_the_socket_by_path_and_by_abstract_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        notify_to(path.as_os_str(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        use std::os::linux::net::SocketAddrExt;
        let name = format!("keting-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abstract_listener = UnixDatagram::bind_addr(&addr).unwrap();
        abstract_listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        notify_to(std::ffi::OsStr::new(&format!("@{name}")), "WATCHDOG=1").unwrap();
        let n = abstract_listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }

    #[test]
    fn the_watchdog_is_half_the_timeout_and_only_for_the_process_named() {
        assert_eq!(
            watchdog_every_from(Some("30000000"), None, 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_every_from(Some("30000000"), Some("7"), 7),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_every_from(Some("30000000"), Some("8"), 7),
            None,
            "another process's"
        );
        assert_eq!(watchdog_every_from(None, None, 7), None);
        assert_eq!(watchdog_every_from(Some("0"), None, 7), None);
        let mut off = Watchdog::every(None);
        off.feed();
        assert_eq!(off.next(), None);
    }
}
