//! The settling loop allocates nothing of its own: a counting allocator watches this thread while a
//! warmed-up settle (every schedule, damping, mismatch with noise, circuit mode, convolution blocks) and the local rule run.
//!
//! The matrix products themselves may allocate: the `gemm` crate behind `crossbar::linalg::gemm`
//! takes no workspace and allocates a small flag vector per call and a packing buffer for some
//! shapes. The test counts the products through the arrays' reads and allows at most two
//! allocations for each, and none anywhere else.

use crossbar::{Crossbar, IdealArray, NeuronMismatch, Update, UpdateReport};
use dualprop::{
    Activation, Circuit, Dyads, Dynamics, Gradients, Layer, Loss, Network, NudgeAt, OutputMode,
    Schedule, estimate,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// An ideal array counting its matrix products.
struct Reads(IdealArray, usize);

impl Crossbar for Reads {
    fn outputs(&self) -> usize {
        self.0.outputs()
    }
    fn inputs(&self) -> usize {
        self.0.inputs()
    }
    fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>) {
        self.1 += 1;
        self.0.read(x, y)
    }
    fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>) {
        self.1 += 1;
        self.0.read_transposed(d, z)
    }
    fn update(&mut self, update: Update<'_>) -> UpdateReport {
        self.0.update(update)
    }
    fn weights(&self) -> DMatrix<f32> {
        self.0.weights()
    }
    fn program(&mut self, weights: &DMatrix<f32>) {
        self.0.program(weights)
    }
    fn save(&self, out: &mut crossbar::SnapshotWriter) {
        self.0.save(out)
    }
    fn restore(
        &mut self,
        input: &mut crossbar::SnapshotReader<'_>,
    ) -> Result<(), crossbar::SnapshotError> {
        self.0.restore(input)
    }
}

#[test]
fn settling_and_the_local_rule_do_not_allocate() {
    let sizes = [8, 12, 10, 4];
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let ideal = Network::ideal(&sizes, Activation::Relu, Loss::Mse, &mut rng).unwrap();
    let layers = ideal
        .layers
        .into_iter()
        .map(|l| Layer {
            array: Reads(l.array, 0),
            bias: l.bias,
        })
        .collect();
    let mut net = Network::new(layers, Activation::Relu, Loss::Mse).unwrap();
    let mut m: Vec<_> = sizes[1..]
        .iter()
        .map(|&n| NeuronMismatch::nominal(n))
        .collect();
    m[0].alpha_mix_offset.fill(0.05);
    m[1].compartment_noise = 1e-3;
    m[2].leak = 0.01;
    net.set_mismatch(m, ChaCha8Rng::seed_from_u64(2)).unwrap();
    let x = DMatrix::from_fn(8, 5, |i, j| ((i * 5 + j) as f32 * 0.37).sin());
    let y = DMatrix::from_fn(4, 5, |i, j| if i == j % 4 { 1.0 } else { 0.0 });
    let mut dyads = Dyads::new(&sizes, 5);
    let mut grads = Gradients::zeros(&sizes);
    let circuit = Circuit {
        tau: 1.0,
        dt: 0.5,
        tol: 1e-5,
        t_max: 50.0,
    };
    let mut variants = Vec::new();
    for schedule in Schedule::ALL {
        for skip_unchanged in [false, true] {
            variants.push(Dynamics {
                schedule,
                skip_unchanged,
                ..Dynamics::dp_top(0.3, 0.2, 6)
            });
        }
    }
    variants.push(Dynamics::damped_dp(1.0, 0.5, 6, true));
    variants.push(Dynamics {
        output: OutputMode::ExactMse,
        ..Dynamics::dp(0.4, 0.5, 6)
    });
    variants.push(Dynamics {
        nudge_at: NudgeAt::CurrentDrive,
        circuit: Some(circuit),
        ..Dynamics::dp_top(0.5, 0.2, 1)
    });
    for d in &variants {
        estimate(&mut net, &mut dyads, &x, &y, d, &mut grads);
        let reads = |net: &Network<Reads>| net.layers.iter().map(|l| l.array.1).sum::<usize>();
        let (before, reads_before) = (allocations(), reads(&net));
        let s = estimate(&mut net, &mut dyads, &x, &y, d, &mut grads);
        // Reads plus one local-rule product per layer.
        let products = reads(&net) - reads_before + net.depth();
        let allocated = allocations() - before;
        assert!(
            allocated <= 2 * products,
            "{d:?} allocated {allocated} times in {products} products ({s:?})"
        );
    }
}

#[test]
fn settling_convolutions_and_their_local_rule_do_not_allocate() {
    let input = dualprop::Image {
        height: 6,
        width: 6,
        channels: 2,
    };
    let blocks = [
        dualprop::BlockSpec::Conv {
            channels: 3,
            kernel: 3,
            stride: 1,
            pool: true,
        },
        dualprop::BlockSpec::Conv {
            channels: 4,
            kernel: 3,
            stride: 2,
            pool: false,
        },
        dualprop::BlockSpec::Dense(4),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let ideal = Network::ideal_blocks(
        input,
        &blocks,
        Activation::Tanh,
        Loss::CrossEntropy,
        dualprop::Init::LecunNormal,
        &mut rng,
    )
    .unwrap();
    let realised = ideal.blocks().to_vec();
    let layers = ideal
        .layers
        .into_iter()
        .map(|l| Layer {
            array: Reads(l.array, 0),
            bias: l.bias,
        })
        .collect();
    let mut net =
        Network::with_blocks(layers, realised, Activation::Tanh, Loss::CrossEntropy).unwrap();
    let sizes = net.sizes().to_vec();
    let x = DMatrix::from_fn(sizes[0], 5, |i, j| ((i * 5 + j) as f32 * 0.37).sin());
    let y = DMatrix::from_fn(4, 5, |i, j| if i == j % 4 { 1.0 } else { 0.0 });
    let mut dyads = Dyads::new(&sizes, 5);
    let mut grads = Gradients::for_network(&net);
    let circuit = Circuit {
        tau: 1.0,
        dt: 0.5,
        tol: 1e-5,
        t_max: 20.0,
    };
    let variants = [
        Dynamics::dp_top(0.3, 0.2, 6),
        Dynamics {
            skip_unchanged: true,
            ..Dynamics::dp_top(0.3, 0.2, 6)
        },
        Dynamics::damped_dp(1.0, 0.5, 6, true),
        Dynamics {
            circuit: Some(circuit),
            ..Dynamics::dp_top(0.5, 0.2, 1)
        },
    ];
    for d in &variants {
        estimate(&mut net, &mut dyads, &x, &y, d, &mut grads);
        let reads = |net: &Network<Reads>| net.layers.iter().map(|l| l.array.1).sum::<usize>();
        let (before, reads_before) = (allocations(), reads(&net));
        let s = estimate(&mut net, &mut dyads, &x, &y, d, &mut grads);
        let products = reads(&net) - reads_before + net.depth();
        let allocated = allocations() - before;
        assert!(
            allocated <= 2 * products,
            "{d:?} allocated {allocated} times in {products} products ({s:?})"
        );
    }
}
