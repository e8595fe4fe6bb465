//! Where the centre keeps its files.
//!
//! One directory holds the database (`keting.db` and its WAL files) and the
//! site's private key (`site.key`, mode 0600). The default is
//! `$XDG_DATA_HOME/keting`, or `~/.local/share/keting`; `--data DIR` chooses
//! another. A directory that cannot be created or written is one clear error
//! naming it, before anything else happens.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "keting.db";
/// The site's private key inside the data directory.
pub const SITE_KEY_FILE: &str = "site.key";

/// A data directory that exists and is writable.
#[derive(Clone, Debug)]
pub struct DataDir {
    path: PathBuf,
}

/// Why the data directory cannot be used.
#[derive(Debug, Error)]
pub enum DataDirError {
    /// Neither `$XDG_DATA_HOME` nor `$HOME` is set, and no `--data` was given.
    #[error("no data directory: set --data DIR (neither XDG_DATA_HOME nor HOME is set)")]
    NoDefault,
    /// The directory cannot be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    Create {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The directory exists but files cannot be written in it.
    #[error("the data directory {} is not writable: {source}", path.display())]
    NotWritable {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

impl DataDir {
    /// The default location: `$XDG_DATA_HOME/keting` or `~/.local/share/keting`.
    pub fn default_path() -> Result<PathBuf, DataDirError> {
        if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(xdg).join("keting"));
        }
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .ok_or(DataDirError::NoDefault)?;
        Ok(PathBuf::from(home).join(".local/share/keting"))
    }

    /// Creates `path` if needed (mode 0700) and checks that it is writable.
    pub fn prepare(path: impl Into<PathBuf>) -> Result<Self, DataDirError> {
        let path = path.into();
        create_private_dir(&path).map_err(|source| DataDirError::Create {
            path: path.clone(),
            source,
        })?;
        // One probe per process: two kiosk commands started at once must not
        // remove each other's probe.
        let probe = path.join(format!(".write-test-{}", std::process::id()));
        fs::write(&probe, b"ok")
            .and_then(|()| fs::remove_file(&probe))
            .map_err(|source| DataDirError::NotWritable {
                path: path.clone(),
                source,
            })?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.path.join(DATABASE_FILE)
    }

    /// The site's private key file.
    pub fn site_key(&self) -> PathBuf {
        self.path.join(SITE_KEY_FILE)
    }

    /// Where the provisioning site directory is (`kiosk site import`): a
    /// file holding its path.
    pub fn provisioning_site_file(&self) -> PathBuf {
        self.path.join("provisioning-site")
    }

    /// The centre's broker password (from a provisioned site), mode 0600.
    pub fn broker_secret(&self) -> PathBuf {
        self.path.join("broker.secret")
    }
}

fn create_private_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain-file");
        fs::write(&file, b"x").unwrap();
        let err = DataDir::prepare(file.join("data")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("cannot create the data directory"), "{msg}");
        assert!(
            msg.contains(&file.join("data").display().to_string()),
            "{msg}"
        );
    }

    #[test]
    fn creates_nested_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::prepare(tmp.path().join("a/b/c")).unwrap();
        assert!(dir.path().is_dir());
        assert_eq!(dir.database(), tmp.path().join("a/b/c/keting.db"));
    }
}
