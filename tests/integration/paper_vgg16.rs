//! The paper's VGG16 CIFAR-10 experiment as shipped: its configuration, and one shortened run on
//! generated CIFAR-10 files (the real data cannot be fetched here, and 130 epochs of VGG16 are for a
//! large machine).

use lab::dataset::DatasetSpec;
use lab::spec::OptimizerKind;
use tests::{root, scratch, write_cifar10};

#[test]
fn the_paper_vgg16_experiment_is_their_configuration_and_runs_on_generated_data() {
    let mut exp =
        lab::load::experiment(&root().join("experiments/paper-vgg16-cifar10.ron")).unwrap();
    // VGG16 on 32×32×3: 13 convolutions (the last pooled to 1×1×512), then 4096, 4096, 10.
    assert_eq!(exp.network.blocks.len(), 16);
    assert_eq!(exp.network.layers[0], 3072);
    assert_eq!(exp.network.layers[13..], [512, 4096, 4096, 10]);
    assert_eq!(exp.algorithm.passes, 16);
    let t = &exp.training;
    assert_eq!((t.epochs, t.batch_size), (130, 100));
    assert_eq!(t.optimizer, OptimizerKind::Sgd);
    assert_eq!((t.momentum, t.weight_decay), (0.9, 5e-4));
    assert_eq!(t.validation, Some(0.1));
    assert!(t.decay_biases);
    assert_eq!(exp.seeds.len(), 3);
    assert_eq!(lab::runner::points(&exp).unwrap().len(), 2 * 3 * 3);

    // One DP⊤ point, shortened: 30 generated training images (3 held out), 10 test images, one
    // epoch at batch 4 with 2 passes.
    let dir = scratch("paper-vgg16");
    write_cifar10(&dir.join("data"));
    let DatasetSpec::Cifar10(cifar) = &mut exp.dataset else {
        panic!("the experiment trains on CIFAR-10")
    };
    cifar.dir = dir.join("data");
    exp.training.epochs = 1;
    exp.training.batch_size = 4;
    exp.algorithm.passes = 2;
    let source = root().join("experiments/paper-vgg16-cifar10.ron");
    let data = lab::dataset::load(&exp.dataset, &source).unwrap();
    let outcome = lab::job::train(&exp, &data, 0, &lab::job::Silent).unwrap();
    assert!(outcome.divergence.is_none(), "{:?}", outcome.divergence);
    let last = outcome.epochs.last().unwrap();
    assert!(
        last.train_loss.is_finite() && last.test_loss.is_finite(),
        "{last:?}"
    );
    assert!(
        last.extra.get("val_acc").is_some_and(|a| a.is_finite()),
        "{last:?}"
    );
}
