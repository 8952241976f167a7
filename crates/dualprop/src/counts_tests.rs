//! Operation counts against closed forms: what settling, backprop and the optimisers did, counted
//! exactly by the arrays and the network.

use crate::test_support::{batch, network};
use crate::{
    Activation, Backprop, Circuit, Dyads, Dynamics, Gradients, Loss, NetCounts, Optimizer,
    OptimizerKind, settle,
};
use crossbar::{Crossbar, OpCounts};

const SIZES: [usize; 3] = [4, 8, 3];
const B: u64 = 5;

fn array_counts(net: &crate::Network<crossbar::IdealArray>) -> Vec<OpCounts> {
    net.layers.iter().map(|l| l.array.counts()).collect()
}

fn reads(c: &[OpCounts]) -> Vec<(u64, u64)> {
    c.iter()
        .map(|c| (c.reads_forward, c.reads_transposed))
        .collect()
}

/// Hidden and output neurons of [`SIZES`].
const NEURONS: u64 = 8 + 3;

#[test]
fn fixed_k_settling_counts_every_pass() {
    for k in [1usize, 4, 7] {
        let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
        let (x, y) = batch(1, 4, 3, B as usize);
        let mut dyads = Dyads::new(&SIZES, B as usize);
        let s = settle(&mut net, &mut dyads, &x, &y, &Dynamics::dp_top(0.5, 0.1, k));
        let k = k as u64;
        assert_eq!(s.passes as u64, k);
        // The free phase reads each layer forward once; every Forward pass reads each layer
        // forward and every layer below the output transposed (its feedback).
        let c = array_counts(&net);
        assert_eq!(reads(&c), [(B * (1 + k), 0), (B * (1 + k), B * k)]);
        assert_eq!(c[0].cell_ops, 32 * B * (1 + k));
        assert_eq!(c[1].cell_ops, 24 * B * (1 + 2 * k));
        assert_eq!((c[0].dac_conversions, c[0].adc_conversions), (0, 0));
        let n = net.counts;
        assert_eq!(n.compartment_updates, 2 * NEURONS * B * (1 + k));
        assert_eq!(n.settle_passes, k);
        assert_eq!(n.settle_time_constants, (2 * B * (1 + k)) as f64);
        // Biases on every drive, the nudge once at the free prediction.
        assert_eq!(n.digital_ops, NEURONS * B * (1 + k) + 2 * 3 * B);
        assert_eq!(
            (n.memory_written, n.memory_read, n.derivative_evals),
            (0, 0, 0)
        );
    }
}

#[test]
fn early_stop_counts_only_the_passes_run() {
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
    let (x, y) = batch(1, 4, 3, B as usize);
    let mut dyads = Dyads::new(&SIZES, B as usize);
    let d = Dynamics {
        tolerance: Some(1e9),
        ..Dynamics::dp_top(0.5, 0.1, 50)
    };
    let s = settle(&mut net, &mut dyads, &x, &y, &d);
    assert_eq!(s.passes, 1);
    let c = array_counts(&net);
    assert_eq!(reads(&c), [(2 * B, 0), (2 * B, B)]);
    assert_eq!(net.counts.compartment_updates, 2 * NEURONS * B * 2);
    assert_eq!(net.counts.settle_passes, 1);
}

#[test]
fn skipped_reads_and_updates_are_not_counted() {
    // One layer: the first pass reads the drive and nudges the output; the second finds nothing
    // changed below it, skips the layer and stops.
    let sizes = [4, 3];
    let mut net = network(&sizes, Activation::Relu, Loss::Mse, 1);
    let (x, y) = batch(1, 4, 3, B as usize);
    let mut dyads = Dyads::new(&sizes, B as usize);
    let d = Dynamics {
        skip_unchanged: true,
        ..Dynamics::dp_top(0.5, 0.1, 50)
    };
    let s = settle(&mut net, &mut dyads, &x, &y, &d);
    assert_eq!(s.passes, 2);
    let c = array_counts(&net);
    assert_eq!(reads(&c), [(2 * B, 0)]);
    assert_eq!(net.counts.compartment_updates, 2 * 3 * B * 2);
    assert_eq!(net.counts.settle_passes, 2);
    assert_eq!(net.counts.digital_ops, 3 * B * 2 + 2 * 3 * B);
}

