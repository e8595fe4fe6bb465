//! A backup copied off the box: `kiosk backup push` sends a whole, checked
//! backup to another host over SSH with rsync, as operators expect, so a
//! dead Pi's centre can be restored from a machine that did not die with
//! it.
//!
//! - Only a backup that passes [`crate::backup::verify`] leaves.
//! - It is copied into `PATH/.NAME.partial/` and renamed to `PATH/NAME`
//!   only when whole, so a cut link leaves nothing that looks complete; a
//!   push again resumes the partial copy.
//! - The copy is then compared with the original file by file by its
//!   content (`rsync --checksum --dry-run`): nothing may differ.
//! - SSH runs in batch mode (never a prompt: an unknown host key or a
//!   missing key is a clear refusal), with the operator's `ssh_config` if
//!   one is given (the host, its port, the user, the key, the known hosts).
//! - A backup already there (a whole one, by name) is not sent again.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use thiserror::Error;

use crate::backup::{self, BackupError};
use crate::data_dir::DataDir;

/// Where a backup goes: `[USER@]HOST:PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushTarget {
    /// `[USER@]HOST` (or a `Host` of the ssh configuration).
    pub host: String,
    /// The directory on it that holds backups.
    pub path: String,
}

/// Why a push did not happen or did not finish.
#[derive(Debug, Error)]
pub enum PushError {
    /// Not `[USER@]HOST:PATH`.
    #[error(
        "{0:?}: expected [USER@]HOST:PATH, the path absolute and of letters, digits, / . _ - only"
    )]
    Target(String),
    /// The backup is not whole.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// No backup of this site in the directory given.
    #[error("{}: holds no backup of this site", .0.display())]
    NoBackup(PathBuf),
    /// `rsync` or `ssh` is not installed.
    #[error("{program} is not installed (apt install rsync openssh-client)")]
    Missing {
        /// Which program.
        program: &'static str,
    },
    /// A step on the other host failed.
    #[error("{step}: {message}")]
    Remote {
        /// What was being done.
        step: &'static str,
        /// What ssh or rsync said (its last lines).
        message: String,
    },
}

impl std::str::FromStr for PushTarget {
    type Err = PushError;

    fn from_str(s: &str) -> Result<Self, PushError> {
        let bad = || PushError::Target(s.to_owned());
        let (host, path) = s.split_once(':').ok_or_else(bad)?;
        let host_ok = !host.is_empty()
            && !host.starts_with('-')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@.-_".contains(&b));
        let path_ok = path.starts_with('/')
            && !path.split('/').any(|p| p == "..")
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
        if !(host_ok && path_ok) {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_owned(),
            path: path.trim_end_matches('/').to_owned(),
        })
    }
}

/// What a push did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The backup's name, now at `PATH/NAME` on the host.
    pub name: String,
    /// Whether it was there already (nothing was sent).
    pub already_there: bool,
    /// Its files' bytes.
    pub bytes: u64,
}

/// `backup` itself if it is a backup, or the newest backup of the site of
/// `dir` in it.
pub fn choose(dir: &DataDir, backup: &Path) -> Result<PathBuf, PushError> {
    let store = keting_store::Store::open(&dir.database()).map_err(BackupError::from)?;
    let site = keting_store::site_record::get(store.conn())
        .map_err(BackupError::from)?
        .ok_or(BackupError::NoSite)?;
    newest_backup(backup, site.site_id.as_str())
}

/// `backup` itself if it is a backup, or the newest backup of `site` in it.
pub fn newest_backup(backup: &Path, site: &str) -> Result<PathBuf, PushError> {
    if backup.join("manifest.toml").is_file() {
        return Ok(backup.to_owned());
    }
    let prefix = format!("keting-{site}-");
    let mut ours: Vec<PathBuf> = std::fs::read_dir(backup)
        .map_err(|e| {
            PushError::Backup(BackupError::File {
                path: backup.to_owned(),
                message: e.to_string(),
            })
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
                && p.join("manifest.toml").is_file()
        })
        .collect();
    // The stamp sorts as time.
    ours.sort();
    ours.pop()
        .ok_or_else(|| PushError::NoBackup(backup.to_owned()))
}

