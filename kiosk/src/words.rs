//! The screen's sentences written in Rust (refusals, outcomes with
//! numbers in them), translated through the same bundled gettext catalogue
//! as the `.slint` strings (`kiosk/lang/zh/LC_MESSAGES/keting-kiosk.po`):
//! one translation system, one file for the translator, and one test
//! (`tests/translations.rs`) that fails when a sentence has no Chinese or
//! the catalogue keeps one nobody shows.
//!
//! The English text is the key. Placeholders are `{0}`, `{1}`, ... as in
//! the `.slint` files' `@tr`, filled in the order given.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

/// The Chinese catalogue, bundled.
static CHINESE: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| parse_po(include_str!("../lang/zh/LC_MESSAGES/keting-kiosk.po")));

/// `english` in the screen's language (`zh`: Chinese), or the English
/// itself when the catalogue has no translation.
pub fn tr(zh: bool, english: &str) -> String {
    if zh && let Some(chinese) = CHINESE.get(english) {
        return chinese.clone();
    }
    english.to_owned()
}

/// [`tr`] with `{0}`, `{1}`, ... filled from `args`.
pub fn tr_args(zh: bool, english: &str, args: &[&dyn Display]) -> String {
    let mut text = tr(zh, english);
    for (i, a) in args.iter().enumerate() {
        text = text.replace(&format!("{{{i}}}"), &a.to_string());
    }
    text
}

/// A `.po` file's msgid → msgstr pairs (one line each, `\"` and `\n`
/// escapes), the header left out.
pub fn parse_po(po: &str) -> HashMap<String, String> {
    let unescape = |s: &str| {
        s.replace("\\\"", "\"")
            .replace("\\n", "\n")
            .replace("\\\\", "\\")
    };
    let mut out = HashMap::new();
    let mut msgid: Option<String> = None;
    for line in po.lines() {
        if let Some(id) = line
            .strip_prefix("msgid \"")
            .and_then(|l| l.strip_suffix('"'))
        {
            msgid = Some(unescape(id));
        } else if let Some(s) = line
            .strip_prefix("msgstr \"")
            .and_then(|l| l.strip_suffix('"'))
            && let Some(id) = msgid.take()
            && !id.is_empty()
            && !s.is_empty()
        {
            out.insert(id, unescape(s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_is_chinese_on_a_chinese_screen_with_its_numbers_in_place() {
        assert_eq!(tr(false, "Sold out"), "Sold out");
        assert_eq!(tr(true, "Sold out"), "这一格已售完");
        assert_eq!(
            tr_args(
                true,
                "Not enough points: you have {0}, it takes {1}",
                &[&3, &10]
            ),
            "积分不够：您有 3 分，需要 10 分"
        );
        assert_eq!(
            tr(true, "a sentence nobody translated"),
            "a sentence nobody translated"
        );
    }
}
