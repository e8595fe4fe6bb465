//! A new Pi's first boot: what the question screen (`kiosk first-boot`,
//! unprivileged) and its privileged helper (`keting-first-boot-apply`,
//! root, started by a systemd path unit) say to each other, through files.
//!
//! The screen writes one [`Answer`] to the answer file and never acts on
//! the system itself; the helper takes the file away, does what it says
//! (makes a site, restores a backup, enrols the device with its claim
//! label), and reports each step as a [`Status`] line, tagged with the
//! answer's attempt so the screen never reads an earlier attempt's result
//! as this one's. The backups the helper found on the card's boot
//! partition reach the screen as a list of names, one per line.

use std::path::Path;

use keting_core::claim::ClaimLabel;
use thiserror::Error;

/// Where the screen writes its answer (the helper's path unit watches it).
pub const ANSWER_FILE: &str = "/var/lib/keting/first-boot/answer";
/// Where the helper writes its progress.
pub const STATUS_FILE: &str = "/run/keting-first-boot/status";
/// The backups found on the card's boot partition, by name.
pub const BACKUPS_FILE: &str = "/run/keting-first-boot/backups";

/// What this Pi is to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// The centre, with a new, empty site.
    NewSite,
    /// The centre, restored from the backup of this name on the boot
    /// partition.
    Restore(String),
    /// A device, enrolled with this claim label's text.
    Device(String),
}

/// One answer: the choice and the attempt it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Unique per answer (the screen uses the time in milliseconds).
    pub attempt: u64,
    /// What was chosen.
    pub choice: Choice,
}

/// Why a scan cannot be a device's answer.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AnswerRefused {
    /// The scan is not a Keting claim label.
    #[error("not a claim label")]
    NotAClaimLabel,
    /// A backup name the helper did not list.
    #[error("no such backup")]
    NoSuchBackup,
}

impl Answer {
    /// A device's answer from a scan, if the scan is a claim label.
    pub fn device(attempt: u64, scan: &str) -> Result<Self, AnswerRefused> {
        let text = scan.trim();
        ClaimLabel::parse(text).map_err(|_| AnswerRefused::NotAClaimLabel)?;
        Ok(Self {
            attempt,
            choice: Choice::Device(text.to_owned()),
        })
    }

    /// Restoring one of `listed` (the helper's list), by its index.
    pub fn restore(attempt: u64, listed: &[String], index: usize) -> Result<Self, AnswerRefused> {
        let name = listed.get(index).ok_or(AnswerRefused::NoSuchBackup)?;
        Ok(Self {
            attempt,
            choice: Choice::Restore(name.clone()),
        })
    }

    /// The answer file's one line: `ATTEMPT centre-new`,
    /// `ATTEMPT centre-restore NAME` or `ATTEMPT device LABEL`.
    pub fn to_line(&self) -> String {
        match &self.choice {
            Choice::NewSite => format!("{} centre-new\n", self.attempt),
            Choice::Restore(name) => format!("{} centre-restore {name}\n", self.attempt),
            Choice::Device(label) => format!("{} device {label}\n", self.attempt),
        }
    }

    /// Writes the answer file (atomically: the helper never reads half).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        keting_link::atomic_file::write(path, self.to_line().as_bytes(), 0o600)
    }
}

/// What the helper is doing about an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// At work on a step.
    Working(Step),
    /// The device's claim PIN, to be confirmed on the centre.
    Pin(String),
    /// Done: this Pi is now the centre.
    CentreReady,
    /// Done: this Pi is now a device, its agent started.
    DeviceReady,
    /// The step failed; the detail is the tool's own last line.
    Failed(Step, String),
}

/// A step of the helper's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Making the new site.
    Site,
    /// Restoring the backup.
    Restore,
    /// Enrolling the device with the centre.
    Claim,
}

