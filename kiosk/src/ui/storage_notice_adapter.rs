//! The screen when the centre's card cannot be written at start (full, or
//! read-only because it is failing): instead of a black screen while
//! systemd tries the kiosk again and again, what is wrong is shown in
//! Chinese and English at once, with what the system said below it. The
//! card is tried again every 5 s; once it can be written the window closes
//! and the kiosk starts as usual (systemd starts it again).

use std::time::Duration;

use slint::ComponentHandle;

use super::{StorageNoticeAdapter, StorageNoticeWindow};
use crate::words::tr;

/// What is wrong with the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardTrouble {
    /// No space left.
    Full,
    /// Mounted read-only (the kernel does so to a failing card).
    ReadOnly,
}

impl CardTrouble {
    /// The trouble an I/O error means, if it is the card's (not, say, a
    /// permission the installation got wrong).
    pub fn of(e: &std::io::Error) -> Option<Self> {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Some(CardTrouble::Full)
            }
            std::io::ErrorKind::ReadOnlyFilesystem => Some(CardTrouble::ReadOnly),
            _ => None,
        }
    }

    /// The heading and the line, in Chinese (`zh`) or English.
    fn words(self, zh: bool) -> (String, String) {
        // Chinese sentences follow each other with no space.
        let gap = if zh { "" } else { " " };
        let also = tr(
            zh,
            "The doors go on letting members in. Staff: tell the technician.",
        );
        match self {
            CardTrouble::Full => (
                tr(zh, "The storage card is full: check-in is paused"),
                format!(
                    "{}{gap}{also}",
                    tr(
                        zh,
                        "Nothing is lost; the kiosk starts again once there is room."
                    )
                ),
            ),
            CardTrouble::ReadOnly => (
                tr(
                    zh,
                    "The storage card cannot be written (it may be failing): check-in is paused",
                ),
                format!(
                    "{}{gap}{also}",
                    tr(
                        zh,
                        "What it holds is kept; replace the card and restore last night's backup.",
                    )
                ),
            ),
        }
    }
}

/// The notice window.
pub struct StorageNoticeUi {
    window: StorageNoticeWindow,
    _retry: slint::Timer,
}

impl StorageNoticeUi {
    /// The notice of `trouble`, `detail` under it (what the system said);
    /// `writable` is asked every 5 s, and the window's loop ends once it
    /// says yes.
    pub fn new(
        trouble: CardTrouble,
        detail: &str,
        writable: impl Fn() -> bool + 'static,
    ) -> Result<Self, slint::PlatformError> {
        let window = StorageNoticeWindow::new()?;
        let adapter = window.global::<StorageNoticeAdapter>();
        let (heading_zh, line_zh) = trouble.words(true);
        let (heading_en, line_en) = trouble.words(false);
        adapter.set_heading_zh(heading_zh.into());
        adapter.set_line_zh(line_zh.into());
        adapter.set_heading_en(heading_en.into());
        adapter.set_line_en(line_en.into());
        adapter.set_detail(detail.into());
        let retry = slint::Timer::default();
        retry.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(5),
            move || {
                if writable() {
                    tracing::info!("the card can be written again: starting the kiosk");
                    let _ = slint::quit_event_loop();
                }
            },
        );
        Ok(Self {
            window,
            _retry: retry,
        })
    }

    /// The window (to show it, or render it).
    pub fn window(&self) -> &StorageNoticeWindow {
        &self.window
    }

    /// Runs the window until the card can be written.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_or_read_only_card_is_the_cards_trouble_and_nothing_else_is() {
        let e = |raw| std::io::Error::from_raw_os_error(raw);
        assert_eq!(CardTrouble::of(&e(28)), Some(CardTrouble::Full), "ENOSPC");
        assert_eq!(CardTrouble::of(&e(122)), Some(CardTrouble::Full), "EDQUOT");
        assert_eq!(
            CardTrouble::of(&e(30)),
            Some(CardTrouble::ReadOnly),
            "EROFS"
        );
        assert_eq!(CardTrouble::of(&e(13)), None, "EACCES: the installation's");
    }

    #[test]
    fn the_notice_says_the_doors_go_on_in_both_languages() {
        for trouble in [CardTrouble::Full, CardTrouble::ReadOnly] {
            let (heading_zh, line_zh) = trouble.words(true);
            let (heading_en, line_en) = trouble.words(false);
            assert_ne!(heading_zh, heading_en, "translated");
            assert!(line_en.contains("The doors go on letting members in."));
            let doors_zh = tr(
                true,
                "The doors go on letting members in. Staff: tell the technician.",
            );
            assert!(line_zh.ends_with(&doors_zh), "{line_zh}");
            assert_ne!(
                doors_zh,
                "The doors go on letting members in. Staff: tell the technician."
            );
        }
    }
}
