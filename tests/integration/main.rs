//! The integration-test binary of dyadsim: CLI end to end, architecture rules, shipped files.

mod architecture;
mod bench;
mod check;
mod checkpoints;
mod cifar_training;
mod cli_conventions;
mod cli_errors;
mod cli_run;
mod conv_metrics;
mod costs;
mod divergence;
mod format_reference;
mod gradcheck;
mod hardware;
mod limits;
mod modules;
mod paper_vgg16;
mod plan;
mod results_folders;
mod shipped_files;
mod sweeps;
mod tolerance;
mod tolerance_folders;
mod tolerance_inputs;
