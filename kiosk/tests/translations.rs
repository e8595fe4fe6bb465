//! The Chinese catalogue translates every string the screens show, and
//! nothing that is no longer there.

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

#[test]
fn every_screen_string_has_a_chinese_translation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    slint_strings(&root.join("ui"), &mut used);
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
