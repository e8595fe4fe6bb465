//! The accept loop every web surface runs, over plain HTTP or TLS, with the
//! limits a server on a centre's LAN needs: at most
//! [`Limits::max_connections`] connections at once (more wait in the
//! kernel's backlog of [`BACKLOG`], holding no descriptor of ours), at most
//! [`Limits::max_per_source`] of them from one address, a request's headers and
//! a TLS handshake each within [`Limits::header_timeout`] (an idle,
//! half-open or slow connection is closed, not kept), and a pause after a
//! failed accept (out of file descriptors fails every accept until one
//! closes) instead of a spin that fills the log.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Connections the kernel keeps waiting to be accepted.
pub const BACKLOG: i32 = 1024;

/// How much one surface's server lets its clients hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// The longest wait for a request's headers (each request's, so an
    /// idle kept-alive connection too) or for a TLS handshake.
    pub header_timeout: Duration,
    /// Connections one address may hold at once (`None`: no cap, for a
    /// surface whose every connection comes from the operator's proxy);
    /// beyond it a connection is closed at once, so one machine holding
    /// idle connections cannot keep everyone else out.
    pub max_per_source: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            max_per_source: Some(32),
        }
    }
}

/// Serves `router` on `listener` until `shutdown`, over TLS with `tls`,
/// within `limits`.
pub async fn serve(
    listener: std::net::TcpListener,
    router: axum::Router,
    tls: Option<Arc<ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The standard library listens with a backlog of 128: 200 phones
    // connecting at once overflow it, and a dropped SYN waits a second to
    // be sent again. The kernel caps this at net.core.somaxconn.
    if let Err(e) = socket2::SockRef::from(&listener).listen(BACKLOG) {
        tracing::warn!("web: cannot widen the listen backlog: {e}");
    }
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let acceptor = tls.map(TlsAcceptor::from);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let sources = Sources::default();
    let mut last_refusal_logged: Option<std::time::Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => return Ok(()),
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return Ok(()),
            },
        };
        let (stream, peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("web: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let held = match limits.max_per_source {
            None => None,
            Some(max) => match sources.enter(peer.ip(), max) {
                Some(held) => Some(held),
                None => {
                    // Closed at once; said at most once a second.
                    if last_refusal_logged.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(peer = %peer.ip(), "web: more than {max} connections from one address; closing the new ones");
                        last_refusal_logged = Some(std::time::Instant::now());
                    }
                    continue;
                }
            },
        };
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _held = held;
            match acceptor {
                None => connection(stream, router, limits, peer).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls)) => connection(tls, router, limits, peer).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "web: TLS handshake: {e}"),
                        Err(_) => tracing::debug!(%peer, "web: TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// The connections each address holds.
#[derive(Clone, Default)]
struct Sources(Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>);

/// One connection of an address, counted while it lives.
struct Held {
    sources: Sources,
    ip: std::net::IpAddr,
}

impl Sources {
    /// Counts a new connection from `ip`, if it holds fewer than `max`.
    fn enter(&self, ip: std::net::IpAddr, max: usize) -> Option<Held> {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Held {
            sources: self.clone(),
            ip,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut m = self
            .sources
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

async fn connection<I>(io: I, router: axum::Router, limits: Limits, peer: SocketAddr)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The peer, for per-source limits (`ConnectInfo<SocketAddr>`).
    let router = router.layer(axum::Extension(axum::extract::ConnectInfo(peer)));
    let service = hyper_util::service::TowerToHyperService::new(router);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    if let Err(e) = builder
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await
    {
        tracing::debug!(%peer, "web: connection: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn started(limits: Limits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, router, None, limits, async move {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    async fn get(addr: SocketAddr) -> String {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        out
    }

    /// A connection from `local` (a loopback address of this machine).
    async fn connect_from(local: &str, addr: SocketAddr) -> tokio::net::TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
        socket.connect(addr).await.unwrap()
    }

    #[tokio::test]
    async fn one_address_holding_its_share_of_idle_connections_keeps_nobody_else_out() {
        let (addr, _stop) = started(Limits {
            max_connections: 64,
            header_timeout: Duration::from_secs(30),
            max_per_source: Some(4),
        })
        .await;
        // 127.0.0.2 holds four idle connections; its fifth is closed at once.
        let mut idle = Vec::new();
        for _ in 0..4 {
            idle.push(connect_from("127.0.0.2", addr).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut fifth = connect_from("127.0.0.2", addr).await;
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(2), fifth.read(&mut buf))
            .await
            .expect("the fifth is closed at once, not held")
            .unwrap_or(0);
        assert_eq!(n, 0);
        // Another address is served meanwhile.
        let answer = tokio::time::timeout(Duration::from_secs(2), get(addr))
            .await
            .expect("served at once");
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{answer}"
        );
        // An idle connection let go makes room for the address again.
        drop(idle.pop());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut again = connect_from("127.0.0.2", addr).await;
        again
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        again.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_and_others_are_served() {
        let (addr, _stop) = started(Limits {
            max_connections: 2,
            header_timeout: Duration::from_millis(300),
            max_per_source: None,
        })
        .await;
        // Two silent connections take every place; each is closed by the
        // header timeout (EOF, not a hang), and a real request is then served.
        let mut silent = Vec::new();
        for _ in 0..2 {
            silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        let waiting = tokio::spawn(get(addr));
        for mut s in silent {
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                .await
                .expect("closed by the server, not left open")
                .unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            assert!(n == 0 || head.starts_with("HTTP/1.1 408"), "{head}");
        }
        let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("served once a place was free")
            .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{answer}"
        );
    }
}
