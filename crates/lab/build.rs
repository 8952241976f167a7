//! Builds the tables of files dyadsim carries inside its binary, so that `dyadsim check` runs its
//! built-in suites outside the source tree: the device presets (device-models/*.ron) and the
//! project's goldens (tests/golden/*.json).

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn table(name: &str, doc: &str, files: &[PathBuf]) -> String {
    let mut s = format!("/// {doc}\npub const {name}: &[(&str, &str)] = &[\n");
    for f in files {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file names");
        let path = f.canonicalize().expect("listed files exist");
        writeln!(s, "    ({stem:?}, include_str!({:?})),", path.display()).unwrap();
        println!("cargo::rerun-if-changed={}", f.display());
    }
    s.push_str("];\n");
    s
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("../..");
    let mut code = table(
        "PRESETS",
        "The device presets of device-models/, by file stem.",
        &files(&root.join("device-models"), "ron"),
    );
    code.push_str(&table(
        "GOLDENS",
        "The project's goldens of tests/golden/, by file stem.",
        &files(&root.join("tests/golden"), "json"),
    ));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
