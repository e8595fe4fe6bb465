//! Backups a centre can restore: `kiosk backup create --to DIR` writes a
//! directory `keting-<site>-<YYYYMMDD-HHMMSS>/` holding a consistent copy of
//! the database (SQLite's `VACUUM INTO`: one read snapshot, so a backup
//! taken while check-ins are being written holds every check-in committed
//! before it began and nothing half-written), the site key (0600), the
//! centre's TLS files, the uplink key, `district.toml` and the seed and CA
//! beside it, the alert channels' secrets (`alert-secrets/`), the imported
//! provisioning site directory (its CA key among
//! it, under `provisioning-site.d/`), and `manifest.toml` (the site, when,
//! the schema version, each file's SHA-256). It is written under a temporary name and
//! renamed when whole: a full or unwritable target leaves no backup that
//! looks complete.
//!
//! `kiosk backup restore DIR` checks the manifest and every file's hash,
//! the copy's `PRAGMA integrity_check`, and that the backup is this data
//! directory's site (a backup of another site is refused: its key would
//! sign passes the doors of this site refuse); then it swaps the files in
//! whole, the site directory back where it was, the database last, and
//! moves the uplink's event numbers on a generation (the district heard
//! the old machine's numbers past the backup's). The centre must be stopped
//! for a restore.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::data_dir::DataDir;
use crate::service::district_config::{DISTRICT_FILE, UPLINK_KEY_FILE};
use keting_core::time::Timestamp;
use keting_store::{Store, StoreError, migrations, site_record};

/// Why a backup or a restore did not happen.
#[derive(Debug, Error)]
pub enum BackupError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// This data directory holds no site to back up.
    #[error("this data directory holds no site yet: nothing to back up")]
    NoSite,
    /// Not a Keting backup, or one whose files do not match its manifest.
    #[error("{}: {why}", path.display())]
    NotABackup {
        /// The directory given.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A backup of another site.
    #[error(
        "the backup is of site {backup}, this data directory is site {here}: restore it into its own site's data directory"
    )]
    OtherSite {
        /// The backup's site.
        backup: String,
        /// This data directory's site.
        here: String,
    },
    /// The database is in use.
    #[error(
        "the database is in use: stop the centre (systemctl stop keting-centre) and restore again"
    )]
    InUse,
}

/// `manifest.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The site's id.
    pub site: String,
    /// When the backup began (ms since the Unix epoch).
    pub created_ms: i64,
    /// The database's schema version.
    pub schema: i64,
    /// Each file and its SHA-256 (hex).
    pub files: Vec<(String, String)>,
}

const MANIFEST: &str = "manifest.toml";
const DATABASE: &str = "keting.db";

fn file_err(path: &Path, e: impl std::fmt::Display) -> BackupError {
    BackupError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn sha256(path: &Path) -> Result<String, BackupError> {
    let bytes = fs::read(path).map_err(|e| file_err(path, e))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Where a provisioning site directory's files go in a backup.
const SITE_DIR_IN_BACKUP: &str = "provisioning-site.d";

/// The files copied beside the database: (where it is now, its name in the
/// backup). The data directory's keys and links (the site key, the
/// broker's password, the centre's TLS files, the uplink key, the
/// district's file with the seed and CA it names beside it), and the whole
/// provisioning site directory the centre imported (its site CA key among
/// them, so devices need no new credentials after a restore).
fn extra_files(dir: &DataDir) -> Vec<(PathBuf, String)> {
    let mut names: Vec<String> = [
        "site.key",
        "broker.secret",
        "provisioning-site",
        "tls/ca.pem",
        "tls/kiosk.pem",
        "tls/kiosk.key",
        UPLINK_KEY_FILE,
        DISTRICT_FILE,
        crate::service::alerts_file::ALERTS_FILE,
        "wechat.toml",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.extend(district_files(dir).0);
    // The WeChat account's secret, when wechat.toml names it beside itself.
    if let Some(secret) = fs::read_to_string(dir.path().join("wechat.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| {
            t.get("secret_file")
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        })
        .filter(|p| Path::new(p).is_relative() && !p.contains(".."))
    {
        names.push(secret);
    }
    // The alert channels' secrets (the database names them relatively).
    let secrets = dir.path().join("alert-secrets");
    let mut found = Vec::new();
    files_under(&secrets, &secrets, &mut found);
    names.extend(
        found
            .iter()
            .map(|f| format!("alert-secrets/{}", f.display())),
    );
    let mut out: Vec<(PathBuf, String)> = names
        .into_iter()
        .map(|n| (dir.path().join(&n), n))
        .filter(|(p, _)| p.is_file())
        .collect();
    if let Some(site_dir) = site_dir_of(&dir.provisioning_site_file()) {
        let mut found = Vec::new();
        files_under(&site_dir, &site_dir, &mut found);
        for rel in found {
            let name = format!("{SITE_DIR_IN_BACKUP}/{}", rel.display());
            out.push((site_dir.join(rel), name));
        }
    }
    out
}

/// The files `district.toml` names: (those beside it, in the data
/// directory, to back up; those elsewhere, which a backup cannot carry).
fn district_files(dir: &DataDir) -> (Vec<String>, Vec<PathBuf>) {
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    let Ok(text) = fs::read_to_string(dir.path().join(DISTRICT_FILE)) else {
        return (inside, outside);
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return (inside, outside);
    };
    for key in ["nkey_seed", "ca"] {
        let Some(p) = table.get(key).and_then(toml::Value::as_str) else {
            continue;
        };
        let path = Path::new(p);
        if path.is_relative() && !p.contains("..") {
            inside.push(p.to_owned());
        } else {
            outside.push(path.to_owned());
        }
    }
    (inside, outside)
}

/// The provisioning site directory the file at `file` names, if it is one.
fn site_dir_of(file: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(file).ok()?;
    let dir = PathBuf::from(text.trim());
    dir.is_dir().then_some(dir)
}

/// Every file under `dir`, relative to `root`.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else if path.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            out.push(rel.to_owned());
        }
    }
    out.sort();
}

