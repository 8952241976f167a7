//! The data movement of convolutions: patches of a batch of channel-last images as the columns of
//! one matrix (im2col), its adjoint (col2im, a scatter-add), and 2×2/2 max-pooling with its routing.
//!
//! Column b·P + p of a patch matrix holds the patch of output position p of sample b, so a kernel
//! array reading it produces C_out × (P·B), whose memory is exactly the channel-last units × B layout
//! of the convolution's output. Every kernel works sample by sample; samples go to rayon's threads
//! only when there is enough work, and each sample is computed the same way wherever it runs, so
//! the results do not depend on the number of threads.

use crate::block::ConvShape;
use rayon::prelude::*;

/// Below this many written elements a kernel stays on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Run `f(sample, out_chunk, in_chunk)` over samples, in parallel when the output is large.
fn per_sample<T: Send, U: Sync>(
    out: &mut [T],
    out_len: usize,
    input: &[U],
    in_len: usize,
    f: impl Fn(&mut [T], &[U]) + Sync,
) {
    if out.len() >= PARALLEL_MIN && rayon::current_num_threads() > 1 {
        out.par_chunks_mut(out_len)
            .zip(input.par_chunks(in_len))
            .for_each(|(o, i)| f(o, i));
    } else {
        out.chunks_mut(out_len)
            .zip(input.chunks(in_len))
            .for_each(|(o, i)| f(o, i));
    }
}

/// The input pixel (y, x) read by output position (oy, ox) at kernel offset (dy, dx), if inside.
#[inline]
fn source(s: &ConvShape, oy: usize, ox: usize, dy: usize, dx: usize) -> Option<usize> {
    let (py, px) = s.padding();
    let iy = (oy * s.stride + dy).checked_sub(py)?;
    let ix = (ox * s.stride + dx).checked_sub(px)?;
    (iy < s.input.height && ix < s.input.width).then_some(iy * s.input.width + ix)
}

/// patches ← im2col(images): `images` holds B samples of the input image (units each), `patches`
/// B·P columns of C_in·k·k (zero where the kernel overhangs the border).
pub fn im2col(s: &ConvShape, images: &[f32], patches: &mut [f32]) {
    let (c, k) = (s.input.channels, s.kernel);
    let (ho, wo) = s.conv_size();
    let patch = s.patch();
    per_sample(
        patches,
        patch * ho * wo,
        images,
        s.input.units(),
        |out, img| {
            for oy in 0..ho {
                for ox in 0..wo {
                    let col = &mut out[(oy * wo + ox) * patch..][..patch];
                    for dy in 0..k {
                        let row = &mut col[dy * k * c..][..k * c];
                        // A kernel row inside the image is one run of k·C inputs: one copy
                        // instead of k (with C = 1, k copies of a single value each).
                        if let (Some(first), Some(last)) =
                            (source(s, oy, ox, dy, 0), source(s, oy, ox, dy, k - 1))
                            && last == first + k - 1
                        {
                            row.copy_from_slice(&img[first * c..][..k * c]);
                            continue;
                        }
                        for dx in 0..k {
                            let dst = &mut row[dx * c..][..c];
                            match source(s, oy, ox, dy, dx) {
                                Some(pix) => dst.copy_from_slice(&img[pix * c..][..c]),
                                None => dst.fill(0.0),
                            }
                        }
                    }
                }
            }
        },
    );
}

/// images ← col2im(patches), the adjoint of [`im2col`]: every patch entry is added to the input
/// pixel it was copied from.
pub fn col2im(s: &ConvShape, patches: &[f32], images: &mut [f32]) {
    let (c, k) = (s.input.channels, s.kernel);
    let (ho, wo) = s.conv_size();
    let patch = s.patch();
    per_sample(
        images,
        s.input.units(),
        patches,
        patch * ho * wo,
        |img, cols| {
            img.fill(0.0);
            for oy in 0..ho {
                for ox in 0..wo {
                    let col = &cols[(oy * wo + ox) * patch..][..patch];
                    for dy in 0..k {
                        for dx in 0..k {
                            if let Some(pix) = source(s, oy, ox, dy, dx) {
                                let src = &col[(dy * k + dx) * c..][..c];
                                for (d, v) in img[pix * c..][..c].iter_mut().zip(src) {
                                    *d += v;
                                }
                            }
                        }
                    }
                }
            }
        },
    );
}

