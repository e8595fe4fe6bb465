//! The claim label, for a label printer (720 x 360 px: 61 x 30 mm at
//! 300 dpi) or a sheet: the QR code on the left, and on the right the
//! device's name, the code in groups of four (to type it when nothing can
//! scan), the site, and how long it works. PNG (text drawn with the bundled
//! Noto Sans CJK) or SVG (text as text).

use std::fmt::Write;
use std::path::Path;

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Size};
use keting_core::claim::{ClaimLabel, code_for_print};
use keting_hardware::panel::text::{Align, PanelFont};
use qrcode::{Color, EcLevel, QrCode};

use crate::secrets::write_atomic;
use crate::site_dir::SiteError;

/// Label width in pixels.
pub const WIDTH: u32 = 720;
/// Label height in pixels.
pub const HEIGHT: u32 = 360;
/// White modules around the QR code.
const QUIET_ZONE: u32 = 4;
/// Where the text column starts.
const TEXT_X: u32 = 370;

/// The lines beside the QR code: (text, size in px).
fn lines(label: &ClaimLabel, site_name: &str, window_s: u64) -> Vec<(String, f32)> {
    vec![
        (label.device.as_str().to_owned(), 46.0),
        ("设备认领 Device claim".to_owned(), 28.0),
        (code_for_print(&label.code), 30.0),
        (site_name.to_owned(), 26.0),
        (
            format!("{} 分钟内有效，仅一次", window_s.div_ceil(60)),
            26.0,
        ),
        (format!("valid {} min, once", window_s.div_ceil(60)), 24.0),
    ]
}

fn qr(label: &ClaimLabel) -> Result<QrCode, SiteError> {
    QrCode::with_error_correction_level(label.to_text().as_bytes(), EcLevel::M)
        .map_err(|e| SiteError::Invalid(format!("the label does not fit a QR code: {e}")))
}

/// Pixels per module so the code with its quiet zone fits the label's height.
fn module_px(code: &QrCode) -> u32 {
    let modules = code.width() as u32 + 2 * QUIET_ZONE;
    (HEIGHT / modules).max(1)
}

/// A white 1-bit canvas to draw on (`true` is black).
struct Canvas {
    black: Vec<bool>,
}

impl OriginDimensions for Canvas {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for Canvas {
    type Color = BinaryColor;
    type Error = std::convert::Infallible;
    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            if let (Ok(x), Ok(y)) = (u32::try_from(p.x), u32::try_from(p.y))
                && x < WIDTH
                && y < HEIGHT
            {
                self.black[(y * WIDTH + x) as usize] = c.is_on();
            }
        }
        Ok(())
    }
}

/// The label as PNG bytes (8-bit grey).
pub fn png(
    label: &ClaimLabel,
    site_name: &str,
    window_s: u64,
    font: &PanelFont,
) -> Result<Vec<u8>, SiteError> {
    let code = qr(label)?;
    let mut canvas = Canvas {
        black: vec![false; (WIDTH * HEIGHT) as usize],
    };
    let (modules, px) = (code.width() as u32, module_px(&code));
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (
            i as u32 % modules + QUIET_ZONE,
            i as u32 / modules + QUIET_ZONE,
        );
        for y in my * px..(my + 1) * px {
            for x in mx * px..(mx + 1) * px {
                canvas.black[(y * WIDTH + x) as usize] = true;
            }
        }
    }
    // Text into a strip, then copied beside the code.
    let mut top = 24;
    let mut strip = Canvas {
        black: vec![false; (WIDTH * HEIGHT) as usize],
    };
    for (text, size) in lines(label, site_name, window_s) {
        let band = size as i32 + 10;
        font.draw_line(
            &mut strip,
            &text,
            top,
            size,
            16.0,
            WIDTH - TEXT_X - 10,
            Align::Left,
            BinaryColor::On,
        );
        top += band;
    }
    for y in 0..HEIGHT {
        for x in 0..WIDTH - TEXT_X {
            if strip.black[(y * WIDTH + x) as usize] {
                canvas.black[(y * WIDTH + x + TEXT_X) as usize] = true;
            }
        }
    }
    let grey: Vec<u8> = canvas
        .black
        .iter()
        .map(|b| if *b { 0 } else { 255 })
        .collect();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()
        .and_then(|mut w| w.write_image_data(&grey))
        .map_err(|e| SiteError::Invalid(format!("PNG: {e}")))?;
    Ok(out)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The label as SVG.
pub fn svg(label: &ClaimLabel, site_name: &str, window_s: u64) -> Result<String, SiteError> {
    let code = qr(label)?;
    let (modules, px) = (code.width() as u32, module_px(&code));
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = (
                i as u32 % modules + QUIET_ZONE,
                i as u32 / modules + QUIET_ZONE,
            );
            let _ = write!(path, "M{} {}h{px}v{px}h-{px}z", mx * px, my * px);
        }
    }
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"{path}\"/>\n"
    );
    let mut top = 24.0;
    for (text, size) in lines(label, site_name, window_s) {
        let _ = writeln!(
            out,
            "<text x=\"{TEXT_X}\" y=\"{}\" font-family=\"Noto Sans CJK SC, sans-serif\" font-size=\"{size}\">{}</text>",
            top + size,
            xml_escape(&text)
        );
        top += size + 10.0;
    }
    out += "</svg>\n";
    Ok(out)
}

/// Writes the label to `path`: `.png` or `.svg`, by its extension.
pub fn write(
    path: &Path,
    label: &ClaimLabel,
    site_name: &str,
    window_s: u64,
    font: &PanelFont,
) -> Result<(), SiteError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("png") => png(label, site_name, window_s, font)?,
        Some("svg") => svg(label, site_name, window_s)?.into_bytes(),
        _ => {
            return Err(SiteError::Invalid(format!(
                "--out {}: name a .png or a .svg file",
                path.display()
            )));
        }
    };
    write_atomic(path, &bytes, 0o600).map_err(|e| SiteError::File {
        path: path.to_owned(),
        message: e.to_string(),
    })
}
