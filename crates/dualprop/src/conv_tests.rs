//! Convolution blocks: the data movement against its definitions, backprop against finite
//! differences, DP⊤ against backprop, and independence of the thread count.

use crate::block::{BlockSpec, ConvShape, Image, resolve};
use crate::diagnostics::{alignment, cosine, relative_error};
use crate::im2col::{col2im, im2col, max_pool, unpool};
use crate::network::Init;
use crate::test_support::{local, pool_margin, reference};
use crate::{
    Activation, Backprop, Dynamics, Gradients, Loss, Network, Optimizer, OptimizerKind, PoolRouting,
};
use crossbar::{Crossbar, IdealArray};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn normal(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

fn shape(h: usize, w: usize, c: usize, channels: usize, kernel: usize, stride: usize) -> ConvShape {
    ConvShape {
        input: Image {
            height: h,
            width: w,
            channels: c,
        },
        channels,
        kernel,
        stride,
        pool: false,
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// XLA's 'SAME' rule: output ⌈n/s⌉, total padding max((out−1)·s + k − n, 0), the smaller half first.
#[test]
fn same_padding_follows_xla() {
    let s = shape(8, 7, 1, 1, 3, 1);
    assert_eq!((s.conv_size(), s.padding()), ((8, 7), (1, 1)));
    let s = shape(8, 7, 1, 1, 3, 2);
    // rows: out 4, total (3·2 + 3 − 8) = 1 → 0 above; columns: out 4, total 2 → 1 left.
    assert_eq!((s.conv_size(), s.padding()), ((4, 4), (0, 1)));
    let s = shape(5, 5, 1, 1, 4, 1);
    // total 3: 1 above, 2 below.
    assert_eq!(s.padding(), (1, 1));
}

/// Every patch entry is the input it names, written out from the definition: column b·P + p, row
/// (dy·k + dx)·C + c holds channel c of input pixel (oy·s + dy − pad_top, ox·s + dx − pad_left) of
/// sample b, or 0 outside the image (whole kernel rows are copied at once where they fit).
#[test]
fn im2col_copies_each_patch_entry_from_its_definition() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for s in [
        shape(6, 5, 3, 4, 3, 1),
        shape(7, 8, 2, 4, 3, 2),
        shape(5, 5, 1, 2, 5, 1),
        shape(9, 6, 2, 3, 4, 3),
        shape(28, 28, 1, 32, 3, 1),
    ] {
        let b = 2;
        let images = normal(&mut rng, s.input.units() * b);
        let mut patches = vec![f32::NAN; s.patch() * s.positions() * b];
        im2col(&s, &images, &mut patches);
        let (ho, wo) = s.conv_size();
        let (pt, pl) = s.padding();
        let (k, c, (h, w)) = (s.kernel, s.input.channels, (s.input.height, s.input.width));
        for n in 0..b {
            for oy in 0..ho {
                for ox in 0..wo {
                    let column = n * ho * wo + oy * wo + ox;
                    for dy in 0..k {
                        for dx in 0..k {
                            for ch in 0..c {
                                let iy = (oy * s.stride + dy) as isize - pt as isize;
                                let ix = (ox * s.stride + dx) as isize - pl as isize;
                                let inside =
                                    (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                                let expected = if inside {
                                    images[n * s.input.units()
                                        + ((iy as usize) * w + ix as usize) * c
                                        + ch]
                                } else {
                                    0.0
                                };
                                let got = patches[column * s.patch() + (dy * k + dx) * c + ch];
                                assert_eq!(
                                    got.to_bits(),
                                    expected.to_bits(),
                                    "{s:?} n{n} ({oy},{ox}) ({dy},{dx}) c{ch}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn col2im_is_the_adjoint_of_im2col() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for s in [
        shape(6, 5, 3, 4, 3, 1),
        shape(7, 8, 2, 4, 3, 2),
        shape(5, 5, 1, 2, 5, 1),
        shape(9, 6, 2, 3, 4, 3),
    ] {
        let b = 3;
        let x = normal(&mut rng, s.input.units() * b);
        let y = normal(&mut rng, s.patch() * s.positions() * b);
        let mut ix = vec![0.0; y.len()];
        let mut cy = vec![0.0; x.len()];
        im2col(&s, &x, &mut ix);
        col2im(&s, &y, &mut cy);
        let (lhs, rhs) = (dot(&ix, &y), dot(&x, &cy));
        // col2im sums at most k² f32 terms per pixel: its error is below k²·ε_f32 times the
        // same sums taken in absolute value, ⟨im2col|x|, |y|⟩.
        let abs_x: Vec<f32> = x.iter().map(|v| v.abs()).collect();
        let abs_y: Vec<f32> = y.iter().map(|v| v.abs()).collect();
        im2col(&s, &abs_x, &mut ix);
        let bound = (s.kernel * s.kernel) as f64 * f32::EPSILON as f64 * dot(&ix, &abs_y);
        assert!(
            (lhs - rhs).abs() <= bound,
            "{s:?}: {lhs} vs {rhs} (bound {bound})"
        );
    }
}

/// A convolution read as im2col + one array read equals the convolution written out directly.
#[test]
fn convolution_by_patches_matches_a_direct_convolution() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for s in [shape(6, 5, 3, 4, 3, 1), shape(7, 8, 2, 4, 3, 2)] {
        let b = 2;
        let x = normal(&mut rng, s.input.units() * b);
        let w = DMatrix::from_vec(
            s.channels,
            s.patch(),
            normal(&mut rng, s.channels * s.patch()),
        );
        let mut patches = DMatrix::zeros(s.patch(), s.positions() * b);
        im2col(&s, &x, patches.as_mut_slice());
        let mut out = DMatrix::zeros(s.channels, s.positions() * b);
        IdealArray::new(w.clone()).read(&patches, &mut out);
        let (ho, wo) = s.conv_size();
        let (py, px) = s.padding();
        let (hi, wi, ci, k) = (
            s.input.height as isize,
            s.input.width as isize,
            s.input.channels,
            s.kernel,
        );
        for n in 0..b {
            for oy in 0..ho {
                for ox in 0..wo {
                    for co in 0..s.channels {
                        let mut acc = 0.0f64;
                        for dy in 0..k {
                            for dx in 0..k {
                                let iy = (oy * s.stride + dy) as isize - py as isize;
                                let ix = (ox * s.stride + dx) as isize - px as isize;
                                if iy < 0 || ix < 0 || iy >= hi || ix >= wi {
                                    continue;
                                }
                                for c in 0..ci {
                                    let v =
                                        x[n * s.input.units() + ((iy * wi + ix) as usize) * ci + c];
                                    acc += w[(co, (dy * k + dx) * ci + c)] as f64 * v as f64;
                                }
                            }
                        }
                        let got = out.as_slice()
                            [n * ho * wo * s.channels + (oy * wo + ox) * s.channels + co];
                        assert!(
                            (got as f64 - acc).abs() < 1e-5 * (1.0 + acc.abs()),
                            "{got} vs {acc}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn max_pool_takes_the_window_maximum_and_unpool_is_its_transpose() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let s = ConvShape {
        pool: true,
        ..shape(5, 6, 1, 3, 3, 1)
    };
    let (hc, wc) = s.conv_size();
    let b = 2;
    let conv = normal(&mut rng, hc * wc * 3 * b);
    let out = s.output();
    assert_eq!((out.height, out.width), (2, 3));
    let mut pooled = vec![0.0; out.units() * b];
    let mut route = vec![0; pooled.len()];
    max_pool(&s, &conv, &mut pooled, &mut route);
    for n in 0..b {
        for py in 0..2 {
            for px in 0..3 {
                for c in 0..3 {
                    let at = |y: usize, x: usize| conv[n * hc * wc * 3 + (y * wc + x) * 3 + c];
                    let m = at(2 * py, 2 * px)
                        .max(at(2 * py, 2 * px + 1))
                        .max(at(2 * py + 1, 2 * px))
                        .max(at(2 * py + 1, 2 * px + 1));
                    assert_eq!(pooled[n * out.units() + (py * 3 + px) * 3 + c], m);
                }
            }
        }
    }
    let d = normal(&mut rng, pooled.len());
    let mut back = vec![0.0; conv.len()];
    unpool(&s, &d, &route, &mut back);
    // ⟨P·v, d⟩ = ⟨v, Pᵀ·d⟩ for the linear selection P the routing defines.
    let v = normal(&mut rng, conv.len());
    let pv: Vec<f32> = (0..pooled.len())
        .map(|j| v[(j / out.units()) * hc * wc * 3 + route[j] as usize])
        .collect();
    assert!((dot(&pv, &d) - dot(&v, &back)).abs() < 1e-9);
}

fn conv_net(
    input: Image,
    blocks: &[BlockSpec],
    act: Activation,
    loss: Loss,
    seed: u64,
) -> Network<IdealArray> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Network::ideal_blocks(input, blocks, act, loss, Init::Uniform, &mut rng).unwrap()
}

fn batch(seed: u64, n_in: usize, n_out: usize, b: usize) -> (DMatrix<f32>, DMatrix<f32>) {
    crate::test_support::batch(seed, n_in, n_out, b)
}

/// Central differences of the mean loss (f64 on f32 outputs, h = 10⁻³): with tanh the truncation
/// error is O(h²) ≈ 10⁻⁶ relative, and f32 rounding of a loss of order 1 contributes about
/// 10⁻⁷/(2h) = 5·10⁻⁵ per derivative against gradients of order 10⁻², well inside the 1 % bound.
/// Max-pooling is not differentiable where a window ties, so the batch is one whose first-layer
/// windows are all more than 2h·max|x| from a tie: no perturbation of ±h can switch a choice.
#[test]
fn backprop_through_convolutions_matches_finite_differences() {
    let h = 1e-3f32;
    for (t, (input, blocks)) in crate::test_support::conv_architectures()
        .into_iter()
        .enumerate()
    {
        let out = match blocks.last() {
            Some(BlockSpec::Dense(n)) => *n,
            _ => unreachable!(),
        };
        let mut net = conv_net(
            input,
            &blocks,
            Activation::Tanh,
            Loss::CrossEntropy,
            10 + t as u64,
        );
        let (x, y) = (20..40)
            .map(|seed| batch(seed, input.units(), out, 2))
            .find(|(x, _)| pool_margin(&net, x) > 2.0 * h * x.amax())
            .expect("a batch without near-ties among 20 seeds");
        let bp = reference(&mut net, &x, &y);
        for k in 0..net.depth() {
            let w0 = net.layers[k].array.weights();
            let mut fd = DMatrix::zeros(w0.nrows(), w0.ncols());
            for idx in 0..w0.len() {
                let mut loss_at = |delta: f32| {
                    let mut w = w0.clone();
                    w.as_mut_slice()[idx] += delta;
                    net.layers[k].array.program(&w);
                    net.loss.value(&net.predict(&x), &y)
                };
                fd.as_mut_slice()[idx] = ((loss_at(h) - loss_at(-h)) / (2.0 * h as f64)) as f32;
            }
            net.layers[k].array.program(&w0);
            let b0 = net.layers[k].bias.clone();
            let mut fdb = b0.clone();
            for j in 0..b0.len() {
                let mut loss_at = |delta: f32| {
                    net.layers[k].bias = b0.clone();
                    net.layers[k].bias[j] += delta;
                    net.loss.value(&net.predict(&x), &y)
                };
                fdb[j] = ((loss_at(h) - loss_at(-h)) / (2.0 * h as f64)) as f32;
            }
            net.layers[k].bias = b0;
            let rel = relative_error(bp.weights[k].iter(), fd.iter());
            let relb = relative_error(bp.biases[k].iter(), fdb.iter());
            assert!(
                rel < 1e-2 && relb < 1e-2,
                "net {t} layer {}: weights {rel}, biases {relb}",
                k + 1
            );
        }
    }
}

/// Two pooled convolutions, then dense: the DP⊤ estimate at β = 10⁻³ with tanh points along
/// backprop in every layer (f32 rounding of δ limits the agreement to about 10⁻⁶/β relative).
#[test]
fn dp_top_on_pooled_convolutions_agrees_with_backprop() {
    let input = Image {
        height: 8,
        width: 8,
        channels: 2,
    };
    let blocks = [
        BlockSpec::Conv {
            channels: 4,
            kernel: 3,
            stride: 1,
            pool: true,
        },
        BlockSpec::Conv {
            channels: 5,
            kernel: 3,
            stride: 1,
            pool: true,
        },
        BlockSpec::Dense(12),
        BlockSpec::Dense(5),
    ];
    let (x, y) = batch(5, input.units(), 5, 8);
    for routing in [PoolRouting::PlusState, PoolRouting::MeanState] {
        let mut net = conv_net(input, &blocks, Activation::Tanh, Loss::CrossEntropy, 6);
        net.pool_routing = routing;
        let bp = reference(&mut net, &x, &y);
        for alpha in [0.0, 0.5, 1.0] {
            let (est, _, settled) = local(&mut net, &x, &y, &Dynamics::dp_top(alpha, 1e-3, 20));
            assert!(settled.converged, "{routing:?} α={alpha}: {settled:?}");
            for (k, a) in alignment(&est, &bp).iter().enumerate() {
                assert!(
                    a.cosine >= 0.999,
                    "{routing:?} α={alpha} layer {}: cos {}",
                    k + 1,
                    a.cosine
                );
            }
            for (k, (e, r)) in est.biases.iter().zip(&bp.biases).enumerate() {
                let c = cosine(e.iter(), r.iter());
                assert!(c >= 0.999, "{routing:?} α={alpha} bias {}: cos {c}", k + 1);
            }
        }
    }
}

/// A dense-only network described by blocks is the network of layer widths, bit for bit.
#[test]
fn dense_blocks_are_the_plain_network() {
    let sizes = [7, 9, 4];
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut plain = Network::ideal(&sizes, Activation::Relu, Loss::CrossEntropy, &mut rng).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let input = Image {
        height: 1,
        width: 1,
        channels: 7,
    };
    let mut blocks = Network::ideal_blocks(
        input,
        &[BlockSpec::Dense(9), BlockSpec::Dense(4)],
        Activation::Relu,
        Loss::CrossEntropy,
        Init::Uniform,
        &mut rng,
    )
    .unwrap();
    let (x, y) = batch(9, 7, 4, 5);
    let (a, _, _) = local(&mut plain, &x, &y, &Dynamics::dp_top(0.5, 0.1, 6));
    let (b, _, _) = local(&mut blocks, &x, &y, &Dynamics::dp_top(0.5, 0.1, 6));
    assert_eq!(a, b);
}

/// γ of a convolution block by power iteration through its reads is the largest singular value of
/// the convolution written out as a matrix.
#[test]
fn conv_spectral_norm_is_the_largest_singular_value() {
    let s = shape(5, 4, 2, 3, 3, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let w = DMatrix::from_vec(
        s.channels,
        s.patch(),
        normal(&mut rng, s.channels * s.patch()),
    );
    let mut array = IdealArray::new(w);
    let n = s.input.units();
    let m = s.positions() * s.channels;
    let mut dense = DMatrix::<f32>::zeros(m, n);
    let mut work = crate::conv::Workspaces::default();
    let block = crate::Block::Conv(s);
    for j in 0..n {
        let mut e = DMatrix::zeros(n, 1);
        e[j] = 1.0;
        let mut col = DMatrix::zeros(m, 1);
        crate::conv::read(&mut array, &block, &mut work, 0, &e, &mut col);
        dense.set_column(j, &col.column(0));
    }
    let exact = dense.svd(false, false).singular_values.max();
    let mut v = DMatrix::zeros(n, 1);
    crate::damping::start_vector(&mut v);
    let gamma =
        crate::conv::spectral_norm_by_reads(&mut array, &s, &mut work, 1, 200, None, &mut v);
    approx::assert_relative_eq!(gamma, exact, max_relative = 1e-4);
}

#[test]
fn lecun_normal_is_truncated_at_two_sigma_with_variance_one_over_fan_in() {
    let (outputs, fan_in) = (400, 500);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (w, b) =
        &crate::network::initial_arrays(Init::LecunNormal, &[(outputs, fan_in)], &mut rng)[0];
    assert!(b.iter().all(|&v| v == 0.0));
    let n = w.len() as f64;
    let var = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n;
    // Standard error of a variance estimate: about √(2/n)·σ² (0.3 % here); allow 4 of them.
    let target = 1.0 / fan_in as f64;
    assert!(
        (var / target - 1.0).abs() < 4.0 * (2.0 / n).sqrt(),
        "{var} vs {target}"
    );
    let bound = 2.0 * (target.sqrt() / 0.879_625_661_034_239_8_f64) as f32;
    assert!(w.iter().all(|v| v.abs() <= bound * 1.000_001));
    assert!(w.amax() > 0.95 * bound, "draws reach the truncation");
}

/// The same seed gives the same bits on one and on four threads: forward, settling, the local rule
/// and a pulsed update of every convolution column.
#[test]
fn conv_training_does_not_depend_on_the_thread_count() {
    let input = Image {
        height: 12,
        width: 12,
        channels: 3,
    };
    let blocks = [
        BlockSpec::Conv {
            channels: 8,
            kernel: 3,
            stride: 1,
            pool: true,
        },
        BlockSpec::Conv {
            channels: 8,
            kernel: 3,
            stride: 2,
            pool: false,
        },
        BlockSpec::Dense(6),
    ];
    let (x, y) = batch(13, input.units(), 6, 64);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut net = conv_net(input, &blocks, Activation::Relu, Loss::CrossEntropy, 14);
            let prediction = net.predict(&x);
            let (est, dyads, _) = local(&mut net, &x, &y, &Dynamics::dp_top(0.5, 0.1, 6));
            let mut opt = Optimizer::for_network(OptimizerKind::PlainSgd, 0.05, 0.0, 0.0, &net);
            opt.step_local(&mut net, &dyads, 0.1);
            let mut bp = Backprop::new(net.sizes(), x.ncols());
            let mut grads = Gradients::for_network(&net);
            bp.gradient(&mut net, &x, &y, &mut grads);
            let weights: Vec<_> = net.layers.iter().map(|l| l.array.weights()).collect();
            (prediction, est, weights, grads, bp.input_gradient().clone())
        })
    };
    assert_eq!(run(1), run(4));
}

#[test]
fn blocks_that_do_not_fit_are_errors() {
    let input = Image {
        height: 3,
        width: 3,
        channels: 1,
    };
    let conv = |pool| BlockSpec::Conv {
        channels: 2,
        kernel: 3,
        stride: 2,
        pool,
    };
    let strided = BlockSpec::Conv {
        channels: 2,
        kernel: 3,
        stride: 3,
        pool: true,
    };
    assert!(resolve(input, &[strided, BlockSpec::Dense(2)]).is_err());
    assert!(
        resolve(
            input,
            &[BlockSpec::Dense(2), conv(false), BlockSpec::Dense(2)]
        )
        .is_err()
    );
    assert!(resolve(input, &[conv(false)]).is_err());
    let (_, sizes) = resolve(input, &[conv(false), BlockSpec::Dense(2)]).unwrap();
    assert_eq!(sizes, [9, 8, 2]);
}

/// VGG16 on 32×32×3 images: 13 convolutions, five poolings down to 1×1×512, then 4096, 4096, classes.
#[test]
fn vgg16_has_the_papers_shape() {
    let input = Image {
        height: 32,
        width: 32,
        channels: 3,
    };
    let (blocks, sizes) = resolve(input, &crate::block::vgg16(10)).unwrap();
    assert_eq!(blocks.iter().filter(|b| b.conv().is_some()).count(), 13);
    assert_eq!(sizes[1], 32 * 32 * 64);
    assert_eq!(sizes[2], 16 * 16 * 64);
    assert_eq!(&sizes[13..], &[512, 4096, 4096, 10]);
}
