//! Every page renders to a PNG that is not blank. The PNGs are kept under
//! `target/tmp/screens/` for a person to look at.

use std::collections::HashSet;
use std::path::PathBuf;

use keting_kiosk::ui::screenshot::PAGES;

use crate::util::{TestKiosk, read_png};

fn screens_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn render(k: &TestKiosk, page: &str, extra: &[&str]) -> PathBuf {
    let suffix = extra
        .iter()
        .map(|a| a.trim_start_matches('-'))
        .collect::<Vec<_>>()
        .join("-");
    let out = screens_dir().join(if suffix.is_empty() {
        format!("{page}.png")
    } else {
        format!("{page}-{suffix}.png")
    });
    let mut args = vec!["screenshot", "--page", page, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    k.ok(&args);
    out
}

fn distinct_colours(path: &std::path::Path) -> usize {
    let (w, h, pixels, channels) = read_png(path);
    assert_eq!((w, h), (1280, 800));
    pixels
        .chunks(channels)
        .map(|p| p.to_vec())
        .collect::<HashSet<_>>()
        .len()
}

#[test]
fn every_page_renders_and_is_not_blank() {
    let k = TestKiosk::new();
    let mut seen = HashSet::new();
    for (page, _) in PAGES {
        let png = render(&k, page, &[]);
        // Text is anti-aliased: a page with words has many shades.
        assert!(distinct_colours(&png) > 50, "{page} looks blank");
        let bytes = std::fs::read(&png).unwrap();
        assert!(seen.insert(bytes), "{page} looks the same as another page");
    }
    for extra in [
        &["--lang", "en"][..],
        &["--large-text"],
        &["--lang", "en", "--large-text"],
    ] {
        for page in ["home", "welcome", "revoked"] {
            assert!(
                distinct_colours(&render(&k, page, extra)) > 50,
                "{page} {extra:?}"
            );
        }
    }
}

#[test]
fn the_page_list_names_every_page() {
    let k = TestKiosk::new();
    let list = k.ok(&["screenshot", "--page", "list"]);
    for (page, _) in PAGES {
        assert!(list.lines().any(|l| l.starts_with(page)), "{page}");
    }
}
