//! Requests a surface makes to the outside: an HTTP GET (the residents'
//! site: WeChat's token endpoint) or a JSON POST (the centre's alerts: a
//! WeCom or DingTalk group robot, a webhook), over TLS checked against the
//! system's certificate authorities (or a given file), or plain `http://`
//! for a local stand-in. Bounded: 10 s in all, 64 KiB of answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The longest wait for a whole answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read.
pub const MAX_BYTES: usize = 64 * 1024;
/// Debian's certificate authorities (`ca-certificates`).
pub const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Why a request got no answer.
#[derive(Debug, Error)]
pub enum OutboundError {
    /// Not an `http://` or `https://` address.
    #[error("not an http(s) address: {0}")]
    Address(String),
    /// The certificate authorities could not be read.
    #[error("cannot read the certificate authorities {path}: {why}")]
    Authorities {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// Connecting, TLS or the exchange failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No answer within [`TIMEOUT`].
    #[error("no answer within {TIMEOUT:?}")]
    Timeout,
    /// The answer is not HTTP, or too large.
    #[error("a bad answer: {0}")]
    Answer(&'static str),
}

/// A client with its trusted authorities.
#[derive(Clone)]
pub struct Client {
    tls: Arc<rustls::ClientConfig>,
}

impl Client {
    /// A client trusting the authorities in `ca_file` (PEM).
    pub fn new(ca_file: &Path) -> Result<Self, OutboundError> {
        let bad = |why: String| OutboundError::Authorities {
            path: ca_file.to_owned(),
            why,
        };
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(e.to_string()))? {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self { tls: Arc::new(tls) })
    }

    /// A client trusting no authority: plain `http://` only (every
    /// `https://` request fails, saying so).
    pub fn without_authorities() -> Self {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        Self { tls: Arc::new(tls) }
    }

    /// Its TLS configuration (the authorities it trusts), for a mail server.
    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// GETs `url`: (status, body).
    pub async fn get(&self, url: &str) -> Result<(u16, String), OutboundError> {
        tokio::time::timeout(TIMEOUT, self.exchange(url, None))
            .await
            .map_err(|_| OutboundError::Timeout)?
    }

    /// POSTs `body` (JSON) to `url` with `headers`: (status, body).
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<(u16, String), OutboundError> {
        if headers
            .iter()
            .any(|(n, v)| format!("{n}{v}").contains(['\r', '\n']))
        {
            return Err(OutboundError::Address(url.to_owned()));
        }
        tokio::time::timeout(TIMEOUT, self.exchange(url, Some((headers, body))))
            .await
            .map_err(|_| OutboundError::Timeout)?
    }

    async fn exchange(
        &self,
        url: &str,
        post: Option<(&[(&str, &str)], &str)>,
    ) -> Result<(u16, String), OutboundError> {
        let (tls, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => return Err(OutboundError::Address(url.to_owned())),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| OutboundError::Address(url.to_owned()))?,
            ),
            _ => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() || path.contains([' ', '\r', '\n']) {
            return Err(OutboundError::Address(url.to_owned()));
        }
        let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port)).await?;
        let request = match post {
            None => format!(
                "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
            ),
            Some((headers, body)) => {
                let extra: String = headers
                    .iter()
                    .map(|(n, v)| format!("{n}: {v}\r\n"))
                    .collect();
                format!(
                    "POST {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\n\
                     Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n{extra}\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                )
            }
        };
        if tls {
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|_| OutboundError::Address(url.to_owned()))?;
            let stream = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, stream)
                .await?;
            read_answer(stream, &request).await
        } else {
            read_answer(stream, &request).await
        }
    }
}

async fn read_answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    request: &str,
) -> Result<(u16, String), OutboundError> {
    s.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if raw.len() > MAX_BYTES {
            return Err(OutboundError::Answer("too large"));
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or(OutboundError::Answer("no header end"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(OutboundError::Answer("no status"))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or(OutboundError::Answer("bad chunks"))?
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

/// A chunked body's content.
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_joined() {
        assert_eq!(
            dechunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n").as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(dechunk("zz\r\n"), None);
    }
}
