//! `kiosk screenshot`: any page rendered to PNG with no display.

use std::time::Instant;

use anyhow::{Result, bail};
use clap::ValueEnum;
use keting_kiosk::ui::language::Language;
use keting_kiosk::ui::screenshot::{self, ScreenshotRequest};

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
}

pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected WIDTHxHEIGHT, e.g. 1280x800, got {s:?}");
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(320..=4096).contains(&w) || !(240..=4096).contains(&h) {
        return Err(format!("a size from 320x240 to 4096x4096, got {s:?}"));
    }
    Ok((w, h))
}

pub fn screenshot_command(
    page: &str,
    out: Option<&std::path::Path>,
    lang: LangArg,
    large_text: bool,
    size: (u32, u32),
    timing: bool,
    started: Instant,
) -> Result<()> {
    if page == "list" {
        for (name, what) in screenshot::PAGES {
            println!("{name:<16} {what}");
        }
        return Ok(());
    }
    let Some(out) = out else {
        bail!("--out FILE.png is required")
    };
    let language = match lang {
        LangArg::Zh => Language::Chinese,
        LangArg::En => Language::English,
    };
    let request = ScreenshotRequest {
        page: page.to_owned(),
        language,
        large_text,
        size,
    };
    let report = screenshot::render(&request, out, started)?;
    if timing {
        println!(
            "first_frame_ms={:.1} rss_kib={}",
            report.first_frame.as_secs_f64() * 1000.0,
            resident_kib().map_or("unknown".to_owned(), |k| k.to_string())
        );
    }
    Ok(())
}

/// The process's resident memory, from /proc (Linux).
pub fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
