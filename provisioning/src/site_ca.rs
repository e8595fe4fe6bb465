//! The site's own certificate authority: every TLS link of a site is checked
//! against it, never against the system's roots.
//!
//! `site init` makes the CA (`ca.pem`; `ca.key`, 0600, stays in the site
//! directory), the broker's certificate for the addresses it serves
//! (`broker.pem`, `broker.key`) and the kiosk's client certificate
//! (`kiosk.pem`, `kiosk.key`; its name is its MQTT user name). `device add`
//! issues each device's client certificate (`devices/<name>/device.pem`,
//! `device.key`), named as the device so Mosquitto's per-device ACL applies
//! (`use_identity_as_username`). `device retire` and `replace` put the old
//! certificate's serial on the CRL (`ca.crl`), which Mosquitto reads on a
//! reload.
//!
//! ECDSA P-256 throughout (what every Mosquitto/OpenSSL and rustls accept);
//! the CA for 20 years, the others for 10, the CRL renewed on every change
//! and valid for 10 years (an expired CRL would lock every device out).

use std::path::Path;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, CertificateRevocationListParams,
    CertificateSigningRequestParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, RevocationReason,
    RevokedCertParams, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::secrets::{random_bytes, write_atomic};
use crate::site_dir::SiteError;

/// The CA's certificate in the site directory.
pub const CA_CERT: &str = "ca.pem";
/// The CA's private key (0600).
pub const CA_KEY: &str = "ca.key";
/// The revocation list Mosquitto checks.
pub const CRL: &str = "ca.crl";
/// The serials revoked so far, one `serial-hex unix-seconds` a line.
pub const REVOKED: &str = "revoked.txt";