/// What a restore brought back, and what it could not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// The provisioning site directory written back (its CA key among its
    /// files), if the backup held one.
    pub site_dir: Option<PathBuf>,
    /// Files `district.toml` names outside the data directory, which the
    /// backup does not hold: put them back by hand (or the district's
    /// enrolment issues them again).
    pub not_restored: Vec<PathBuf>,
    /// The first uplink event number from now on (a generation on).
    pub next_event: i64,
}

fn stamp(t: Timestamp) -> String {
    let secs = t.as_unix_millis().div_euclid(1000);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|d| {
            format!(
                "{:04}{:02}{:02}-{:02}{:02}{:02}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            )
        })
        .unwrap_or_else(|_| secs.to_string())
}

/// Backs `dir` up into a new directory under `to`; returns its path.
pub fn create(dir: &DataDir, to: &Path, now: Timestamp) -> Result<PathBuf, BackupError> {
    let store = Store::open(&dir.database())?;
    let site = site_record::get(store.conn())?.ok_or(BackupError::NoSite)?;
    fs::create_dir_all(to).map_err(|e| file_err(to, e))?;
    let name = format!("keting-{}-{}", site.site_id, stamp(now));
    let done = to.join(&name);
    if done.exists() {
        return Err(file_err(
            &done,
            "exists already: wait a second and back up again",
        ));
    }
    let partial = to.join(format!(".{name}.partial"));
    let result = (|| {
        let _ = fs::remove_dir_all(&partial);
        fs::create_dir_all(&partial).map_err(|e| file_err(&partial, e))?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o700))
            .map_err(|e| file_err(&partial, e))?;
        let db = partial.join(DATABASE);
        store
            .conn()
            .execute("VACUUM INTO ?1", [db.to_string_lossy().as_ref()])
            .map_err(|e| file_err(&db, e))?;
        let mut files = vec![(DATABASE.to_owned(), sha256(&db)?)];
        for (from, rel) in extra_files(dir) {
            let into = partial.join(&rel);
            if let Some(parent) = into.parent() {
                fs::create_dir_all(parent).map_err(|e| file_err(parent, e))?;
            }
            let bytes = fs::read(&from).map_err(|e| file_err(&from, e))?;
            keting_link::atomic_file::write(&into, &bytes, 0o600)
                .map_err(|e| file_err(&into, e))?;
            files.push((rel, sha256(&into)?));
        }
        let manifest = Manifest {
            site: site.site_id.as_str().to_owned(),
            created_ms: now.as_unix_millis(),
            schema: migrations::current_version(),
            files,
        };
        let text = toml::to_string(&manifest).map_err(|e| file_err(&partial, e))?;
        let m = partial.join(MANIFEST);
        keting_link::atomic_file::write(&m, text.as_bytes(), 0o600).map_err(|e| file_err(&m, e))?;
        fs::rename(&partial, &done).map_err(|e| file_err(&done, e))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&partial);
    }
    result.map(|()| done)
}

/// Keeps the `keep` newest whole backups of `site` under `to` and deletes
/// the older ones (never another site's, never a directory it did not make,
/// never the only one); returns the deleted. A backup is deleted only once
/// its manifest names this site, so a stray directory is left alone.
pub fn prune(to: &Path, site: &str, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let prefix = format!("keting-{site}-");
    let mut ours: Vec<PathBuf> = fs::read_dir(to)
        .map_err(|e| file_err(to, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
                && read_manifest(p).is_ok_and(|m| m.site == site)
        })
        .collect();
    // The stamp sorts as time: oldest first.
    ours.sort();
    let excess = ours.len().saturating_sub(keep.max(1));
    let mut deleted = Vec::new();
    for old in ours.into_iter().take(excess) {
        fs::remove_dir_all(&old).map_err(|e| file_err(&old, e))?;
        deleted.push(old);
    }
    Ok(deleted)
}

