//! TLS for the MQTT link: the broker is trusted only if its certificate
//! chains to the site's own CA (never the system's roots), and the client
//! shows its own certificate (Mosquitto's `require_certificate`, its name
//! the MQTT user name). A link configured with TLS never falls back to plain
//! TCP: a handshake that fails is a connection that failed, retried with
//! backoff like any other.
//!
//! rustls with the *ring* provider; the private key file must be readable by
//! its owner only (a copied key is a copied device).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

/// The files a TLS link reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The site CA's certificate (PEM): the only root trusted.
    pub ca: PathBuf,
    /// This client's certificate (PEM), signed by the site CA.
    pub cert: PathBuf,
    /// Its private key (PEM, mode 0600).
    pub key: PathBuf,
}

/// Why TLS cannot be set up.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A file is missing or not what it should be.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the combination (a key that does not match the
    /// certificate, say).
    #[error("TLS: {0}")]
    Config(String),
}

/// A ready client configuration, cheap to clone.
#[derive(Clone)]
pub struct LinkTls(pub(crate) Arc<rustls::ClientConfig>);

impl std::fmt::Debug for LinkTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkTls(site CA, client certificate)")
    }
}

fn file_err(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no certificate in the file"));
    }
    Ok(certs)
}

impl LinkTls {
    /// The rumqttc transport that speaks this configuration.
    pub fn transport(&self) -> rumqttc::Transport {
        rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(self.0.clone()))
    }

    /// Reads `files`: the CA as the only root, the client's certificate and key.
    pub fn from_files(files: &TlsFiles) -> Result<Self, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        for ca in certificates(&files.ca)? {
            roots
                .add(ca)
                .map_err(|e| file_err(&files.ca, format!("not a CA certificate: {e}")))?;
        }
        let chain = certificates(&files.cert)?;
        let mode = std::fs::metadata(&files.key)
            .map_err(|e| file_err(&files.key, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(file_err(
                &files.key,
                format!(
                    "readable by others (mode {:o}): run `chmod 600 {}`",
                    mode & 0o777,
                    files.key.display()
                ),
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| file_err(&files.key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        Ok(Self(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_malformed_or_missing_file_is_one_clear_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            p
        };
        let garbage = write("ca.pem", "not a certificate\n", 0o644);
        let broken = write(
            "cert.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n",
            0o644,
        );
        let key = write("key.pem", "-----BEGIN PRIVATE KEY-----\n", 0o600);
        let files = |ca: &Path, cert: &Path, key: &Path| TlsFiles {
            ca: ca.to_owned(),
            cert: cert.to_owned(),
            key: key.to_owned(),
        };
        let said = |f: TlsFiles| LinkTls::from_files(&f).unwrap_err().to_string();
        let e = said(files(&garbage, &broken, &key));
        assert!(e.contains("ca.pem") && e.contains("no certificate"), "{e}");
        let missing = dir.path().join("nowhere.pem");
        let e = said(files(&missing, &broken, &key));
        assert!(e.contains("nowhere.pem"), "{e}");
        // A PEM block whose base64 is broken.
        let e = said(files(&broken, &broken, &key));
        assert!(e.starts_with(&broken.display().to_string()), "{e}");
    }
}
