//! A 1-bit frame with a panel's geometry: an embedded-graphics draw target
//! that can be written to PNG and inspected pixel by pixel.

use std::path::Path;

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Point, Size};
use embedded_graphics::primitives::{PointsIter, Rectangle};

/// Width of an SSD1306 panel.
pub const WIDTH: u32 = 128;
/// Height of an SSD1306 panel.
pub const HEIGHT: u32 = 64;

/// One frame: `true` is a lit pixel.
#[derive(Clone, PartialEq, Eq)]
pub struct PanelFrame {
    lit: Vec<bool>,
}

impl std::fmt::Debug for PanelFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PanelFrame({} lit)", self.lit_in(&self.bounds()))
    }
}

impl Default for PanelFrame {
    fn default() -> Self {
        Self::new()
    }
}

impl PanelFrame {
    /// A dark frame.
    pub fn new() -> Self {
        Self {
            lit: vec![false; (WIDTH * HEIGHT) as usize],
        }
    }

    /// The whole frame's rectangle.
    pub fn bounds(&self) -> Rectangle {
        Rectangle::new(Point::zero(), Size::new(WIDTH, HEIGHT))
    }

    fn index(p: Point) -> Option<usize> {
        let (x, y) = (u32::try_from(p.x).ok()?, u32::try_from(p.y).ok()?);
        (x < WIDTH && y < HEIGHT).then_some((y * WIDTH + x) as usize)
    }

    /// Whether the pixel at `p` is lit (outside the frame: no).
    pub fn is_lit(&self, p: Point) -> bool {
        Self::index(p).is_some_and(|i| self.lit[i])
    }

    /// How many pixels are lit inside `area`.
    pub fn lit_in(&self, area: &Rectangle) -> usize {
        area.points().filter(|p| self.is_lit(*p)).count()
    }

    /// The frame as rows of bytes, 8 vertical pixels a byte, as an SSD1306's
    /// memory is laid out (page by page, column by column, LSB on top).
    pub fn to_ssd1306_pages(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity((WIDTH * HEIGHT / 8) as usize);
        for page in 0..HEIGHT / 8 {
            for x in 0..WIDTH {
                let mut byte = 0u8;
                for bit in 0..8 {
                    let y = page * 8 + bit;
                    if self.lit[(y * WIDTH + x) as usize] {
                        byte |= 1 << bit;
                    }
                }
                out.push(byte);
            }
        }
        out
    }

    /// Writes the frame as a PNG, each panel pixel `scale` x `scale`, lit
    /// pixels in an OLED's pale blue on black.
    pub fn write_png(&self, path: &Path, scale: u32) -> std::io::Result<()> {
        let scale = scale.max(1);
        let (w, h) = (WIDTH * scale, HEIGHT * scale);
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let on = self.lit[((y / scale) * WIDTH + x / scale) as usize];
                rgb.extend_from_slice(if on { &[0xb8, 0xe6, 0xff] } else { &[0, 0, 0] });
            }
        }
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
            writer
                .write_image_data(&rgb)
                .map_err(std::io::Error::other)?;
        }
        std::fs::write(path, bytes)
    }
}

impl OriginDimensions for PanelFrame {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for PanelFrame {
    type Color = BinaryColor;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, color) in pixels {
            if let Some(i) = Self::index(p) {
                self.lit[i] = color.is_on();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::prelude::*;
    use embedded_graphics::primitives::PrimitiveStyle;

    #[test]
    fn pixels_outside_the_frame_are_ignored_and_pages_pack_lsb_first() {
        let mut f = PanelFrame::new();
        Rectangle::new(Point::new(-5, -5), Size::new(6, 7))
            .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
            .draw(&mut f)
            .unwrap();
        // x 0, y 0..=1 lit; nothing else.
        assert_eq!(f.lit_in(&f.bounds()), 2);
        let pages = f.to_ssd1306_pages();
        assert_eq!(pages.len(), 1024);
        assert_eq!(pages[0], 0b11);
        assert!(pages[1..].iter().all(|b| *b == 0));
    }
}