#[test]
fn circuit_mode_counts_every_euler_step() {
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
    let (x, y) = batch(1, 4, 3, B as usize);
    let mut dyads = Dyads::new(&SIZES, B as usize);
    let circuit = Circuit {
        tau: 1.0,
        dt: 0.25,
        tol: 1e-3,
        t_max: 40.0,
    };
    let d = Dynamics {
        circuit: Some(circuit),
        ..Dynamics::dp_top(0.5, 0.1, 1)
    };
    let s = settle(&mut net, &mut dyads, &x, &y, &d);
    let steps = s.passes as u64;
    assert!(s.converged && steps > 4, "{s:?}");
    // Every step reads every array forward and every array above a hidden layer transposed.
    let c = array_counts(&net);
    assert_eq!(
        reads(&c),
        [(B * (1 + steps), 0), (B * (1 + steps), B * steps)]
    );
    let n = net.counts;
    assert_eq!(n.compartment_updates, 2 * NEURONS * B * (1 + steps));
    assert_eq!(n.settle_passes, steps);
    // The free phase takes one time constant per layer; each step dt/τ for all layers at once.
    let expected = (2 * B) as f64 + steps as f64 * 0.25 * B as f64;
    assert!((n.settle_time_constants - expected).abs() < 1e-9);
    assert_eq!(n.digital_ops, NEURONS * B * (1 + steps) + 2 * 3 * B);
}

#[test]
fn backprop_counts_stored_activations_and_derivatives() {
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
    let (x, y) = batch(1, 4, 3, B as usize);
    let mut bp = Backprop::new(&SIZES, B as usize);
    let mut grads = Gradients::zeros(&SIZES);
    bp.weight_gradient(&mut net, &x, &y, &mut grads);
    let c = array_counts(&net);
    assert_eq!(reads(&c), [(B, 0), (B, B)]);
    let n = net.counts;
    assert_eq!(n.compartment_updates, NEURONS * B);
    // Each layer stores its input and its pre-activation (f32); the backward pass reads the
    // hidden pre-activations back for f′.
    assert_eq!(n.memory_written, ((4 + 8) + (8 + 3)) * B * 4);
    assert_eq!(n.derivative_evals, 8 * B);
    assert_eq!(n.memory_read, 8 * B * 4);
    assert_eq!(n.digital_ops, NEURONS * B + 3 * B + 2 * 8 * B);
    // Plain SGD sends the outer products to the arrays and reads the stored inputs back.
    let mut opt = Optimizer::new(OptimizerKind::PlainSgd, 0.1, 0.0, 0.0, &SIZES);
    let before = net.counts;
    opt.step_backprop(&mut net, &bp, &grads);
    let d = net.counts.since(&before);
    assert_eq!(d.memory_read, (4 + 8) * B * 4);
    assert_eq!(d.digital_ops, NEURONS * B + 2 * NEURONS);
    let c = array_counts(&net);
    assert_eq!(
        c.iter()
            .map(|c| (c.updates, c.devices_touched))
            .collect::<Vec<_>>(),
        [(1, 32), (1, 24)]
    );
}

