//! The status panel's layout, rendered to PNG (under target/panels/ for a
//! person to look at) and checked pixel by pixel.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use keting_hardware::panel::status_layout::{StatusView, render};
use keting_hardware::panel::text::PanelFont;

static FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../kiosk/fonts/NotoSansCJKsc-Regular-keting.otf"
));

fn view(headline: &str, line: &str, small: &str, attention: bool) -> StatusView {
    StatusView {
        headline: headline.into(),
        line: line.into(),
        small: small.into(),
        attention,
    }
}

fn band(top: i32, height: u32) -> Rectangle {
    Rectangle::new(Point::new(0, top), Size::new(128, height))
}

#[test]
fn each_line_lands_in_its_band_and_alarms_are_inverted() {
    let font = PanelFont::new(FONT).unwrap();
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("panels");
    std::fs::create_dir_all(&out).unwrap();
    let views = [
        ("welcome", view("请进", "欢迎 王秀英", "Welcome", false)),
        (
            "refused",
            view(
                "未开门",
                "夜间仅限月付会员",
                "Night: paid members only",
                true,
            ),
        ),
        ("locked", view("已锁", "请扫码", "Scan your pass", false)),
        (
            "unknown",
            view("状态未知", "正在读取门磁", "Door state unknown", false),
        ),
    ];
    let mut frames = Vec::new();
    for (name, v) in &views {
        let frame = render(v, &font);
        frame
            .write_png(&out.join(format!("{name}.png")), 4)
            .unwrap();
        let (head, line, small) = (band(0, 26), band(28, 18), band(48, 16));
        if v.attention {
            // Mostly lit, with dark text cut out of each band.
            assert!(frame.lit_in(&frame.bounds()) > 128 * 64 * 2 / 3, "{name}");
            for b in [head, line, small] {
                assert!(
                    frame.lit_in(&b) < (b.size.width * b.size.height) as usize,
                    "{name}"
                );
            }
        } else {
            for b in [head, line, small] {
                assert!(
                    frame.lit_in(&b) > 20,
                    "{name}: band at {:?} is empty",
                    b.top_left
                );
            }
            // Nothing spills below the last band.
            assert_eq!(frame.lit_in(&band(63, 1)), 0, "{name}");
        }
        frames.push(frame);
    }
    for (i, a) in frames.iter().enumerate() {
        for b in &frames[i + 1..] {
            assert_ne!(a, b);
        }
    }
    println!("panel PNGs in {}", out.display());
}

#[test]
fn a_line_too_long_is_shrunk_then_cut_and_stays_on_the_panel() {
    let font = PanelFont::new(FONT).unwrap();
    let long = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十";
    let frame = render(&view("", long, "", false), &font);
    // Drawn, within the panel's width (columns 0 and 127 may be touched, not more).
    assert!(frame.lit_in(&band(28, 18)) > 50);
    assert!(font.covers("王秀英玥"));
    assert!(font.covers("限"), "限");
    assert!(!font.covers("\u{10FFFD}"));
}

/// The bundled font's format-4 cmap passes 64 KiB and its length field wraps;
/// without the format-12 table 2,732 ideographs (具, 博, 器, 限...) were
/// invisible to ttf-parser. Every ideograph up to U+9FEF must be found.
#[test]
fn every_common_ideograph_has_a_glyph() {
    let font = PanelFont::new(FONT).unwrap();
    let missing: Vec<char> = (0x4E00u32..0x9FF0)
        .filter_map(char::from_u32)
        .filter(|c| !font.covers(&c.to_string()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}