/// When a certificate the CA issues is valid from: 2026-01-01 (or a day
/// back, for a clock before that). A Pi that wakes in 1970 checks its
/// broker at 2026-01-01 (`keting_link::tls::ClampedClock`), so it still
/// connects and learns the centre's time.
fn valid_from(now: OffsetDateTime) -> OffsetDateTime {
    let floor =
        OffsetDateTime::from_unix_timestamp(keting_core::clock_judge::EARLIEST_PLAUSIBLE_MS / 1000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    floor.min(now - Duration::days(1))
}

fn tls_err(e: impl std::fmt::Display) -> SiteError {
    SiteError::Invalid(format!("certificate: {e}"))
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> SiteError {
    SiteError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A certificate and its key, as PEM, and its serial (hex).
pub struct Issued {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
    /// Its serial number, hex.
    pub serial: String,
}

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// The broker's: it proves the broker to its clients.
    Server,
    /// A client's (the kiosk, a device): its name is its MQTT user name.
    Client,
}

/// The site CA, ready to sign.
pub struct SiteCa {
    cert: Certificate,
    key: KeyPair,
}

fn serial() -> Result<SerialNumber, SiteError> {
    let mut bytes = random_bytes(16).map_err(tls_err)?;
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // no leading zero byte
    Ok(SerialNumber::from_slice(&bytes))
}

/// The text of a name's value, whichever string type it was written in.
fn s_of(value: Option<&DnValue>) -> Option<String> {
    match value? {
        DnValue::Utf8String(s) => Some(s.clone()),
        DnValue::PrintableString(s) => Some(s.as_str().to_owned()),
        DnValue::Ia5String(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SiteCa {
    /// Makes a new CA for `site` (`name` for people) and writes `ca.pem`
    /// and `ca.key` (0600) into `dir`.
    pub fn create(dir: &Path, site: &str, name: &str) -> Result<Self, SiteError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(tls_err)?;
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("Keting site CA {site}"));
        dn.push(DnType::OrganizationName, name);
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        p.not_before = valid_from(now);
        p.not_after = now + Duration::days(20 * 365);
        p.serial_number = Some(serial()?);
        let cert = p.self_signed(&key).map_err(tls_err)?;
        let ca_path = dir.join(CA_CERT);
        write_atomic(&ca_path, cert.pem().as_bytes(), 0o644).map_err(|e| file_err(&ca_path, e))?;
        let key_path = dir.join(CA_KEY);
        write_atomic(&key_path, key.serialize_pem().as_bytes(), 0o600)
            .map_err(|e| file_err(&key_path, e))?;
        Ok(Self { cert, key })
    }

    /// The CA in `dir` (its `ca.pem` and `ca.key`).
    pub fn open(dir: &Path) -> Result<Self, SiteError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| file_err(&path, e))
        };
        let key = KeyPair::from_pem(&read(CA_KEY)?).map_err(tls_err)?;
        let params = CertificateParams::from_ca_cert_pem(&read(CA_CERT)?).map_err(tls_err)?;
        // The same name and key as the CA certificate: what it signs chains to it.
        let cert = params.self_signed(&key).map_err(tls_err)?;
        Ok(Self { cert, key })
    }

    /// Issues a certificate named `name` for `usage`, valid for the
    /// addresses `sans` (host names or IP addresses; a client's is its name).
    pub fn issue(&self, name: &str, sans: &[String], usage: Usage) -> Result<Issued, SiteError> {
        let now = OffsetDateTime::now_utc();
        self.issue_valid(
            name,
            sans,
            usage,
            now - Duration::days(1),
            now + Duration::days(10 * 365),
        )
    }

    /// As [`Self::issue`], valid from `not_before` to `not_after` (a test's
    /// expired certificate).
    pub fn issue_valid(
        &self,
        name: &str,
        sans: &[String],
        usage: Usage,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Issued, SiteError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(tls_err)?;
        let mut p = CertificateParams::new(sans.to_vec()).map_err(tls_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        p.distinguished_name = dn;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![match usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        p.not_before = not_before;
        p.not_after = not_after;
        let serial = serial()?;
        let serial_hex = hex(serial.as_ref());
        p.serial_number = Some(serial);
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(&key, &self.cert, &self.key).map_err(tls_err)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial: serial_hex,
        })
    }

    /// Signs a device's certificate request (PEM): a client certificate
    /// named `name`, for the key the device made. Refused: a request that
    /// does not parse or whose signature is wrong, one for another name
    /// (subject or alternative names), one for a key that is not ECDSA
    /// P-256. Returns the certificate (PEM) and its serial (hex).
    pub fn sign_request(&self, csr_pem: &str, name: &str) -> Result<(String, String), SiteError> {
        let mut request = checked_request(csr_pem, name)?;
        let now = OffsetDateTime::now_utc();
        let p = &mut request.params;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        p.distinguished_name = dn;
        p.subject_alt_names = CertificateParams::new(vec![name.to_owned()])
            .map_err(tls_err)?
            .subject_alt_names;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = valid_from(now);
        p.not_after = now + Duration::days(10 * 365);
        let serial = serial()?;
        let serial_hex = hex(serial.as_ref());
        p.serial_number = Some(serial);
        p.use_authority_key_identifier_extension = true;
        let cert = request.signed_by(&self.cert, &self.key).map_err(tls_err)?;
        Ok((cert.pem(), serial_hex))
    }

    /// Writes `ca.crl` in `dir` listing every serial in `revoked.txt`.
    pub fn write_crl(&self, dir: &Path) -> Result<usize, SiteError> {
        let list = std::fs::read_to_string(dir.join(REVOKED)).unwrap_or_default();
        let mut revoked = Vec::new();
        for line in list.lines() {
            let mut parts = line.split_whitespace();
            let (Some(serial), Some(at)) = (parts.next(), parts.next()) else {
                continue;
            };
            let bytes: Vec<u8> = (0..serial.len() / 2)
                .filter_map(|i| u8::from_str_radix(serial.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
            let at = at
                .parse::<i64>()
                .ok()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .unwrap_or_else(OffsetDateTime::now_utc);
            revoked.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&bytes),
                revocation_time: at,
                reason_code: Some(RevocationReason::Superseded),
                invalidity_date: None,
            });
        }
        let n = revoked.len();
        let now = OffsetDateTime::now_utc();
        let crl = CertificateRevocationListParams {
            this_update: now - Duration::minutes(5),
            next_update: now + Duration::days(10 * 365),
            crl_number: SerialNumber::from(u64::try_from(now.unix_timestamp()).unwrap_or(1)),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&self.cert, &self.key)
        .map_err(tls_err)?;
        let path = dir.join(CRL);
        let pem = crl.pem().map_err(tls_err)?;
        write_atomic(&path, pem.as_bytes(), 0o644).map_err(|e| file_err(&path, e))?;
        Ok(n)
    }

    /// Puts `serial` (hex) on the revocation list and rewrites `ca.crl`.
    pub fn revoke(&self, dir: &Path, serial: &str) -> Result<(), SiteError> {
        let path = dir.join(REVOKED);
        let mut list = std::fs::read_to_string(&path).unwrap_or_default();
        if !list
            .lines()
            .any(|l| l.split_whitespace().next() == Some(serial))
        {
            list += &format!("{serial} {}\n", OffsetDateTime::now_utc().unix_timestamp());
            write_atomic(&path, list.as_bytes(), 0o644).map_err(|e| file_err(&path, e))?;
        }
        self.write_crl(dir).map(|_| ())
    }
}

