//! Architecture invariants, checked on the manifests: dependencies flow
//! dyadsim → lab → dualprop → crossbar, lab → datasets and lab → plot, never back, not even as
//! dev-dependencies; datasets and plot are leaves.

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

#[test]
fn only_lab_touches_files_and_only_dyadsim_the_terminal() {
    for (krate, banned) in [
        ("crossbar", &["std::fs", "ron::", "indicatif", "clap"][..]),
        ("dualprop", &["std::fs", "ron::", "indicatif", "clap"][..]),
        ("datasets", &["ron::", "indicatif", "clap", "anyhow"][..]),
        ("plot", &["ron::", "indicatif", "clap", "anyhow"][..]),
        ("lab", &["indicatif", "clap", "anyhow"][..]),
    ] {
        let src = root().join("crates").join(krate).join("src");
        // Test modules (a `tests` folder, a `*tests.rs` file, or what follows `#[cfg(test)]`) may
        // use files for fixtures; the rule is about library code.
        let library = walk(&src).into_iter().filter(|f| {
            !f.components().any(|c| c.as_os_str() == "tests")
                && !f.to_string_lossy().ends_with("tests.rs")
        });
        for file in library {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for b in banned {
                assert!(!code.contains(b), "{} uses {b}", file.display());
            }
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
