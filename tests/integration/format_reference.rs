//! docs/EXPERIMENT-FORMAT.md stays complete: every field and variant of the types an experiment or
//! hardware file is read into appears in it, and its examples load.

use std::collections::BTreeSet;
use tests::root;

/// The source files that define what an experiment or hardware file may hold.
const SPEC_SOURCES: [&str; 25] = [
    "crates/lab/src/spec.rs",
    "crates/lab/src/lr_schedule.rs",
    "crates/lab/src/tolerance/spec.rs",
    "crates/lab/src/tolerance/search.rs",
    "crates/lab/src/hardware.rs",
    "crates/lab/src/sweep.rs",
    "crates/lab/src/metrics.rs",
    "crates/datasets/src/lib.rs",
    "crates/datasets/src/mnist.rs",
    "crates/datasets/src/cifar.rs",
    "crates/datasets/src/transform.rs",
    "crates/datasets/src/synthetic.rs",
    "crates/dualprop/src/algorithm.rs",
    "crates/dualprop/src/network.rs",
    "crates/dualprop/src/dynamics.rs",
    "crates/dualprop/src/schedule.rs",
    "crates/dualprop/src/activation.rs",
    "crates/dualprop/src/loss.rs",
    "crates/dualprop/src/optimizer.rs",
    "crates/dualprop/src/adversarial.rs",
    "crates/crossbar/src/spec/mod.rs",
    "crates/crossbar/src/spec/device.rs",
    "crates/crossbar/src/spec/io.rs",
    "crates/crossbar/src/spec/circuit.rs",
    "crates/crossbar/src/spec/cost.rs",
];

/// Field and variant names of every item deriving `Deserialize` in `text` (including the
/// structs a `macro_rules!` body declares and the fields its invocations add), except fields
/// marked `#[serde(skip)]`.
fn spec_names(text: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < lines.len() {
        let derives =
            lines[i].trim_start().starts_with("#[derive") && lines[i].contains("Deserialize");
        if !derives {
            i += 1;
            continue;
        }
        let Some(start) = (i..lines.len().min(i + 6)).find(|&k| {
            let t = lines[k].trim_start();
            t.starts_with("pub struct ") || t.starts_with("pub enum ")
        }) else {
            i += 1;
            continue;
        };
        let is_enum = lines[start].trim_start().starts_with("pub enum ");
        let indent = lines[start].len() - lines[start].trim_start().len();
        let mut depth = 0i32;
        let mut skip_next = false;
        let mut k = start;
        loop {
            let line = lines[k];
            let t = line.trim();
            let own = line.len() - line.trim_start().len();
            if k > start && depth >= 1 {
                if t.starts_with("#[serde(skip") && !t.contains("skip_serializing") {
                    skip_next = true;
                } else if let Some(rest) = t
                    .strip_prefix("pub ")
                    .or((is_enum || own > indent + 4).then_some(t))
                {
                    let ident: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let after = &rest[ident.len()..];
                    let field = after.starts_with(':');
                    let variant = is_enum
                        && own == indent + 4
                        && ident.chars().next().is_some_and(char::is_uppercase);
                    if !ident.is_empty()
                        && !ident.starts_with('$')
                        && (field || variant)
                        && !std::mem::take(&mut skip_next)
                    {
                        names.insert(ident);
                    }
                }
            }
            depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
            if (depth == 0 && k > start && t.contains('}')) || t.ends_with(';') && depth == 0 {
                break;
            }
            k += 1;
        }
        i = k + 1;
    }
    // Parameters that macro invocations add: `name: type = default,` (outside test code).
    let library = text.split("#[cfg(test)]").next().unwrap_or(text);
    for line in library.lines() {
        let t = line.trim();
        let Some((ident, rest)) = t.split_once(": ") else {
            continue;
        };
        let Some((ty, _default)) = rest.split_once(" = ") else {
            continue;
        };
        let is_ident = |s: &str, extra: &[char]| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c))
        };
        if rest.ends_with(',') && is_ident(ident, &[]) && is_ident(ty, &['<', '>', ':']) {
            names.insert(ident.to_owned());
        }
    }
    names
}

#[test]
fn every_field_of_the_spec_types_is_in_the_format_reference() {
    let doc = std::fs::read_to_string(root().join("docs/EXPERIMENT-FORMAT.md")).unwrap();
    let mut missing = Vec::new();
    let mut total = 0;
    for file in SPEC_SOURCES {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        for name in spec_names(&text) {
            total += 1;
            if !doc.contains(&format!("`{name}`")) {
                missing.push(format!("{file}: {name}"));
            }
        }
    }
    assert!(total > 150, "the scan found only {total} names");
    assert!(
        missing.is_empty(),
        "docs/EXPERIMENT-FORMAT.md lacks {} field(s) or variant(s):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_scan_sees_fields_variants_and_skips() {
    let names = spec_names(
        r#"
#[derive(Deserialize)]
pub struct A {
    /// doc
    pub alpha: f32,
    #[serde(skip)]
    pub source: Option<String>,
}
#[derive(Deserialize)]
pub enum B {
    One,
    Two {
        inner: usize,
    },
    Three(C),
}
"#,
    );
    let expected: BTreeSet<String> = ["alpha", "One", "Two", "inner", "Three"]
        .map(String::from)
        .into();
    assert_eq!(names, expected);
}

#[test]
fn the_examples_of_the_format_reference_load() {
    let doc = std::fs::read_to_string(root().join("docs/EXPERIMENT-FORMAT.md")).unwrap();
    let blocks: Vec<&str> = doc
        .split("```ron\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2);
    // The experiment names its hardware relative to itself, as experiments/ does.
    let path = root().join("experiments/format-reference-example.ron");
    lab::load::experiment_from_str(blocks[0], &path).unwrap_or_else(|e| panic!("{e}"));
    lab::hardware::parse(blocks[1], std::path::Path::new("example.ron"))
        .unwrap_or_else(|e| panic!("{e}"));
}
