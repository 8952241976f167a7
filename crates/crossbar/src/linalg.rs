//! General matrix products on column-major f32 matrices, with transposes expressed as strides.
//!
//! nalgebra stays the matrix API; the product itself goes to the `gemm` crate (the kernels of
//! faer), whose packed kernels take arbitrary strides, so Aᵀ·B and A·Bᵀ cost no copy, and which
//! picks AVX2/FMA or SSE kernels at run time (AVX-512 ones too with the crate feature `avx512`).
//!
//! **Threads.** Large products are cut into pieces of C (about 256 rows or columns each), each a
//! single-threaded product, spread over rayon's *current* pool, so a product inside a parallel
//! sweep shares that sweep's threads instead of oversubscribing the machine.
//! [`set_max_threads`] caps the split (1: always single-threaded); by default it follows
//! `rayon::current_num_threads()`.
//!
//! **Determinism.** The cut and the k-blocking of every piece follow from the shape alone, so every
//! output element is accumulated in the same order whatever the number of threads, and results are
//! bit-identical for any thread count (a test checks it), and on every x86-64 processor with AVX2
//! and FMA: AVX-512 kernels would sum in another order, which is why they are opt-in.

use nalgebra::DMatrix;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether an operand is used as is or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The matrix itself.
    N,
    /// Its transpose.
    T,
}

/// 0: follow rayon's current pool; n ≥ 1: at most n threads per product.
static MAX_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Cap the threads one product may use: 0 (the default) follows `rayon::current_num_threads()`,
/// 1 makes every product single-threaded. Results do not depend on it.
pub fn set_max_threads(n: usize) {
    MAX_THREADS.store(n, Ordering::Relaxed);
}

/// The current cap (see [`set_max_threads`]).
pub fn max_threads() -> usize {
    MAX_THREADS.load(Ordering::Relaxed)
}

/// Shape and strides of `a` seen through `op`: (rows, cols, row stride, col stride).
fn view(a: &DMatrix<f32>, op: Op) -> (usize, usize, isize, isize) {
    let (r, c) = a.shape();
    let (rs, cs) = (1isize, r as isize);
    match op {
        Op::N => (r, c, rs, cs),
        Op::T => (c, r, cs, rs),
    }
}

/// C ← alpha·op(A)·op(B) + beta·C (with beta = 0, C's old contents are ignored, NaN included).
///
/// # Panics
/// If the shapes do not agree; callers own their buffers, so a mismatch is a programming error.
pub fn gemm(
    alpha: f32,
    a: &DMatrix<f32>,
    op_a: Op,
    b: &DMatrix<f32>,
    op_b: Op,
    beta: f32,
    c: &mut DMatrix<f32>,
) {
    let threads = match max_threads() {
        0 => rayon::current_num_threads(),
        n => n,
    };
    gemm_on(threads, alpha, a, op_a, b, op_b, beta, c);
}