/// The ssh command line rsync is to use, and ssh itself.
fn ssh_args(ssh_config: Option<&Path>) -> Vec<String> {
    let mut args = vec![
        "ssh".to_owned(),
        "-o".to_owned(),
        "BatchMode=yes".to_owned(),
        "-o".to_owned(),
        "ConnectTimeout=20".to_owned(),
    ];
    if let Some(c) = ssh_config {
        args.push("-F".to_owned());
        args.push(c.display().to_string());
    }
    args
}

/// The last lines a program said on stderr.
fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

fn run(mut cmd: Command, step: &'static str, program: &'static str) -> Result<String, PushError> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            PushError::Missing { program }
        } else {
            PushError::Remote {
                step,
                message: e.to_string(),
            }
        }
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(PushError::Remote {
            step,
            message: tail(&out.stderr),
        })
    }
}

/// A command on the host, through ssh.
fn remote(ssh: &[String], host: &str, script: &str) -> Command {
    let mut cmd = Command::new(&ssh[0]);
    cmd.args(&ssh[1..]).arg("--").arg(host).arg(script);
    cmd
}

/// rsync from `from` (a directory, its contents) to `HOST:to/`.
fn rsync(ssh: &[String], from: &Path, host: &str, to: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new("rsync");
    // --delete: within the partial copy only, what a cut link left of
    // another attempt goes.
    cmd.args([
        "--archive",
        "--partial",
        "--delete",
        "--mkpath",
        "--chmod=D0700,F0600",
    ])
    .args(extra)
    .arg("-e")
    .arg(ssh.join(" "))
    .arg(format!("{}/", from.display()))
    .arg(format!("{host}:{to}/"));
    cmd
}

/// Pushes the whole backup `backup` to `target`; `progress` lets rsync
/// show its progress on standard output.
pub fn push(
    backup: &Path,
    target: &PushTarget,
    ssh_config: Option<&Path>,
    progress: bool,
) -> Result<Pushed, PushError> {
    let manifest = backup::verify(backup)?;
    let name = backup
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| {
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
        .ok_or_else(|| {
            PushError::Backup(BackupError::NotABackup {
                path: backup.to_owned(),
                why: "its name is not a backup's".into(),
            })
        })?
        .to_owned();
    let bytes = manifest
        .files
        .iter()
        .filter_map(|(f, _)| std::fs::metadata(backup.join(f)).ok())
        .map(|m| m.len())
        .sum::<u64>()
        + std::fs::metadata(backup.join("manifest.toml")).map_or(0, |m| m.len());
    let ssh = ssh_args(ssh_config);
    let (whole, partial) = (
        format!("{}/{name}", target.path),
        format!("{}/.{name}.partial", target.path),
    );
    let there = run(
        remote(
            &ssh,
            &target.host,
            &format!("test -e {whole} && echo there || true"),
        ),
        "looking for the backup on the other host",
        "ssh",
    )?;
    if there.trim() == "there" {
        return Ok(Pushed {
            name,
            already_there: true,
            bytes,
        });
    }
    let mut send = rsync(&ssh, backup, &target.host, &partial, &[]);
    if progress {
        send.arg("--info=progress2").stdout(Stdio::inherit());
    }
    run(send, "copying the backup", "rsync")?;
    // Every file compared by its content: a dry run must find nothing to do.
    let differs = run(
        rsync(
            &ssh,
            backup,
            &target.host,
            &partial,
            &["--checksum", "--dry-run", "--itemize-changes"],
        ),
        "comparing the copy",
        "rsync",
    )?;
    if !differs.trim().is_empty() {
        return Err(PushError::Remote {
            step: "comparing the copy",
            message: format!("the copy differs from the backup: {}", differs.trim()),
        });
    }
    run(
        remote(&ssh, &target.host, &format!("mv -T {partial} {whole}")),
        "naming the whole copy",
        "ssh",
    )?;
    Ok(Pushed {
        name,
        already_there: false,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_host_and_an_absolute_plain_path() {
        let t: PushTarget = "keting@backup.lan:/srv/keting/".parse().unwrap();
        assert_eq!(
            (t.host.as_str(), t.path.as_str()),
            ("keting@backup.lan", "/srv/keting")
        );
        for bad in [
            "backup.lan",
            "backup.lan:relative",
            "backup.lan:/srv/../etc",
            "backup.lan:/srv/a b",
            "backup.lan:/srv/$(reboot)",
            "-oProxyCommand=x:/srv",
            ":/srv",
        ] {
            assert!(bad.parse::<PushTarget>().is_err(), "{bad}");
        }
    }
}