/// Checks a device's certificate request (PEM) for `name`: it parses, its
/// signature is its key's, it names `name` and nothing else (subject and
/// alternative names), and its key is ECDSA P-256.
pub fn check_request(csr_pem: &str, name: &str) -> Result<(), SiteError> {
    checked_request(csr_pem, name).map(|_| ())
}

fn checked_request(
    csr_pem: &str,
    name: &str,
) -> Result<CertificateSigningRequestParams, SiteError> {
    let bad = |why: &str| SiteError::Invalid(format!("the certificate request {why}"));
    if csr_pem.len() > 8 * 1024 {
        return Err(bad("is too long"));
    }
    let request = CertificateSigningRequestParams::from_pem(csr_pem)
        .map_err(|_| bad("is not a valid PKCS#10 request with its own signature"))?;
    if request.public_key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
        return Err(bad("is not for an ECDSA P-256 key"));
    }
    let cn = s_of(request.params.distinguished_name.get(&DnType::CommonName)).unwrap_or_default();
    let names_ok = request
        .params
        .subject_alt_names
        .iter()
        .all(|san| matches!(san, SanType::DnsName(n) if n.as_str() == name));
    if cn != name || !names_ok {
        return Err(bad(&format!("is for another name than {name:?}")));
    }
    Ok(request)
}

/// Writes an issued certificate as `<stem>.pem` and `<stem>.key` (0600) in
/// `dir`, and its serial as `<stem>.serial`.
pub fn write_issued(dir: &Path, stem: &str, issued: &Issued) -> Result<(), SiteError> {
    for (name, bytes, mode) in [
        (format!("{stem}.pem"), issued.cert_pem.as_bytes(), 0o644),
        (format!("{stem}.key"), issued.key_pem.as_bytes(), 0o600),
        (format!("{stem}.serial"), issued.serial.as_bytes(), 0o644),
    ] {
        let path = dir.join(name);
        write_atomic(&path, bytes, mode).map_err(|e| file_err(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::PKCS_ED25519;

    fn request(name: &str, sans: &[&str], alg: &'static rcgen::SignatureAlgorithm) -> String {
        let key = KeyPair::generate_for(alg).unwrap();
        let mut p =
            CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        p.distinguished_name = dn;
        p.serialize_request(&key).unwrap().pem().unwrap()
    }

    #[test]
    fn the_ca_signs_a_devices_own_request_for_its_name_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let ca = SiteCa::create(dir.path(), "demo", "中心").unwrap();
        let good = request("gym-door", &["gym-door"], &PKCS_ECDSA_P256_SHA256);
        let (pem, serial) = ca.sign_request(&good, "gym-door").unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        assert_eq!(serial.len(), 32);
        let refused = |csr: &str, says: &str| {
            let e = ca.sign_request(csr, "gym-door").unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        };
        refused(
            &request("side-door", &["side-door"], &PKCS_ECDSA_P256_SHA256),
            "another name",
        );
        refused(
            &request("gym-door", &["gym-door", "kiosk"], &PKCS_ECDSA_P256_SHA256),
            "another name",
        );
        refused(
            &request("gym-door", &["gym-door"], &PKCS_ED25519),
            "ECDSA P-256",
        );
        refused("not a request", "not a valid PKCS#10");
        // A request whose signature does not match its contents.
        let body: String = good.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut der =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap();
        let n = der.len();
        der[n - 1] ^= 1;
        let forged = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der)
        );
        refused(&forged, "not a valid PKCS#10");
    }
}
