//! The layout follows the data: no top-level module of `src/` imports
//! another that (directly or through others) imports it back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module -> the top-level modules its files name as `crate::x`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src/") {
        let path = entry.expect("an entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a name").to_owned();
        if ["lib", "main"].contains(&name.as_str()) {
            continue;
        }
        let named = graph.entry(name.clone()).or_default();
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).expect("a source file");
            named.extend(modules_named(&text).filter(|m| *m != name));
        }
    }
    graph
}

/// The top-level modules `text` names: `crate::x`, and each `x` of a
/// grouped `crate::{x::A, y}`.
fn modules_named(text: &str) -> impl Iterator<Item = String> + '_ {
    let ident = |s: &str| -> String { s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect() };
    text.match_indices("crate::").flat_map(move |(i, _)| {
        let rest = &text[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                inner.split(',').map(|part| ident(part.trim())).filter(|m| !m.is_empty()).collect::<Vec<_>>()
            }
            None => vec![ident(rest)].into_iter().filter(|m| !m.is_empty()).collect(),
        }
    })
}

fn rust_files(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let Ok(entries) = std::fs::read_dir(path) else { return Vec::new() };
    entries
        .flat_map(|e| rust_files(&e.expect("an entry").path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect()
}

/// A path of imports from `from` back to `to`, if there is one.
fn path_back(
    graph: &BTreeMap<String, BTreeSet<String>>,
    from: &str,
    to: &str,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    for next in graph.get(from).into_iter().flatten() {
        if next == to {
            return Some(vec![from.to_owned(), to.to_owned()]);
        }
        if seen.insert(next.clone()) {
            if let Some(mut rest) = path_back(graph, next, to, seen) {
                rest.insert(0, from.to_owned());
                return Some(rest);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let graph = imports();
    assert!(graph.len() >= 15, "the modules of src/ were found: {:?}", graph.keys());
    for (module, named) in &graph {
        for other in named {
            if let Some(back) = path_back(&graph, other, module, &mut BTreeSet::new()) {
                panic!("{module} imports {other}, which leads back: {}", back.join(" -> "));
            }
        }
    }
}

#[test]
fn grouped_imports_name_each_module() {
    let named: Vec<String> = modules_named("use crate::{api::AppState, db};\nuse crate::model::Span;").collect();
    assert_eq!(named, ["api", "db", "model"]);
}
