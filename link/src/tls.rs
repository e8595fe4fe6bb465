//! TLS for the MQTT link: the broker is trusted only if its certificate
//! chains to the site's own CA (never the system's roots), and the client
//! shows its own certificate (Mosquitto's `require_certificate`, its name
//! the MQTT user name). A link configured with TLS never falls back to plain
//! TCP: a handshake that fails is a connection that failed, retried with
//! backoff like any other.
//!
//! rustls with the *ring* provider; the private key file must be readable by
//! its owner only (a copied key is a copied device).
//!
//! A Pi without a real-time clock may wake in 1970, before every
//! certificate's start: it could then never connect, so never learn the
//! centre's time ([`crate::site_clock`]). The broker's certificate is
//! therefore checked at this clock or 2026-01-01, whichever is later
//! ([`ClampedClock`]); the site CA dates every certificate it issues from
//! 2026-01-01, so such a Pi connects. Expiry is still checked.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keting_core::clock_judge::EARLIEST_PLAUSIBLE_MS;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
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

/// The site CA's verifier, at a clock no earlier than 2026-01-01.
#[derive(Debug)]
pub struct ClampedClock(Arc<WebPkiServerVerifier>);

impl ClampedClock {
    /// The time a certificate is checked at: `now`, or 2026-01-01 if earlier.
    pub fn at(now: UnixTime) -> UnixTime {
        let floor = std::time::Duration::from_millis(EARLIEST_PLAUSIBLE_MS.unsigned_abs());
        if now.as_secs() < floor.as_secs() {
            UnixTime::since_unix_epoch(floor)
        } else {
            now
        }
    }
}

impl ServerCertVerifier for ClampedClock {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            Self::at(now),
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
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
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsError::Config(e.to_string()))?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ClampedClock(verifier)))
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
    fn a_pi_that_woke_in_1970_still_trusts_the_sites_broker_and_nothing_expired() {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let day = |y: i32, m: u8, d: u8| {
            time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d)
                .unwrap()
                .midnight()
                .assume_utc()
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.not_before = day(2026, 1, 1);
        ca.not_after = day(2046, 1, 1);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let broker = |not_after| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(vec!["broker.local".to_owned()]).unwrap();
            p.not_before = day(2026, 1, 1);
            p.not_after = not_after;
            p.signed_by(&key, &ca_cert, &ca_key).unwrap()
        };
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = ClampedClock(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap(),
        );
        let name = ServerName::try_from("broker.local").unwrap();
        let check = |cert: &rcgen::Certificate, at: i64| {
            verifier.verify_server_cert(
                cert.der(),
                &[],
                &name,
                &[],
                UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.unsigned_abs())),
            )
        };
        let good = broker(day(2036, 1, 1));
        assert!(check(&good, 0).is_ok(), "1970 is read as 2026-01-01");
        assert!(check(&good, 1_796_000_000).is_ok());
        let expired = broker(day(2026, 6, 1));
        assert!(
            check(&expired, 1_796_000_000).is_err(),
            "expiry still counts"
        );
    }

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
