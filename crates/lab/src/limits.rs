//! The bounds of every count a command takes (threads, shards, replicate seeds), in one table
//! that the command line, the experiment files and the library functions all check against, so
//! that a count is refused up front with its limit, never an allocation that aborts or a loop
//! that does not end.

use crate::field::FieldError;

/// A count and the range it must lie in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// What is counted, for messages and docs.
    pub what: &'static str,
    /// The smallest count accepted.
    pub min: usize,
    /// Why the smallest is what it is (empty when it is 1: fewer than one of anything is nothing).
    pub why_min: &'static str,
    /// The largest count accepted.
    pub max: usize,
    /// Why the largest is what it is.
    pub why: &'static str,
}

/// Worker threads of `run`, `tolerance`, `bench` and `plan` (a tolerance search also probes this
/// many values per round).
pub const THREADS: Limit = Limit {
    what: "worker threads",
    min: 1,
    why_min: "",
    max: 1024,
    why: "starting more takes long and is not faster on any machine dyadsim runs on",
};

/// Shards a grid is split into (`plan --shards N`, `run --shard i/N`).
pub const SHARDS: Limit = Limit {
    what: "shards",
    min: 1,
    why_min: "",
    max: 100_000,
    why: "far more tasks than a cluster's job array takes (Slurm's default MaxArraySize is 1001)",
};

/// Replicate seeds of a tolerance search (`tolerance --seeds N`, `tolerance: (seeds: Some(N))`).
pub const SEEDS: Limit = Limit {
    what: "replicate seeds",
    min: 2,
    why_min: "a confidence bound on the drop needs the spread of at least two seeds",
    max: 10_000,
    why: "every probe trains once per seed; ten thousand runs per probe is far past a tight bound",
};

/// Every limit, for the docs and the tests that hold them.
pub const ALL: [Limit; 3] = [THREADS, SHARDS, SEEDS];

impl Limit {
    /// `n` when it is in range, else the error about `field` that states the range.
    pub fn check(&self, field: &str, n: usize) -> Result<usize, FieldError> {
        if n < self.min {
            let why = if self.why_min.is_empty() {
                String::new()
            } else {
                format!(": {}", self.why_min)
            };
            Err(FieldError::new(
                field,
                format!("must be at least {} (got {n}){why}", self.min),
            ))
        } else if n > self.max {
            Err(FieldError::new(
                field,
                format!("must be at most {} (got {n}): {}", self.max, self.why),
            ))
        } else {
            Ok(n)
        }
    }

    /// Parse a count written by a user (a command-line value): a whole number in range. The
    /// message reads after the flag's name.
    pub fn parse(&self, text: &str) -> Result<usize, String> {
        let trimmed = text.trim();
        let n: u128 = trimmed.parse().map_err(|_| {
            format!(
                "must be a whole number from {} to {} (got {text:?})",
                self.min, self.max
            )
        })?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        self.check("", n).map_err(|e| e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_out_of_range_are_refused_with_the_limit() {
        for limit in ALL {
            assert_eq!(limit.parse(&limit.max.to_string()), Ok(limit.max));
            assert_eq!(limit.parse(&limit.min.to_string()), Ok(limit.min));
            let over = limit.parse(&(limit.max + 1).to_string()).unwrap_err();
            assert!(over.contains(&format!("at most {}", limit.max)), "{over}");
            let huge = limit.parse("18446744073709551616000").unwrap_err();
            assert!(huge.contains(&format!("at most {}", limit.max)), "{huge}");
            let under = limit.parse(&(limit.min - 1).to_string()).unwrap_err();
            assert!(
                under.contains(&format!("at least {}", limit.min)),
                "{under}"
            );
            assert!(limit.parse("-1").unwrap_err().contains("whole number"));
            assert!(limit.parse("2.5").unwrap_err().contains("whole number"));
        }
    }
}
