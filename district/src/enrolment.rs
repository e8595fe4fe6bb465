//! Who may speak to the district's cluster, and what each may say: an NKey
//! per centre and one for the ingest, and the `authorization` block the
//! three nats-server configurations include.
//!
//! - A centre may publish on its own events subject only, and hear replies
//!   (JetStream's acknowledgements) under its own inbox prefix
//!   (`_INBOX_<centre>.>`): it can neither pose as another centre nor read
//!   another's acknowledgements. The district refuses a body naming another
//!   centre anyway (`keting_core::district::decode`).
//! - A centre may pull its own downlink consumer (`MSG.NEXT`) and
//!   acknowledge what it pulled, nothing else of the JetStream API.
//! - The district's service may use the JetStream API, acknowledge the
//!   events stream's messages and send on the downlink subjects; it
//!   publishes no events.
//! - A seed is written 0600 and never printed; the configuration holds
//!   only public keys.

use std::path::{Path, PathBuf};

use keting_core::district::{downlink_consumer, downlink_stream, events_subject, valid_name};

use crate::stream::stream_name;

/// A key pair's seed and public key.
pub struct NewKey {
    /// The seed (`SU...`): the secret.
    pub seed: String,
    /// The public key (`U...`): what the server is told.
    pub public: String,
}

/// Why enrolment failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// A name not of the wire's alphabet.
    #[error("{0:?}: a centre's name is 1 to 32 of a-z, 0-9 and -")]
    BadName(String),
    /// A file.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key generator.
    #[error("cannot make an NKey: {0}")]
    Key(String),
    /// The centre was enrolled before: its key is not replaced silently.
    #[error(
        "{0} exists: this centre is enrolled already (remove its directory to issue a new key)"
    )]
    Exists(PathBuf),
}

/// A new user key pair.
pub fn new_user_key() -> Result<NewKey, EnrolError> {
    let pair = nkeys::KeyPair::new_user();
    Ok(NewKey {
        seed: pair.seed().map_err(|e| EnrolError::Key(e.to_string()))?,
        public: pair.public_key(),
    })
}

/// The public key of a seed file's key.
pub fn public_of_seed(seed: &str) -> Result<String, EnrolError> {
    nkeys::KeyPair::from_seed(seed.trim())
        .map(|k| k.public_key())
        .map_err(|e| EnrolError::Key(e.to_string()))
}

/// The nats-server `authorization` block for `district`: the ingest's key
/// and each centre's with its own subject.
pub fn authorization(district: &str, ingest: &str, centres: &[(String, String)]) -> String {
    let stream = stream_name(district);
    let down = downlink_stream(district);
    let mut users = vec![format!(
        "    {{ nkey: {ingest}, permissions: {{ publish: {{ allow: [\"$JS.API.>\", \"$JS.ACK.{stream}.>\", \"keting.{district}.*.downlink\"] }}, subscribe: {{ allow: [\"_INBOX.>\"] }} }} }}"
    )];
    for (centre, public) in centres {
        let consumer = downlink_consumer(centre);
        users.push(format!(
            "    {{ nkey: {public}, permissions: {{ publish: {{ allow: [\"{}\", \"$JS.API.CONSUMER.MSG.NEXT.{down}.{consumer}\", \"$JS.ACK.{down}.{consumer}.>\"] }}, subscribe: {{ allow: [\"_INBOX_{centre}.>\"] }} }} }}",
            events_subject(district, centre)
        ));
    }
    format!(
        "# Written by `keting-district enrol`: the district's users (public keys only).\n\
         authorization {{\n  users: [\n{}\n  ]\n}}\n",
        users.join(",\n")
    )
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), EnrolError> {
    keting_link::atomic_file::write(path, text.as_bytes(), mode).map_err(|source| {
        EnrolError::Write {
            path: path.to_owned(),
            source,
        }
    })
}

/// Enrols `centre` under `out`: `out/<centre>/<centre>.nk` (the seed, 0600)
/// and `out/<centre>/district.toml` naming `servers` and, if given, the
/// district's CA (copied beside it). Returns the centre's public key.
pub fn enrol_centre(
    out: &Path,
    district: &str,
    centre: &str,
    servers: &[String],
    ca: Option<&Path>,
) -> Result<String, EnrolError> {
    if !valid_name(centre) {
        return Err(EnrolError::BadName(centre.to_owned()));
    }
    let dir = out.join(centre);
    let seed_file = dir.join(format!("{centre}.nk"));
    if seed_file.exists() {
        return Err(EnrolError::Exists(seed_file));
    }
    std::fs::create_dir_all(&dir).map_err(|source| EnrolError::Write {
        path: dir.clone(),
        source,
    })?;
    let key = new_user_key()?;
    write(&seed_file, &format!("{}\n", key.seed), 0o600)?;
    let mut toml = format!(
        "# This centre's district: copy this directory to the centre's data directory\n\
         # (or name the file with keting-centre --district FILE).\n\
         district = \"{district}\"\ncentre = \"{centre}\"\nservers = [{}]\nnkey_seed = \"{centre}.nk\"\n",
        servers
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(ca) = ca {
        let text = std::fs::read_to_string(ca).map_err(|source| EnrolError::Write {
            path: ca.to_owned(),
            source,
        })?;
        write(&dir.join("district-ca.pem"), &text, 0o644)?;
        toml += "ca = \"district-ca.pem\"\n";
    }
    write(&dir.join("district.toml"), &toml, 0o644)?;
    Ok(key.public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_centre_may_publish_only_under_its_own_subject() {
        let text = authorization(
            "futian",
            "UINGEST",
            &[
                ("futian-01".into(), "UONE".into()),
                ("futian-02".into(), "UTWO".into()),
            ],
        );
        let one = text.lines().find(|l| l.contains("UONE")).unwrap();
        assert!(one.contains("\"keting.futian.futian-01.events\""), "{one}");
        assert!(one.contains("_INBOX_futian-01.>"), "{one}");
        assert!(!one.contains("futian-02"), "{one}");
        assert!(
            one.contains("\"$JS.API.CONSUMER.MSG.NEXT.KETING_FUTIAN_DOWNLINK.centre-futian-01\"")
                && !one.contains("$JS.API.>"),
            "its own consumer's next messages, no other API: {one}"
        );
        let ingest = text.lines().find(|l| l.contains("UINGEST")).unwrap();
        assert!(ingest.contains("$JS.ACK.KETING_FUTIAN.>"), "{ingest}");
    }

    #[test]
    fn an_enrolled_centre_gets_its_seed_privately_and_a_district_file() {
        use std::os::unix::fs::PermissionsExt;
        let out = tempfile::tempdir().unwrap();
        let servers = vec!["tls://10.0.0.1:4222".to_owned()];
        let public = enrol_centre(out.path(), "futian", "futian-01", &servers, None).unwrap();
        assert!(public.starts_with('U'));
        let seed_file = out.path().join("futian-01/futian-01.nk");
        let mode = std::fs::metadata(&seed_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let seed = std::fs::read_to_string(&seed_file).unwrap();
        assert_eq!(public_of_seed(&seed).unwrap(), public);
        let toml = std::fs::read_to_string(out.path().join("futian-01/district.toml")).unwrap();
        assert!(toml.contains("centre = \"futian-01\"") && !toml.contains(seed.trim()));
        assert!(matches!(
            enrol_centre(out.path(), "futian", "futian-01", &servers, None),
            Err(EnrolError::Exists(_))
        ));
        assert!(matches!(
            enrol_centre(out.path(), "futian", "Futian 1", &servers, None),
            Err(EnrolError::BadName(_))
        ));
    }
}