/// [`gemm`] with at most `threads` threads.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_on(
    threads: usize,
    alpha: f32,
    a: &DMatrix<f32>,
    op_a: Op,
    b: &DMatrix<f32>,
    op_b: Op,
    beta: f32,
    c: &mut DMatrix<f32>,
) {
    let (m, k, rsa, csa) = view(a, op_a);
    let (kb, n, rsb, csb) = view(b, op_b);
    assert_eq!(k, kb, "gemm: inner dimensions differ");
    assert_eq!(c.shape(), (m, n), "gemm: output shape differs");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c.fill(0.0);
        } else {
            *c *= beta;
        }
        return;
    }
    let (along_rows, pieces) = split(m, n, k);
    let len = if along_rows { m } else { n };
    // A multiple of the SIMD width, so that only the last piece has a ragged edge.
    let piece_len = len.div_ceil(pieces).next_multiple_of(16);
    let pieces = len.div_ceil(piece_len);
    // Raw addresses, so that the pieces can travel to rayon's threads; each piece writes its own
    // rows (or columns) of C, disjoint from every other piece's.
    let (pa, pb, pc) = (
        a.as_slice().as_ptr() as usize,
        b.as_slice().as_ptr() as usize,
        c.as_mut_slice().as_mut_ptr() as usize,
    );
    let piece = |p: usize| {
        let start = p * piece_len;
        let count = piece_len.min(len - start);
        let (rows, cols) = if along_rows { (count, n) } else { (m, count) };
        // Offsets (in elements) of the piece's first row of op(A) and C, or first column of op(B)
        // and C.
        let (off_a, off_b, off_c) = if along_rows {
            (start as isize * rsa, 0, start as isize)
        } else {
            (0, start as isize * csb, start as isize * m as isize)
        };
        let block = k_block(rows, cols, k, (csa, rsa), (csb, rsb));
        let mut depth = 0;
        while depth < k {
            let depth_len = block.min(k - depth);
            let first = depth == 0;
            // SAFETY: the shapes and strides computed above describe exactly the three owned
            // buffers, and the offsets stay inside them; `c` is borrowed mutably, so it cannot
            // alias `a` or `b`, and the pieces write disjoint parts of it. The crate computes
            // dst ← α·dst + β·lhs·rhs, reading dst only when `read_dst`; our beta is its α for
            // the first block of the inner dimension, and later blocks add to what it left, as
            // the crate's own k-blocking does (α = 1, read).
            #[allow(unsafe_code)]
            unsafe {
                gemm::gemm(
                    rows,
                    cols,
                    depth_len,
                    (pc as *mut f32).offset(off_c),
                    m as isize,
                    1,
                    !first || beta != 0.0,
                    (pa as *const f32).offset(off_a + depth as isize * csa),
                    csa,
                    rsa,
                    (pb as *const f32).offset(off_b + depth as isize * rsb),
                    csb,
                    rsb,
                    if first { beta } else { 1.0 },
                    alpha,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            depth += depth_len;
        }
    };
    if threads <= 1 || pieces == 1 {
        (0..pieces).for_each(piece);
    } else {
        use rayon::prelude::*;
        // One contiguous run of pieces per thread, each run a task of its own. (A minimum length
        // of ⌈pieces/threads⌉ instead left every odd number of pieces on one thread: rayon halves
        // a range only while both halves keep the minimum.)
        let runs = threads.min(pieces);
        (0..runs).into_par_iter().for_each(|r| {
            (r * pieces / runs..(r + 1) * pieces / runs).for_each(piece);
        });
    }
}

/// The longest run of the inner dimension that one call of the `gemm` crate may sum.
///
/// The crate (0.19) sizes its k-blocking from the L1 data cache it finds at run time
/// (`kernel_params`: `kc = max(512, f(L1 size, ways)).min(k)`), and every k-block is summed into
/// C on its own, so the order of the additions, and with it the bits of every element, followed
/// the machine: a 32 KiB 8-way L1 gives kc = 512, a 48 KiB 12-way one kc = 1024. Its kc is never
/// below min(k, 512), so a call with k ≤ 512 is one block on every processor; longer sums are cut
/// here, by the shape alone, into ⌈k/512⌉ equal blocks — the blocking a 32 KiB 8-way L1 gives,
/// with which every golden of this project was pinned. The crate's other paths (products of at
/// most 256 elements with unit inner strides, k ≤ 2, matrix–vector products, and both sides of
/// C at most 64) block by constants of their own and are left to it.
fn k_block(m: usize, n: usize, k: usize, lhs: (isize, isize), rhs: (isize, isize)) -> usize {
    const MAX_BLOCK: usize = 512;
    let ((lhs_cs, lhs_rs), (rhs_cs, rhs_rs)) = (lhs, rhs);
    // The crate's dispatch in front of `kernel_params`, for a column-major C (rs 1, cs m).
    let fixed_blocking = (m * n <= 16 * 16 && lhs_cs == 1 && rhs_rs == 1)
        || k <= 2
        || (n <= 1 && (lhs_rs == 1 || (lhs_cs == 1 && rhs_rs == 1)))
        || (m <= 1 && (rhs_cs == 1 || (rhs_rs == 1 && lhs_cs == 1)))
        || (m <= 64 && n <= 64);
    if fixed_blocking || k <= MAX_BLOCK {
        return k;
    }
    k.div_ceil(k.div_ceil(MAX_BLOCK))
}

/// Products with fewer multiply-adds than this run in one piece: splitting them would cost more
/// than it saves.
const SPLIT_MIN_MACS: usize = 1 << 21;
/// Target length of a piece, in rows (or columns) of C.
const PIECE_LEN: usize = 256;

/// How a product is cut into pieces that run single-threaded: along the longer side of C, into
/// pieces of about [`PIECE_LEN`]. The cut depends on the shape alone, so the bits of the result do
/// not depend on the thread count. Each piece packs only its own rows of op(A); letting the crate
/// split one product over threads instead packs a transposed A once per thread and reached half
/// the rate on the training shapes (docs/PERFORMANCE.md).
fn split(m: usize, n: usize, k: usize) -> (bool, usize) {
    let along_rows = m >= n;
    let len = m.max(n);
    if m.saturating_mul(n).saturating_mul(k) < SPLIT_MIN_MACS {
        return (along_rows, 1);
    }
    (along_rows, len.div_ceil(PIECE_LEN).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn m(r: usize, c: usize, seed: f32) -> DMatrix<f32> {
        DMatrix::from_fn(r, c, |i, j| ((i * 7 + j * 3) as f32 * 0.37 + seed).sin())
    }

    #[test]
    fn all_transpose_combinations_match_nalgebra() {
        let a = m(5, 7, 0.1);
        let b = m(7, 3, 0.2);
        let mut c = m(5, 3, 0.3);
        let expected = &a * &b * 2.0 + &c * 0.5;
        gemm(2.0, &a, Op::N, &b, Op::N, 0.5, &mut c);
        assert_relative_eq!(c, expected, epsilon = 1e-5);

        let at = a.transpose();
        let bt = b.transpose();
        let mut c2 = DMatrix::zeros(5, 3);
        gemm(1.0, &at, Op::T, &bt, Op::T, 0.0, &mut c2);
        assert_relative_eq!(c2, &a * &b, epsilon = 1e-5);
    }

    #[test]
    fn large_products_match_nalgebra_for_every_transpose() {
        // One piece; pieces along the rows of C; pieces along its columns.
        for (r, k, c) in [(130, 257, 67), (600, 70, 90), (50, 70, 700)] {
            large_product_matches_nalgebra(r, k, c);
        }
    }

    fn large_product_matches_nalgebra(r: usize, k: usize, c: usize) {
        for (op_a, op_b) in [
            (Op::N, Op::N),
            (Op::T, Op::N),
            (Op::N, Op::T),
            (Op::T, Op::T),
        ] {
            let a = if op_a == Op::N {
                m(r, k, 0.1)
            } else {
                m(k, r, 0.1)
            };
            let b = if op_b == Op::N {
                m(k, c, 0.2)
            } else {
                m(c, k, 0.2)
            };
            let ea = if op_a == Op::N {
                a.clone()
            } else {
                a.transpose()
            };
            let eb = if op_b == Op::N {
                b.clone()
            } else {
                b.transpose()
            };
            let c0 = m(r, c, 0.3);
            let mut out = c0.clone();
            gemm(-0.5, &a, op_a, &b, op_b, 2.0, &mut out);
            let expected = &ea * &eb * -0.5 + &c0 * 2.0;
            assert_relative_eq!(out, expected, epsilon = 1e-3, max_relative = 1e-4);
        }
    }

    #[test]
    fn beta_zero_ignores_nan_in_the_output() {
        let a = m(40, 30, 0.1);
        let b = m(30, 20, 0.2);
        let mut out = DMatrix::from_element(40, 20, f32::NAN);
        gemm(1.0, &a, Op::N, &b, Op::N, 0.0, &mut out);
        assert_relative_eq!(out, &a * &b, epsilon = 1e-4);
        let mut empty_k = DMatrix::from_element(4, 3, f32::NAN);
        gemm(
            1.0,
            &DMatrix::zeros(4, 0),
            Op::N,
            &DMatrix::zeros(0, 3),
            Op::N,
            0.0,
            &mut empty_k,
        );
        assert!(empty_k.iter().all(|&v| v == 0.0));
    }

    /// The training shapes of a 784-1024-1024-10 network at batch 100 (and odd sizes), on 1, 2
    /// and 3 threads: the bits agree.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let shapes = [
            (1024, 784, 100, Op::N, Op::N),
            (784, 1024, 100, Op::T, Op::N),
            (1024, 100, 784, Op::N, Op::T),
            (10, 1024, 100, Op::N, Op::N),
            (1024, 10, 100, Op::T, Op::N),
            (10, 100, 1024, Op::N, Op::T),
            (333, 517, 61, Op::T, Op::T),
            (50, 300, 700, Op::T, Op::N),
        ];
        for (r, k, c, op_a, op_b) in shapes {
            let a = if op_a == Op::N {
                m(r, k, 0.1)
            } else {
                m(k, r, 0.1)
            };
            let b = if op_b == Op::N {
                m(k, c, 0.2)
            } else {
                m(c, k, 0.2)
            };
            let run = |threads: usize| {
                let mut out = m(r, c, 0.3);
                pool.install(|| gemm_on(threads, 0.7, &a, op_a, &b, op_b, 0.25, &mut out));
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            let one = run(1);
            assert_eq!(one, run(2), "{r}x{k}x{c}");
            assert_eq!(one, run(3), "{r}x{k}x{c}");
        }
    }
}
