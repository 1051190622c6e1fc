//! The layers of docs/architecture.md, checked: the top-level modules of src/ form no cycle,
//! and the pure rules (the calendar, crypto, the ledger's chain and event bodies, the draw,
//! the scoring rules) reach for neither the web framework, the database nor the application
//! state.
//!
//! A small reader of `crate::` paths rather than a tool such as `cargo-modules`: that one
//! builds rust-analyzer (minutes on CI's two cores) to answer a question the source answers
//! in a millisecond. Every `crate::name` counts — in `use` lines, in `use crate::{a, b}`
//! groups and in paths written inline, test code included (a test module that imports an
//! area makes the module depend on it just the same); comments do not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules of the library (src/<name>.rs or src/<name>/), each with its files.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name == "bin" {
                continue; // binaries are other crates, users of the library
            }
            let mut files = Vec::new();
            rust_files(&path, &mut files);
            out.insert(name, files);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !matches!(name.as_str(), "lib" | "main")
        {
            out.insert(name, vec![path]);
        }
    }
    out
}

/// The source without `//` comments (doc comments name modules in links, not imports).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // Not inside a string such as "https://": only where `//` starts the comment.
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each item of a `{ … }` group that starts `s` (nested groups
/// belong to the item before them).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    expect_head = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect_head = true,
            c if depth == 1 && expect_head && (c.is_ascii_alphabetic() || c == '_') => {
                heads.push(ident_at(&s[i..]).to_string());
                expect_head = false;
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules `text` names through `crate::`, and the external crates it uses
/// among `watch`.
fn references(text: &str) -> BTreeSet<String> {
    let code = code_of(text);
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        // `kaibiao_media::` or `my_crate::` are not `crate::`.
        if code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if rest.starts_with('{') {
            out.extend(group_heads(rest));
        } else {
            out.insert(ident_at(rest).to_string());
        }
    }
    out
}

/// Module → the other top-level modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    modules
        .iter()
        .map(|(name, files)| {
            let mut deps = BTreeSet::new();
            for f in files {
                let text = std::fs::read_to_string(f).unwrap();
                deps.extend(
                    references(&text)
                        .into_iter()
                        .filter(|m| m != name && modules.contains_key(m)),
                );
            }
            (name.clone(), deps)
        })
        .collect()
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct Tarjan<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.g[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn the_top_level_modules_form_no_cycle() {
    let g = graph();
    assert!(g.len() >= 25, "found {} modules", g.len());
    let found = cycles(&g);
    assert!(
        found.is_empty(),
        "modules in a cycle: {found:?} — docs/architecture.md says which way each may point; \
         the edges: {g:#?}"
    );
}

#[test]
fn the_pure_rules_use_neither_the_web_the_database_nor_the_state() {
    let root = src();
    let mut files = Vec::new();
    for dir in ["calendar", "crypto", "draw"] {
        rust_files(&root.join(dir), &mut files);
    }
    for f in [
        "ledger/mod.rs",
        "ledger/events.rs",
        "evaluation/scoring.rs",
        "evaluation/price.rs",
        "evaluation/evaluated.rs",
        "evaluation/policy.rs",
        "evaluation/rounding.rs",
        "evaluation/words.rs",
        "committee/rules.rs",
        "opening/rules.rs",
        "plan/rules.rs",
        "deposit/rules.rs",
        "approval/rules.rs",
        "alerts/rules.rs",
        "tender/methods.rs",
    ] {
        files.push(root.join(f));
    }
    let mut found = Vec::new();
    for f in &files {
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        let refs = references(&code);
        for bad in ["state", "db"] {
            if refs.contains(bad) {
                found.push(format!("{}: crate::{bad}", f.display()));
            }
        }
        for bad in ["axum", "sqlx"] {
            if code.contains(&format!("{bad}::")) {
                found.push(format!("{}: {bad}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_reader_finds_what_a_file_imports() {
    let text = "use crate::{a::B, c, d::{e, f}};\n\
                // crate::commented\n\
                /// [`crate::doc`]\n\
                fn f() { crate::inline::g(); kaibiao_media::x(); }";
    let refs: Vec<String> = references(text).into_iter().collect();
    assert_eq!(refs, ["a", "c", "d", "inline"]);
    // A cycle is found, and only the modules in it.
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    let found = cycles(&g);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].iter().collect::<Vec<_>>(), ["a", "b", "c"]);
}
