//! The order in which layers are updated during settling, as in the authors' reference code.
//!
//! Layers are numbered 1..L (L = the linear output). One *pass* visits every layer at least once; the
//! residual and the early stop are evaluated per pass. A schedule may end with a *closing sweep*
//! after its last pass (only `Rounds` has one); it counts as part of the last pass.

use serde::{Deserialize, Serialize};

/// The order in which layers are updated during one settling pass (Gauss–Seidel, in place).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Schedule {
    /// Layers 1..L in order, every pass (the authors' `fwK`).
    #[default]
    Forward,
    /// A zig-zag: the first pass goes down L..1, every later pass goes up 2..L and down again
    /// L−1..1 (the authors' `fwbwK`, without its repeated updates of layer 1 at each turn, which
    /// change nothing for undamped dynamics).
    ForwardBackward,
    /// Layers L..1 every pass (the authors' `bwK` is one such pass).
    Backward,
    /// Odd layers 1, 3, 5, … then even layers 2, 4, … every pass (the authors' `oddeven`).
    OddEven,
    /// Even layers then odd layers every pass (the authors' `evenodd`).
    EvenOdd,
    /// The rounds of the authors' MLP code (`train_DP.jl`): the output L is nudged once at the free
    /// state, then every pass (a *round*) updates the hidden layers downwards L−1..1, back up 2..L−1,
    /// and the output L at its new drive; a closing sweep L−1..1 follows the last round. For
    /// 784-512-512-10 (L = 3) a round is 2, 1, 2, 3 and the closing sweep 2, 1, as in their code.
    Rounds,
}

/// An arithmetic run of layer indices: `first`, `first + step`, … while within 1..=`last_bound`.
#[derive(Clone, Copy, Debug)]
struct Run {
    next: isize,
    step: isize,
    /// Inclusive bound in the direction of `step`.
    end: isize,
}

impl Run {
    const EMPTY: Run = Run {
        next: 1,
        step: 1,
        end: 0,
    };

    fn new(first: usize, end: usize, step: isize) -> Self {
        Run {
            next: first as isize,
            step,
            end: end as isize,
        }
    }

    fn next(&mut self) -> Option<usize> {
        let inside = if self.step > 0 {
            self.next <= self.end
        } else {
            self.next >= self.end
        };
        if !inside || self.next < 1 {
            return None;
        }
        let k = self.next as usize;
        self.next += self.step;
        Some(k)
    }
}

/// The layers of one pass, in update order; allocation-free.
#[derive(Clone, Copy, Debug)]
pub struct PassOrder {
    runs: [Run; 3],
    current: usize,
}

impl Iterator for PassOrder {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.current < self.runs.len() {
            if let Some(k) = self.runs[self.current].next() {
                return Some(k);
            }
            self.current += 1;
        }
        None
    }
}

impl Schedule {
    /// Every schedule, in declaration order.
    pub const ALL: [Schedule; 6] = [
        Schedule::Forward,
        Schedule::ForwardBackward,
        Schedule::Backward,
        Schedule::OddEven,
        Schedule::EvenOdd,
        Schedule::Rounds,
    ];

    /// The layers (1-based) updated in pass `pass` (0-based) of a network with `depth` layers.
    pub fn pass(self, depth: usize, pass: usize) -> PassOrder {
        let l = depth;
        let e = Run::EMPTY;
        let runs = if l <= 1 {
            [Run::new(1, l, 1), e, e]
        } else {
            match self {
                Schedule::Forward => [Run::new(1, l, 1), e, e],
                Schedule::Backward => [Run::new(l, 1, -1), e, e],
                Schedule::ForwardBackward if pass == 0 => [Run::new(l, 1, -1), e, e],
                Schedule::ForwardBackward => [Run::new(2, l, 1), Run::new(l - 1, 1, -1), e],
                Schedule::OddEven => [Run::new(1, l, 2), Run::new(2, l, 2), e],
                Schedule::EvenOdd => [Run::new(2, l, 2), Run::new(1, l, 2), e],
                Schedule::Rounds => {
                    let nudge = if pass == 0 { Run::new(l, l, 1) } else { e };
                    [nudge, Run::new(l - 1, 1, -1), Run::new(2, l, 1)]
                }
            }
        };
        PassOrder { runs, current: 0 }
    }

    /// The layers (1-based) of the closing sweep after the last pass (empty for all but `Rounds`).
    pub fn closing(self, depth: usize) -> PassOrder {
        let e = Run::EMPTY;
        let runs = match self {
            Schedule::Rounds if depth > 1 => [Run::new(depth - 1, 1, -1), e, e],
            _ => [e, e, e],
        };
        PassOrder { runs, current: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(s: Schedule, depth: usize, pass: usize) -> Vec<usize> {
        s.pass(depth, pass).collect()
    }

    #[test]
    fn orders_match_the_reference_definitions() {
        assert_eq!(order(Schedule::Forward, 4, 3), [1, 2, 3, 4]);
        assert_eq!(order(Schedule::Backward, 4, 0), [4, 3, 2, 1]);
        assert_eq!(order(Schedule::ForwardBackward, 4, 0), [4, 3, 2, 1]);
        assert_eq!(order(Schedule::ForwardBackward, 4, 1), [2, 3, 4, 3, 2, 1]);
        assert_eq!(order(Schedule::OddEven, 5, 0), [1, 3, 5, 2, 4]);
        assert_eq!(order(Schedule::EvenOdd, 5, 2), [2, 4, 1, 3, 5]);
        assert_eq!(order(Schedule::OddEven, 4, 0), [1, 3, 2, 4]);
    }

    #[test]
    fn rounds_follow_the_authors_mlp_settling() {
        // train_DP.jl, L = 3: nudge the output, then per round 2, 1, 2, 3; closing 2, 1.
        assert_eq!(order(Schedule::Rounds, 3, 0), [3, 2, 1, 2, 3]);
        assert_eq!(order(Schedule::Rounds, 3, 4), [2, 1, 2, 3]);
        assert_eq!(Schedule::Rounds.closing(3).collect::<Vec<_>>(), [2, 1]);
        // Deeper: down through every hidden layer and back up to the output.
        assert_eq!(order(Schedule::Rounds, 4, 1), [3, 2, 1, 2, 3, 4]);
        assert_eq!(Schedule::Rounds.closing(4).collect::<Vec<_>>(), [3, 2, 1]);
        // One hidden layer: it, then the output; only the output without hidden layers.
        assert_eq!(order(Schedule::Rounds, 2, 0), [2, 1, 2]);
        assert_eq!(order(Schedule::Rounds, 2, 1), [1, 2]);
        assert_eq!(order(Schedule::Rounds, 1, 0), [1]);
        assert_eq!(Schedule::Rounds.closing(1).count(), 0);
        assert_eq!(Schedule::Forward.closing(3).count(), 0);
    }

    #[test]
    fn every_pass_visits_every_layer() {
        for s in Schedule::ALL {
            for depth in 1..6 {
                for pass in 0..3 {
                    let mut seen = order(s, depth, pass);
                    seen.sort_unstable();
                    seen.dedup();
                    assert_eq!(
                        seen,
                        (1..=depth).collect::<Vec<_>>(),
                        "{s:?} L={depth} pass {pass}"
                    );
                }
            }
        }
    }
}
