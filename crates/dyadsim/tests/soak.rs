//! Soak test of the built binary: a hardware sweep killed with SIGKILL at seeded random moments
//! and resumed ends byte-identical to an uninterrupted run, with no temporary file left; and the
//! same with a checkpoint at almost every mini-batch, so that kills land in checkpoint writes and
//! runs continue from checkpoints, none of which is left behind; and two tolerance searches started
//! together into one folder, of which the second is refused and the first's records stay whole.
//!
//! It lives with the binary because only a package's own tests are given the path of its binary
//! (`CARGO_BIN_EXE_dyadsim`), and a kill must hit a real process, not a thread of the test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Kills of a running process the test needs before it lets a run finish.
const KILLS: usize = 10;

/// Two device-models presets by relative path (as experiments/nudging-asymmetry.ron names them),
/// a tiny network on the embedded digits, two epochs: 8 runs in a fraction of a second.
const EXPERIMENT: &str = r#"Experiment(
    name: "soak",
    network: (layers: [64, 16, 10], loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.2, passes: 3),
    training: (epochs: 2, batch_size: 32, learning_rate: 0.05),
    seed: 9,
    seeds: [0, 1],
    sweep: {
        "hardware": ["../device-models/ideal.ron", "../device-models/ecram-tang2018-rounding.ron"],
        "algorithm.alpha": [0.0, 1.0],
    },
)
"#;

/// SplitMix64: the kill moments come from a fixed seed, so a failure can be replayed.
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn start(exp: &Path, out: &Path, fresh: bool, extra: &[&str]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dyadsim"));
    cmd.arg("run")
        .arg(exp)
        .arg("--out")
        .arg(out)
        .args(["--threads", "2"])
        .args(extra);
    if fresh {
        cmd.arg("--fresh");
    }
    cmd.stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dyadsim binary starts")
}

fn finish(child: Child) {
    let output = child.wait_with_output().expect("dyadsim ends");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// summary.json's `wall_time_s`, the seconds spent, is the one entry that differs between runs
/// (on a line of its own); everything else must be the same bytes.
fn without_wall_time(bytes: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(bytes).expect("summary.json is UTF-8");
    text.lines()
        .filter(|line| !line.contains("\"wall_time_s\""))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// The results that must not depend on kills: metrics.csv, points.csv, summary.json (but its wall
/// time) and every record.
fn results(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = vec![
        out.join("metrics.csv"),
        out.join("points.csv"),
        out.join("summary.json"),
    ];
    let mut records: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
        .expect("runs/ exists")
        .map(|e| e.expect("readable folder").path())
        .collect();
    records.sort();
    files.extend(records);
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let bytes = if f.ends_with("summary.json") {
                without_wall_time(bytes)
            } else {
                bytes
            };
            (f.strip_prefix(out).expect("inside").to_owned(), bytes)
        })
        .collect()
}

