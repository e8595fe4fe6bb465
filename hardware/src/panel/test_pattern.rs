//! The commissioning test pattern: a one-pixel border and a checkerboard of
//! 8x8 squares, so a dead row, column or controller page shows at a glance.

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, Point};

use super::frame::{HEIGHT, PanelFrame, WIDTH};

/// Side of one checkerboard square, in pixels.
pub const SQUARE: u32 = 8;

/// The test pattern.
pub fn test_pattern() -> PanelFrame {
    let mut frame = PanelFrame::new();
    let pixels = (0..HEIGHT).flat_map(|y| (0..WIDTH).map(move |x| (x, y)));
    let lit = pixels.map(|(x, y)| {
        let border = x == 0 || y == 0 || x == WIDTH - 1 || y == HEIGHT - 1;
        let square = ((x / SQUARE) + (y / SQUARE)).is_multiple_of(2);
        let p = Point::new(x as i32, y as i32);
        Pixel(p, BinaryColor::from(border || square))
    });
    // Drawing into a frame cannot fail.
    let _ = frame.draw_iter(lit);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::prelude::Size;
    use embedded_graphics::primitives::Rectangle;

    #[test]
    fn every_page_and_column_is_lit_somewhere_and_half_the_panel_is_dark() {
        let f = test_pattern();
        let total = f.lit_in(&f.bounds());
        let half = (WIDTH * HEIGHT / 2) as usize;
        // Half the squares plus the border's dark pixels.
        assert!(total > half && total < half + 400, "{total} lit");
        for x in 0..WIDTH as i32 {
            let column = Rectangle::new(Point::new(x, 1), Size::new(1, HEIGHT - 2));
            assert!(f.lit_in(&column) > 0, "column {x} dark");
        }
        // Every SSD1306 page (8 rows) has lit and dark pixels.
        for page in f.to_ssd1306_pages().chunks(WIDTH as usize) {
            assert!(page.iter().any(|b| *b != 0) && page.iter().any(|b| *b != 0xff));
        }
    }
}
