//! General matrix products on column-major f32 matrices, with transposes expressed as strides.
//!
//! nalgebra stays the matrix API; the product itself goes to `matrixmultiply`, whose packed kernels
//! take arbitrary strides, so Aᵀ·B and A·Bᵀ cost no copy. The k-loop is blocked the same way for any
//! thread count, so results do not depend on it.

use nalgebra::DMatrix;

/// Whether an operand is used as is or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The matrix itself.
    N,
    /// Its transpose.
    T,
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

/// C ← alpha·op(A)·op(B) + beta·C.
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
    let (m, k, rsa, csa) = view(a, op_a);
    let (kb, n, rsb, csb) = view(b, op_b);
    assert_eq!(k, kb, "gemm: inner dimensions differ");
    assert_eq!(c.shape(), (m, n), "gemm: output shape differs");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        *c *= beta;
        return;
    }
    let c_ptr = c.as_mut_slice().as_mut_ptr();
    // SAFETY: the shapes and strides computed above describe exactly the three owned buffers; `c`
    // is borrowed mutably, so it cannot alias `a` or `b`.
    #[allow(unsafe_code)]
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_slice().as_ptr(),
            rsa,
            csa,
            b.as_slice().as_ptr(),
            rsb,
            csb,
            beta,
            c_ptr,
            1,
            m as isize,
        );
    }
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
}