/// Assert equal results, naming the first file that differs rather than printing bytes.
fn same(got: &[(PathBuf, Vec<u8>)], want: &[(PathBuf, Vec<u8>)], when: &str) {
    let names = |r: &[(PathBuf, Vec<u8>)]| r.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(got), names(want), "{when}: other files");
    for ((path, a), (_, b)) in got.iter().zip(want) {
        assert!(
            a == b,
            "{when}: {} differs:\n{}\n---- uninterrupted:\n{}",
            path.display(),
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
}

fn temporaries(out: &Path) -> Vec<String> {
    [out.to_owned(), out.join("runs")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("folder exists"))
        .map(|e| {
            e.expect("readable folder")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.contains(".tmp"))
        .collect()
}

#[test]
fn a_hardware_sweep_killed_at_random_moments_resumes_byte_identical() {
    soak("plain", &[], 0x50AC);
}

#[test]
fn runs_killed_while_checkpointing_continue_byte_identical() {
    // 0.6 ms between checkpoints: one at nearly every mini-batch boundary.
    soak("checkpoints", &["--checkpoint-minutes", "0.00001"], 0xC4EC);
}

/// Kill runs of the sweep started with `extra` flags at moments drawn from `seed`, resume, and
/// compare with a run never killed.
fn soak(name: &str, extra: &[&str], seed: u64) {
    let dir = std::env::temp_dir().join(format!("dyadsim-soak-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../device-models");
    std::fs::create_dir_all(dir.join("device-models")).expect("temp dir is writable");
    for preset in ["ideal.ron", "ecram-tang2018-rounding.ron"] {
        std::fs::copy(models.join(preset), dir.join("device-models").join(preset))
            .expect("shipped preset");
    }
    std::fs::create_dir_all(dir.join("exp")).expect("temp dir is writable");
    let exp = dir.join("exp/soak.ron");
    std::fs::write(&exp, EXPERIMENT).expect("temp dir is writable");

    let whole = dir.join("whole");
    let began = Instant::now();
    finish(start(&exp, &whole, false, &[]));
    // Kill moments spread over the time a whole run takes here, however loaded the machine is.
    let full = began.elapsed();
    let expected = results(&whole);
    assert_eq!(expected.len(), 3 + 8, "three tables, 8 records");

    let killed = dir.join("killed");
    let mut rng = SplitMix(seed);
    let (mut kills, mut completions, mut checkpointed) = (0, 0, 0);
    let mut fresh = false;
    while kills < KILLS {
        let mut child = start(&exp, &killed, fresh, extra);
        fresh = false;
        std::thread::sleep(full.mul_f64(rng.unit()));
        if child.try_wait().expect("child status").is_some() {
            // It finished before the kill: it must have finished right, then it starts over.
            finish(child);
            same(
                &results(&killed),
                &expected,
                &format!("after {kills} kills"),
            );
            completions += 1;
            fresh = true;
        } else {
            child.kill().expect("SIGKILL");
            child.wait().expect("killed child is reaped");
            kills += 1;
            let runs = std::fs::read_dir(killed.join("runs")).into_iter().flatten();
            checkpointed += runs
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".checkpoint"))
                .count();
        }
    }
    finish(start(&exp, &killed, false, extra));
    same(
        &results(&killed),
        &expected,
        &format!("after {kills} kills and {completions} earlier completions"),
    );
    assert_eq!(temporaries(&killed), Vec::<String>::new());
    if !extra.is_empty() {
        assert!(
            checkpointed > 0,
            "no kill left a checkpoint to continue from"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tolerance search of about a second here: DP⊤ on the embedded digits, α from ½ towards one
/// end, three seeds.
const SEARCH: &str = r#"Experiment(
    name: "search",
    network: (layers: [64, 16, 10], loss: Mse),
    algorithm: (kind: Dp, alpha: 0.5, beta: 2.0, passes: 4),
    training: (epochs: 12, batch_size: 32, learning_rate: 0.05, momentum: 0.9),
    seed: 7,
    seeds: [0, 1, 2],
)
"#;

fn tolerance(exp: &Path, out: &Path, to: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dyadsim"));
    cmd.args(["tolerance"])
        .arg(exp)
        .args([
            "--axis",
            "algorithm.alpha",
            "--to",
            to,
            "--threads",
            "1",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn two_concurrent_tolerance_searches_into_one_folder_one_is_refused() {
    let dir = std::env::temp_dir().join(format!("dyadsim-soak-tolerance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    let exp = dir.join("search.ron");
    std::fs::write(&exp, SEARCH).expect("temp dir is writable");
    let out = dir.join("out");
    let first = tolerance(&exp, &out, "1").spawn().expect("dyadsim starts");
    // The second starts once the first holds the lock (it writes its command into the lock file).
    let lock = out.join(".dyadsim.lock");
    let began = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("dyadsim tolerance")) {
        assert!(
            began.elapsed().as_secs() < 60,
            "the first search took no lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = tolerance(&exp, &out, "0").output().expect("dyadsim runs");
    let first = first.wait_with_output().expect("dyadsim ends");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let refused = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{refused}");
    // Refused for the lock while the first ran, or, had it finished first, as another search.
    assert!(
        refused.contains("is in use by process")
            || refused.contains("tolerance.to: 1 in the folder"),
        "{refused}"
    );
    // Every record is the first search's, and every probe it reports has its records.
    let answer: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("tolerance.json")).expect("the first search's answer"),
    )
    .expect("tolerance.json is JSON");
    let mut records = 0;
    for entry in std::fs::read_dir(out.join("runs")).expect("runs/ exists") {
        let text = std::fs::read_to_string(entry.expect("readable").path()).expect("a record");
        let record: serde_json::Value = serde_json::from_str(&text).expect("a JSON record");
        let alpha = record["params"]["algorithm.alpha"]
            .as_f64()
            .expect("a probe");
        assert!(
            (0.5..=1.0).contains(&alpha),
            "a probe of the refused search: {alpha}"
        );
        records += 1;
    }
    let probes = answer["probes"].as_array().expect("probes").len();
    assert_eq!(records, probes * 3, "{answer}");
    assert_eq!(temporaries(&out), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
