//! Text on a 1-bit panel from an OpenType font (the bundled Noto Sans CJK
//! SC, so a resident's name in Chinese renders), rasterised by ab_glyph and
//! thresholded. Lines too wide for the panel are drawn smaller, down to a
//! floor, then cut with an ellipsis.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, Point};

use super::PanelError;

/// Coverage at or above this lights a pixel.
const THRESHOLD: f32 = 0.45;

/// The font the panels draw with (Noto Sans CJK SC, OFL; the kiosk's, a
/// subset), in the binary so nothing needs installing on a Pi.
pub static PANEL_FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../kiosk/fonts/NotoSansCJKsc-Regular-keting.otf"
));

/// A font for panels.
#[derive(Clone, Debug)]
pub struct PanelFont {
    font: FontRef<'static>,
}

/// Horizontal placement of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Flush left, at x = 0 plus the margin.
    Left,
    /// Centred on the panel.
    Center,
}

impl PanelFont {
    /// The font in `bytes` (OpenType/TrueType).
    pub fn new(bytes: &'static [u8]) -> Result<Self, PanelError> {
        Ok(Self {
            font: FontRef::try_from_slice(bytes).map_err(|_| PanelError::BadFont)?,
        })
    }

    /// Whether the font has a glyph for every character of `text`.
    pub fn covers(&self, text: &str) -> bool {
        text.chars().all(|c| self.font.glyph_id(c).0 != 0)
    }

    fn width(&self, text: &str, px: f32) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(px));
        text.chars()
            .map(|c| scaled.h_advance(self.font.glyph_id(c)))
            .sum()
    }

    /// Draws one line of `text` in a band `px` pixels high whose top is at
    /// `top`, within `width` pixels; shrinks it (to no less than `min_px`)
    /// and then cuts it with "…" to fit. Returns the pixel size used.
    #[allow(clippy::too_many_arguments)]
    pub fn draw_line<D>(
        &self,
        target: &mut D,
        text: &str,
        top: i32,
        px: f32,
        min_px: f32,
        width: u32,
        align: Align,
        color: BinaryColor,
    ) -> f32
    where
        D: DrawTarget<Color = BinaryColor>,
    {
        let width = width as f32;
        let mut size = px;
        while size > min_px && self.width(text, size) > width {
            size -= 1.0;
        }
        let mut shown: String = text.to_owned();
        if self.width(&shown, size) > width {
            let mut chars: Vec<char> = text.chars().collect();
            while !chars.is_empty() && self.width(&shown, size) > width {
                chars.pop();
                shown = chars.iter().collect::<String>() + "…";
            }
        }
        let scaled = self.font.as_scaled(PxScale::from(size));
        let line_width = self.width(&shown, size);
        let x0 = match align {
            Align::Left => 0.0,
            Align::Center => ((width - line_width) / 2.0).max(0.0),
        };
        // Centre the font's ascent+descent in the band.
        let glyph_height = scaled.ascent() - scaled.descent();
        let baseline = top as f32 + (px - glyph_height) / 2.0 + scaled.ascent();
        let mut x = x0;
        let mut pixels = Vec::new();
        for c in shown.chars() {
            let id = self.font.glyph_id(c);
            let glyph = id.with_scale_and_position(size, ab_glyph::point(x, baseline));
            x += scaled.h_advance(id);
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    if coverage >= THRESHOLD {
                        let p = Point::new(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                        pixels.push(Pixel(p, color));
                    }
                });
            }
        }
        let _ = target.draw_iter(pixels);
        size
    }
}
