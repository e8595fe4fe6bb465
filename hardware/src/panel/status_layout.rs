//! The status panel's layout: a headline (the state, large), a second line
//! (a greeting or a reason, in Chinese) and a small third line (English or a
//! detail). An alarm or refusal is drawn inverted (lit background) so it is
//! seen from across the room.
//!
//! The words are the agent's: this module only places them.

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};

use super::frame::{PanelFrame, WIDTH};
use super::text::{Align, PanelFont};

/// What a status panel shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusView {
    /// The state, in a few characters (`请进`, `已锁`).
    pub headline: String,
    /// A greeting or a reason.
    pub line: String,
    /// A small line: English, or a detail such as a time.
    pub small: String,
    /// Draw inverted, for alarms and refusals.
    pub attention: bool,
}

/// Vertical bands: headline 0..26, line 28..46, small 48..62.
const HEADLINE: (i32, f32, f32) = (1, 24.0, 16.0);
const LINE: (i32, f32, f32) = (28, 17.0, 12.0);
const SMALL: (i32, f32, f32) = (48, 14.0, 10.0);

/// Draws `view` into a fresh frame.
pub fn render(view: &StatusView, font: &PanelFont) -> PanelFrame {
    let mut frame = PanelFrame::new();
    let (fg, bg) = if view.attention {
        (BinaryColor::Off, BinaryColor::On)
    } else {
        (BinaryColor::On, BinaryColor::Off)
    };
    let _ = frame
        .bounding_box()
        .into_styled(PrimitiveStyle::with_fill(bg))
        .draw(&mut frame);
    for (text, (top, px, min)) in [
        (&view.headline, HEADLINE),
        (&view.line, LINE),
        (&view.small, SMALL),
    ] {
        if !text.is_empty() {
            font.draw_line(&mut frame, text, top, px, min, WIDTH, Align::Center, fg);
        }
    }
    // A rule under the headline.
    let _ = Rectangle::new(Point::new(8, 26), Size::new(WIDTH - 16, 1))
        .into_styled(PrimitiveStyle::with_fill(fg))
        .draw(&mut frame);
    frame
}
