//! The Chinese catalogue translates every string the screens show (the
//! `.slint` files' `@tr("...")` and the Rust side's `tr(zh, "...")` and
//! `tr_args(zh, "...", ...)`), and nothing that is no longer there; and no
//! Chinese sentence is written in Rust outside the catalogue.

use std::collections::BTreeSet;
use std::path::Path;

fn slint_strings(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_strings(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("@tr(\"").skip(1) {
                let end = part.find("\"").unwrap();
                out.insert(part[..end].to_owned());
            }
        }
    }
}

/// The English keys the Rust code translates: the first string literal
/// after `tr(` or `tr_args(` and the language argument.
fn rust_strings(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_strings(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("words.rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for call in ["tr(", "tr_args("] {
                // The call itself, not a name ending in it (`as_str(`).
                let calls = text.match_indices(call).filter(|(i, _)| {
                    !text[..*i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                for part in calls.map(|(i, _)| &text[i + call.len()..]) {
                    // `tr(zh, "..."`: the language, a comma, then the key.
                    let Some((_, rest)) = part.split_once(',') else {
                        continue;
                    };
                    let rest = rest.trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let mut key = String::new();
                    let mut chars = rest.chars();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => key.push(chars.next().unwrap()),
                            '"' => break,
                            c => key.push(c),
                        }
                    }
                    out.insert(key);
                }
            }
        }
    }
}

#[test]
fn no_chinese_sentence_is_written_in_the_screens_rust() {
    // Data from the database (names, programme titles) is chosen by
    // language; sentences live in the catalogue; dates are formatted in
    // `language.rs`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(root.join("src/ui")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if ["language.rs", "screenshot.rs"].contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let cjk = code
                .chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .count();
            if cjk > 1 {
                offenders.push(format!("{name}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "Chinese outside the catalogue: {offenders:#?}"
    );
}

#[test]
fn every_screen_string_has_a_chinese_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    slint_strings(&root.join("ui"), &mut used);
    rust_strings(&root.join("src"), &mut used);
    let po = std::fs::read_to_string(root.join("lang/zh/LC_MESSAGES/keting-kiosk.po")).unwrap();
    let mut translated = BTreeSet::new();
    let mut msgid = None;
    for line in po.lines() {
        if let Some(id) = line.strip_prefix("msgid \"") {
            msgid = Some(id.trim_end_matches('"').replace("\\\"", "\""));
        } else if let Some(s) = line.strip_prefix("msgstr \"") {
            let id = msgid.take().unwrap();
            if !id.is_empty() {
                assert!(s.len() > 1, "{id:?} has an empty translation");
                translated.insert(id);
            }
        }
    }
    let missing: Vec<_> = used.difference(&translated).collect();
    let stale: Vec<_> = translated.difference(&used).collect();
    assert!(missing.is_empty(), "untranslated: {missing:?}");
    assert!(stale.is_empty(), "no longer used: {stale:?}");
}
