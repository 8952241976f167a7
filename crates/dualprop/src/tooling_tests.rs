//! Diagnostics the experiment crate calls: adversarial examples, Lipschitz estimates, baselines,
//! and the gradient check.

use crate::adversarial::{Attack, adversarial_accuracy, examples, fgsm};
use crate::lipschitz::lipschitz;
use crate::test_support::{batch, network, reference};
use crate::{
    Activation, Algorithm, AlgorithmKind, Backprop, Gradients, Layer, Loss, Network, gradcheck,
};
use crossbar::IdealArray;
use nalgebra::DMatrix;

const SIZES: [usize; 4] = [20, 32, 24, 6];

#[test]
fn adversarial_examples_increase_the_loss_within_their_ball() {
    let (x, y) = batch(4, SIZES[0], SIZES[3], 30);
    for loss in [Loss::CrossEntropy, Loss::Mse] {
        let mut net = network(&SIZES, Activation::Relu, loss, 1);
        let clean = net.loss.value(&net.predict(&x), &y);
        let eps = 0.1;
        let f = fgsm(&mut net, &x, &y, eps, None);
        assert!((&f - &x).amax() <= eps + 1e-6);
        let after_fgsm = net.loss.value(&net.predict(&f), &y);
        assert!(
            after_fgsm > clean,
            "{loss:?}: FGSM {after_fgsm} vs clean {clean}"
        );
        let pgd = Attack::Pgd {
            epsilon: eps,
            step: 0.025,
            steps: 10,
            random_start: Some(3),
        };
        let p = examples(&mut net, &x, &y, &pgd, Some((-3.0, 3.0)));
        assert!((&p - &x).amax() <= eps + 1e-6 && p.max() <= 3.0 && p.min() >= -3.0);
        let after_pgd = net.loss.value(&net.predict(&p), &y);
        assert!(
            after_pgd > clean,
            "{loss:?}: PGD {after_pgd} vs clean {clean}"
        );
        let big = Attack::Fgsm { epsilon: 1.0 };
        let acc = adversarial_accuracy(&mut net, &x, &y, &big, None);
        let clean_acc = crate::loss::accuracy(&net.predict(&x), &y);
        assert!(acc <= clean_acc, "{acc} > {clean_acc}");
    }
}

#[test]
fn lipschitz_estimates_coincide_on_a_linear_network_and_keep_their_order() {
    let (x, _) = batch(4, SIZES[0], SIZES[3], 5);
    let mut linear = network(&SIZES, Activation::Identity, Loss::Mse, 2);
    let l = lipschitz(&linear, &x);
    approx::assert_relative_eq!(l.jacobian, l.weight_product, max_relative = 1e-4);
    assert!(l.layer_product >= l.weight_product * (1.0 - 1e-5), "{l:?}");
    // Diagonal layers with their largest gain on the same unit: all three are the product of gains.
    let diag = |v: &[f32]| DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(v));
    let layers = [
        diag(&[0.5, 2.0, -1.0]),
        diag(&[1.0, -3.0, 0.2]),
        diag(&[0.1, 1.5, 1.0]),
    ]
    .into_iter()
    .map(|w| Layer {
        array: IdealArray::new(w),
        bias: nalgebra::DVector::zeros(3),
    })
    .collect();
    let aligned = Network::new(layers, Activation::Identity, Loss::Mse).unwrap();
    let l = lipschitz(&aligned, &DMatrix::from_element(3, 2, 0.3));
    for v in [l.layer_product, l.weight_product, l.jacobian] {
        approx::assert_relative_eq!(v, 9.0, max_relative = 1e-5);
    }
    // ReLU only removes directions: the Jacobian bound never exceeds the layer product.
    linear.activation = Activation::Relu;
    let l = lipschitz(&linear, &x);
    assert!(l.jacobian <= l.layer_product * (1.0 + 1e-5), "{l:?}");
}

#[test]
fn adversarial_backprop_is_backprop_at_the_shifted_input() {
    let (x, y) = batch(4, SIZES[0], SIZES[3], 10);
    let mut net = network(&SIZES, Activation::Tanh, Loss::CrossEntropy, 1);
    let mut bp = Backprop::new(&SIZES, 10);
    let mut g = Gradients::zeros(&SIZES);
    bp.gradient(&mut net, &x, &y, &mut g);
    let shifted = &x + bp.input_gradient() * 0.3;
    let expected = reference(&mut net, &shifted, &y);
    let loss = bp.adversarial_gradient(&mut net, &x, &y, 0.3, &mut g);
    assert_eq!(g, expected);
    assert!(loss > net.loss.value(&net.predict(&x), &y));
}

#[test]
fn gradcheck_reports_every_algorithm() {
    let (x, y) = batch(4, SIZES[0], SIZES[3], 10);
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
    for kind in [
        AlgorithmKind::DpTop,
        AlgorithmKind::Dp,
        AlgorithmKind::DampedDp,
        AlgorithmKind::Backprop,
        AlgorithmKind::AdversarialBackprop,
    ] {
        let a = Algorithm {
            kind,
            beta: 1e-3,
            passes: 6,
            ..Algorithm::default()
        };
        let r = gradcheck(&mut net, &x, &y, &a).unwrap();
        assert_eq!(r.layers.len(), 3);
        assert!(r.converged && !r.diverged, "{kind:?}: {r:?}");
        for l in &r.layers {
            assert!(l.cosine > 0.999, "{kind:?}: {r:?}");
        }
        if kind == AlgorithmKind::Backprop {
            assert!(
                r.layers
                    .iter()
                    .all(|l| l.cosine > 1.0 - 1e-12 && l.rel_err == 0.0 && l.leak == 0.0)
            );
        }
    }
    let bad = Algorithm {
        kind: AlgorithmKind::Dp,
        alpha: 0.0,
        beta: 2.0,
        output: crate::OutputMode::ExactMse,
        ..Algorithm::default()
    };
    assert!(gradcheck(&mut net, &x, &y, &bad).is_err());
}
