//! The one place where the libraries' typed errors become what a command-line user reads: an
//! option field becomes its flag, and every message is printed once.

use lab::{FieldError, LabError};

/// The flag that sets an option field of a command (fields of `lab`'s option structs; algorithm
/// fields as `gradcheck` sets them).
pub fn flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "algorithm.alpha" => "--alpha",
        "algorithm.beta" => "--beta",
        "algorithm.passes" => "--passes",
        "algorithm.alpha_mix" => "--alpha-mix",
        "algorithm.alpha_fb" => "--alpha-fb",
        "algorithm.output" => "--output",
        "algorithm.circuit.tau" => "--tau",
        "algorithm.circuit.dt" => "--dt",
        "algorithm.circuit.tol" => "--tol",
        "algorithm.circuit.t_max" => "--t-max",
        "layers" => "--layers",
        "batch" => "--batch",
        "weight_scale" => "--weight-scale",
        "devices" => "--devices",
        "pulses" => "--pulses",
        "times" => "--times",
        "targets" => "--targets",
        "drift" => "--drift",
        "shard" => "--shard",
        "shards" => "--shards",
        "threads" => "--threads",
        "only" => "--only",
        "golden" => "--golden",
        "hardware" => "--hardware",
        "point" => "--point",
        "rtol" => "--rtol",
        "max_sigma" => "--max-sigma",
        _ => return None,
    })
}

/// A command-line argument the binary itself refuses, in the words of the flag it checked;
/// reported with the bad-input exit code.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// True when `e` or one of its causes blames the user's input (exit code 2).
pub fn is_input_error(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.is::<Usage>()
            || cause
                .downcast_ref::<LabError>()
                .is_some_and(LabError::is_input_error)
    })
}

/// What to do about an option error, when the flag alone does not say it.
fn hint(field: &str) -> Option<&'static str> {
    match field {
        "golden" => Some("pin one with --pin EXPERIMENT.ron --golden DIR"),
        "root" => Some("run from inside the dyadsim source tree, or pass --hardware / --golden"),
        _ => None,
    }
}

/// An option error in the user's words: `--devices must be at least 1 (got 0)`.
pub fn option(e: &FieldError) -> String {
    let name = flag(&e.field).map_or_else(|| e.field.clone(), str::to_owned);
    match hint(&e.field) {
        Some(hint) => format!("{name} {}; {hint}", e.message),
        None => format!("{name} {}", e.message),
    }
}

/// The error and its causes, each message once: a cause whose text its parent already ends with
/// (an OS error inside "path: OS error") is not repeated.
pub fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = match cause.downcast_ref::<LabError>() {
            Some(LabError::Option(field)) => option(field),
            // Only a folder written into is chosen by --out (or by its default).
            Some(
                e @ LabError::Foreign {
                    role: lab::folder::Role::Output,
                    ..
                },
            ) => format!("{e}: choose another --out"),
            Some(e @ LabError::OtherExperiment { .. }) => {
                format!("{e}; pass --fresh to discard them or --out to choose another folder")
            }
            Some(LabError::AlreadyPinned { path, diff }) => format!(
                "{} is already pinned; pass --update to replace it. Its diff against a fresh run:\n{diff}",
                path.display()
            ),
            _ => cause.to_string(),
        };
        if text.is_empty() {
            text = part;
        } else if !text.ends_with(&part) {
            text = format!("{text}: {part}");
        }
    }
    text
}

/// Parse `--threads` of every command: a count within [`lab::limits::THREADS`].
pub fn threads(text: &str) -> Result<usize, String> {
    lab::limits::THREADS.parse(text)
}

/// Parse `plan --shards`: a count within [`lab::limits::SHARDS`] (`run --shard i/n` checks n
/// against the same limit).
pub fn shards(text: &str) -> Result<usize, String> {
    lab::limits::SHARDS.parse(text)
}

/// Parse `tolerance --seeds`: a count within [`lab::limits::SEEDS`] (a tolerance section's
/// `seeds` is checked against the same limit).
pub fn seeds(text: &str) -> Result<usize, String> {
    lab::limits::SEEDS.parse(text)
}

/// Default of `run --checkpoint-minutes`: a run stopped mid-way loses at most this much work (and
/// one mini-batch), and runs shorter than this write no checkpoint at all.
pub const CHECKPOINT_MINUTES: &str = "10";

/// How often runs write checkpoints; `None`: never.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointEvery(pub Option<std::time::Duration>);

/// Parse `--checkpoint-minutes`: minutes in [0, 10⁶] between checkpoints, or `never`; a negative
/// number (with an ASCII or a Unicode minus) is refused in these words, not as an unknown flag.
pub fn checkpoint_minutes(text: &str) -> Result<CheckpointEvery, String> {
    const RULE: &str = "must be a number of minutes ≥ 0 (at most 1000000) or `never`";
    if text.trim() == "never" {
        return Ok(CheckpointEvery(None));
    }
    let m: f64 = text
        .trim()
        .replace('\u{2212}', "-")
        .parse()
        .map_err(|_| format!("{RULE} (got {text:?})"))?;
    if (0.0..=1e6).contains(&m) {
        Ok(CheckpointEvery(Some(std::time::Duration::from_secs_f64(
            60.0 * m,
        ))))
    } else {
        Err(format!("{RULE} (got {text})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gradcheck_option_has_a_flag() {
        for field in [
            "layers",
            "batch",
            "weight_scale",
            "algorithm.alpha",
            "algorithm.passes",
        ] {
            assert!(flag(field).is_some(), "{field}");
        }
    }

    #[test]
    fn an_os_error_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let shown = io.to_string();
        let e = anyhow::Error::from(LabError::Io {
            path: "x.ron".into(),
            source: io,
        });
        assert_eq!(message(&e), format!("x.ron: {shown}"));
    }

    #[test]
    fn threads_out_of_range_are_refused() {
        assert_eq!(threads("4"), Ok(4));
        assert!(threads("0").is_err());
        assert!(threads("100000").unwrap_err().contains("at most 1024"));
        assert!(shards("1000000000").unwrap_err().contains("at most 100000"));
        assert!(
            seeds("1000000000000")
                .unwrap_err()
                .contains("at most 10000")
        );
    }

    #[test]
    fn a_negative_checkpoint_interval_is_refused_in_words() {
        for text in ["-1", "\u{2212}1", "-0.5"] {
            let e = checkpoint_minutes(text).unwrap_err();
            assert!(e.contains("≥ 0") && e.contains("never"), "{e}");
        }
        assert_eq!(checkpoint_minutes("never"), Ok(CheckpointEvery(None)));
    }
}
