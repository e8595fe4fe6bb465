//! TLS for a device that has no site CA yet (a claim): the broker is
//! trusted only if the chain it sends holds a CA certificate whose SHA-256
//! is the fingerprint printed on the label, and the broker's certificate
//! verifies against that CA for the address dialled, as with a CA on disk.
//! The claim's code (its login password) therefore never reaches a broker
//! of another site, nor anyone in between.
//!
//! Mosquitto sends the chain in its `certfile` (`broker-chain.pem`: the
//! broker's certificate, then the CA's), which `keting-provision broker
//! config` writes. No client certificate: the device has none yet.

use std::sync::Arc;

use keting_core::claim::fingerprint;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use crate::tls::{LinkTls, TlsError};

/// Trusts the CA with a given fingerprint, taken from the broker's chain.
#[derive(Debug)]
struct PinnedCa {
    fingerprint: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let ca = intermediates
            .iter()
            .find(|c| fingerprint(c.as_ref()) == self.fingerprint)
            .ok_or(Error::InvalidCertificate(CertificateError::UnknownIssuer))?;
        let mut roots = RootCertStore::empty();
        roots
            .add(ca.clone().into_owned())
            .map_err(|_| Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let others: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .filter(|c| c.as_ref() != ca.as_ref())
            .cloned()
            .collect();
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map_err(|e| Error::General(e.to_string()))?
            .verify_server_cert(end_entity, &others, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client configuration with no certificate of its own that trusts only
/// the CA whose certificate's SHA-256 (hex) is `ca_fingerprint`.
pub fn pinned_ca(ca_fingerprint: &str) -> Result<LinkTls, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedCa {
        fingerprint: ca_fingerprint.to_ascii_lowercase(),
        provider: provider.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(LinkTls(Arc::new(config)))
}

/// The fingerprint of the first certificate in a PEM text (what a label
/// carries for the site's `ca.pem`).
pub fn pem_fingerprint(pem: &str) -> Result<String, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| TlsError::File {
        path: "ca.pem".into(),
        message: e.to_string(),
    })?;
    Ok(fingerprint(der.as_ref()))
}
