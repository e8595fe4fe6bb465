//! The device's TLS key and its certificate request, made on the device
//! when it claims: ECDSA P-256 (what Mosquitto and rustls both take), the
//! request named as the device (its MQTT user name at a broker with
//! `use_identity_as_username`). Only the request leaves the device; the key
//! is written next to the configuration, mode 0600, once the centre's
//! answer has been checked.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256};

/// A fresh key and the request for `device`'s certificate.
pub struct TlsRequest {
    /// The private key (PEM): never sent.
    pub key_pem: String,
    /// The PKCS#10 request (PEM) the claim carries.
    pub csr_pem: String,
}

/// Makes a key and a request for the certificate of `device`.
pub fn make(device: &str) -> Result<TlsRequest, rcgen::Error> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec![device.to_owned()])?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, device);
    params.distinguished_name = name;
    let csr = params.serialize_request(&key)?;
    Ok(TlsRequest {
        key_pem: key.serialize_pem(),
        csr_pem: csr.pem()?,
    })
}