impl Status {
    /// The status of `attempt` in the status file's text: its last line
    /// of that attempt (`ATTEMPT working site|restore|claim`, `ATTEMPT pin
    /// PIN`, `ATTEMPT done centre|device`, `ATTEMPT failed STEP DETAIL`).
    /// None when the helper has said nothing of this attempt yet.
    pub fn of_attempt(text: &str, attempt: u64) -> Option<Status> {
        text.lines().rev().find_map(|line| {
            let (id, rest) = line.split_once(' ')?;
            if id.parse::<u64>().ok()? != attempt {
                return None;
            }
            Status::parse(rest)
        })
    }

    fn parse(rest: &str) -> Option<Status> {
        let (word, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        let step = |s: &str| match s {
            "site" => Some(Step::Site),
            "restore" => Some(Step::Restore),
            "claim" => Some(Step::Claim),
            _ => None,
        };
        match word {
            "working" => step(tail.trim()).map(Status::Working),
            "pin" if !tail.trim().is_empty() => Some(Status::Pin(tail.trim().to_owned())),
            "done" => match tail.trim() {
                "centre" => Some(Status::CentreReady),
                "device" => Some(Status::DeviceReady),
                _ => None,
            },
            "failed" => {
                let (s, detail) = tail.split_once(' ').unwrap_or((tail, ""));
                step(s).map(|s| Status::Failed(s, detail.trim().to_owned()))
            }
            _ => None,
        }
    }
}

/// The backups' names in the helper's list (one per line; empty when the
/// list is missing: no backup found, or no helper).
pub fn listed_backups(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_one_line_the_helper_splits_on_spaces() {
        let new = Answer {
            attempt: 7,
            choice: Choice::NewSite,
        };
        assert_eq!(new.to_line(), "7 centre-new\n");
        let listed = vec!["keting-ft-01-a".to_owned(), "keting-ft-01-b".to_owned()];
        assert_eq!(
            Answer::restore(8, &listed, 1).unwrap().to_line(),
            "8 centre-restore keting-ft-01-b\n"
        );
        assert_eq!(
            Answer::restore(8, &listed, 2),
            Err(AnswerRefused::NoSuchBackup)
        );
    }

    #[test]
    fn only_a_claim_label_answers_for_a_device() {
        assert_eq!(
            Answer::device(1, "https://example.com/pay?id=1"),
            Err(AnswerRefused::NotAClaimLabel)
        );
        assert_eq!(
            Answer::device(1, "KETING-CLAIM:2:garbage"),
            Err(AnswerRefused::NotAClaimLabel)
        );
        let label = ClaimLabel {
            site: keting_core::ids::SiteId::new("ft-01").unwrap(),
            device: keting_core::ids::DeviceId::new("gym-door").unwrap(),
            code: keting_core::claim::code_from_random(&[7; keting_core::claim::CODE_LEN]),
            ca_fingerprint: keting_core::claim::fingerprint(b"the site CA"),
            host: "192.168.1.10".into(),
            port: 8884,
        };
        // As the scanner types it: the text, then Enter.
        let scanned = format!("{}\n", label.to_text());
        assert_eq!(
            Answer::device(3, &scanned).unwrap().to_line(),
            format!("3 device {}\n", label.to_text())
        );
    }

    #[test]
    fn the_status_is_this_attempts_last_line() {
        let text = "5 working claim\n5 failed claim the centre did not answer within 180 s\n6 working claim\n6 pin 431 354\n";
        assert_eq!(
            Status::of_attempt(text, 6),
            Some(Status::Pin("431 354".into()))
        );
        assert_eq!(
            Status::of_attempt(text, 5),
            Some(Status::Failed(
                Step::Claim,
                "the centre did not answer within 180 s".into()
            ))
        );
        assert_eq!(Status::of_attempt(text, 7), None, "an attempt not yet seen");
        assert_eq!(
            Status::of_attempt("9 done centre\n", 9),
            Some(Status::CentreReady)
        );
        assert_eq!(Status::of_attempt("9 nonsense\n", 9), None);
    }

    #[test]
    fn the_backup_list_skips_blank_lines() {
        assert_eq!(
            listed_backups("keting-ft-01-1\n\n  keting-ft-01-2 \n"),
            vec!["keting-ft-01-1", "keting-ft-01-2"]
        );
        assert!(listed_backups("").is_empty());
    }
}
