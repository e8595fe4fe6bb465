//! Digital lines: a strike relay out, a door contact and an exit button in.
//!
//! Lines are found by name (`GPIO17` on a Pi), never by chip and offset, so
//! a configuration survives a board change. Values are logical: `true` is
//! "active" (strike energised, door open, button pressed) whatever the
//! wiring; an active-low line is declared in its [`LineSpec`].
//! Implementations: [`crate::gpio_cdev`] (the kernel's GPIO character device,
//! every Pi and most boards) and [`crate::gpio::sim`] (in memory).
//!
//! [`sim`] (feature `sim`): an in-memory chip with the same traits.

#[cfg(feature = "sim")]
pub mod sim;

use std::future::Future;

use thiserror::Error;

/// Which line, and how it is wired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineSpec {
    /// The line's name, e.g. `GPIO17`.
    pub name: String,
    /// Active when the pin is low (a contact to ground with a pull-up).
    pub active_low: bool,
}

impl LineSpec {
    /// An active-high line.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            active_low: false,
        }
    }
}

/// What went wrong with a GPIO line.
#[derive(Debug, Error)]
pub enum GpioError {
    /// No line of that name on any chip.
    #[error("no GPIO line named {0:?} (list them with `gpioinfo`)")]
    NotFound(String),
    /// The kernel refused or the chip failed.
    #[error("GPIO line {line:?}: {message}")]
    Line {
        /// The line.
        line: String,
        /// What the kernel said.
        message: String,
    },
}

/// A line this program drives.
pub trait OutputLine: Send {
    /// Drives the line active or inactive.
    fn set(&mut self, active: bool) -> Result<(), GpioError>;
}

/// A line this program reads.
pub trait InputLine: Send {
    /// The line's current value.
    fn value(&mut self) -> Result<bool, GpioError>;

    /// Waits for the next change; returns the new value.
    fn changed(&mut self) -> impl Future<Output = Result<bool, GpioError>> + Send;
}
