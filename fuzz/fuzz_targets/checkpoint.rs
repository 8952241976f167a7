//! Checkpoint files as a run reads them back: arbitrary bytes, and a real checkpoint of a small
//! run with bytes changed, cut short or extended. Every input is either continued from or refused
//! with an error, never a panic; a changed byte anywhere is refused by the checksum.
//!
//! The first input byte chooses the mode: 0 the rest is the file; 1 the real checkpoint with the
//! rest read as (offset, xor) pairs; 2 the real checkpoint cut at the offset the next two bytes
//! give; 3 the real checkpoint with the rest appended.
#![no_main]

use lab::checkpoint::{Checkpoints, RunState};
use lab::job::{EpochMetrics, Observer};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

const EXPERIMENT: &str = r#"Experiment(name: "fuzz", network: (layers: [64, 8, 10]),
  algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 2),
  training: (epochs: 3, batch_size: 256, optimizer: Adam, learning_rate: 0.01), seed: 1)"#;

struct StopAfterFirstEpoch(AtomicUsize);

impl Observer for StopAfterFirstEpoch {
    fn epoch(&self, m: &EpochMetrics) {
        self.0.store(m.epoch, Ordering::SeqCst);
    }
    fn should_stop(&self) -> bool {
        self.0.load(Ordering::SeqCst) >= 1
    }
}

struct Fixture {
    exp: lab::Experiment,
    data: lab::dataset::Dataset,
    checkpoints: Checkpoints,
    valid: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = PathBuf::from("fuzz.ron");
        let exp = lab::load::experiment_from_str(EXPERIMENT, &path).unwrap();
        let data = lab::dataset::load(&exp.dataset, &path).unwrap();
        let dir = std::env::temp_dir().join(format!("dyadsim-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let checkpoints = Checkpoints {
            path: dir.join("point00000-seed0.checkpoint"),
            key: lab::runner::canonical(&exp).unwrap(),
            every: Some(std::time::Duration::ZERO),
        };
        let stop = StopAfterFirstEpoch(AtomicUsize::new(0));
        let _ = lab::job::train_with(&exp, &data, 0, &stop, Some(&checkpoints));
        let valid = std::fs::read(&checkpoints.path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        Fixture {
            exp,
            data,
            checkpoints,
            valid,
        }
    })
}

fuzz_target!(|input: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let (bytes, changed) = match mode % 4 {
        0 => (rest.to_vec(), rest != f.valid.as_slice()),
        1 => {
            let mut b = f.valid.clone();
            for pair in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % b.len();
                b[at] ^= pair[2];
            }
            let changed = b != f.valid;
            (b, changed)
        }
        2 => {
            let at = rest
                .get(..2)
                .map_or(0, |p| usize::from(u16::from_le_bytes([p[0], p[1]])))
                % f.valid.len();
            (f.valid[..at].to_vec(), true)
        }
        _ => {
            let mut b = f.valid.clone();
            b.extend_from_slice(rest);
            (b, !rest.is_empty())
        }
    };
    let mut net = lab::job::build_network(&f.exp, 0).unwrap();
    let t = &f.exp.training;
    let mut optimizer = dualprop::optimizer::Optimizer::for_network(
        t.optimizer,
        t.learning_rate,
        t.momentum,
        t.weight_decay,
        &net,
    );
    let order_len = f.data.train.len();
    let mut state = RunState {
        net: &mut net,
        optimizer: &mut optimizer,
        order_len,
        batches: order_len.div_ceil(t.batch_size),
    };
    let result = f.checkpoints.load_bytes(&bytes, &mut state, t.epochs);
    if changed {
        assert!(result.is_err(), "a changed checkpoint was continued from");
    } else {
        assert!(result.is_ok(), "the real checkpoint was refused: {:?}", result.err());
    }
});
