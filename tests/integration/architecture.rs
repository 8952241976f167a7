//! Architecture invariants, checked on the manifests: dependencies flow
//! dyadsim → lab → dualprop → crossbar, lab → datasets and lab → plot, never back, not even as
//! dev-dependencies; datasets and plot are leaves. And on the parsed library code (test code
//! excluded, see `modules`): dualprop names only the hardware items the docs name, and only lab
//! touches files and only dyadsim the terminal.

use crate::modules::{Library, library};
use tests::root;

/// Every crate of the workspace.
const WORKSPACE_CRATES: [&str; 6] = ["crossbar", "datasets", "dualprop", "dyadsim", "lab", "plot"];

/// The workspace crates a crate's manifest names, in any dependency table.
fn workspace_deps(krate: &str) -> Vec<String> {
    let path = root().join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("crate manifest exists");
    let mut found = Vec::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line.contains("dependencies");
            continue;
        }
        if !in_deps {
            continue;
        }
        let name = line.split(['=', '.', ' ']).next().unwrap_or("");
        if WORKSPACE_CRATES.contains(&name) {
            found.push(name.to_owned());
        }
    }
    found
}

#[test]
fn dependencies_flow_one_way() {
    let allowed: [(&str, &[&str]); 6] = [
        ("crossbar", &[]),
        ("datasets", &[]),
        ("plot", &[]),
        ("dualprop", &["crossbar"]),
        ("lab", &["crossbar", "datasets", "dualprop", "plot"]),
        ("dyadsim", &["lab"]),
    ];
    for (krate, ok) in allowed {
        for dep in workspace_deps(krate) {
            assert!(
                ok.contains(&dep.as_str()),
                "crates/{krate} must not depend on {dep}"
            );
        }
    }
    assert_eq!(workspace_deps("dualprop"), ["crossbar"]);
    // A crate added to the workspace must be given its place here.
    let mut on_disk: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, WORKSPACE_CRATES);
}

/// The crossbar items dualprop may name (docs/ARCHITECTURE.md): the `Crossbar` trait and what
/// its methods take and return, the ideal array (the exact reference and `Network::ideal`), the
/// neuron-circuit mismatch samples, the one matrix product, and the macro that compiles an
/// elementwise kernel for the widest vector unit.
const DUALPROP_SEES_OF_CROSSBAR: [&str; 11] = [
    "Crossbar",
    "Update",
    "UpdateReport",
    "SnapshotWriter",
    "SnapshotReader",
    "SnapshotError",
    "IdealArray",
    "NeuronMismatch",
    "linalg::gemm",
    "linalg::Op",
    "widest_simd",
];

#[test]
fn dualprop_sees_hardware_only_through_the_crossbar_trait() {
    let lib = library(&root(), "dualprop");
    let mut seen = Vec::new();
    for p in lib.paths.iter().filter(|p| p.segments[0] == "crossbar") {
        let item = p.segments[1..].join("::");
        assert!(
            DUALPROP_SEES_OF_CROSSBAR.contains(&item.as_str()),
            "{} names crossbar::{item}; dualprop may name only crossbar::{{{}}}",
            p.file.display(),
            DUALPROP_SEES_OF_CROSSBAR.join(", ")
        );
        seen.push(item);
    }
    // The rule would pass vacuously if the walk missed the code: the trait is used throughout.
    assert!(seen.iter().any(|i| i == "Crossbar"), "{seen:?}");
}

#[test]
fn the_rules_see_every_source_file_and_no_test_code() {
    for krate in WORKSPACE_CRATES.iter().filter(|k| **k != "dyadsim") {
        let Library {
            files, test_files, ..
        } = library(&root(), krate);
        let on_disk: std::collections::BTreeSet<_> =
            walk(&root().join("crates").join(krate).join("src"))
                .into_iter()
                .map(|f| f.strip_prefix(root()).unwrap().to_owned())
                .collect();
        let reached: std::collections::BTreeSet<_> = files.union(&test_files).cloned().collect();
        assert_eq!(
            on_disk, reached,
            "crates/{krate}: a source file outside the module tree is checked by no rule"
        );
    }
    // The test modules of dualprop are recognised as such, wherever they are declared.
    let dualprop = library(&root(), "dualprop");
    for f in ["paper_tests.rs", "test_support.rs"] {
        assert!(
            dualprop.test_files.iter().any(|t| t.ends_with(f)),
            "{f} not seen as test code: {:?}",
            dualprop.test_files
        );
    }
}

#[test]
fn only_lab_touches_files_and_only_dyadsim_the_terminal() {
    let terminal = ["indicatif", "clap", "anyhow"];
    for (krate, files_and_ron) in [
        ("crossbar", true),
        ("dualprop", true),
        ("datasets", false),
        ("plot", false),
        ("lab", false),
    ] {
        for p in library(&root(), krate).paths {
            let first = p.segments[0].as_str();
            let banned = terminal.contains(&first)
                || (krate != "lab" && first == "ron")
                || (files_and_ron && p.segments.starts_with(&["std".into(), "fs".into()]));
            assert!(!banned, "{} uses {}", p.file.display(), p.text());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
