//! The pages' strings (`web/js/i18n/<namespace>.js`): every key has its zh-CN and its
//! English text side by side, no key is in two files, and every key a page or script
//! names literally exists — so a page never shows a bare key in either language.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// The pages and scripts of `web/` (not the vendored libraries, not the dictionaries).
fn sources() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![web()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if name != "vendor" && name != "i18n" {
                    dirs.push(path);
                }
            } else if name.ends_with(".js") || name.ends_with(".html") {
                out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

/// Each dictionary's entries: key → (file, the line).
fn dictionaries() -> BTreeMap<String, Vec<(String, String)>> {
    let mut keys: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for entry in std::fs::read_dir(web().join("js/i18n")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("export default {"),
            "{file}: not a dictionary"
        );
        for line in text.lines().filter(|l| l.starts_with("  '")) {
            let key = line[3..].split('\'').next().unwrap().to_string();
            keys.entry(key)
                .or_default()
                .push((file.clone(), line.to_string()));
        }
    }
    keys
}

/// The keys named literally in `text`: `t('a.b'`, `data-i18n="a.b"` and its
/// `data-i18n-<attribute>` forms.
fn named_keys(text: &str) -> Vec<String> {
    let key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut out = Vec::new();
    for (open, close) in [("t('", '\''), ("data-i18n=\"", '"'), ("data-i18n-", '"')] {
        for (at, _) in text.match_indices(open) {
            if open == "t('" && text[..at].ends_with(|c: char| c.is_alphanumeric()) {
                continue; // `get('…'`, `set('…'`: not the translator
            }
            let mut rest = &text[at + open.len()..];
            if open == "data-i18n-" {
                let Some((_, value)) = rest.split_once("=\"") else {
                    continue;
                };
                rest = value;
            }
            let Some((key, _)) = rest.split_once(close) else {
                continue;
            };
            if key.contains('.') && key.chars().all(key_char) {
                out.push(key.to_string());
            }
        }
    }
    out
}

#[test]
fn every_key_has_both_languages_in_one_file_and_every_named_key_exists() {
    let keys = dictionaries();
    assert!(keys.len() > 1000, "{} keys", keys.len());
    let mut problems = Vec::new();
    let mut prefix_home: BTreeMap<String, String> = BTreeMap::new();
    for (key, places) in &keys {
        if places.len() > 1 {
            problems.push(format!("{key} is in {places:?}"));
        }
        let (file, line) = &places[0];
        // `  'key': ['中文', 'English'],` — two texts, neither empty, and no quote inside
        // either but escaped: a bare one ends the string and breaks every page's bundle.
        let pair = line.split_once("': [").map(|(_, p)| p);
        let ok = pair.is_some_and(|p| {
            let quotes = p.matches('\'').count() - p.matches("\\'").count();
            p.ends_with("],")
                && !p.starts_with("''")
                && !p.contains(", ''")
                && p.contains(", ")
                && quotes == 4
        });
        if !ok {
            problems.push(format!(
                "{file}: {key}: not a [zh, en] pair of texts: {line}"
            ));
        }
        let prefix = key.split('.').next().unwrap().to_string();
        let home = prefix_home.entry(prefix.clone()).or_insert(file.clone());
        if home != file {
            problems.push(format!("{prefix}.* is split between {home} and {file}"));
        }
    }
    for (path, text) in sources() {
        for key in named_keys(&text) {
            if !keys.contains_key(&key) {
                problems.push(format!("{} names {key}, in no dictionary", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_missing_key_would_be_found() {
    let named = named_keys(
        r#"<h1 data-i18n="hall.title"></h1><input data-i18n-placeholder="x.y">
           t('eval.none'); params.get('a.b'); t(`derive.${k}`)"#,
    );
    assert_eq!(named, ["eval.none", "hall.title", "x.y"]);
}
