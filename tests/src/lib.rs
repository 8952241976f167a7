//! Helpers shared by the integration tests: run the CLI in-process, find the workspace, make
//! scratch folders.

use std::path::{Path, PathBuf};

/// What a CLI invocation returned.
#[derive(Debug)]
pub struct Output {
    /// Exit code.
    pub code: u8,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Run `dyadsim ARGS...` exactly as the binary does, capturing both streams.
pub fn dyadsim(args: &[&str]) -> Output {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("dyadsim").chain(args.iter().copied());
    let code = dyadsim::run(argv, &mut out, &mut err);
    Output {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// The workspace root (where Cargo.toml, experiments/ and device-models/ live).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package sits in the workspace root")
        .to_owned()
}

/// A fresh, empty scratch folder for test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("dyadsim-tests-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// The text of a results file without its wall-time entries, the only ones that differ between
/// reruns of the same runs (summary.json and the run records keep each on a line of its own).
pub fn without_timings(text: &str) -> String {
    text.lines()
        .filter(|line| !line.contains("\"wall_time_s\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A CIFAR-10 folder in the binary format: five training files of 6 images and a test file of 10;
/// the label of image i is i mod 10 and its pixels a fixed pattern of i, channel and position.
pub fn write_cifar10(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let records = |from: usize, n: usize| {
        let mut out = Vec::new();
        for i in from..from + n {
            out.push((i % 10) as u8);
            out.extend((0..3072).map(|k| ((i * 37 + k * 11 + (k / 1024) * 60) % 256) as u8));
        }
        out
    };
    for b in 0..5 {
        std::fs::write(
            dir.join(format!("data_batch_{}.bin", b + 1)),
            records(6 * b, 6),
        )
        .unwrap();
    }
    std::fs::write(dir.join("test_batch.bin"), records(100, 10)).unwrap();
}
