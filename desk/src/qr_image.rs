//! A pass as a QR code in a PNG file, for printing on a card or a sticker.
//!
//! Error correction level M (15%): a worn or creased card still scans, and a
//! 117-character pass (a 10-character site id) stays at version 7 or 8,
//! which cheap scanners read.

use std::io;
use std::path::Path;

use qrcode::{Color, EcLevel, QrCode};
use thiserror::Error;

/// Pixels per QR module in the PNG.
const MODULE_PX: usize = 10;
/// White modules around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

/// Why the QR image could not be written.
#[derive(Debug, Error)]
pub enum QrImageError {
    /// The text does not fit a QR code.
    #[error("the pass does not fit a QR code: {0}")]
    Encode(String),
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        source: io::Error,
    },
}

/// The modules of `text`'s QR code (level M, the smallest version): its
/// width and the colours row by row. `best_mask`: the mask QR's penalty
/// rules pick (about 1 ms: all eight are drawn and scored), for print;
/// otherwise one fixed mask (about 20 µs), for screens that redraw a live
/// pass, which every scanner reads as well.
fn modules(text: &str, best_mask: bool) -> Result<(usize, Vec<Color>), QrImageError> {
    let encode = |e: qrcode::types::QrError| QrImageError::Encode(e.to_string());
    if best_mask {
        let code =
            QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(encode)?;
        return Ok((code.width(), code.to_colors()));
    }
    let bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).map_err(encode)?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (encoded, ec) =
        qrcode::ec::construct_codewords(&data, version, EcLevel::M).map_err(encode)?;
    let mut canvas = qrcode::canvas::Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ec);
    canvas.apply_mask(qrcode::canvas::MaskPattern::Checkerboard);
    let width = usize::try_from(version.width())
        .map_err(|_| QrImageError::Encode("a negative width".into()))?;
    Ok((width, canvas.into_colors()))
}

/// The QR code of `text` as 8-bit grey pixels (0 black, 255 white),
/// `module_px` pixels a module, with the quiet zone: (side, pixels), the
/// image square. For a screen to draw; [`png_bytes`] for a file.
pub fn grey(text: &str, module_px: usize) -> Result<(usize, Vec<u8>), QrImageError> {
    grey_of(modules(text, false)?, module_px)
}

fn grey_of(
    (modules, colors): (usize, Vec<Color>),
    module_px: usize,
) -> Result<(usize, Vec<u8>), QrImageError> {
    let side = (modules + 2 * QUIET_ZONE) * module_px;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * module_px..(my + 1) * module_px {
            pixels[y * side + mx * module_px..y * side + (mx + 1) * module_px].fill(0);
        }
    }
    Ok((side, pixels))
}

/// The QR code of `text` as PNG bytes.
pub fn png_bytes(text: &str) -> Result<Vec<u8>, QrImageError> {
    let (side, pixels) = grey_of(modules(text, true)?, MODULE_PX)?;
    let mut out = Vec::new();
    let side_u32 = u32::try_from(side).map_err(|_| QrImageError::Encode("too large".into()))?;
    let mut enc = png::Encoder::new(&mut out, side_u32, side_u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let io_err = |e: png::EncodingError| QrImageError::Encode(e.to_string());
    enc.write_header()
        .and_then(|mut w| w.write_image_data(&pixels))
        .map_err(io_err)?;
    Ok(out)
}

/// The QR code of `text` as an SVG element to put inline in a page: one
/// path of horizontal runs of dark modules, black on white with the quiet
/// zone, scaled by the page (`class="qr"`), `label` as its accessible name.
pub fn svg(text: &str, label: &str) -> Result<String, QrImageError> {
    use std::fmt::Write;
    let (modules, colors) = modules(text, false)?;
    let side = modules + 2 * QUIET_ZONE;
    let mut path = String::with_capacity(modules * modules * 4);
    for (y, row) in colors.chunks(modules).enumerate() {
        let mut x = 0;
        while x < modules {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            let _ = write!(
                path,
                "M{} {}h{run}v1h-{run}z",
                x + QUIET_ZONE,
                y + QUIET_ZONE
            );
            x += run;
        }
    }
    let label: String = label
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '&' | '"'))
        .collect();
    Ok(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"{label}\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

/// Writes the QR code of `text` to `path` (a temporary file, then renamed).
pub fn write_png(text: &str, path: &Path) -> Result<(), QrImageError> {
    let bytes = png_bytes(text)?;
    keting_link::atomic_file::write(path, &bytes, 0o644).map_err(|source| QrImageError::Write {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_fits_a_version_8_code_at_most() {
        use keting_core::ids::{Epoch, MemberId, SiteId};
        let issuer = keting_core::pass::PassIssuer::new(
            SiteId::new("k7f3xq2m4a").unwrap(),
            ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
        );
        let pass = issuer.issue(MemberId(123_456), Epoch(2));
        assert_eq!(pass.len(), 117);
        let code = QrCode::with_error_correction_level(pass.as_bytes(), EcLevel::M).unwrap();
        let qrcode::Version::Normal(version) = code.version() else {
            panic!("micro QR")
        };
        assert!((7..=8).contains(&version), "version {version}");
        let png = png_bytes(&pass).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        let side = ((code.width() + 2 * QUIET_ZONE) * MODULE_PX) as u32;
        assert_eq!((reader.info().width, reader.info().height), (side, side));
    }
}
