//! Analytic FLOP counts of the benchmarked steps, as the unoptimised algorithm does them.
//!
//! Only the matrix products are counted (2 FLOPs per multiply-add); activations, noise, bias
//! additions and the optimiser's elementwise work are not, so `gflops` is the rate of useful
//! linear algebra and comparable across implementations. docs/PERFORMANCE.md states the formulas.
//!
//! With P = Σₖ nₖ·nₖ₋₁ (every weight once) and T = P − n₁·n₀ (the weights read transposed: a pass
//! never reads W₁ᵀ, nobody needs the error at the input):
//!
//! - forward pass: 2·P·B;
//! - DP⊤ step with K passes: 2·B·(P + K·(P + T) + P) — the free phase, K passes each re-reading
//!   every layer's drive and every hidden layer's top-down signal, and the update δ·s̄ᵀ;
//! - backprop step: 2·B·(P + T + P) — forward, backward, weight gradient (the code also forms
//!   ∇ₓℓ = W₁ᵀ·δ₁, which training does not need and which is not counted).
//!
//! Convolution blocks ([`conv_dp_step`]) read their array once per output position: block k's
//! multiply-adds per sample are mₖ = C_out·(C_in·k²)·Pₖ (Pₖ the positions before pooling; a dense
//! block's mₖ = nₖ·nₖ₋₁), the im2col GEMM C_out × C_in·k² times C_in·k² × Pₖ·B. A pooled block also
//! reads its array to find the max-pooling routing: once per pass for the top-down signal (at
//! conv(s⁺) below, or conv(s̄)) and once for the update (at conv(s̄)). So, with M = Σₖ mₖ,
//! T = M − m₁ and R = Σ over pooled blocks k ≥ 2 of mₖ, R₁ = Σ over all pooled blocks of mₖ:
//!
//! - DP⊤ step with K passes: 2·B·(M + K·(M + T + R) + M + R₁). For a dense network R = R₁ = 0 and
//!   mₖ = nₖ·nₖ₋₁, which is [`dp_step`].

use dualprop::Block;

/// P = Σₖ nₖ·nₖ₋₁: the number of weights.
pub fn weights(sizes: &[usize]) -> f64 {
    sizes.windows(2).map(|w| (w[0] * w[1]) as f64).sum()
}

/// T = P − n₁·n₀: the weights of layers 2..L, the ones read transposed.
pub fn transposed(sizes: &[usize]) -> f64 {
    weights(sizes)
        - sizes
            .first()
            .zip(sizes.get(1))
            .map_or(0.0, |(a, b)| (a * b) as f64)
}

/// FLOPs of a forward pass of `batch` samples: 2·P·B.
pub fn forward(sizes: &[usize], batch: usize) -> f64 {
    2.0 * weights(sizes) * batch as f64
}

/// FLOPs of a DP⊤ training step with `passes` settling passes (or circuit Euler steps, which read
/// every array once forward and once transposed like a pass): 2·B·(P + K·(P + T) + P).
pub fn dp_step(sizes: &[usize], batch: usize, passes: usize) -> f64 {
    let (p, t) = (weights(sizes), transposed(sizes));
    2.0 * batch as f64 * (2.0 * p + passes as f64 * (p + t))
}

/// FLOPs of a backprop training step: 2·B·(2·P + T).
pub fn backprop_step(sizes: &[usize], batch: usize) -> f64 {
    2.0 * batch as f64 * (2.0 * weights(sizes) + transposed(sizes))
}

/// mₖ of every block: multiply-adds per sample of one read of its array, and whether it pools.
/// `sizes` are the units per layer, input first, as `dualprop::block::resolve` gives them.
pub fn block_macs(blocks: &[Block], sizes: &[usize]) -> Vec<(f64, bool)> {
    blocks
        .iter()
        .zip(sizes.windows(2))
        .map(|(b, w)| match b {
            Block::Dense => ((w[0] * w[1]) as f64, false),
            Block::Conv(c) => ((c.channels * c.patch() * c.positions()) as f64, c.pool),
        })
        .collect()
}

/// FLOPs of a DP⊤ step of a network of `blocks` with `passes` settling passes:
/// 2·B·(M + K·(M + T + R) + M + R₁), see the module documentation.
pub fn conv_dp_step(blocks: &[Block], sizes: &[usize], batch: usize, passes: usize) -> f64 {
    let m = block_macs(blocks, sizes);
    let all: f64 = m.iter().map(|(v, _)| v).sum();
    let transposed = all - m.first().map_or(0.0, |(v, _)| *v);
    let routed: f64 = m.iter().skip(1).filter(|(_, p)| *p).map(|(v, _)| v).sum();
    let routed_all: f64 = m.iter().filter(|(_, p)| *p).map(|(v, _)| v).sum();
    let pass = all + transposed + routed;
    2.0 * batch as f64 * (2.0 * all + routed_all + passes as f64 * pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: [usize; 4] = [784, 1024, 1024, 10];

    #[test]
    fn paper_network_counts() {
        assert_eq!(weights(&PAPER), 1_861_632.0);
        assert_eq!(transposed(&PAPER), 1_058_816.0);
        // K = 4 at batch 100: 2·100·(2·1 861 632 + 4·2 920 448) = 3.081 GFLOP.
        assert_eq!(dp_step(&PAPER, 100, 4), 3_081_011_200.0);
        assert_eq!(backprop_step(&PAPER, 100), 956_416_000.0);
    }

    #[test]
    fn a_step_is_linear_in_the_batch_and_in_the_passes() {
        let one = dp_step(&PAPER, 1, 1);
        assert_eq!(dp_step(&PAPER, 7, 1), 7.0 * one);
        let per_pass = dp_step(&PAPER, 1, 2) - one;
        assert_eq!(dp_step(&PAPER, 1, 5), one + 4.0 * per_pass);
        assert_eq!(per_pass, 2.0 * (weights(&PAPER) + transposed(&PAPER)));
    }
}
