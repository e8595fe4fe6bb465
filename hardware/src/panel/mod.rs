//! Small monochrome status panels (a 128x64 SSD1306 at the door, one per
//! piano), drawn with embedded-graphics.
//!
//! The agent composes a [`frame::PanelFrame`] (a 1-bit image with the
//! panel's geometry), here laid out by [`status_layout`], and hands it to a
//! [`PanelDisplay`]: [`ssd1306::Ssd1306`] on I2C, or a simulated panel. The frame renders to PNG, so every panel state can be
//! looked at and tested without the panel. Text, Chinese included, is drawn
//! by [`text`] from the bundled Noto Sans CJK outlines. [`test_pattern`] is
//! the commissioning pattern.
//!
//! [`sim`] (feature `sim`): a simulated panel that keeps its last frame.

pub mod frame;
#[cfg(feature = "sim")]
pub mod sim;
pub mod ssd1306;
pub mod status_layout;
pub mod test_pattern;
pub mod text;

use thiserror::Error;

pub use frame::PanelFrame;

/// What went wrong with a panel.
#[derive(Debug, Error)]
pub enum PanelError {
    /// The panel did not take the frame (I2C/SPI error, unplugged).
    #[error("the panel did not take the frame: {0}")]
    Bus(String),
    /// The font bytes are not a font.
    #[error("the panel font is not an OpenType font")]
    BadFont,
}

/// Where frames go: a real panel, or a simulated one.
pub trait PanelDisplay: Send {
    /// Shows `frame`, replacing what was shown.
    fn show(&mut self, frame: &PanelFrame) -> Result<(), PanelError>;
}
