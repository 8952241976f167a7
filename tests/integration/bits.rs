//! The bits suite: the pinned digests hold, and they hold under every blocking and dispatch choice
//! this machine can be forced into — other cache descriptions (which the gemm crate sizes its
//! blocking from), narrower vector units, one thread — so that a build reproduces its goldens on
//! every x86-64 processor with AVX2 and FMA, not just on the one that pinned them.
//!
//! The variants re-run this test binary's digest test in a child process: the cache description
//! and the vector width are read once per process.

use lab::check::bits;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The test every variant re-runs in a child process.
const DIGEST_TEST: &str = "bits::the_bits_match_the_pinned_digests";
/// The line on which that test prints its digests, for the parent to read.
const MARKER: &str = "dyadsim-bits: ";

fn digests() -> BTreeMap<String, u64> {
    bits::digests()
        .expect("the bits suite runs")
        .into_iter()
        .collect()
}

#[test]
fn the_bits_match_the_pinned_digests() {
    let computed = bits::digests().expect("the bits suite runs");
    let line: BTreeMap<&str, String> = computed
        .iter()
        .map(|(n, h)| (n.as_str(), format!("{h:016x}")))
        .collect();
    println!("{MARKER}{}", serde_json::to_string(&line).unwrap());
    let checks = bits::run().expect("the bits suite runs");
    let moved: Vec<String> = checks
        .iter()
        .filter(|c| !c.pass)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    assert!(
        moved.is_empty(),
        "these operations compute other bits than the pinned ones:\n{}\n\nIf the change is \
         deliberate, the new table for PINNED in crates/lab/src/check/bits.rs is:\n{}",
        moved.join("\n"),
        bits::pinned_table(&computed)
    );
}

/// The digests a child process of this test binary computes under `setup` (a shell command run
/// first, in the same shell) and the environment `env`.
fn child_digests(
    setup: Option<&str>,
    env: &[(&str, &str)],
) -> Result<BTreeMap<String, u64>, String> {
    let exe = std::env::current_exe().unwrap();
    let test = format!(
        "{} --exact {DIGEST_TEST} --nocapture --test-threads 1",
        exe.display()
    );
    let mut cmd = match setup {
        Some(setup) => {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "private", "sh", "-ec"]);
            c.arg(format!("{setup}\nexec {test}"));
            c
        }
        None => {
            let mut c = Command::new(&exe);
            c.args(["--exact", DIGEST_TEST, "--nocapture", "--test-threads", "1"]);
            c
        }
    };
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(MARKER).map(|(_, json)| json.to_owned()))
        .ok_or_else(|| {
            format!(
                "no digests printed (exit {:?}):\n{stdout}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let parsed: BTreeMap<String, String> = serde_json::from_str(&line).unwrap();
    Ok(parsed
        .into_iter()
        .map(|(k, v)| (k, u64::from_str_radix(&v, 16).unwrap()))
        .collect())
}

/// The operations whose digests differ between `a` and `b`.
fn moved(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> Vec<String> {
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

#[test]
fn the_bits_do_not_depend_on_the_vector_width_or_the_thread_count() {
    let reference = digests();
    for env in [
        [("DYADSIM_MAX_SIMD", "avx2"), ("RAYON_NUM_THREADS", "2")],
        [("DYADSIM_MAX_SIMD", "baseline"), ("RAYON_NUM_THREADS", "2")],
        [("DYADSIM_MAX_SIMD", "avx512"), ("RAYON_NUM_THREADS", "1")],
        [("DYADSIM_MAX_SIMD", "avx512"), ("RAYON_NUM_THREADS", "3")],
    ] {
        let child = child_digests(None, &env).unwrap();
        assert_eq!(child.len(), reference.len());
        let differ = moved(&reference, &child);
        assert!(differ.is_empty(), "under {env:?} these moved: {differ:?}");
    }
}

/// A data or unified cache as Linux describes it: (level, size, ways).
type Cache = (u32, &'static str, u32);

/// A shell fragment that hides the machine's cache description behind one of its own: a private
/// mount of a folder holding `cpu0/cache/index*` as Linux writes them. `levels` is (level, size,
/// ways) per data or unified cache; an empty list leaves no description at all.
fn fake_caches(dir: &Path, levels: &[Cache]) -> String {
    let mut s = format!("mkdir -p {d}\nmount -t tmpfs none {d}\n", d = dir.display());
    for (i, (level, size, ways)) in levels.iter().enumerate() {
        let index = dir.join(format!("cpu0/cache/index{i}"));
        s.push_str(&format!(
            "mkdir -p {p}\necho {level} > {p}/level\necho {kind} > {p}/type\necho {size} > \
             {p}/size\necho {ways} > {p}/ways_of_associativity\necho 64 > \
             {p}/coherency_line_size\necho 0 > {p}/shared_cpu_list\n",
            p = index.display(),
            kind = if *level == 1 { "Data" } else { "Unified" },
        ));
    }
    s.push_str(&format!(
        "mount --bind {} /sys/devices/system/cpu\n",
        dir.display()
    ));
    s
}

/// Whether this process may make a private mount namespace (root with util-linux's unshare).
fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_bits_do_not_depend_on_the_cache_description() {
    if !can_unshare() {
        eprintln!(
            "skipped: faking cache descriptions needs a private mount namespace (root and \
             util-linux's unshare); CI runs it"
        );
        return;
    }
    let reference = digests();
    let dir = tests::scratch("bits-caches").join("cpu");
    let machines: [(&str, &[Cache]); 4] = [
        (
            "32 KiB 8-way L1",
            &[(1, "32K", 8), (2, "256K", 8), (3, "8192K", 16)],
        ),
        (
            "48 KiB 12-way L1",
            &[(1, "48K", 12), (2, "2048K", 16), (3, "107520K", 15)],
        ),
        (
            "64 KiB 4-way L1",
            &[(1, "64K", 4), (2, "512K", 8), (3, "4096K", 16)],
        ),
        ("no description", &[]),
    ];
    for (name, levels) in machines {
        let child = child_digests(Some(&fake_caches(&dir, levels)), &[]).unwrap();
        assert_eq!(child.len(), reference.len(), "{name}");
        let differ = moved(&reference, &child);
        assert!(
            differ.is_empty(),
            "with a {name} cache these moved: {differ:?}"
        );
    }
}
