//! A web surface over HTTPS (the staff dashboard's `--https`, the
//! district's): the certificate chain and key it serves, read once at start
//! (TLS 1.2 and 1.3, the ring provider, no client certificates), and the
//! accept loop that hands each TLS connection to the surface's router. For
//! a centre the chain is by default the imported site's broker certificate
//! and the site CA (the centre is the broker's machine, so the broker's
//! names are the centre's), which an office browser trusts once the site's
//! `ca.pem` is installed.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The files the dashboard's TLS reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (PEM), the server's certificate first.
    pub chain: Vec<PathBuf>,
    /// Its private key (PEM).
    pub key: PathBuf,
}

impl TlsFiles {
    /// The imported site's broker certificate, the site CA after it, and
    /// the broker's key; `None` if the site has no CA.
    pub fn of_site(site: &Path) -> Option<Self> {
        let files = Self {
            chain: vec![site.join("broker.pem"), site.join("ca.pem")],
            key: site.join("broker.key"),
        };
        let present = files.chain.iter().all(|p| p.is_file()) && files.key.is_file();
        present.then_some(files)
    }
}

/// Why the dashboard's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    /// A file is missing or not PEM.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The key does not go with the certificate, or rustls refused them.
    #[error("the dashboard's certificate and key: {0}")]
    Config(String),
}

/// The TLS configuration of `files`.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, HttpsError> {
    let file_err = |path: &Path, e: &dyn std::fmt::Display| HttpsError::File {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut chain: Vec<CertificateDer<'static>> = Vec::new();
    for path in &files.chain {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| file_err(path, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| file_err(path, &e))?;
        if certs.is_empty() {
            return Err(file_err(path, &"no certificate in it"));
        }
        chain.extend(certs);
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| file_err(&files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| HttpsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` over TLS on `listener` until `shutdown`, within the
/// web kit's default limits ([`crate::serve`]).
pub async fn serve_router(
    listener: std::net::TcpListener,
    router: axum::Router,
    config: Arc<ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::serve::serve(
        listener,
        router,
        Some(config),
        crate::serve::Limits::default(),
        shutdown,
    )
    .await
}