#[test]
fn digital_optimisers_count_their_outer_products_and_rules() {
    let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
    let (x, y) = batch(1, 4, 3, B as usize);
    let mut dyads = Dyads::new(&SIZES, B as usize);
    settle(&mut net, &mut dyads, &x, &y, &Dynamics::dp_top(0.5, 0.1, 2));
    let before: NetCounts = net.counts;
    let mut adam = Optimizer::new(OptimizerKind::Adam, 1e-3, 0.0, 0.0, &SIZES);
    adam.step_local(&mut net, &dyads, 0.1);
    let d = net.counts.since(&before);
    let outer = 2 * (32 + 24) * B + NEURONS * B + NEURONS;
    assert_eq!(d.digital_ops, outer + 13 * (32 + 24 + NEURONS));
    let before = net.counts;
    let mut plain = Optimizer::new(OptimizerKind::PlainSgd, 1e-3, 0.0, 0.0, &SIZES);
    plain.step_local(&mut net, &dyads, 0.1);
    let d = net.counts.since(&before);
    assert_eq!(d.digital_ops, 2 * NEURONS * B + 2 * NEURONS);
}

/// A convolution's digital gradient is an outer product per im2col column (sample and output
/// position), and its bias gradient sums over the same columns: on a 4×4×1 input, Conv(2, 3×3,
/// pooled) has 16 positions and a 2 × 9 array, the dense output a 3 × 8 one.
#[test]
fn a_convolution_counts_an_outer_product_per_position() {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
    let input = crate::Image {
        height: 4,
        width: 4,
        channels: 1,
    };
    let blocks = [
        crate::BlockSpec::Conv {
            channels: 2,
            kernel: 3,
            stride: 1,
            pool: true,
        },
        crate::BlockSpec::Dense(3),
    ];
    let mut net = crate::Network::ideal_blocks(
        input,
        &blocks,
        Activation::Relu,
        Loss::Mse,
        crate::network::Init::Uniform,
        &mut rng,
    )
    .unwrap();
    let sizes = net.sizes();
    assert_eq!(sizes, [16, 8, 3]);
    let (x, y) = batch(1, 16, 3, B as usize);
    let mut dyads = Dyads::new(sizes, B as usize);
    settle(&mut net, &mut dyads, &x, &y, &Dynamics::dp_top(0.5, 0.1, 2));
    let before = net.counts;
    let mut sgd = Optimizer::for_network(OptimizerKind::Sgd, 1e-2, 0.0, 0.0, &net);
    sgd.step_local(&mut net, &dyads, 0.1);
    let d = net.counts.since(&before);
    let columns = [16 * B, B];
    let outer =
        2 * (2 * 9 * columns[0] + 3 * 8 * columns[1]) + (2 * columns[0] + 3 * columns[1]) + (2 + 3);
    let parameters = 2 * 9 + 2 + 3 * 8 + 3;
    assert_eq!(d.digital_ops, outer + 3 * parameters);
}

/// Weight decay reaches the biases only when asked (optax's unmasked `add_decayed_weights`, as the
/// authors' CNN code): with a zero gradient one SGD step scales every bias by exactly 1 − η·λ, and
/// the decay costs 2 operations per bias more.
#[test]
fn bias_decay_pulls_the_biases_only_when_asked() {
    let (lr, decay) = (0.5f32, 0.25f32);
    for on in [false, true] {
        let mut net = network(&SIZES, Activation::Relu, Loss::Mse, 1);
        for (k, layer) in net.layers.iter_mut().enumerate() {
            layer.bias.fill(1.0 + k as f32);
        }
        let before = net.counts;
        let mut sgd =
            Optimizer::new(OptimizerKind::Sgd, lr, 0.0, decay, &SIZES).with_bias_decay(on);
        sgd.step(&mut net, &Gradients::zeros(&SIZES));
        let factor = if on { 1.0 - lr * decay } else { 1.0 };
        for (k, layer) in net.layers.iter().enumerate() {
            assert!(layer.bias.iter().all(|&b| b == (1.0 + k as f32) * factor));
        }
        let d = net.counts.since(&before);
        let decayed = 32 + 24 + if on { NEURONS } else { 0 };
        assert_eq!(d.digital_ops, 3 * (32 + 24 + NEURONS) + 2 * decayed);
    }
}
