//! Whether this machine lets the kiosk draw on its screen and hear its
//! scanner and touch screen, checked before the window opens on DRM/KMS (a
//! Pi with no desktop). A screen that is missing or not permitted is named
//! in one line a technician can act on, in the journal (there is no screen
//! to say it on), instead of a graphics library's error; systemd then tries
//! again. Input devices that cannot be read are a warning: the screen still
//! shows, and a scanner plugged in later is taken when it appears.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Whether this build opens its window on DRM/KMS without a desktop (the
/// Pi's `linuxkms` feature).
pub const DRM_KMS_BUILT: bool = cfg!(feature = "linuxkms");

/// Where the kernel puts the display devices.
pub const DRI_DIR: &str = "/dev/dri";
/// Where the kernel puts the input devices.
pub const INPUT_DIR: &str = "/dev/input";

/// Why the kiosk cannot show its screen.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScreenProblem {
    /// No display device at all.
    #[error(
        "no screen: {dir} has no display device (card*). Is the screen connected, and its driver loaded (on a Raspberry Pi: dtoverlay=vc4-kms-v3d in config.txt)?"
    )]
    Missing {
        /// The directory looked in.
        dir: String,
    },
    /// Display devices this user may not open.
    #[error(
        "not permitted to use the screen ({device}: permission denied): run the kiosk as a user in the video and render groups, as keting-kiosk.service does (User=keting)"
    )]
    NotPermitted {
        /// The first device refused.
        device: String,
    },
    /// Display devices that cannot be opened for another reason.
    #[error("the screen {device} cannot be opened: {reason}")]
    Unusable {
        /// The first device that failed.
        device: String,
        /// The system's words.
        reason: String,
    },
}

/// The display device the kiosk can open (read and write, as DRM/KMS
/// needs), or why there is none.
pub fn display_device(dri: &Path) -> Result<PathBuf, ScreenProblem> {
    let mut first_failure = None;
    for card in named(dri, "card") {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&card)
        {
            Ok(_) => return Ok(card),
            Err(e) => {
                first_failure.get_or_insert((card, e));
            }
        }
    }
    Err(match first_failure {
        None => ScreenProblem::Missing {
            dir: dri.display().to_string(),
        },
        Some((card, e)) if e.kind() == ErrorKind::PermissionDenied => ScreenProblem::NotPermitted {
            device: card.display().to_string(),
        },
        Some((card, e)) => ScreenProblem::Unusable {
            device: card.display().to_string(),
            reason: e.to_string(),
        },
    })
}

/// The input devices (scanner, touch screen, keyboard) there are, and how
/// many of them this user may read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputDevices {
    /// Devices that could be opened.
    pub readable: usize,
    /// Devices this user may not read.
    pub denied: usize,
}

impl InputDevices {
    /// What to write in the journal when scans and touches cannot reach
    /// the screen; `None` when some device can be read.
    pub fn warning(&self) -> Option<String> {
        match (self.readable, self.denied) {
            (0, 0) => Some(
                "no input device yet: plug in the QR scanner (and the touch screen's USB); they are taken when they appear".into(),
            ),
            (0, denied) => Some(format!(
                "{denied} input devices, none this user may read: scans and touches will not reach the screen (add the user to the input group, as the package does for keting)"
            )),
            _ => None,
        }
    }
}

/// Counts the input devices (`event*`) in `input` this user may and may not read.
pub fn input_devices(input: &Path) -> InputDevices {
    let mut found = InputDevices::default();
    for device in named(input, "event") {
        match std::fs::File::open(device) {
            Ok(_) => found.readable += 1,
            Err(e) if e.kind() == ErrorKind::PermissionDenied => found.denied += 1,
            Err(_) => {}
        }
    }
    found
}

/// The entries of `dir` whose names start with `prefix`, in order (none
/// when `dir` cannot be read).
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_with_no_display_device_is_told_to_connect_the_screen() {
        let dir = tempfile::tempdir().unwrap();
        let missing = display_device(&dir.path().join("dri")).unwrap_err();
        assert!(matches!(missing, ScreenProblem::Missing { .. }));
        assert!(missing.to_string().contains("vc4-kms-v3d"), "{missing}");
        // A directory with only render nodes has no screen either.
        std::fs::write(dir.path().join("renderD128"), b"").unwrap();
        assert!(matches!(
            display_device(dir.path()),
            Err(ScreenProblem::Missing { .. })
        ));
    }

    #[test]
    fn the_first_card_that_opens_is_the_screen() {
        let dir = tempfile::tempdir().unwrap();
        // A card that is a directory cannot be opened for writing.
        std::fs::create_dir(dir.path().join("card0")).unwrap();
        std::fs::write(dir.path().join("card1"), b"").unwrap();
        assert_eq!(display_device(dir.path()), Ok(dir.path().join("card1")));
        std::fs::remove_file(dir.path().join("card1")).unwrap();
        let unusable = display_device(dir.path()).unwrap_err();
        assert!(
            matches!(&unusable, ScreenProblem::Unusable { device, .. } if device.ends_with("card0")),
            "{unusable:?}"
        );
    }

    #[test]
    fn no_readable_input_device_is_a_warning_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let none = input_devices(dir.path());
        assert_eq!(none, InputDevices::default());
        assert!(none.warning().unwrap().contains("plug in the QR scanner"));
        std::fs::write(dir.path().join("event0"), b"").unwrap();
        std::fs::write(dir.path().join("mice"), b"").unwrap();
        let one = input_devices(dir.path());
        assert_eq!(one.readable, 1, "only event devices count");
        assert_eq!(one.warning(), None);
        let denied = InputDevices {
            readable: 0,
            denied: 3,
        };
        assert!(denied.warning().unwrap().contains("input group"));
    }
}