/// A backup's manifest, read but not checked against its files.
fn read_manifest(backup: &Path) -> Result<Manifest, BackupError> {
    let not = |why: String| BackupError::NotABackup {
        path: backup.to_owned(),
        why,
    };
    let text = fs::read_to_string(backup.join(MANIFEST))
        .map_err(|e| not(format!("no {MANIFEST} ({e}): not a Keting backup")))?;
    toml::from_str(&text).map_err(|e| not(format!("{MANIFEST}: {e}")))
}

/// Checks a backup: its manifest, every file's hash, the database's
/// integrity. Returns the manifest.
pub fn verify(backup: &Path) -> Result<Manifest, BackupError> {
    let not = |why: String| BackupError::NotABackup {
        path: backup.to_owned(),
        why,
    };
    let manifest = read_manifest(backup)?;
    if manifest.schema > migrations::current_version() {
        return Err(not(format!(
            "made by a newer Keting (schema {}, this one knows {}): update Keting first",
            manifest.schema,
            migrations::current_version()
        )));
    }
    for (name, hash) in &manifest.files {
        if name.contains("..") || name.starts_with('/') {
            return Err(not(format!("{name}: not a file of a backup")));
        }
        let got = sha256(&backup.join(name)).map_err(|e| not(e.to_string()))?;
        if &got != hash {
            return Err(not(format!(
                "{name} does not match its hash: the backup is damaged"
            )));
        }
    }
    if !manifest.files.iter().any(|(n, _)| n == DATABASE) {
        return Err(not(format!("no {DATABASE}")));
    }
    let conn = rusqlite::Connection::open_with_flags(
        backup.join(DATABASE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .map_err(|e| not(e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| not(e.to_string()))?;
    if check != "ok" {
        return Err(not(format!(
            "the database fails its integrity check: {check}"
        )));
    }
    Ok(manifest)
}

/// Restores `backup` into `dir` (the centre stopped); returns its manifest.
pub fn restore(dir: &DataDir, backup: &Path) -> Result<Restored, BackupError> {
    let manifest = verify(backup)?;
    let db = dir.database();
    if db.exists() {
        let store = Store::open(&db)?;
        if let Some(here) = site_record::get(store.conn())?
            && here.site_id.as_str() != manifest.site
        {
            return Err(BackupError::OtherSite {
                backup: manifest.site.clone(),
                here: here.site_id.as_str().to_owned(),
            });
        }
        // Nobody else may hold the database: an exclusive lock, at once.
        store
            .conn()
            .busy_timeout(std::time::Duration::from_millis(200))
            .map_err(StoreError::Sqlite)?;
        store
            .conn()
            .execute_batch("BEGIN EXCLUSIVE; COMMIT;")
            .map_err(|_| BackupError::InUse)?;
    }
    // The provisioning site directory goes back where the backup's
    // `provisioning-site` says it was (a new machine: created there, 0700).
    let site_dir = fs::read_to_string(backup.join("provisioning-site"))
        .ok()
        .map(|t| PathBuf::from(t.trim()));
    let in_site_dir = format!("{SITE_DIR_IN_BACKUP}/");
    if let Some(site) = &site_dir
        && manifest
            .files
            .iter()
            .any(|(n, _)| n.starts_with(&in_site_dir))
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(site)
            .map_err(|e| file_err(site, e))?;
    }
    // The other files first, the database last: each replaced whole.
    for (name, _) in manifest.files.iter().filter(|(n, _)| n != DATABASE) {
        let from = backup.join(name);
        let into = match (name.strip_prefix(&in_site_dir), &site_dir) {
            (Some(rel), Some(site)) => site.join(rel),
            _ => dir.path().join(name),
        };
        if let Some(parent) = into.parent() {
            fs::create_dir_all(parent).map_err(|e| file_err(parent, e))?;
        }
        let bytes = fs::read(&from).map_err(|e| file_err(&from, e))?;
        keting_link::atomic_file::write(&into, &bytes, 0o600).map_err(|e| file_err(&into, e))?;
    }
    let bytes = fs::read(backup.join(DATABASE)).map_err(|e| file_err(&backup.join(DATABASE), e))?;
    for stale in ["keting.db-wal", "keting.db-shm"] {
        let _ = fs::remove_file(dir.path().join(stale));
    }
    keting_link::atomic_file::write(&db, &bytes, 0o600).map_err(|e| file_err(&db, e))?;
    // Events from here on are numbered a generation on: the district heard
    // numbers past the backup's from the old machine.
    let mut store = Store::open(&db)?;
    let next_event = store.write(|tx| keting_store::uplink::after_restore(tx))? + 1;
    let has_site_dir = manifest
        .files
        .iter()
        .any(|(n, _)| n.starts_with(&in_site_dir));
    Ok(Restored {
        manifest,
        site_dir: site_dir.filter(|_| has_site_dir),
        not_restored: district_files(dir)
            .1
            .into_iter()
            .filter(|p| !p.exists())
            .collect(),
        next_event,
    })
}