/// pooled ← 2×2/2 max-pool of `conv` (B samples of the convolution output), and `route` ← the index
/// within its sample of the element each pooled unit took (the first of equal maxima).
pub fn max_pool(s: &ConvShape, conv: &[f32], pooled: &mut [f32], route: &mut [u32]) {
    let (hc, wc) = s.conv_size();
    let out = s.output();
    let c = s.channels;
    let (in_len, out_len) = (hc * wc * c, out.units());
    let pool_sample = |p: &mut [f32], r: &mut [u32], x: &[f32]| {
        for py in 0..out.height {
            for px in 0..out.width {
                let o = (py * out.width + px) * c;
                let corners = [
                    (2 * py * wc + 2 * px) * c,
                    (2 * py * wc + 2 * px + 1) * c,
                    ((2 * py + 1) * wc + 2 * px) * c,
                    ((2 * py + 1) * wc + 2 * px + 1) * c,
                ];
                // Channel slices of equal length and selects instead of branches: the bounds
                // checks leave the loop and it vectorises (the comparisons are data-dependent, so
                // branches mispredict about half the time). Strict `>` keeps the first of equal
                // maxima, as before.
                let [x0, x1, x2, x3] = corners.map(|k| &x[k..k + c]);
                let (po, ro) = (&mut p[o..o + c], &mut r[o..o + c]);
                for ch in 0..c {
                    let (mut v, mut at) = (x0[ch], corners[0]);
                    for (xi, k) in [
                        (x1[ch], corners[1]),
                        (x2[ch], corners[2]),
                        (x3[ch], corners[3]),
                    ] {
                        let take = xi > v;
                        v = if take { xi } else { v };
                        at = if take { k } else { at };
                    }
                    po[ch] = v;
                    ro[ch] = (at + ch) as u32;
                }
            }
        }
    };
    if pooled.len() >= PARALLEL_MIN && rayon::current_num_threads() > 1 {
        pooled
            .par_chunks_mut(out_len)
            .zip(route.par_chunks_mut(out_len))
            .zip(conv.par_chunks(in_len))
            .for_each(|((p, r), x)| pool_sample(p, r, x));
    } else {
        pooled
            .chunks_mut(out_len)
            .zip(route.chunks_mut(out_len))
            .zip(conv.chunks(in_len))
            .for_each(|((p, r), x)| pool_sample(p, r, x));
    }
}

/// conv ← the pooled signal `pooled` sent back along `route` (zero at every element no pooled unit
/// took): the transpose of the pooling that recorded `route`.
pub fn unpool(s: &ConvShape, pooled: &[f32], route: &[u32], conv: &mut [f32]) {
    let (hc, wc) = s.conv_size();
    let (in_len, out_len) = (hc * wc * s.channels, s.output().units());
    let unpool_sample = |x: &mut [f32], (p, r): (&[f32], &[u32])| {
        x.fill(0.0);
        for (v, &i) in p.iter().zip(r) {
            x[i as usize] += v;
        }
    };
    if conv.len() >= PARALLEL_MIN && rayon::current_num_threads() > 1 {
        conv.par_chunks_mut(in_len)
            .zip(pooled.par_chunks(out_len).zip(route.par_chunks(out_len)))
            .for_each(|(x, pr)| unpool_sample(x, pr));
    } else {
        conv.chunks_mut(in_len)
            .zip(pooled.chunks(out_len).zip(route.chunks(out_len)))
            .for_each(|(x, pr)| unpool_sample(x, pr));
    }
}

/// pooled ← `conv` (B samples of a signal at the convolution's positions) taken along `route`: the
/// element each pooled unit took when the routing was recorded. This is the linear map max-pooling
/// is at the samples it routed, the one a Jacobian or a tangent passes through; [`unpool`] is its
/// transpose.
pub fn pool_along(s: &ConvShape, conv: &[f32], route: &[u32], pooled: &mut [f32]) {
    let (hc, wc) = s.conv_size();
    let (in_len, out_len) = (hc * wc * s.channels, s.output().units());
    let gather = |p: &mut [f32], (x, r): (&[f32], &[u32])| {
        for (v, &i) in p.iter_mut().zip(r) {
            *v = x[i as usize];
        }
    };
    if pooled.len() >= PARALLEL_MIN && rayon::current_num_threads() > 1 {
        pooled
            .par_chunks_mut(out_len)
            .zip(conv.par_chunks(in_len).zip(route.par_chunks(out_len)))
            .for_each(|(p, xr)| gather(p, xr));
    } else {
        pooled
            .chunks_mut(out_len)
            .zip(conv.chunks(in_len).zip(route.chunks(out_len)))
            .for_each(|(p, xr)| gather(p, xr));
    }
}
