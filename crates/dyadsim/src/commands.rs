//! The subcommands, each a thin call into `lab`.

use crate::cli::{ActivationArg, AlgorithmArg, Cli, Command, GradcheckArgs, LossArg};
use crate::progress::Terminal;
use anyhow::{Context, Result};
use lab::gradcheck::{GradcheckOptions, gradcheck};
use lab::runner::{RunOptions, run};
use lab::spec::{Activation, AlgorithmKind, Loss};
use lab::{dataset, load, report};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// Run the chosen subcommand.
pub fn dispatch(cli: Cli, out: &mut (dyn Write + Send)) -> Result<u8> {
    match cli.command {
        Command::Run {
            experiment,
            out: out_dir,
            fresh,
        } => run_experiment(&experiment, out_dir, fresh, out),
        Command::Gradcheck(args) => run_gradcheck(&args, out),
    }
}

fn run_experiment(
    path: &Path,
    out_dir: Option<PathBuf>,
    fresh: bool,
    w: &mut (dyn Write + Send),
) -> Result<u8> {
    let exp = load::experiment(path)?;
    let data = dataset::load(&exp.dataset, path)?;
    lab::job::check_shapes(&exp, &data, path)?;
    let out = out_dir.unwrap_or_else(|| Path::new("runs").join(&exp.name));
    writeln!(
        w,
        "{}: {} on {} ({} train / {} test), results in {}",
        exp.name,
        describe(&exp),
        data.name,
        data.train.len(),
        data.test.len(),
        out.display()
    )?;
    let started = Instant::now();
    let terminal = Terminal::new(Mutex::new(&mut *w));
    let grid = lab::runner::points(&exp).map_err(|(field, message)| lab::LabError::Invalid {
        path: path.to_owned(),
        position: None,
        field,
        message,
    })?;
    let opts = RunOptions {
        out: out.clone(),
        fresh,
        threads: None,
        shard: None,
    };
    let records = run(&exp, &grid, &data, &opts, &terminal);
    terminal.finish();
    drop(terminal);
    let records = records?;
    report::convergence(&out, &exp.name, &records, None).context("drawing convergence plot")?;
    for r in &records {
        if let Some(m) = r.last() {
            writeln!(
                w,
                "point {} seed {}: final test accuracy {:.2}% (loss {:.4}){}",
                r.point,
                r.seed,
                100.0 * m.test_acc,
                m.test_loss,
                if r.divergence.is_some() {
                    ", diverged"
                } else {
                    ""
                }
            )?;
        }
    }
    writeln!(
        w,
        "done in {:.1} s: {}/metrics.csv, summary.json, convergence.png",
        started.elapsed().as_secs_f64(),
        out.display()
    )?;
    Ok(crate::SUCCESS)
}

fn describe(exp: &lab::Experiment) -> String {
    let a = &exp.algorithm;
    format!(
        "{:?} (α = {}, β = {}, K = {}) on {:?}",
        a.kind, a.alpha, a.beta, a.passes, exp.network.layers
    )
}

fn run_gradcheck(args: &GradcheckArgs, w: &mut (dyn Write + Send)) -> Result<u8> {
    let opts = GradcheckOptions {
        algorithm: match args.algorithm {
            AlgorithmArg::DpTop => AlgorithmKind::DpTop,
            AlgorithmArg::Dp => AlgorithmKind::Dp,
        },
        alpha: args.alpha,
        beta: args.beta,
        layers: args.layers.clone(),
        loss: match args.loss {
            LossArg::Ce => Loss::CrossEntropy,
            LossArg::Mse => Loss::Mse,
        },
        activation: match args.activation {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::HardSigmoid => Activation::HardSigmoid,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Identity => Activation::Identity,
        },
        passes: args.passes,
        batch: args.batch,
        seed: args.seed,
    };
    let report = gradcheck(&opts)?;
    if args.json {
        writeln!(w, "{}", serde_json::to_string(&report)?)?;
    } else {
        writeln!(w, "layer      cosine    rel_err")?;
        for l in &report.layers {
            writeln!(w, "{:>5}  {:>10.6}  {:>9.3e}", l.layer, l.cosine, l.rel_err)?;
        }
    }
    Ok(crate::SUCCESS)
}
